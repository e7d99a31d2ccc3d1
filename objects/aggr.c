/*
 * Link aggregations (IEEE 802.1AX; SPEC §4 create-aggr ... show-aggr): a
 * link class (objects/link.h) whose port is the uplink of a switch of its
 * own, over up to VW_AGGR_MAX member interfaces (datapath/port_aggr.h),
 * with LACP (objects/lacp.h) deciding which members collect and distribute.
 *
 * The control thread runs everything here.  It holds one epoll set
 * (aggr_poll_fd, in the control loop) with an rtnetlink socket that hears
 * the members' carrier go up and down, and one Slow Protocols socket per
 * member for LACPDUs and marker PDUs; aggr_poll() reads them, runs the
 * LACP machines when their timers are due (aggr_timeout) and publishes to
 * the datapath which members collect and distribute.  A member's carrier
 * going down stops its distribution at once, in the same aggr_poll.
 *
 * Members are Linux interfaces of the daemon's namespace that are not
 * links of the model (a phys with VNICs is one: refused), all of one MTU.
 * While in an aggregation, an interface cannot be a phys link (phys_adopt
 * asks aggr_member_of).  Distribution: datapath/port_aggr.c.  An
 * aggregation is persistent (export: create-aggr, then its properties)
 * unless made with -t; add-aggr, remove-aggr and modify-aggr with -t change
 * only what runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "datapath/fastpath.h"
#include "datapath/port_aggr.h"
#include "datapath/rcu.h"
#include "datapath/shape.h"
#include "datapath/worker.h"
#include "objects/aggr.h"
#include "objects/lacp.h"
#include "objects/linkclass.h"
#include "objects/netlink.h"

#ifndef ETH_P_SLOW
#define ETH_P_SLOW 0x8809
#endif
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* <linux/if.h>'s, which <net/if.h> does not have */
#endif

extern const struct vw_link_class aggr_class;

struct aggr_member {
	char name[IFNAMSIZ]; /* "": the slot is free */
	int ifindex;
	uint8_t mac[6];
	bool carrier;
	bool coll, dist;     /* as last published to the datapath */
	int sfd;             /* its Slow Protocols socket */
	struct vw_aggr *a;   /* for the epoll data */
	unsigned idx;
};

/* What an aggregation is made of, as create-aggr and modify-aggr say */
struct aggr_conf {
	char members[VW_AGGR_MAX][IFNAMSIZ];
	unsigned n;
	unsigned policy;
	enum lacp_mode mode;
	enum lacp_timer timer;
};

struct vw_aggr {
	struct vw_link *l;
	struct aggr_member m[VW_AGGR_MAX];
	struct aggr_conf cur, saved;
	unsigned mtu;
	struct lacp *lacp;
	uint64_t due;        /* when lacp_run is next due (ms) */
};

static int epfd = -1, monfd = -1;
static unsigned naggrs;
static int mon_tag; /* epoll data of the monitor: its address */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool aggr_is(const struct vw_link *l)
{
	return l->cls == &aggr_class;
}

const char *aggr_member_of(const char *ifname)
{
	struct vw_link *l;
	unsigned i;

	for (l = vw_links; l; l = l->next)
		if (aggr_is(l))
			for (i = 0; i < VW_AGGR_MAX; i++)
				if (!strcmp(l->aggr->m[i].name, ifname))
					return l->name;
	return NULL;
}

/* ---- words of the grammar ---- */

int aggr_policy_parse(const char *s, unsigned *policy)
{
	char buf[64], *tok, *save = NULL;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	*policy = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcasecmp(tok, "L2"))
			*policy |= VW_AGGR_L2;
		else if (!strcasecmp(tok, "L3"))
			*policy |= VW_AGGR_L3;
		else if (!strcasecmp(tok, "L4"))
			*policy |= VW_AGGR_L4;
		else
			return -EINVAL;
	}
	return *policy ? 0 : -EINVAL;
}

char *aggr_policy_format(unsigned policy, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s", policy & VW_AGGR_L2 ? "L2" : "",
		 (policy & VW_AGGR_L2) && (policy & (VW_AGGR_L3 | VW_AGGR_L4)) ? "," : "",
		 policy & VW_AGGR_L3 ? "L3" : "", (policy & VW_AGGR_L3) && (policy & VW_AGGR_L4) ? "," : "",
		 policy & VW_AGGR_L4 ? "L4" : "");
	return buf;
}

static const char *const mode_names[] = { [LACP_OFF] = "off", [LACP_ACTIVE] = "active", [LACP_PASSIVE] = "passive" };
static const char *const timer_names[] = { [LACP_SHORT] = "short", [LACP_LONG] = "long" };

int aggr_mode_parse(const char *s, int *mode)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(s, mode_names[i])) {
			*mode = i;
			return 0;
		}
	return -EINVAL;
}

int aggr_timer_parse(const char *s, int *timer)
{
	int i;

	for (i = 0; i < 2; i++)
		if (!strcmp(s, timer_names[i])) {
			*timer = i;
			return 0;
		}
	return -EINVAL;
}

/* ---- the control loop's side ---- */

int aggr_poll_fd(void)
{
	if (epfd < 0)
		epfd = epoll_create1(EPOLL_CLOEXEC);
	return epfd;
}

int aggr_timeout(void)
{
	uint64_t now = now_ms(), soon = UINT64_MAX;
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		if (aggr_is(l) && l->aggr->due < soon)
			soon = l->aggr->due;
	if (soon == UINT64_MAX)
		return -1;
	return soon <= now ? 0 : soon - now > 60000 ? 60000 : (int)(soon - now);
}

/* Tells the datapath which members collect and distribute, as LACP says. */
static void publish(struct vw_aggr *a)
{
	unsigned i;

	for (i = 0; i < VW_AGGR_MAX; i++) {
		struct aggr_member *m = &a->m[i];
		bool coll, dist;

		if (!m->name[0])
			continue;
		coll = lacp_collecting(a->lacp, i);
		dist = lacp_distributing(a->lacp, i);
		/* and only to a partner that collects, as the standard's
		 * independent control has it: a partner that stopped
		 * collecting (its side expired) says so in its next LACPDU,
		 * and frames sent to it until then would be dropped there */
		if (dist && a->cur.mode != LACP_OFF) {
			struct lacp_port_info pi;

			lacp_port_info(a->lacp, i, &pi);
			dist = pi.partner.state & LACP_STATE_COLLECTING;
		}
		if (coll == m->coll && dist == m->dist)
			continue;
		if (vw_aggr_member_state(a->l->uplink, i, coll, dist) == 0) {
			m->coll = coll;
			m->dist = dist;
		}
	}
}

static void send_pdu(void *arg, unsigned idx, const uint8_t *frame, size_t len)
{
	struct vw_aggr *a = arg;

	if (idx < VW_AGGR_MAX && a->m[idx].sfd >= 0)
		(void)send(a->m[idx].sfd, frame, len, MSG_DONTWAIT);
}

static void run(struct vw_aggr *a, uint64_t now)
{
	a->due = lacp_run(a->lacp, now, send_pdu, a);
	publish(a);
}

static void carrier_seen(const struct nl_link_info *li, bool gone, void *arg)
{
	struct vw_link *l;
	unsigned i;

	(void)arg;
	for (l = vw_links; l; l = l->next) {
		if (!aggr_is(l))
			continue;
		for (i = 0; i < VW_AGGR_MAX; i++) {
			struct aggr_member *m = &l->aggr->m[i];
			bool up = !gone && (li->flags & IFF_UP) && (li->flags & IFF_LOWER_UP);

			if (!m->name[0] || m->ifindex != li->ifindex || up == m->carrier)
				continue;
			m->carrier = up;
			lacp_carrier(l->aggr->lacp, i, up, now_ms());
			if (gone)
				fprintf(stderr, "vwired: %s: member %s is gone\n", l->name, m->name);
			run(l->aggr, now_ms());
		}
	}
}

/* Every member's carrier, read afresh (at start, and when the monitor
 * lost messages). */
static void carrier_all(void)
{
	struct vw_link *l;
	unsigned i;

	for (l = vw_links; l; l = l->next) {
		if (!aggr_is(l))
			continue;
		for (i = 0; i < VW_AGGR_MAX; i++) {
			struct aggr_member *m = &l->aggr->m[i];
			struct nl_link_info li;

			if (!m->name[0])
				continue;
			if (nl_link_get(NULL, m->name, &li) < 0)
				carrier_seen(&(struct nl_link_info){ .ifindex = m->ifindex }, true, NULL);
			else
				carrier_seen(&li, false, NULL);
		}
	}
}

static void pdu_in(struct aggr_member *m)
{
	uint8_t buf[1600], reply[128];

	for (;;) {
		ssize_t n = recv(m->sfd, buf, sizeof(buf), MSG_DONTWAIT);
		int r;

		if (n < 0)
			return;
		r = lacp_rx(m->a->lacp, m->idx, buf, (size_t)n, now_ms(), reply, sizeof(reply));
		if (r > 0)
			(void)send(m->sfd, reply, (size_t)r, MSG_DONTWAIT);
		run(m->a, now_ms());
	}
}

void aggr_poll(void)
{
	struct epoll_event evs[16];
	struct vw_link *l;
	uint64_t now;
	int i, n;

	if (epfd < 0)
		return;
	n = epoll_wait(epfd, evs, 16, 0);
	for (i = 0; i < n; i++) {
		if (evs[i].data.ptr == &mon_tag) {
			if (nl_monitor_read(monfd, carrier_seen, NULL) == -ENOBUFS)
				carrier_all();
		} else {
			pdu_in(evs[i].data.ptr);
		}
	}
	now = now_ms();
	for (l = vw_links; l; l = l->next)
		if (aggr_is(l) && l->aggr->due <= now)
			run(l->aggr, now);
}

/* ---- members ---- */

static int slow_socket(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_SLOW), .sll_ifindex = ifindex };
	struct packet_mreq mr = { .mr_ifindex = ifindex, .mr_type = PACKET_MR_MULTICAST, .mr_alen = 6,
				  .mr_address = { 0x01, 0x80, 0xc2, 0x00, 0x00, 0x02 } };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_SLOW)), rc;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Whether ifname may join aggregation aname, whose members' MTU is *mtu
 * (0: none yet; the first member's sets it).  li: ifname as it is. */
static int member_check(const char *aname, const char *ifname, unsigned *mtu, struct nl_link_info *li, char *err,
			size_t errlen)
{
	const char *other;
	struct vw_link *l;

	if (!vw_linkname_valid(ifname) || nl_link_get(NULL, ifname, li) < 0) {
		ERR("%s: no such link '%s'", aname, ifname);
		return -ENOENT;
	}
	if (li->loopback || !strcmp(li->kind, "tun") || !strcmp(li->kind, "bridge")) {
		ERR("%s: cannot aggregate '%s': a %s device", aname, ifname,
		    li->loopback ? "loopback" : li->kind);
		return -EINVAL;
	}
	if ((other = aggr_member_of(ifname))) {
		ERR("%s: '%s' is a member of aggregation %s already", aname, ifname, other);
		return -EBUSY;
	}
	if ((l = link_find(ifname))) {
		if (l->nvnics)
			ERR("%s: '%s' has %u VNIC%s; delete them first", aname, ifname, l->nvnics,
			    l->nvnics == 1 ? "" : "s");
		else
			ERR("%s: '%s' is a %s link", aname, ifname, l->cls->name);
		return -EBUSY;
	}
	if (*mtu && li->mtu != *mtu) {
		ERR("%s: '%s' has MTU %u, the aggregation's members %u", aname, ifname, li->mtu, *mtu);
		return -EINVAL;
	}
	*mtu = li->mtu;
	return 0;
}

static int member_open(struct vw_aggr *a, unsigned i, const char *ifname, const struct nl_link_info *li,
		       char *err, size_t errlen)
{
	struct aggr_member *m = &a->m[i];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = m };
	int rc;

	memset(m, 0, sizeof(*m));
	m->sfd = -1;
	m->a = a;
	m->idx = i;
	m->ifindex = li->ifindex;
	memcpy(m->mac, li->mac, 6);
	vw_fast_dev_clear(li->ifindex); /* what an earlier daemon's phys may have left */
	if ((rc = vw_aggr_member_add(a->l->uplink, i, ifname, li->ifindex))) {
		ERR("%s: cannot open '%s': %s", a->l->name, ifname, strerror(-rc));
		return rc;
	}
	m->sfd = slow_socket(li->ifindex);
	if (m->sfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, m->sfd, &ev) < 0) {
		rc = m->sfd < 0 ? m->sfd : -errno;
		ERR("%s: cannot open LACP on '%s': %s", a->l->name, ifname, strerror(-rc));
		if (m->sfd >= 0)
			close(m->sfd);
		m->sfd = -1;
		vw_aggr_member_del(a->l->uplink, i);
		return rc;
	}
	nl_link_set_up(NULL, ifname, true);
	if (nl_link_get(NULL, ifname, (struct nl_link_info *)li) == 0)
		m->carrier = (li->flags & IFF_UP) && (li->flags & IFF_LOWER_UP);
	snprintf(m->name, sizeof(m->name), "%s", ifname);
	rc = lacp_port_add(a->lacp, i, m->mac, (uint16_t)(i + 1), m->carrier, now_ms());
	if (rc) {
		ERR("%s: cannot add '%s' to LACP: %s", a->l->name, ifname, strerror(-rc));
		epoll_ctl(epfd, EPOLL_CTL_DEL, m->sfd, NULL);
		close(m->sfd);
		vw_aggr_member_del(a->l->uplink, i);
		memset(m, 0, sizeof(*m));
		m->sfd = -1;
		return rc;
	}
	return 0;
}

static void member_close(struct vw_aggr *a, unsigned i)
{
	struct aggr_member *m = &a->m[i];

	if (!m->name[0])
		return;
	lacp_port_del(a->lacp, i, now_ms());
	vw_aggr_member_del(a->l->uplink, i);
	if (m->sfd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, m->sfd, NULL);
		close(m->sfd);
	}
	memset(m, 0, sizeof(*m));
	m->sfd = -1;
}

static unsigned nmembers(const struct vw_aggr *a)
{
	unsigned i, n = 0;

	for (i = 0; i < VW_AGGR_MAX; i++)
		n += a->m[i].name[0] != 0;
	return n;
}

static int member_index(const struct vw_aggr *a, const char *ifname)
{
	int i;

	for (i = 0; i < VW_AGGR_MAX; i++)
		if (a->m[i].name[0] && !strcmp(a->m[i].name, ifname))
			return i;
	return -1;
}

/* The members' names in member order, into conf */
static void conf_members(const struct vw_aggr *a, struct aggr_conf *c)
{
	unsigned i;

	c->n = 0;
	for (i = 0; i < VW_AGGR_MAX; i++)
		if (a->m[i].name[0])
			snprintf(c->members[c->n++], IFNAMSIZ, "%s", a->m[i].name);
}

/* ---- create, change, delete ---- */

static void aggr_free(struct vw_link *l)
{
	struct vw_aggr *a = l->aggr;
	unsigned i;

	if (l->uplink) {
		vw_fast_port_del(l->uplink);
		vw_worker_del_port(l->uplink);
		vw_switch_detach(l->sw, l->uplink);
	}
	for (i = 0; a && l->uplink && i < VW_AGGR_MAX; i++)
		member_close(a, i);
	vw_port_destroy(l->uplink);
	vw_switch_free(l->sw);
	if (a)
		lacp_free(a->lacp);
	free(a);
	free(l);
	if (naggrs && !--naggrs && monfd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, monfd, NULL);
		close(monfd);
		monfd = -1;
	}
}

/* A LACP system id of the aggregation's own: its first member's MAC; the
 * key is made from its name, so two aggregations of one daemon differ. */
static uint16_t name_key(const char *name)
{
	uint32_t h = 2166136261u;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 16777619u;
	return (uint16_t)((h ^ (h >> 16)) | 1);
}

int aggr_create(const struct aggr_spec *s, char *err, size_t errlen)
{
	struct nl_link_info li[VW_AGGR_MAX];
	struct lacp_actor_cfg cfg = { 0 };
	struct vw_aggr *a;
	struct vw_link *l;
	unsigned i, j, mtu = 0;
	int rc = link_check_name(s->name, err, errlen);

	if (rc)
		return rc;
	if (!s->nmembers) {
		ERR("%s: an aggregation needs at least one link (-l)", s->name);
		return -EINVAL;
	}
	if (s->nmembers > VW_AGGR_MAX) {
		ERR("%s: at most %d links in an aggregation", s->name, VW_AGGR_MAX);
		return -EINVAL;
	}
	for (i = 0; i < s->nmembers; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(s->members[i], s->members[j])) {
				ERR("%s: link '%s' named twice", s->name, s->members[i]);
				return -EINVAL;
			}
		if ((rc = member_check(s->name, s->members[i], &mtu, &li[i], err, errlen)))
			return rc;
	}
	if (aggr_poll_fd() < 0) {
		ERR("%s: cannot create: %s", s->name, strerror(errno));
		return -errno;
	}
	if (monfd < 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &mon_tag };

		monfd = nl_monitor_open();
		if (monfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, monfd, &ev) < 0) {
			rc = monfd < 0 ? monfd : -errno;
			if (monfd >= 0)
				close(monfd);
			monfd = -1;
			ERR("%s: cannot watch the links' state: %s", s->name, strerror(-rc));
			return rc;
		}
	}
	naggrs++;
	l = calloc(1, sizeof(*l));
	a = calloc(1, sizeof(*a));
	if (!l || !a) {
		free(a);
		if (l)
			l->aggr = NULL;
		goto nomem;
	}
	l->aggr = a;
	a->l = l;
	for (i = 0; i < VW_AGGR_MAX; i++)
		a->m[i].sfd = -1;
	strcpy(l->name, s->name);
	l->cls = &aggr_class;
	l->temporary = s->temporary;
	a->cur.policy = s->policy;
	a->cur.mode = s->mode;
	a->cur.timer = s->timer;
	a->mtu = mtu;
	memcpy(cfg.sys_mac, li[0].mac, 6);
	cfg.sys_prio = 32768;
	cfg.key = name_key(s->name);
	cfg.mode = s->mode;
	cfg.timer = s->timer;
	a->lacp = lacp_new(&cfg);
	l->sw = vw_switch_new(s->name);
	l->uplink = vw_aggr_open(s->name, s->policy, &rc);
	if (!a->lacp || !l->sw || !l->uplink)
		goto nomem;
	if ((rc = vw_switch_attach(l->sw, l->uplink)) || (rc = vw_worker_add_port_in(l->uplink, 0))) {
		ERR("%s: cannot attach: %s", s->name, strerror(-rc));
		vw_switch_detach(l->sw, l->uplink);
		aggr_free(l);
		return rc;
	}
	if ((rc = vw_fast_uplink_add(l->uplink, 0, mtu))) {
		ERR("%s: cannot enter the kernel fast path: %s", s->name, strerror(-rc));
		aggr_free(l);
		return rc;
	}
	for (i = 0; i < s->nmembers; i++)
		if ((rc = member_open(a, i, s->members[i], &li[i], err, errlen))) {
			aggr_free(l);
			return rc;
		}
	conf_members(a, &a->cur);
	a->saved = a->cur;
	link_insert(l);
	link_changed(VW_LINK_ATTACHING, l, l->name, 0, NULL, 0);
	link_notify(l, l->uplink, VW_LINK_PORT_UP);
	run(a, now_ms());
	return 0;
nomem:
	ERR("%s: out of memory", s->name);
	if (l)
		aggr_free(l);
	else
		naggrs--;
	return -ENOMEM;
}

static struct vw_link *aggr_named(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = link_find(name);

	if (!l || !aggr_is(l)) {
		ERR("%s: no such aggregation", name);
		return NULL;
	}
	return l;
}

int aggr_add(const char *name, const char *const *links, unsigned n, bool temporary, char *err, size_t errlen)
{
	struct vw_link *l = aggr_named(name, err, errlen);
	struct nl_link_info li[VW_AGGR_MAX];
	unsigned i, j, mtu, added = 0;
	int rc = 0, slot[VW_AGGR_MAX];
	struct vw_aggr *a;

	if (!l)
		return -ENOENT;
	a = l->aggr;
	mtu = a->mtu;
	if (nmembers(a) + n > VW_AGGR_MAX) {
		ERR("%s: at most %d links in an aggregation", name, VW_AGGR_MAX);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(links[i], links[j])) {
				ERR("%s: link '%s' named twice", name, links[i]);
				return -EINVAL;
			}
		if ((rc = member_check(name, links[i], &mtu, &li[i], err, errlen)))
			return rc;
	}
	for (i = 0; i < n; i++) {
		for (j = 0; a->m[j].name[0]; j++)
			;
		if ((rc = member_open(a, j, links[i], &li[i], err, errlen)))
			break;
		slot[added++] = (int)j;
	}
	if (rc) { /* nothing changed: those opened go again */
		while (added)
			member_close(a, (unsigned)slot[--added]);
		run(a, now_ms());
		return rc;
	}
	conf_members(a, &a->cur);
	if (!temporary && !l->temporary)
		conf_members(a, &a->saved);
	run(a, now_ms());
	return 0;
}

int aggr_remove(const char *name, const char *const *links, unsigned n, bool temporary, char *err, size_t errlen)
{
	struct vw_link *l = aggr_named(name, err, errlen);
	struct vw_aggr *a;
	unsigned i;

	if (!l)
		return -ENOENT;
	a = l->aggr;
	for (i = 0; i < n; i++)
		if (member_index(a, links[i]) < 0) {
			ERR("%s: '%s' is not a member", name, links[i]);
			return -ENOENT;
		}
	if (n >= nmembers(a)) {
		ERR("%s: cannot remove the last link of an aggregation; delete-aggr deletes it", name);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		member_close(a, (unsigned)member_index(a, links[i]));
	conf_members(a, &a->cur);
	if (!temporary && !l->temporary)
		conf_members(a, &a->saved);
	run(a, now_ms());
	return 0;
}

int aggr_modify(const char *name, int policy, int mode, int timer, bool temporary, char *err, size_t errlen)
{
	struct vw_link *l = aggr_named(name, err, errlen);
	struct vw_aggr *a;
	int rc;

	if (!l)
		return -ENOENT;
	a = l->aggr;
	if (policy > 0 && (unsigned)policy != a->cur.policy) {
		if ((rc = vw_aggr_set_policy(l->uplink, (unsigned)policy))) {
			ERR("%s: cannot set the policy: %s", name, strerror(-rc));
			return rc;
		}
		a->cur.policy = (unsigned)policy;
	}
	if (mode >= 0 && (enum lacp_mode)mode != a->cur.mode) {
		lacp_set_mode(a->lacp, (enum lacp_mode)mode, now_ms());
		a->cur.mode = (enum lacp_mode)mode;
	}
	if (timer >= 0 && (enum lacp_timer)timer != a->cur.timer) {
		lacp_set_timer(a->lacp, (enum lacp_timer)timer, now_ms());
		a->cur.timer = (enum lacp_timer)timer;
	}
	if (!temporary && !l->temporary) {
		a->saved.policy = a->cur.policy;
		a->saved.mode = a->cur.mode;
		a->saved.timer = a->cur.timer;
	}
	run(a, now_ms());
	return 0;
}

int aggr_delete(const char *name, char *err, size_t errlen)
{
	struct vw_link *l = aggr_named(name, err, errlen);

	if (!l)
		return -ENOENT;
	if (l->nvnics) {
		ERR("%s: aggregation has %u VNIC%s; delete them first", name, l->nvnics, l->nvnics == 1 ? "" : "s");
		return -EBUSY;
	}
	link_changed(VW_LINK_DELETING, l, l->name, 0, NULL, 0);
	link_notify(l, l->uplink, VW_LINK_PORT_DOWN);
	vw_shape_set(l->uplink, NULL, NULL, 0);
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	aggr_free(l);
	return 0;
}

/* ---- what show-aggr and vwstat show-aggr show ---- */

void aggr_info(const struct vw_link *l, struct aggr_info *ai)
{
	const struct vw_aggr *a = l->aggr;
	unsigned i;

	memset(ai, 0, sizeof(*ai));
	ai->policy = a->cur.policy;
	ai->mode = mode_names[a->cur.mode];
	ai->timer = timer_names[a->cur.timer];
	for (i = 0; i < VW_AGGR_MAX; i++) {
		const struct aggr_member *m = &a->m[i];
		struct aggr_port_info *p;

		if (!m->name[0])
			continue;
		p = &ai->ports[ai->nports++];
		snprintf(p->name, sizeof(p->name), "%s", m->name);
		memcpy(p->mac, m->mac, 6);
		p->carrier = m->carrier;
		p->collecting = m->coll;
		p->distributing = m->dist;
		lacp_port_info(a->lacp, i, &p->lacp);
		vw_aggr_member_stats(l->uplink, i, &p->st);
		ai->up |= m->dist;
	}
}

/* ---- the link class ---- */

static const char *const aggr_props_taken[] = { "maxbw", NULL };



static void aggr_state(const struct vw_link *l, unsigned *mtu, const char **state)
{
	unsigned i;

	*mtu = l->aggr->mtu;
	*state = "down";
	for (i = 0; i < VW_AGGR_MAX; i++)
		if (l->aggr->m[i].dist)
			*state = "up";
}


static int aggr_delete_link(struct vw_link *l, char *err, size_t errlen)
{
	return aggr_delete(l->name, err, errlen);
}

static void aggr_destroy(struct vw_link *l)
{
	link_notify(l, l->uplink, VW_LINK_PORT_DOWN);
	vw_shape_set(l->uplink, NULL, NULL, 0);
	link_notify(l, NULL, VW_LINK_DELETED);
	link_unlink(l);
	aggr_free(l);
}

static void aggr_export(struct vw_buf *out)
{
	struct vw_link *l;
	unsigned i;

	for (l = vw_links; l; l = l->next) {
		const struct aggr_conf *c;
		struct vw_buf b = { 0 };
		char pol[16];

		if (!aggr_is(l) || l->temporary)
			continue;
		c = &l->aggr->saved;
		vw_buf_printf(out, "create-aggr");
		for (i = 0; i < c->n; i++)
			vw_buf_printf(out, " -l %s", c->members[i]);
		vw_buf_printf(out, " -P %s -L %s -T %s %s\n", aggr_policy_format(c->policy, pol, sizeof(pol)),
			      mode_names[c->mode], timer_names[c->timer], l->name);
		if (linkprop_export(&aggr_class, &l->saved, &b))
			vw_buf_printf(out, "set-linkprop%s %s\n", b.p, l->name);
		vw_buf_free(&b);
	}
}

const struct vw_link_class aggr_class = {
	.name = "aggr",
	.configured = true,
	.flow_ids = VW_SHAPE_UPLINK_FIRST - 1,
	.props = aggr_props_taken,
	.props_of = link_props_own,
	.port = uplink_port,
	.shaped = uplink_vnic_classes,
	.state = aggr_state,
	.counters = uplink_counters,
	.delete = aggr_delete_link,
	.destroy = aggr_destroy,
	.export = aggr_export,
};
