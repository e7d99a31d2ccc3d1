/*
 * Values: validation and string<->value conversion.
 *
 * Every parser takes the whole string: no leading or trailing blanks, no
 * signs, no trailing junk.  Decimal numbers have no leading zeros ("0" alone
 * is fine), so "010" is never mistaken for octal.  Outputs are written only
 * on success.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/vwire.h"

#define BW_MAX 10000000000000ULL /* 10 Tb/s */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int vw_hex_digit(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static uint64_t pow10_u64(int e)
{
	uint64_t v = 1;

	while (e-- > 0)
		v *= 10;
	return v;
}

/* ---- names ---- */

static bool name_valid(const char *s, size_t max)
{
	size_t i;

	if (!s || !is_alpha(s[0]))
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i == max)
			return false;
		if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '.' &&
		    c != '-')
			return false;
	}
	return true;
}

bool vw_linkname_valid(const char *s)
{
	return name_valid(s, VW_LINKNAME_MAX);
}

bool vw_flowname_valid(const char *s)
{
	return name_valid(s, VW_FLOWNAME_MAX);
}

bool vw_zonename_valid(const char *s)
{
	return name_valid(s, VW_ZONENAME_MAX);
}

/* ---- MAC addresses ---- */

/*
 * Up to max octets of one or two hex digits, all separated by the same
 * character, ':' or '-'.  Returns the octet count, or -1.
 */
static int octets_parse(const char *s, uint8_t *out, int max)
{
	char sep = 0;
	int n = 0;

	if (!s)
		return -1;
	for (;;) {
		int hi = vw_hex_digit(s[0]), lo;

		if (hi < 0 || n == max)
			return -1;
		lo = vw_hex_digit(s[1]);
		if (lo < 0) {
			out[n++] = hi;
			s += 1;
		} else {
			out[n++] = hi << 4 | lo;
			s += 2;
		}
		if (!*s)
			return n;
		if (*s != ':' && *s != '-')
			return -1;
		if (sep && *s != sep)
			return -1;
		sep = *s++;
	}
}

bool vw_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t tmp[6];

	if (octets_parse(s, tmp, 6) != 6)
		return false;
	memcpy(mac, tmp, 6);
	return true;
}

bool vw_macprefix_parse(const char *s, uint8_t prefix[6], int *len)
{
	uint8_t tmp[6] = { 0 };
	int n = octets_parse(s, tmp, 5);

	if (n < 1)
		return false;
	memcpy(prefix, tmp, 6);
	*len = n;
	return true;
}

char *vw_mac_format(const uint8_t mac[6], char *buf)
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

bool vw_mac_is_multicast(const uint8_t mac[6])
{
	return mac[0] & 1;
}

/* ---- numbers ---- */

bool vw_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *v)
{
	uint64_t n = 0;

	if (!s || !*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		unsigned int d = *s - '0';

		if (!is_digit(*s) || n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	if (n < min || n > max)
		return false;
	*v = n;
	return true;
}

bool vw_vid_parse(const char *s, uint16_t *vid)
{
	uint64_t v;

	if (!vw_uint_parse(s, 1, VW_VID_MAX, &v))
		return false;
	*vid = v;
	return true;
}

/* ---- bandwidth ---- */

/* Power of ten of a unit letter; a bare number is Mb/s.  -1 if unknown. */
static int bw_unit_exp(const char *u)
{
	if (!u[0])
		return 6;
	if (u[1])
		return -1;
	switch (u[0]) {
	case 'k': case 'K':
		return 3;
	case 'm': case 'M':
		return 6;
	case 'g': case 'G':
		return 9;
	default:
		return -1;
	}
}

/*
 * Integer and fraction digits are handled separately, so the result is
 * exact: the fraction, once its trailing zeros are dropped, must have no
 * more digits than the unit's power of ten.
 */
bool vw_bw_parse(const char *s, uint64_t *bps)
{
	const char *frac = NULL, *fend = NULL, *p = s;
	uint64_t ip = 0, fp = 0, mult, v;
	int e, fd;

	if (!s || !is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
		return false;
	for (; is_digit(*p); p++) {
		ip = ip * 10 + (*p - '0');
		if (ip > BW_MAX)
			return false;
	}
	if (*p == '.') {
		frac = ++p;
		while (is_digit(*p))
			p++;
		if (p == frac)
			return false;
		fend = p;
		while (fend > frac && fend[-1] == '0')
			fend--;
	}
	e = bw_unit_exp(p);
	fd = frac ? (int)(fend - frac) : 0;
	if (e < 0 || fd > e)
		return false;
	for (; frac && frac < fend; frac++)
		fp = fp * 10 + (*frac - '0');
	fp *= pow10_u64(e - fd);

	mult = pow10_u64(e);
	if (ip > BW_MAX / mult)
		return false;
	v = ip * mult + fp;
	if (v == 0 || v > BW_MAX)
		return false;
	*bps = v;
	return true;
}

/* bps in the unit 10^e with up to three fraction digits, or 0 if inexact. */
static int bw_format_unit(uint64_t bps, int e, char unit, char *buf)
{
	uint64_t mult = pow10_u64(e), step = pow10_u64(e - 3);
	unsigned int frac;
	int n;

	if (bps % step)
		return 0;
	frac = (bps % mult) / step;
	if (!frac)
		return sprintf(buf, "%" PRIu64 "%c", bps / mult, unit);
	n = 3;
	while (frac % 10 == 0) {
		frac /= 10;
		n--;
	}
	return sprintf(buf, "%" PRIu64 ".%0*u%c", bps / mult, n, frac, unit);
}

/*
 * The shortest of the exact forms in G, M and K.  On a tie, a form without
 * a leading "0." wins ("100K", not "0.1M"), then the larger unit ("1.25M",
 * not "1250K").  A unit is always printed: a bare number would mean Mb/s.
 */
char *vw_bw_format(uint64_t bps, char *buf)
{
	static const struct {
		int e;
		char unit;
	} units[] = { { 9, 'G' }, { 6, 'M' }, { 3, 'K' } };
	char cand[32];
	int best = 0;
	bool best_zero = false;
	size_t i;

	if (!bps) {
		strcpy(buf, "0");
		return buf;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int n = bw_format_unit(bps, units[i].e, units[i].unit, cand);
		bool zero;

		if (!n)
			continue;
		zero = cand[0] == '0';
		if (!best || (best_zero && !zero) ||
		    (best_zero == zero && n < best)) {
			memcpy(buf, cand, n + 1);
			best = n;
			best_zero = zero;
		}
	}
	return buf;
}

/* ---- addresses ---- */

bool vw_prefix_parse(const char *s, bool allow_host, struct vw_prefix *p)
{
	char addr[INET6_ADDRSTRLEN];
	struct vw_prefix r;
	const char *slash;
	uint64_t plen;
	size_t n;
	int max;

	if (!s)
		return false;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (!n || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';

	memset(&r, 0, sizeof(r));
	r.family = memchr(addr, ':', n) ? AF_INET6 : AF_INET;
	max = r.family == AF_INET6 ? 128 : 32;
	if (inet_pton(r.family, addr, &r.addr) != 1)
		return false;
	if (slash) {
		if (!vw_uint_parse(slash + 1, 0, max, &plen))
			return false;
	} else if (allow_host) {
		plen = max;
	} else {
		return false;
	}
	r.plen = plen;
	*p = r;
	return true;
}

const char *vw_ifaddr_unusable(const struct vw_prefix *p)
{
	const uint8_t *a = p->addr.bytes;
	static const uint8_t zero[16];

	if (p->family == AF_INET) {
		if (!memcmp(a, zero, 4))
			return "an unspecified address";
		if (a[0] == 127)
			return "a loopback address";
		if ((a[0] & 0xf0) == 224)
			return "a multicast address";
		if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
			return "the broadcast address";
	} else {
		if (!memcmp(a, zero, 16))
			return "an unspecified address";
		if (!memcmp(a, zero, 15) && a[15] == 1)
			return "a loopback address";
		if (a[0] == 0xff)
			return "a multicast address";
	}
	if (!p->plen)
		return "a prefix of length 0";
	return NULL;
}

char *vw_prefix_format(const struct vw_prefix *p, char *buf)
{
	char addr[INET6_ADDRSTRLEN];

	if ((p->family != AF_INET && p->family != AF_INET6) ||
	    !inet_ntop(p->family, &p->addr, addr, sizeof(addr))) {
		strcpy(buf, "?");
		return buf;
	}
	snprintf(buf, 64, "%s/%u", addr, p->plen);
	return buf;
}

bool vw_prefix_equal(const struct vw_prefix *a, const struct vw_prefix *b)
{
	size_t len;

	if (a->family != b->family || a->plen != b->plen)
		return false;
	if (a->family == AF_INET)
		len = 4;
	else if (a->family == AF_INET6)
		len = 16;
	else
		return false;
	return !memcmp(a->addr.bytes, b->addr.bytes, len);
}

/* ---- property lists ---- */

int vw_kvlist_split(char *s, char **keys, char **vals, int max)
{
	return vw_proplist_split(s, keys, vals, max, NULL);
}

int vw_proplist_split(char *s, char **keys, char **vals, int max, const char *const *lists)
{
	int n = 0;

	if (!s)
		return -1;
	for (;;) {
		char *end = strchr(s, ','), *eq;

		if (end)
			*end = '\0';
		eq = strchr(s, '=');
		if (!eq && n > 0 && lists) {
			const char *const *l;

			for (l = lists; *l && strcmp(*l, keys[n - 1]); l++)
				;
			if (!*l)
				return -1;
			s[-1] = ','; /* one more item of the value before */
		} else {
			if (!eq || eq == s || n == max)
				return -1;
			*eq = '\0';
			keys[n] = s;
			vals[n] = eq + 1;
			n++;
		}
		if (!end)
			return n;
		s = end + 1;
	}
}

/* ---- CPU lists ---- */

/* One CPU number at *s, moved past it. */
static bool cpu_num(const char **s, unsigned *cpu)
{
	const char *p = *s;
	unsigned n = 0;

	if (!is_digit(*p) || (p[0] == '0' && is_digit(p[1])))
		return false;
	for (; is_digit(*p); p++) {
		n = n * 10 + (unsigned)(*p - '0');
		if (n >= VW_CPUS_MAX)
			return false;
	}
	*s = p;
	*cpu = n;
	return true;
}

bool vw_cpulist_parse(const char *s, struct vw_cpuset *set)
{
	struct vw_cpuset r = { { 0 } };

	if (!s || !*s)
		return false;
	for (;;) {
		unsigned lo, hi, c;

		if (!cpu_num(&s, &lo))
			return false;
		hi = lo;
		if (*s == '-') {
			s++;
			if (!cpu_num(&s, &hi) || hi < lo)
				return false;
		}
		for (c = lo; c <= hi; c++)
			vw_cpuset_add(&r, c);
		if (!*s)
			break;
		if (*s++ != ',')
			return false;
	}
	*set = r;
	return true;
}

char *vw_cpulist_format(const struct vw_cpuset *set, char *buf, size_t len)
{
	size_t used = 0;
	unsigned c = 0;

	if (!len)
		return NULL;
	buf[0] = '\0';
	while (c < VW_CPUS_MAX) {
		unsigned hi;
		int k;

		if (!vw_cpuset_has(set, c)) {
			c++;
			continue;
		}
		for (hi = c; hi + 1 < VW_CPUS_MAX && vw_cpuset_has(set, hi + 1); hi++)
			;
		if (hi == c)
			k = snprintf(buf + used, len - used, "%s%u", used ? "," : "", c);
		else
			k = snprintf(buf + used, len - used, "%s%u-%u", used ? "," : "", c, hi);
		if (k < 0 || (size_t)k >= len - used)
			return NULL;
		used += (size_t)k;
		c = hi + 1;
	}
	return buf;
}
