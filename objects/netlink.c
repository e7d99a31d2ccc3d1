// SPDX-License-Identifier: GPL-2.0
/*
 * Links, addresses and zones through rtnetlink (libmnl).
 *
 * A zone is a network namespace bound at /run/netns/NAME exactly as
 * `ip netns add` makes it.  To work in a zone the calling thread joins the
 * namespace with setns(), opens what it needs (a netlink socket, which stays
 * bound to the namespace it was created in, or a /proc file), and goes back
 * to the daemon's own namespace before it returns, on every path.  setns()
 * with CLONE_NEWNET only moves the calling thread, so the daemon's other
 * threads never notice.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/pkt_sched.h>

#include "objects/netlink.h"

#define NETNS_RUN_DIR "/run/netns"
#define NL_RECV_SIZE 32768 /* MNL_SOCKET_DUMP_SIZE in later libmnl */

/* The daemon's own network namespace, where every call returns to. */
static int host_ns_fd = -1;
static unsigned int nl_seq;

static bool zone_is_host(const char *zone)
{
	return !zone || !*zone;
}

/* A zone name must be a plain file name in /run/netns. */
static bool zone_name_ok(const char *zone)
{
	size_t len;

	if (!zone)
		return false;
	len = strlen(zone);
	if (!len || len > VW_ZONENAME_MAX)
		return false;
	if (strchr(zone, '/') || !strcmp(zone, ".") || !strcmp(zone, ".."))
		return false;
	return true;
}

static bool ifname_ok(const char *ifname)
{
	return ifname && *ifname && strlen(ifname) < IFNAMSIZ;
}

static void zone_path(const char *zone, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, zone);
}

static int zone_open(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];
	int fd;

	if (!zone_name_ok(zone))
		return -EINVAL;
	zone_path(zone, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

/* Moves the calling thread into the zone (nothing to do for the host). */
static int zone_enter(const char *zone)
{
	int fd, ret = 0;

	if (zone_is_host(zone))
		return 0;
	if (host_ns_fd < 0)
		return -EBADF;
	fd = zone_open(zone);
	if (fd < 0)
		return fd;
	if (setns(fd, CLONE_NEWNET) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Brings the calling thread back after zone_enter(). */
static int zone_leave(const char *zone)
{
	if (zone_is_host(zone))
		return 0;
	if (setns(host_ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	return 0;
}

int nl_init(void)
{
	if (host_ns_fd >= 0)
		return 0;
	host_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (host_ns_fd < 0)
		return -errno;
	nl_seq = (unsigned int)getpid() << 16;
	return 0;
}

void nl_fini(void)
{
	if (host_ns_fd >= 0)
		close(host_ns_fd);
	host_ns_fd = -1;
}

/* ---- netlink plumbing ---- */

/* An rtnetlink socket bound in the zone's namespace. */
static int nl_open(const char *zone, struct mnl_socket **nlp)
{
	struct mnl_socket *nl;
	int ret, err;

	*nlp = NULL;
	ret = zone_enter(zone);
	if (ret < 0)
		return ret;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl) {
		ret = -errno;
		goto out_leave;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err_close;
	}
	*nlp = nl;
	goto out_leave;

err_close:
	mnl_socket_close(nl);
out_leave:
	err = zone_leave(zone);
	if (err < 0 && !ret) {
		mnl_socket_close(*nlp);
		*nlp = NULL;
		ret = err;
	}
	return ret;
}

/*
 * A dump ends with NLMSG_DONE, anything else with an ack we ask for.  The
 * NLM_F_DUMP bits only mean "dump" on a GET: on a NEW request the same bits
 * are NLM_F_REPLACE and NLM_F_EXCL.
 */
static bool nl_is_dump(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type >= RTM_BASE && nlh->nlmsg_type % 4 == RTM_GETLINK % 4 &&
	       (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
}

/*
 * Sends one request and runs cb over the replies until the ack (or the end of
 * a dump).  Returns 0, the kernel's error as -errno, or the error a callback
 * reported through errno.
 */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	unsigned int portid = mnl_socket_get_portid(nl);
	unsigned int seq;
	char *buf;
	ssize_t n;
	int ret;

	seq = ++nl_seq;
	if (!seq)
		seq = ++nl_seq;
	nlh->nlmsg_seq = seq;
	if (!nl_is_dump(nlh))
		nlh->nlmsg_flags |= NLM_F_ACK;

	buf = malloc(NL_RECV_SIZE);
	if (!buf)
		return -ENOMEM;

	while (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		if (errno != EINTR) {
			ret = -errno;
			goto out;
		}
	}
	do {
		n = mnl_socket_recvfrom(nl, buf, NL_RECV_SIZE);
		if (n < 0) {
			if (errno == EINTR) {
				ret = MNL_CB_OK;
				continue;
			}
			ret = -errno;
			goto out;
		}
		errno = 0;
		ret = mnl_cb_run(buf, n, seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);

	if (ret < 0)
		ret = errno ? -errno : -EPROTO;
out:
	free(buf);
	return ret;
}

static struct nlmsghdr *nl_link_msg(char *buf, uint16_t type, uint16_t flags, const char *ifname)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (ifname)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	return nlh;
}

/* ---- link dumps ---- */

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_MAX) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
			return MNL_CB_OK;
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
			return MNL_CB_OK;
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			return MNL_CB_OK;
		break;
	}
	tb[type] = attr;
	return MNL_CB_OK;
}

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFLA_INFO_MAX) < 0)
		return MNL_CB_OK;
	if (type == IFLA_INFO_KIND && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Fills li from an RTM_NEWLINK message; -EPROTO if it is not one. */
static int link_parse(const struct nlmsghdr *nlh, struct nl_link_info *li)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct nlattr *tbi[IFLA_INFO_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EPROTO;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return -EPROTO;

	memset(li, 0, sizeof(*li));
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	li->loopback = ifi->ifi_flags & IFF_LOOPBACK;
	if (tb[IFLA_IFNAME])
		copy_str(li->name, sizeof(li->name), mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		li->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_STATS64] && mnl_attr_get_payload_len(tb[IFLA_STATS64]) >= sizeof(struct rtnl_link_stats64)) {
		struct rtnl_link_stats64 st;

		memcpy(&st, mnl_attr_get_payload(tb[IFLA_STATS64]), sizeof(st));
		li->tx_dropped = st.tx_dropped;
	}
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == sizeof(li->mac))
		memcpy(li->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), sizeof(li->mac));
	if (tb[IFLA_LINKINFO] &&
	    mnl_attr_parse_nested(tb[IFLA_LINKINFO], linkinfo_attr_cb, tbi) >= 0 &&
	    tbi[IFLA_INFO_KIND])
		copy_str(li->kind, sizeof(li->kind), mnl_attr_get_str(tbi[IFLA_INFO_KIND]));
	return 0;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	int ret = link_parse(nlh, data);

	if (ret < 0) {
		errno = -ret;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/* One link by name, through an open socket. */
static int link_get(struct mnl_socket *nl, const char *ifname, struct nl_link_info *li)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int ret;

	if (!ifname_ok(ifname))
		return -EINVAL;
	nlh = nl_link_msg(buf, RTM_GETLINK, 0, ifname);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	li->ifindex = 0;
	ret = nl_talk(nl, nlh, link_get_cb, li);
	if (ret < 0)
		return ret;
	if (li->ifindex <= 0)
		return -ENODEV;
	return 0;
}

static int link_index(struct mnl_socket *nl, const char *ifname)
{
	struct nl_link_info li;
	int ret;

	ret = link_get(nl, ifname, &li);
	return ret < 0 ? ret : li.ifindex;
}

int nl_link_get(const char *zone, const char *ifname, struct nl_link_info *li)
{
	struct mnl_socket *nl;
	int ret;

	if (!li || !ifname_ok(ifname))
		return -EINVAL;
	ret = nl_open(zone, &nl);
	if (ret < 0)
		return ret;
	ret = link_get(nl, ifname, li);
	mnl_socket_close(nl);
	return ret;
}

int nl_link_index(const char *zone, const char *ifname)
{
	struct mnl_socket *nl;
	int ret;

	if (!ifname_ok(ifname))
		return -EINVAL;
	ret = nl_open(zone, &nl);
	if (ret < 0)
		return ret;
	ret = link_index(nl, ifname);
	mnl_socket_close(nl);
	return ret;
}

struct link_walk {
	int (*fn)(const struct nl_link_info *li, void *arg);
	void *arg;
	int ret;
};

static int link_walk_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_walk *w = data;
	struct nl_link_info li;

	if (link_parse(nlh, &li) < 0)
		return MNL_CB_OK;
	w->ret = w->fn(&li, w->arg);
	return w->ret ? MNL_CB_STOP : MNL_CB_OK;
}

int nl_link_foreach(const char *zone, int (*fn)(const struct nl_link_info *li, void *arg), void *arg)
{
	struct link_walk w = { .fn = fn, .arg = arg };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	if (!fn)
		return -EINVAL;
	ret = nl_open(zone, &nl);
	if (ret < 0)
		return ret;
	nlh = nl_link_msg(buf, RTM_GETLINK, NLM_F_DUMP, NULL);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	ret = nl_talk(nl, nlh, link_walk_cb, &w);
	mnl_socket_close(nl);
	if (w.ret)
		return w.ret;
	return ret;
}

/* ---- link changes ---- */

/* RTM_NEWLINK on an existing link, named in the message; set() adds the rest. */
static int link_change(const char *zone, const char *ifname,
		       void (*set)(struct nlmsghdr *nlh, const void *arg), const void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	if (!ifname_ok(ifname))
		return -EINVAL;
	ret = nl_open(zone, &nl);
	if (ret < 0)
		return ret;
	nlh = nl_link_msg(buf, RTM_NEWLINK, 0, ifname);
	set(nlh, arg);
	ret = nl_talk(nl, nlh, NULL, NULL);
	mnl_socket_close(nl);
	return ret;
}

static void set_up(struct nlmsghdr *nlh, const void *arg)
{
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = *(const bool *)arg ? IFF_UP : 0;
}

static void set_mtu(struct nlmsghdr *nlh, const void *arg)
{
	mnl_attr_put_u32(nlh, IFLA_MTU, *(const unsigned *)arg);
}

static void set_mac(struct nlmsghdr *nlh, const void *arg)
{
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, arg);
}

static void set_netns(struct nlmsghdr *nlh, const void *arg)
{
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, *(const int *)arg);
}

int nl_link_set_up(const char *zone, const char *ifname, bool up)
{
	return link_change(zone, ifname, set_up, &up);
}

int nl_link_set_mtu(const char *zone, const char *ifname, unsigned mtu)
{
	return link_change(zone, ifname, set_mtu, &mtu);
}

int nl_link_set_mac(const char *zone, const char *ifname, const uint8_t mac[6])
{
	if (!mac)
		return -EINVAL;
	return link_change(zone, ifname, set_mac, mac);
}

/*
 * The kernel takes the link down as it leaves its namespace; it may also get
 * a new ifindex there if its old one is taken.
 */
int nl_link_move(const char *from_zone, const char *ifname, const char *to_zone)
{
	int fd, ret;

	if (zone_is_host(to_zone)) {
		if (host_ns_fd < 0)
			return -EBADF;
		return link_change(from_zone, ifname, set_netns, &host_ns_fd);
	}
	fd = zone_open(to_zone);
	if (fd < 0)
		return fd;
	ret = link_change(from_zone, ifname, set_netns, &fd);
	close(fd);
	return ret;
}

/* ---- addresses ---- */

/* One request about a link given by name: build() fills the message for the
 * link's ifindex in the zone; the kernel's answer is returned. */
static int link_request(const char *zone, const char *ifname,
			void (*build)(struct nlmsghdr *nlh, int ifindex, const void *arg), const void *arg)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	int ifindex, ret;

	if (!ifname_ok(ifname))
		return -EINVAL;
	ret = nl_open(zone, &nl);
	if (ret < 0)
		return ret;
	ifindex = link_index(nl, ifname);
	if (ifindex < 0) {
		ret = ifindex;
	} else {
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

		build(nlh, ifindex, arg);
		ret = nl_talk(nl, nlh, NULL, NULL);
	}
	mnl_socket_close(nl);
	return ret;
}

static int prefix_len(const struct vw_prefix *p)
{
	if (!p)
		return -EINVAL;
	if (p->family == AF_INET && p->plen <= 32)
		return sizeof(p->addr.v4);
	if (p->family == AF_INET6 && p->plen <= 128)
		return sizeof(p->addr.v6);
	return -EINVAL;
}

struct addr_req {
	const struct vw_prefix *p;
	int alen;
	bool add;
};

static void addr_build(struct nlmsghdr *nlh, int ifindex, const void *arg)
{
	const struct addr_req *r = arg;
	const struct vw_prefix *p = r->p;
	struct ifaddrmsg *ifa;

	nlh->nlmsg_type = r->add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	if (r->add)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->family;
	ifa->ifa_prefixlen = p->plen;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	mnl_attr_put(nlh, IFA_LOCAL, r->alen, &p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, r->alen, &p->addr);

	if (r->add && p->family == AF_INET) {
		uint32_t a = ntohl(p->addr.v4.s_addr);
		uint32_t mask = p->plen ? ~0u << (32 - p->plen) : 0;

		/* As `ip addr add` picks it: loopback addresses are host scope. */
		if ((a >> 24) == 127)
			ifa->ifa_scope = RT_SCOPE_HOST;
		if (p->plen < 31)
			mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(a | ~mask));
	}
	if (r->add && p->family == AF_INET6) {
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
}

static int addr_change(const char *zone, const char *ifname, const struct vw_prefix *p, bool add)
{
	struct addr_req r = { p, prefix_len(p), add };

	if (r.alen < 0)
		return r.alen;
	return link_request(zone, ifname, addr_build, &r);
}

int nl_addr_add(const char *zone, const char *ifname, const struct vw_prefix *p)
{
	return addr_change(zone, ifname, p, true);
}

int nl_addr_del(const char *zone, const char *ifname, const struct vw_prefix *p)
{
	return addr_change(zone, ifname, p, false);
}

/* ---- queueing discipline ---- */

static void noqueue_build(struct nlmsghdr *nlh, int ifindex, const void *arg)
{
	struct tcmsg *tcm;

	(void)arg;
	nlh->nlmsg_type = RTM_NEWQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
	tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = 0;
	tcm->tcm_parent = TC_H_ROOT;
	mnl_attr_put_strz(nlh, TCA_KIND, "noqueue");
}

int nl_qdisc_noqueue(const char *zone, const char *ifname)
{
	return link_request(zone, ifname, noqueue_build, NULL);
}

/* ---- retiring links ---- */

static void set_retire(struct nlmsghdr *nlh, int ifindex, const void *arg)
{
	const struct nl_retire *r = arg;
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex; /* by index, so IFLA_IFNAME is the new name */
	ifi->ifi_change = IFF_UP;
	ifi->ifi_flags = 0;
	mnl_attr_put_u32(nlh, IFLA_GROUP, r->group);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, r->newname);
}

int nl_link_retire(const char *zone, const char *ifname, const struct nl_retire *r)
{
	if (!r || !ifname_ok(r->newname))
		return -EINVAL;
	return link_request(zone, ifname, set_retire, r);
}

int nl_link_del_group(const char *zone, uint32_t group)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret;

	if (!group)
		return -EINVAL; /* group 0 is every ordinary link */
	ret = nl_open(zone, &nl);
	if (ret < 0)
		return ret;
	nlh = nl_link_msg(buf, RTM_DELLINK, 0, NULL);
	mnl_attr_put_u32(nlh, IFLA_GROUP, group);
	ret = nl_talk(nl, nlh, NULL, NULL);
	mnl_socket_close(nl);
	return ret == -ENODEV ? 0 : ret;
}

/* ---- multicast membership ---- */

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 12 hex digits, no separators, as /proc/net/dev_mcast prints a MAC. */
static bool mac_from_hex(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	if (strlen(s) != 12)
		return false;
	for (i = 0; i < 6; i++) {
		hi = hex_nibble(s[2 * i]);
		lo = hex_nibble(s[2 * i + 1]);
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

/* ---- zones ---- */

bool zone_exists(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];
	struct stat st;

	if (!zone_name_ok(zone))
		return false;
	zone_path(zone, path, sizeof(path));
	return !stat(path, &st);
}

/* /run/netns as iproute2 leaves it: a shared mount point of its own. */
static int netns_dir_prepare(void)
{
	bool bound = false;

	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* Lets the namespace mounts propagate between mount namespaces. */
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		/* EINVAL: not a mount point yet; make it one and retry once. */
		if (errno != EINVAL || bound)
			return -errno;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		bound = true;
	}
	return 0;
}

/*
 * Runs on a thread of its own: unshare() moves only this thread into the new
 * namespace, which the bind mount then keeps alive after the thread is gone.
 */
static void *netns_bind_thread(void *arg)
{
	const char *path = arg;

	if (unshare(CLONE_NEWNET) < 0)
		return (void *)(intptr_t)-errno;
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return (void *)(intptr_t)-errno;
	return (void *)0;
}

int zone_create(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];
	pthread_t thread;
	void *res;
	int fd, ret;

	if (!zone_name_ok(zone))
		return -EINVAL;
	ret = netns_dir_prepare();
	if (ret < 0)
		return ret;

	zone_path(zone, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);

	ret = -pthread_create(&thread, NULL, netns_bind_thread, path);
	if (ret < 0)
		goto err_unlink;
	ret = -pthread_join(thread, &res);
	if (ret < 0)
		goto err_unlink;
	ret = (int)(intptr_t)res;
	if (ret < 0)
		goto err_unlink;

	ret = nl_link_set_up(zone, "lo", true);
	if (ret < 0)
		goto err_umount;
	return 0;

err_umount:
	umount2(path, MNT_DETACH);
err_unlink:
	unlink(path);
	return ret;
}

int zone_delete(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];

	if (!zone_name_ok(zone))
		return -EINVAL;
	zone_path(zone, path, sizeof(path));
	umount2(path, MNT_DETACH);
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int zone_list(char (*names)[VW_ZONENAME_MAX + 1], int max)
{
	char (*all)[VW_ZONENAME_MAX + 1] = NULL, (*tmp)[VW_ZONENAME_MAX + 1];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int ret;

	if (max < 0 || (!names && max))
		return -EINVAL;
	dir = opendir(NETNS_RUN_DIR);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;

	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			break;
		if (!zone_name_ok(de->d_name) || de->d_type == DT_DIR)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = reallocarray(all, cap, sizeof(*all));
			if (!tmp) {
				ret = -ENOMEM;
				goto out;
			}
			all = tmp;
		}
		copy_str(all[n++], sizeof(*all), de->d_name);
	}
	if (errno) {
		ret = -errno;
		goto out;
	}

	qsort(all, n, sizeof(*all), name_cmp);
	if (n > (size_t)max)
		n = max;
	if (n)
		memcpy(names, all, n * sizeof(*all));
	ret = n;
out:
	free(all);
	closedir(dir);
	return ret;
}
