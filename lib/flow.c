/*
 * Flows (SPEC §4): attribute and property text <-> values, and the overlap
 * rule.  The daemon keeps the flows (objects/flow.c) and the datapath
 * classifies on them (datapath/flow.c); both take their values from here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/vwire.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), false)
#define MAXATTRS 16

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
	{ "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP }, { "sctp", IPPROTO_SCTP },
	{ "icmp", IPPROTO_ICMP }, { "icmpv6", IPPROTO_ICMPV6 },
};

const char *vw_flow_proto_name(uint8_t proto)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	return NULL;
}

static const struct {
	const char *name;
	uint8_t bit;
} attr_names[] = {
	{ "transport", VW_FA_TRANSPORT }, { "local_ip", VW_FA_LOCAL_IP },     { "remote_ip", VW_FA_REMOTE_IP },
	{ "local_port", VW_FA_LOCAL_PORT }, { "remote_port", VW_FA_REMOTE_PORT }, { "dsfield", VW_FA_DSFIELD },
};

/* Whether the first plen bits of x and y are equal. */
static bool bits_equal(const uint8_t *x, const uint8_t *y, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (memcmp(x, y, full))
		return false;
	return !rest || !((x[full] ^ y[full]) & (uint8_t)(0xff00 >> rest));
}

static bool host_bits_zero(const struct vw_prefix *p)
{
	unsigned max = p->family == AF_INET6 ? 128 : 32, i;

	for (i = p->plen; i < max; i++)
		if (p->addr.bytes[i / 8] & (0x80 >> (i % 8)))
			return false;
	return true;
}

static bool parse_prefix(const char *name, const char *v, struct vw_prefix *p, char *err, size_t errlen)
{
	char net[64];

	if (!vw_prefix_parse(v, true, p))
		return ERR("invalid %s '%s' (an IPv4 or IPv6 address or subnet expected)", name, v);
	if (!host_bits_zero(p)) {
		struct vw_prefix n = *p;
		unsigned max = p->family == AF_INET6 ? 128 : 32, i;

		for (i = n.plen; i < max; i++)
			n.addr.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		return ERR("invalid %s '%s': host bits set (%s?)", name, v, vw_prefix_format(&n, net));
	}
	return true;
}

/* A hexadecimal byte, with or without "0x". */
static bool parse_hexbyte(const char *s, size_t n, uint8_t *v)
{
	unsigned x = 0;
	size_t i = 0;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		i = 2;
	if (i == n || n - i > 2)
		return false;
	for (; i < n; i++) {
		char c = s[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return false;
	}
	*v = (uint8_t)x;
	return true;
}

static bool parse_dsfield(const char *v, struct vw_flow_attrs *a, char *err, size_t errlen)
{
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);

	a->dsmask = 0xff;
	if (!parse_hexbyte(v, n, &a->dsfield) || (colon && !parse_hexbyte(colon + 1, strlen(colon + 1), &a->dsmask)))
		return ERR("invalid dsfield '%s' (VALUE[:MASK], hexadecimal bytes such as 0x28:0xfc)", v);
	if (!a->dsmask)
		return ERR("invalid dsfield '%s': the mask must not be 0", v);
	if (a->dsfield & ~a->dsmask)
		return ERR("invalid dsfield '%s': the value has bits outside the mask", v);
	return true;
}

static bool parse_one(const char *k, const char *v, struct vw_flow_attrs *a, char *err, size_t errlen)
{
	uint64_t port;
	size_t i;

	for (i = 0; i < sizeof(attr_names) / sizeof(attr_names[0]); i++)
		if (!strcmp(attr_names[i].name, k))
			break;
	if (i == sizeof(attr_names) / sizeof(attr_names[0]))
		return ERR("unknown attribute '%s' (transport, local_ip, remote_ip, local_port, remote_port, dsfield)",
			   k);
	if (a->mask & attr_names[i].bit)
		return ERR("attribute '%s' given twice", k);
	a->mask |= attr_names[i].bit;
	switch (attr_names[i].bit) {
	case VW_FA_TRANSPORT:
		for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (!strcmp(protos[i].name, v)) {
				a->proto = protos[i].proto;
				return true;
			}
		return ERR("invalid transport '%s' (tcp, udp, sctp, icmp or icmpv6)", v);
	case VW_FA_LOCAL_IP:
		return parse_prefix(k, v, &a->local, err, errlen);
	case VW_FA_REMOTE_IP:
		return parse_prefix(k, v, &a->remote, err, errlen);
	case VW_FA_LOCAL_PORT:
	case VW_FA_REMOTE_PORT:
		if (!vw_uint_parse(v, 1, 65535, &port))
			return ERR("invalid %s '%s' (1-65535)", k, v);
		if (attr_names[i].bit == VW_FA_LOCAL_PORT)
			a->lport = (uint16_t)port;
		else
			a->rport = (uint16_t)port;
		return true;
	default:
		return parse_dsfield(v, a, err, errlen);
	}
}

int vw_flow_attrs_family(const struct vw_flow_attrs *a)
{
	if (a->mask & VW_FA_LOCAL_IP)
		return a->local.family;
	if (a->mask & VW_FA_REMOTE_IP)
		return a->remote.family;
	return 0;
}

bool vw_flow_attrs_parse(const char *list, struct vw_flow_attrs *a, char *err, size_t errlen)
{
	char buf[1024], *keys[MAXATTRS], *vals[MAXATTRS];
	int n, i, fam;
	bool ports;

	memset(a, 0, sizeof(*a));
	if (!list || strlen(list) >= sizeof(buf) || (n = vw_kvlist_split(strcpy(buf, list), keys, vals, MAXATTRS)) < 0)
		return ERR("invalid attribute list '%s' (ATTR=VAL[,...] expected)", list ? list : "");
	for (i = 0; i < n; i++)
		if (!parse_one(keys[i], vals[i], a, err, errlen))
			return false;
	ports = a->mask & (VW_FA_LOCAL_PORT | VW_FA_REMOTE_PORT);
	if (ports && (!(a->mask & VW_FA_TRANSPORT) ||
		      (a->proto != IPPROTO_TCP && a->proto != IPPROTO_UDP && a->proto != IPPROTO_SCTP)))
		return ERR("%s requires transport tcp, udp or sctp",
			   a->mask & VW_FA_LOCAL_PORT ? "local_port" : "remote_port");
	if ((a->mask & VW_FA_LOCAL_IP) && (a->mask & VW_FA_REMOTE_IP) && a->local.family != a->remote.family)
		return ERR("local_ip and remote_ip must be of the same address family");
	fam = vw_flow_attrs_family(a);
	if ((a->mask & VW_FA_TRANSPORT) && fam == AF_INET6 && a->proto == IPPROTO_ICMP)
		return ERR("transport 'icmp' is IPv4's; use icmpv6 with IPv6 addresses");
	if ((a->mask & VW_FA_TRANSPORT) && fam == AF_INET && a->proto == IPPROTO_ICMPV6)
		return ERR("transport 'icmpv6' is IPv6's; use icmp with IPv4 addresses");
	return true;
}

char *vw_flow_attrs_format(const struct vw_flow_attrs *a, char *buf, size_t len)
{
	char p[64];
	size_t used = 0;

#define ADD(...) (used += (size_t)snprintf(buf + used, used < len ? len - used : 0, __VA_ARGS__))
	buf[0] = 0;
	if (a->mask & VW_FA_TRANSPORT)
		ADD("%stransport=%s", used ? "," : "", vw_flow_proto_name(a->proto) ? vw_flow_proto_name(a->proto) : "?");
	if (a->mask & VW_FA_LOCAL_IP)
		ADD("%slocal_ip=%s", used ? "," : "", vw_prefix_format(&a->local, p));
	if (a->mask & VW_FA_REMOTE_IP)
		ADD("%sremote_ip=%s", used ? "," : "", vw_prefix_format(&a->remote, p));
	if (a->mask & VW_FA_LOCAL_PORT)
		ADD("%slocal_port=%u", used ? "," : "", a->lport);
	if (a->mask & VW_FA_REMOTE_PORT)
		ADD("%sremote_port=%u", used ? "," : "", a->rport);
	if (a->mask & VW_FA_DSFIELD) {
		ADD("%sdsfield=0x%02x", used ? "," : "", a->dsfield);
		if (a->dsmask != 0xff)
			ADD(":0x%02x", a->dsmask);
	}
#undef ADD
	return buf;
}

static bool prefixes_meet(const struct vw_prefix *x, const struct vw_prefix *y)
{
	return x->family == y->family && bits_equal(x->addr.bytes, y->addr.bytes, x->plen < y->plen ? x->plen : y->plen);
}

bool vw_flow_attrs_overlap(const struct vw_flow_attrs *a, const struct vw_flow_attrs *b)
{
	uint8_t both = a->mask & b->mask;
	int fa = vw_flow_attrs_family(a), fb = vw_flow_attrs_family(b);

	if (fa && fb && fa != fb)
		return false;
	if ((both & VW_FA_TRANSPORT) && a->proto != b->proto)
		return false;
	if ((both & VW_FA_LOCAL_IP) && !prefixes_meet(&a->local, &b->local))
		return false;
	if ((both & VW_FA_REMOTE_IP) && !prefixes_meet(&a->remote, &b->remote))
		return false;
	if ((both & VW_FA_LOCAL_PORT) && a->lport != b->lport)
		return false;
	if ((both & VW_FA_REMOTE_PORT) && a->rport != b->rport)
		return false;
	if ((both & VW_FA_DSFIELD) && ((a->dsfield ^ b->dsfield) & a->dsmask & b->dsmask))
		return false;
	return true;
}

bool vw_flow_attrs_equal(const struct vw_flow_attrs *a, const struct vw_flow_attrs *b)
{
	return a->mask == b->mask && (!(a->mask & VW_FA_TRANSPORT) || a->proto == b->proto) &&
	       (!(a->mask & VW_FA_LOCAL_IP) || vw_prefix_equal(&a->local, &b->local)) &&
	       (!(a->mask & VW_FA_REMOTE_IP) || vw_prefix_equal(&a->remote, &b->remote)) &&
	       (!(a->mask & VW_FA_LOCAL_PORT) || a->lport == b->lport) &&
	       (!(a->mask & VW_FA_REMOTE_PORT) || a->rport == b->rport) &&
	       (!(a->mask & VW_FA_DSFIELD) || (a->dsfield == b->dsfield && a->dsmask == b->dsmask));
}

/* ---- properties ---- */

/*
 * The one switch for enforcement: a property whose `enforced` is false is
 * refused by add-flow -p and set-flowprop.  Flip it when the datapath
 * applies the property (docs/design.md, "Flows").
 */
static const struct vw_flowpropdef flowprops[] = {
	{ "maxbw", VW_FP_MAXBW, true, "", "--" },
	{ "priority", VW_FP_PRIORITY, true, "medium", "high,medium,low" },
	{ "guarantee", VW_FP_GUARANTEE, true, "", "--" },
	{ "maxconn", VW_FP_MAXCONN, false, "", "1-4294967295" },
	{ "mss", VW_FP_MSS, false, "", "536-65495" },
	{ "fairness", VW_FP_FAIRNESS, true, "none", "conn,none" },
};

const struct vw_flowpropdef *vw_flowprop_table(int *n)
{
	*n = (int)(sizeof(flowprops) / sizeof(flowprops[0]));
	return flowprops;
}

const struct vw_flowpropdef *vw_flowprop_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(flowprops) / sizeof(flowprops[0]); i++)
		if (!strcmp(flowprops[i].name, name))
			return &flowprops[i];
	return NULL;
}

bool vw_flowprop_parse(const struct vw_flowpropdef *pd, const char *v, struct vw_flowprops *p, char *err,
		       size_t errlen)
{
	uint64_t x;

	switch (pd->id) {
	case VW_FP_MAXBW:
	case VW_FP_GUARANTEE:
		if (!vw_bw_parse(v, &x))
			return ERR("invalid %s '%s' (a rate such as 100K, 10M, 1.5G; a bare number is Mb/s)", pd->name,
				   v);
		if (pd->id == VW_FP_MAXBW)
			p->maxbw = x;
		else
			p->guarantee = x;
		break;
	case VW_FP_PRIORITY:
		if (!strcmp(v, "high"))
			p->priority = VW_PRIO_HIGH;
		else if (!strcmp(v, "medium"))
			p->priority = VW_PRIO_MEDIUM;
		else if (!strcmp(v, "low"))
			p->priority = VW_PRIO_LOW;
		else
			return ERR("invalid priority '%s' (high, medium or low)", v);
		break;
	case VW_FP_MAXCONN:
		if (!vw_uint_parse(v, 1, VW_FLOW_MAXCONN_MAX, &x))
			return ERR("invalid maxconn '%s' (1-%llu)", v, (unsigned long long)VW_FLOW_MAXCONN_MAX);
		p->maxconn = (uint32_t)x;
		break;
	case VW_FP_MSS:
		if (!vw_uint_parse(v, VW_FLOW_MSS_MIN, VW_FLOW_MSS_MAX, &x))
			return ERR("invalid mss '%s' (%d-%d)", v, VW_FLOW_MSS_MIN, VW_FLOW_MSS_MAX);
		p->mss = (uint16_t)x;
		break;
	case VW_FP_FAIRNESS:
		if (!strcmp(v, "conn"))
			p->fairness = VW_FAIR_CONN;
		else if (!strcmp(v, "none"))
			p->fairness = VW_FAIR_NONE;
		else
			return ERR("invalid fairness '%s' (conn or none)", v);
		break;
	default:
		return ERR("unknown property '%s'", pd->name);
	}
	p->set |= 1u << pd->id;
	return true;
}

char *vw_flowprop_format(const struct vw_flowpropdef *pd, const struct vw_flowprops *p, char *buf, size_t len)
{
	static const char *const prio[] = { "medium", "high", "low" };
	char bw[32];

	buf[0] = 0;
	if (!(p->set & (1u << pd->id)))
		return buf;
	switch (pd->id) {
	case VW_FP_MAXBW:
		snprintf(buf, len, "%s", vw_bw_format(p->maxbw, bw));
		break;
	case VW_FP_GUARANTEE:
		snprintf(buf, len, "%s", vw_bw_format(p->guarantee, bw));
		break;
	case VW_FP_PRIORITY:
		snprintf(buf, len, "%s", prio[p->priority % 3]);
		break;
	case VW_FP_MAXCONN:
		snprintf(buf, len, "%u", p->maxconn);
		break;
	case VW_FP_MSS:
		snprintf(buf, len, "%u", p->mss);
		break;
	case VW_FP_FAIRNESS:
		snprintf(buf, len, "%s", p->fairness == VW_FAIR_CONN ? "conn" : "none");
		break;
	default:
		break;
	}
	return buf;
}
