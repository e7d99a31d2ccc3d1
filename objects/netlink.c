// SPDX-License-Identifier: GPL-2.0
/*
 * Links and addresses through rtnetlink (libmnl), in the daemon's namespace
 * or a zone's.  To work in a zone the calling thread joins the namespace
 * (objects/netns.c), opens its netlink socket, which stays bound to the
 * namespace it was created in, and goes back to the daemon's own namespace
 * before it returns, on every path.  setns() with CLONE_NEWNET only moves the
 * calling thread, so the daemon's other threads never notice.
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
#include "objects/netns.h"

#define NL_RECV_SIZE 32768 /* MNL_SOCKET_DUMP_SIZE in later libmnl */

static unsigned int nl_seq;

int nl_init(void)
{
	int rc = zone_ns_init();

	if (rc)
		return rc;
	nl_seq = (unsigned int)getpid() << 16;
	return 0;
}

void nl_fini(void)
{
	zone_ns_fini();
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

void nl_copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Fills li from an RTM_NEWLINK message; -EPROTO if it is not one. */
/* An RTM_NEWLINK or RTM_DELLINK message (the same layout) */
static int link_parse_any(const struct nlmsghdr *nlh, struct nl_link_info *li)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct nlattr *tbi[IFLA_INFO_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return -EPROTO;
	ifi = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifi), link_attr_cb, tb) < 0)
		return -EPROTO;

	memset(li, 0, sizeof(*li));
	li->ifindex = ifi->ifi_index;
	li->flags = ifi->ifi_flags;
	li->loopback = ifi->ifi_flags & IFF_LOOPBACK;
	if (tb[IFLA_IFNAME])
		nl_copy_str(li->name, sizeof(li->name), mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		li->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_IFALIAS] && mnl_attr_validate(tb[IFLA_IFALIAS], MNL_TYPE_NUL_STRING) == 0)
		nl_copy_str(li->alias, sizeof(li->alias), mnl_attr_get_str(tb[IFLA_IFALIAS]));
	if (tb[IFLA_GROUP] && mnl_attr_get_payload_len(tb[IFLA_GROUP]) == 4)
		li->group = mnl_attr_get_u32(tb[IFLA_GROUP]);
	if (tb[IFLA_LINK] && mnl_attr_get_payload_len(tb[IFLA_LINK]) == 4)
		li->link = (int)mnl_attr_get_u32(tb[IFLA_LINK]);
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
		nl_copy_str(li->kind, sizeof(li->kind), mnl_attr_get_str(tbi[IFLA_INFO_KIND]));
	return 0;
}

int nl_request(struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data)
{
	struct mnl_socket *nl;
	int ret = nl_open(NULL, &nl);

	if (ret < 0)
		return ret;
	ret = nl_talk(nl, nlh, cb, data);
	mnl_socket_close(nl);
	return ret;
}

/* ---- watching links' state ---- */

int nl_monitor_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE), rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int nl_monitor_read(int fd, void (*fn)(const struct nl_link_info *li, bool gone, void *arg), void *arg)
{
	char buf[NL_RECV_SIZE];
	int n = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left;

		if (len < 0)
			return errno == EAGAIN ? n : errno == ENOBUFS ? -ENOBUFS : -errno;
		if (len == 0)
			return n;
		for (left = (int)len; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			struct nl_link_info li;
			bool gone = nlh->nlmsg_type == RTM_DELLINK;

			if (nlh->nlmsg_type != RTM_NEWLINK && !gone)
				continue;
			if (link_parse_any(nlh, &li))
				continue;
			fn(&li, gone, arg);
			n++;
		}
	}
}

static int link_parse(const struct nlmsghdr *nlh, struct nl_link_info *li)
{
	return nlh->nlmsg_type == RTM_NEWLINK ? link_parse_any(nlh, li) : -EPROTO;
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

/* A request of type on an existing link, named in the message; set() (if
 * any) adds the rest. */
static int link_send(const char *zone, const char *ifname, uint16_t type,
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
	nlh = nl_link_msg(buf, type, 0, ifname);
	if (set)
		set(nlh, arg);
	ret = nl_talk(nl, nlh, NULL, NULL);
	mnl_socket_close(nl);
	return ret;
}

/* RTM_NEWLINK on an existing link; set() adds the change. */
static int link_change(const char *zone, const char *ifname,
		       void (*set)(struct nlmsghdr *nlh, const void *arg), const void *arg)
{
	return link_send(zone, ifname, RTM_NEWLINK, set, arg);
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
		int host = zone_host_fd();

		if (host < 0)
			return -EBADF;
		return link_change(from_zone, ifname, set_netns, &host);
	}
	fd = zone_open(to_zone);
	if (fd < 0)
		return fd;
	ret = link_change(from_zone, ifname, set_netns, &fd);
	close(fd);
	return ret;
}

/* ---- veth pairs ---- */

int nl_veth_create(const struct nl_veth *v)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlattr *info, *data, *peer;
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	int ret, fd = -1;

	if (!ifname_ok(v->host) || !ifname_ok(v->name) || !v->mac)
		return -EINVAL;
	if (!zone_is_host(v->zone) && (fd = zone_open(v->zone)) < 0)
		return fd;
	ret = nl_open(NULL, &nl);
	if (ret < 0)
		goto out;
	nlh = nl_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, v->host);
	mnl_attr_put_u32(nlh, IFLA_MTU, 65535);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, 1 /* VETH_INFO_PEER */);
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
	mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	ret = nl_talk(nl, nlh, NULL, NULL);
	mnl_socket_close(nl);
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

struct plumbing {
	uint32_t group;
	const char *alias;
};

static void set_plumbing(struct nlmsghdr *nlh, const void *arg)
{
	const struct plumbing *p = arg;
	struct nlattr *af, *in6;

	mnl_attr_put_u32(nlh, IFLA_GROUP, p->group);
	mnl_attr_put_strz(nlh, IFLA_IFALIAS, p->alias);
	af = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	in6 = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, in6);
	mnl_attr_nest_end(nlh, af);
}

/*
 * Also IPv6 off on the device (a sysctl: rtnetlink cannot set it): a device
 * that carries no address of its own would otherwise get a multicast route
 * when it comes up, and with thousands of them every later route change or
 * device going down walks them all.
 */
int nl_link_plumbing(const char *ifname, uint32_t group, const char *alias)
{
	struct plumbing p = { group, alias };
	char path[96];
	int fd, rc = link_change(NULL, ifname, set_plumbing, &p);

	if (rc < 0)
		return rc;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* no IPv6 in this kernel */
	rc = write(fd, "1", 1) == 1 ? 0 : -errno;
	close(fd);
	return rc;
}

int nl_link_del(const char *zone, const char *ifname)
{
	return link_send(zone, ifname, RTM_DELLINK, NULL, NULL);
}

static int link_request(const char *zone, const char *ifname,
			void (*build)(struct nlmsghdr *nlh, int ifindex, const void *arg), const void *arg);

static void del_build(struct nlmsghdr *nlh, int ifindex, const void *arg)
{
	struct ifinfomsg *ifi;

	(void)arg;
	nlh->nlmsg_type = RTM_DELLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
}

int nl_link_del_index(const char *zone, int ifindex, const char *ifname)
{
	struct nl_link_info li;

	if (ifindex <= 0 || nl_link_get(zone, ifname, &li) < 0 || li.ifindex != ifindex)
		return -ENODEV;
	return link_request(zone, ifname, del_build, NULL);
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
