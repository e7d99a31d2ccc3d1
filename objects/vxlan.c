// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's VXLAN devices (RFC 7348) as a tunnel's face, through
 * rtnetlink in the daemon's namespace: the device, its static remotes
 * (all-zero entries of its forwarding table, where the kernel replicates
 * broadcast, multicast and unknown unicast: head-end replication) and what
 * it learned (MAC -> remote entries), and which interface holds a local
 * address.  Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <net/if.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "objects/netlink.h"
#include "objects/vxlan.h"

#define NL_BUF 8192

static int alen(const struct vw_prefix *p)
{
	return p->family == AF_INET ? 4 : p->family == AF_INET6 ? 16 : -EAFNOSUPPORT;
}

int vxlan_create(const struct vxlan_conf *c)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct nlattr *info, *data;

	if (!c->name || strlen(c->name) >= IFNAMSIZ || alen(&c->local) < 0 || c->vni > VXLAN_VNI_MAX)
		return -EINVAL;
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, c->name);
	if (c->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, c->mtu);
	info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vxlan");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, c->vni);
	if (c->local.family == AF_INET)
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL, 4, &c->local.addr.v4);
	else
		mnl_attr_put(nlh, IFLA_VXLAN_LOCAL6, 16, &c->local.addr.v6);
	if (c->link > 0)
		mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t)c->link);
	mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(c->port));
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, 1);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_AGEING, c->ageing ? c->ageing : 300);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	return nl_request(nlh, NULL, NULL);
}

/* An entry of the device's forwarding table: add (append: the all-zero MAC
 * takes several remotes) or delete */
static int fdb_change(int ifindex, const uint8_t mac[6], const struct vw_prefix *dst, bool add)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *nd;

	if (alen(dst) < 0)
		return -EINVAL;
	nlh->nlmsg_type = add ? RTM_NEWNEIGH : RTM_DELNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | (add ? NLM_F_CREATE | NLM_F_APPEND : 0);
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_BRIDGE;
	nd->ndm_ifindex = ifindex;
	nd->ndm_state = NUD_NOARP | NUD_PERMANENT;
	nd->ndm_flags = NTF_SELF;
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	mnl_attr_put(nlh, NDA_DST, (size_t)alen(dst), dst->addr.bytes);
	return nl_request(nlh, NULL, NULL);
}

int vxlan_remote_add(int ifindex, const struct vw_prefix *remote)
{
	static const uint8_t zero[6];

	return fdb_change(ifindex, zero, remote, true);
}

struct fdb_walk {
	int ifindex;
	int (*fn)(const struct vxlan_fdb *e, void *arg);
	void *arg;
	int ret;
};

static int fdb_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= NDA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int fdb_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NDA_MAX + 1] = { 0 };
	struct fdb_walk *w = data;
	const struct ndmsg *nd;
	struct vxlan_fdb e = { 0 };
	size_t n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nd)))
		return MNL_CB_OK;
	nd = mnl_nlmsg_get_payload(nlh);
	if (nd->ndm_family != AF_BRIDGE || nd->ndm_ifindex != w->ifindex ||
	    mnl_attr_parse(nlh, sizeof(*nd), fdb_attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (!tb[NDA_LLADDR] || mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6 || !tb[NDA_DST])
		return MNL_CB_OK;
	memcpy(e.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
	n = mnl_attr_get_payload_len(tb[NDA_DST]);
	if (n == 4)
		e.remote.family = AF_INET, e.remote.plen = 32;
	else if (n == 16)
		e.remote.family = AF_INET6, e.remote.plen = 128;
	else
		return MNL_CB_OK;
	memcpy(e.remote.addr.bytes, mnl_attr_get_payload(tb[NDA_DST]), n);
	e.permanent = nd->ndm_state & NUD_PERMANENT;
	if (tb[NDA_CACHEINFO] && mnl_attr_get_payload_len(tb[NDA_CACHEINFO]) >= sizeof(struct nda_cacheinfo)) {
		struct nda_cacheinfo ci;

		memcpy(&ci, mnl_attr_get_payload(tb[NDA_CACHEINFO]), sizeof(ci));
		e.idle_s = ci.ndm_updated / 100; /* clock_t: USER_HZ */
	}
	w->ret = w->fn(&e, w->arg);
	return w->ret ? MNL_CB_STOP : MNL_CB_OK;
}

int vxlan_fdb_walk(int ifindex, int (*fn)(const struct vxlan_fdb *e, void *arg), void *arg)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fdb_walk w = { ifindex, fn, arg, 0 };
	struct ndmsg *nd;
	int rc;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = AF_BRIDGE;
	nd->ndm_ifindex = ifindex;
	rc = nl_request(nlh, fdb_cb, &w);
	return rc < 0 ? rc : w.ret;
}

struct addr_find {
	const struct vw_prefix *want;
	int ifindex;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (type <= IFA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	struct addr_find *f = data;
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	int n = alen(f->want);

	if (nlh->nlmsg_type != RTM_NEWADDR || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != f->want->family || mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0)
		return MNL_CB_OK;
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (a && (int)mnl_attr_get_payload_len(a) == n && !memcmp(mnl_attr_get_payload(a), f->want->addr.bytes, (size_t)n))
		f->ifindex = (int)ifa->ifa_index;
	return MNL_CB_OK;
}

int vxlan_addr_owner(const struct vw_prefix *addr)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct addr_find f = { addr, 0 };
	struct ifaddrmsg *ifa;
	int rc;

	if (alen(addr) < 0)
		return -EINVAL;
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)addr->family;
	rc = nl_request(nlh, addr_cb, &f);
	if (rc < 0)
		return rc;
	return f.ifindex ? f.ifindex : -EADDRNOTAVAIL;
}
