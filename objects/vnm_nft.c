/*
 * A VNM in its zone (objects/vnm.h): the text of its nftables table (pure:
 * vnm_nft_text), and the work done inside the zone on a thread of its own
 * (vnm_in_zone): the table through libnftables, static routes through
 * rtnetlink, forwarding through /proc/sys/net.
 *
 * The table, inet vwire_vnm, is replaced whole in one transaction (an empty
 * "table" to make sure it exists, "delete table", then the new table, in one
 * buffer): there is never a moment without the old rules or the new ones.
 * Every rule that counts has a comment, its key in show-vnm -x.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <nftables/libnftables.h>

#include "objects/netns.h"
#include "objects/vnm.h"

/* ---- the table's text ---- */

static const char *ipkw(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

static char *addr_text(const struct vw_prefix *p, char *buf)
{
	if (p->plen == (p->family == AF_INET6 ? 128 : 32))
		return (char *)inet_ntop(p->family, &p->addr, buf, 64);
	return vw_prefix_format(p, buf);
}

/* A firewall rule's match for one family (0: no address family needed) */
static void rule_match(struct vw_buf *o, const struct vw_flow_attrs *a, int family)
{
	char b[64];

	if (family == AF_INET && (a->mask & VW_FA_DSFIELD))
		vw_buf_printf(o, "meta nfproto ipv4 ");
	if (family == AF_INET6 && (a->mask & VW_FA_DSFIELD))
		vw_buf_printf(o, "meta nfproto ipv6 ");
	if (a->mask & VW_FA_TRANSPORT) {
		const char *n = vw_flow_proto_name(a->proto);

		if (n && !strcmp(n, "icmpv6"))
			n = "ipv6-icmp";
		if (n)
			vw_buf_printf(o, "meta l4proto %s ", n);
		else
			vw_buf_printf(o, "meta l4proto %u ", a->proto);
	}
	if (a->mask & VW_FA_REMOTE_IP)
		vw_buf_printf(o, "%s saddr %s ", ipkw(a->remote.family), addr_text(&a->remote, b));
	if (a->mask & VW_FA_LOCAL_IP)
		vw_buf_printf(o, "%s daddr %s ", ipkw(a->local.family), addr_text(&a->local, b));
	if (a->mask & VW_FA_REMOTE_PORT)
		vw_buf_printf(o, "th sport %u ", a->rport);
	if (a->mask & VW_FA_LOCAL_PORT)
		vw_buf_printf(o, "th dport %u ", a->lport);
	if (a->mask & VW_FA_DSFIELD)
		/* the DS byte: the second byte of an IPv4 header, bits 4-11
		 * of an IPv6 one */
		vw_buf_printf(o, "@nh,%d,8 & 0x%02x == 0x%02x ", family == AF_INET6 ? 4 : 8, a->dsmask,
			      a->dsfield & a->dsmask);
}

static void firewall_text(const struct vnm *v, struct vw_buf *o)
{
	int pass, i;

	vw_buf_printf(o, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy %s;\n",
		      v->p.policy_allow ? "accept" : "drop");
	vw_buf_printf(o, "\t\tct state established,related accept\n");
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < v->p.nrules; i++) {
			const struct vnm_rule *r = &v->p.rules[i];
			int fam = vw_flow_attrs_family(&r->a), fams[2] = { fam, 0 }, f;

			if (r->deny != (pass == 0))
				continue;
			/* a DS field with no address: one rule per family */
			if ((r->a.mask & VW_FA_DSFIELD) && !fam) {
				fams[0] = AF_INET;
				fams[1] = AF_INET6;
			}
			for (f = 0; f < 2 && (!f || fams[f]); f++) {
				vw_buf_printf(o, "\t\t");
				rule_match(o, &r->a, fams[f]);
				vw_buf_printf(o, "counter %s comment \"rule:%d\"\n", r->deny ? "drop" : "accept", i);
			}
		}
	vw_buf_printf(o, "\t\tcounter comment \"policy\"\n\t}\n");
}

static void nat_text(const struct vnm *v, struct vw_buf *o)
{
	vw_buf_printf(o,
		      "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
		      "\t\tct state established,related accept\n"
		      "\t\tiifname \"%s\" oifname \"%s\" counter drop comment \"nat:in\"\n\t}\n",
		      v->p.outside, v->p.inside);
	vw_buf_printf(o,
		      "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		      "\t\tiifname \"%s\" oifname \"%s\" counter masquerade comment \"nat:out\"\n\t}\n",
		      v->p.inside, v->p.outside);
}

static void lb_text(const struct vnm *v, struct vw_buf *o)
{
	const struct vnm_props *p = &v->p;
	const char *ip = ipkw(p->vip.ip.family);
	char a[64];
	int i, n = 0;

	for (i = 0; i < p->nbackends; i++)
		n += v->hc[i].up;
	vw_buf_printf(o, "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
	if (n) {
		vw_buf_printf(o, "\t\t%s daddr %s tcp dport %u counter dnat %s to ", ip, addr_text(&p->vip.ip, a),
			      p->vip.port, ip);
		if (p->algo == VNM_HASH)
			vw_buf_printf(o, "jhash %s saddr mod %d map { ", ip, n);
		else
			vw_buf_printf(o, "numgen inc mod %d map { ", n);
		for (i = 0, n = 0; i < p->nbackends; i++)
			if (v->hc[i].up) {
				vw_buf_printf(o, "%s%d : %s . %u", n ? ", " : "", n, addr_text(&p->backends[i].ip, a),
					      p->backends[i].port);
				n++;
			}
		vw_buf_printf(o, " } comment \"nat:vip\"\n");
	}
	vw_buf_printf(o, "\t}\n");
	vw_buf_printf(o,
		      "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		      "\t\tct status dnat counter masquerade comment \"nat:snat\"\n\t}\n");
	/* what is not sent on to a backend (none is up) is refused at once */
	vw_buf_printf(o,
		      "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n"
		      "\t\t%s daddr %s tcp dport %u counter reject with tcp reset comment \"nat:refused\"\n\t}\n",
		      ip, addr_text(&p->vip.ip, a), p->vip.port);
	vw_buf_printf(o, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
	for (i = 0; i < p->nbackends; i++)
		vw_buf_printf(o, "\t\t%s daddr %s tcp dport %u counter comment \"backend:%d\"\n", ip,
			      addr_text(&p->backends[i].ip, a), p->backends[i].port, i);
	vw_buf_printf(o, "\t}\n");
}

void vnm_nft_text(const struct vnm *v, struct vw_buf *o)
{
	vw_buf_printf(o, "table inet %s {}\ndelete table inet %s\ntable inet %s {\n", VNM_TABLE, VNM_TABLE, VNM_TABLE);
	switch (v->type) {
	case VNM_ROUTER:
		vw_buf_printf(o, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n"
				 "\t\tcounter comment \"forward\"\n\t}\n");
		break;
	case VNM_NAT:
		nat_text(v, o);
		break;
	case VNM_LB:
		lb_text(v, o);
		break;
	case VNM_FIREWALL:
		firewall_text(v, o);
		break;
	default:
		break;
	}
	vw_buf_printf(o, "}\n");
}

void vnm_nft_counters_parse(const char *text, void (*fn)(const char *key, uint64_t pkts, uint64_t bytes, void *arg),
			    void *arg)
{
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n'), *c, *k;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char l[1024], key[64];
		unsigned long long pk, by;

		if (len < sizeof(l)) {
			memcpy(l, line, len);
			l[len] = 0;
			c = strstr(l, "counter packets ");
			k = strstr(l, "comment \"");
			if (c && k && sscanf(c, "counter packets %llu bytes %llu", &pk, &by) == 2 &&
			    sscanf(k, "comment \"%63[^\"]\"", key) == 1)
				fn(key, pk, by, arg);
		}
		line = end ? end + 1 : NULL;
	}
}

/* ---- work inside the zone ---- */

struct zone_job {
	int nsfd;
	int (*fn)(void *arg);
	void *arg;
	int rc;
};

static void *zone_thread(void *p)
{
	struct zone_job *j = p;

	if (setns(j->nsfd, CLONE_NEWNET) < 0)
		j->rc = -errno;
	else
		j->rc = j->fn(j->arg);
	return NULL;
}

int vnm_in_zone(const char *zone, int (*fn)(void *arg), void *arg)
{
	struct zone_job j = { zone_open(zone), fn, arg, 0 };
	pthread_t t;
	int rc;

	if (j.nsfd < 0)
		return j.nsfd;
	rc = -pthread_create(&t, NULL, zone_thread, &j);
	if (!rc) {
		pthread_join(t, NULL);
		rc = j.rc;
	}
	close(j.nsfd);
	return rc;
}

/* One nftables command buffer; its output in *out (malloc'd) if out, the
 * first line of its error in err.  Zone thread. */
static int nft_run(const char *cmd, char **out, char *err, size_t errlen)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *e;
	int rc;

	if (!ctx) {
		snprintf(err, errlen, "cannot open nftables");
		return -ENOMEM;
	}
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, cmd);
	if (rc) {
		e = nft_ctx_get_error_buffer(ctx);
		snprintf(err, errlen, "nftables: %.*s", (int)strcspn(e ? e : "", "\n"), e ? e : "");
		rc = -EINVAL;
	} else if (out) {
		*out = strdup(nft_ctx_get_output_buffer(ctx));
	}
	nft_ctx_free(ctx);
	return rc;
}

static int write_proc(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		rc = -errno;
	close(fd);
	return rc;
}

static int forwarding(bool on)
{
	const char *v = on ? "1" : "0";
	int rc = write_proc("/proc/sys/net/ipv4/ip_forward", v);

	return rc ? rc : write_proc("/proc/sys/net/ipv6/conf/all/forwarding", v);
}

/* RTM_NEWROUTE (replace) or RTM_DELROUTE of r in the main table. */
static int route_req(struct mnl_socket *nl, const struct vnm_route *r, bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	int alen = r->dst.family == AF_INET6 ? 16 : 4, n;
	unsigned seq = (unsigned)time(NULL), portid = mnl_socket_get_portid(nl);
	struct rtmsg *rtm;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = r->dst.family;
	rtm->rtm_dst_len = r->dst.plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = add ? RT_SCOPE_UNIVERSE : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	if (r->dst.plen)
		mnl_attr_put(nlh, RTA_DST, alen, &r->dst.addr);
	mnl_attr_put(nlh, RTA_GATEWAY, alen, &r->gw.addr);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, n, seq, portid, NULL, NULL) < 0 ? -errno : 0;
}

static bool route_in(const struct vnm_route *r, const struct vnm_props *p)
{
	int i;

	for (i = 0; p && i < p->nroutes; i++)
		if (vw_prefix_equal(&p->routes[i].dst, &r->dst) && vw_prefix_equal(&p->routes[i].gw, &r->gw))
			return true;
	return false;
}

/* old's routes that new has not are deleted; new's are made (replaced) */
static int routes_set(const struct vnm_props *old, const struct vnm_props *new, char *err, size_t errlen)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	char t[64];
	int i, rc = 0;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open rtnetlink: %s", strerror(-rc));
		goto out;
	}
	for (i = 0; old && i < old->nroutes; i++)
		if (!route_in(&old->routes[i], new))
			route_req(nl, &old->routes[i], false);
	for (i = 0; new && i < new->nroutes && !rc; i++) {
		rc = route_req(nl, &new->routes[i], true);
		if (rc)
			snprintf(err, errlen, "cannot add route via %s: %s",
				 inet_ntop(new->routes[i].gw.family, &new->routes[i].gw.addr, t, sizeof(t)), strerror(-rc));
	}
out:
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

struct install_job {
	const struct vnm *v;
	const struct vnm_props *old;
	bool table_only, remove;
	char *err;
	size_t errlen;
};

static int install_fn(void *arg)
{
	struct install_job *j = arg;
	const struct vnm *v = j->v;
	struct vw_buf b = { 0 };
	char path[128];
	int rc = 0, i;

	if (j->remove) {
		nft_run("table inet " VNM_TABLE " {}\ndelete table inet " VNM_TABLE "\n", NULL, j->err, j->errlen);
		routes_set(&v->p, NULL, j->err, j->errlen);
		return forwarding(false);
	}
	if (!j->table_only) {
		rc = forwarding(true);
		if (rc) {
			snprintf(j->err, j->errlen, "cannot turn forwarding on: %s", strerror(-rc));
			return rc;
		}
		/* an lb sends replies out where the requests came in: no
		 * redirects to its clients */
		for (i = 0; v->type == VNM_LB && i < v->nlinks; i++) {
			snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/send_redirects", v->links[i]);
			write_proc(path, "0");
		}
		write_proc("/proc/sys/net/ipv4/conf/all/send_redirects", v->type == VNM_LB ? "0" : "1");
	}
	vnm_nft_text(v, &b);
	if (b.oom) {
		vw_buf_free(&b);
		return -ENOMEM;
	}
	rc = nft_run(b.p, NULL, j->err, j->errlen);
	vw_buf_free(&b);
	if (!rc && !j->table_only)
		rc = routes_set(j->old, &v->p, j->err, j->errlen);
	return rc;
}

static int install_run(struct install_job *j)
{
	int rc = vnm_in_zone(j->v->name, install_fn, j);

	if (rc && !*j->err)
		snprintf(j->err, j->errlen, "cannot work in zone %s: %s", j->v->name, strerror(-rc));
	return rc;
}

int vnm_install(const struct vnm *v, const struct vnm_props *old, char *err, size_t errlen)
{
	struct install_job j = { v, old, false, false, err, errlen };

	*err = 0;
	return install_run(&j);
}

int vnm_table_write(const struct vnm *v, char *err, size_t errlen)
{
	struct install_job j = { v, NULL, true, false, err, errlen };

	*err = 0;
	return install_run(&j);
}

int vnm_uninstall(const struct vnm *v, char *err, size_t errlen)
{
	struct install_job j = { v, NULL, false, true, err, errlen };

	*err = 0;
	return install_run(&j);
}

struct list_job {
	char *out;
	char err[256];
};

static int list_fn(void *arg)
{
	struct list_job *j = arg;

	return nft_run("list table inet " VNM_TABLE "\n", &j->out, j->err, sizeof(j->err));
}

char *vnm_table_list(const struct vnm *v)
{
	struct list_job j = { NULL, "" };

	if (vnm_in_zone(v->name, list_fn, &j)) {
		free(j.out);
		return NULL;
	}
	return j.out;
}

struct route_find {
	const struct vnm_route *r;
	bool found;
};

static int route_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(a, RTA_MAX) >= 0)
		tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_find *f = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	size_t alen = f->r->dst.family == AF_INET6 ? 16 : 4;

	if (rtm->rtm_family != f->r->dst.family || rtm->rtm_dst_len != f->r->dst.plen || rtm->rtm_table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr_cb, tb);
	if (f->r->dst.plen && (!tb[RTA_DST] || memcmp(mnl_attr_get_payload(tb[RTA_DST]), &f->r->dst.addr, alen)))
		return MNL_CB_OK;
	if (tb[RTA_GATEWAY] && !memcmp(mnl_attr_get_payload(tb[RTA_GATEWAY]), &f->r->gw.addr, alen))
		f->found = true;
	return MNL_CB_OK;
}

static int route_find_fn(void *arg)
{
	struct route_find *f = arg;
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	unsigned seq = (unsigned)time(NULL), portid;
	int n, rc = 0;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = f->r->dst.family;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		if (mnl_cb_run(buf, n, seq, portid, route_cb, f) <= MNL_CB_STOP)
			break;
out:
	if (nl)
		mnl_socket_close(nl);
	return rc;
}

bool vnm_route_present(const struct vnm *v, const struct vnm_route *r)
{
	struct route_find f = { r, false };

	return !vnm_in_zone(v->name, route_find_fn, &f) && f.found;
}
