/*
 * Multicast membership of links, as the kernel lists it in a zone's
 * /proc/net/dev_mcast (objects/netlink.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>

#include "objects/netlink.h"
#include "objects/netns.h"

/* 12 hex digits, no separators, as /proc/net/dev_mcast prints a MAC. */
static bool mac_from_hex(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 12)
		return false;
	for (i = 0; i < 6; i++) {
		hi = vw_hex_digit(s[2 * i]);
		lo = vw_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		mac[i] = hi << 4 | lo;
	}
	return true;
}

/*
 * /proc/thread-self/net shows the namespace of the thread that opens it, and
 * the open file keeps showing that one, so open it while in the zone.
 */
static int mcast_open(const char *zone, FILE **fp)
{
	int ret, err;

	*fp = NULL;
	ret = zone_enter(zone);
	if (ret < 0)
		return ret;
	*fp = fopen("/proc/thread-self/net/dev_mcast", "re");
	if (!*fp)
		ret = -errno;
	err = zone_leave(zone);
	if (err < 0 && !ret) {
		fclose(*fp);
		*fp = NULL;
		ret = err;
	}
	return ret;
}

/*
 * One line of the list, "IFINDEX NAME USERS GLOBAL_USERS HEX" (the kernel's
 * dev_mc_seq_show), split in place.  By hand rather than with sscanf: every
 * VNIC created re-reads the zone's whole list, about 3 lines per link, so
 * the parsing was a third of the daemon's time creating VNICs.
 */
static bool mcast_line(char *line, int *ifindex, const char **name, uint8_t mac[6])
{
	char *tok[5], *p = line, *end;
	int i;

	for (i = 0; i < 5; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '\n')
			return false;
		tok[i] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\n')
			p++;
		if (*p)
			*p++ = '\0';
	}
	if (strlen(tok[1]) >= IFNAMSIZ)
		return false;
	errno = 0;
	*ifindex = (int)strtol(tok[0], &end, 10);
	if (errno || *end || end == tok[0])
		return false;
	*name = tok[1];
	return mac_from_hex(tok[4], mac);
}

/* The zone's list with a read buffer that takes it in a few reads. */
static int mcast_read_open(const char *zone, FILE **fp, char **buf)
{
	int ret = mcast_open(zone, fp);

	*buf = NULL;
	if (ret < 0)
		return ret;
	*buf = malloc(1 << 16);
	if (*buf)
		setvbuf(*fp, *buf, _IOFBF, 1 << 16);
	return 0;
}

static void mcast_read_close(FILE *f, char *buf)
{
	fclose(f);
	free(buf);
}

int nl_mcast_list(const char *zone, const char *ifname, uint8_t (*macs)[6], int max)
{
	char line[256], *buf;
	const char *name;
	int ifindex, idx, n = 0;
	FILE *f;
	int ret;

	if (!ifname_ok(ifname) || max < 0 || (!macs && max))
		return -EINVAL;
	ifindex = nl_link_index(zone, ifname);
	if (ifindex < 0)
		return ifindex;
	ret = mcast_read_open(zone, &f, &buf);
	if (ret < 0)
		return ret;

	while (n < max && fgets(line, sizeof(line), f)) {
		if (!mcast_line(line, &idx, &name, macs[n]))
			continue;
		if (idx == ifindex && !strcmp(name, ifname))
			n++;
	}
	if (ferror(f))
		n = -EIO;
	mcast_read_close(f, buf);
	return n;
}

int nl_mcast_dump(const char *zone, int (*fn)(const char *ifname, const uint8_t mac[6], void *arg), void *arg)
{
	char line[256], *buf;
	const char *name;
	int idx, ret;
	uint8_t mac[6];
	FILE *f;

	ret = mcast_read_open(zone, &f, &buf);
	if (ret < 0)
		return ret;
	while (!ret && fgets(line, sizeof(line), f)) {
		if (mcast_line(line, &idx, &name, mac))
			ret = fn(name, mac, arg);
	}
	if (!ret && ferror(f))
		ret = -EIO;
	mcast_read_close(f, buf);
	return ret;
}
