/*
 * IPFIX exporters as objects: the create/delete/show-exporter commands, the
 * exporters' part of the persistent state, and following the links they
 * meter as they come and go (observability/ipfix.c is the meter and the
 * exporter thread).  Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "datapath/worker.h"
#include "objects/link.h"
#include "observability/ipfix_impl.h"

static struct ipfix_exp *exporters;
static bool watching;

/* ingressInterface/egressInterface: a number per link name, 1, 2, ... in
 * the order the daemon's exporters meet them, kept while it runs. */
static char ifnames[1024][VW_LINKNAME_MAX + 1];
static unsigned nifnames;

static uint32_t ifindex_of(const char *name)
{
	unsigned i;

	for (i = 0; i < nifnames; i++)
		if (!strcmp(ifnames[i], name))
			return i + 1;
	if (nifnames == sizeof(ifnames) / sizeof(ifnames[0]))
		return 0;
	snprintf(ifnames[nifnames], sizeof(ifnames[0]), "%s", name);
	return ++nifnames;
}

static struct ipfix_exp *exporter_find(const char *name)
{
	struct ipfix_exp *e;

	for (e = exporters; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

static bool exporter_selects(const struct ipfix_exp *e, const struct vw_link *l)
{
	int i;

	if (e->all)
		return l->cls->has_face; /* a VNIC, a VM's too */
	for (i = 0; i < e->nlinks; i++)
		if (!strcmp(e->links[i], l->name))
			return true;
	return false;
}

static void tap_attach(struct ipfix_exp *e, struct vw_link *l, struct vw_port *port)
{
	struct ipfix_tap *t;

	for (t = e->taps; t; t = t->next)
		if (t->port == port)
			return;
	t = malloc(sizeof(*t));
	if (!t)
		return;
	ipfix_tap_init(t, e, port, l->name, ifindex_of(l->name), l->vid);
	if (vw_obs_add(port, &t->obs) < 0) {
		free(t);
		return;
	}
	t->next = e->taps;
	e->taps = t;
}

static void tap_detach(struct ipfix_exp *e, struct ipfix_tap **pp)
{
	struct ipfix_tap *t = *pp;

	vw_obs_del(t->port, &t->obs);
	ipfix_flush_all(e, t, false); /* forced end: the link's flows */
	*pp = t->next;
	free(t);
}

static void watch_fn(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg)
{
	struct ipfix_exp *e;

	(void)arg;
	for (e = exporters; e; e = e->next) {
		struct ipfix_tap **pp;
		int i;

		switch (ev) {
		case VW_LINK_PORT_UP:
			if (exporter_selects(e, l))
				tap_attach(e, l, port);
			break;
		case VW_LINK_PORT_DOWN:
			for (pp = &e->taps; *pp; pp = &(*pp)->next)
				if ((*pp)->port == port) {
					tap_detach(e, pp);
					break;
				}
			break;
		case VW_LINK_DELETED:
			/* -l names links that exist: a deleted one leaves the list */
			for (i = 0; i < e->nlinks; i++)
				if (!strcmp(e->links[i], l->name)) {
					memmove(e->links[i], e->links[i + 1],
						sizeof(e->links[0]) * (size_t)(e->nlinks - i - 1));
					e->nlinks--;
					break;
				}
			break;
		}
	}
}

static bool collector_parse(const char *s, struct ipfix_conf *c, char *canon, size_t clen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&c->collector;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->collector;
	const char *colon = strrchr(s, ':'), *h = s;
	char host[64], a[INET6_ADDRSTRLEN];
	uint64_t port;
	size_t hl;

	if (!colon || colon == s || !vw_uint_parse(colon + 1, 1, 65535, &port))
		return false;
	hl = (size_t)(colon - s);
	if (*h == '[') {
		if (colon[-1] != ']' || hl < 3)
			return false;
		h++, hl -= 2;
	}
	if (hl >= sizeof(host))
		return false;
	memcpy(host, h, hl);
	host[hl] = 0;
	memset(&c->collector, 0, sizeof(c->collector));
	if (h == s && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		c->collen = sizeof(*s4);
		snprintf(canon, clen, "%s:%u", inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)), (unsigned)port);
		return true;
	}
	if (h != s && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		c->collen = sizeof(*s6);
		snprintf(canon, clen, "[%s]:%u", inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)), (unsigned)port);
		return true;
	}
	return false;
}

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

int exporter_create_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *name = c->operand[0], *type = vw_cmd_opt(c, 'T'), *attrs = vw_cmd_opt(c, 'a');
	const char *links = vw_cmd_opt(c, 'l');
	struct ipfix_conf conf = { .active_s = 60, .idle_s = 15, .template_s = 60, .domain = 1 };
	char copy[512], lcopy[1024], canon[64] = "", *keys[8], *vals[8];
	char lnames[MAX_LINKS][VW_LINKNAME_MAX + 1];
	struct ipfix_exp *e;
	struct vw_link *l;
	int n, i, j, nl = 0;
	unsigned seen = 0;

	(void)out;
	if (!vw_linkname_valid(name)) {
		ERR("invalid exporter name '%s' (1-15 characters, a letter first)", name);
		return -EINVAL;
	}
	if (exporter_find(name)) {
		ERR("exporter %s already exists", name);
		return -EEXIST;
	}
	if (strcmp(type, "ipfix")) {
		ERR("%s: unknown exporter type '%s' (ipfix)", name, type);
		return -EINVAL;
	}
	snprintf(copy, sizeof(copy), "%s", attrs);
	n = strlen(attrs) < sizeof(copy) ? vw_kvlist_split(copy, keys, vals, 8) : -1;
	if (n < 0) {
		ERR("%s: invalid attribute list '%s' (collector=IP:PORT[,active=S,idle=S,template=S,domain=N,cache=FLOWS])", name,
		    attrs);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		static const char *const names[] = { "collector", "active", "idle", "template", "domain", "cache" };
		uint64_t v = 0;
		unsigned k;

		for (k = 0; k < 6 && strcmp(keys[i], names[k]); k++)
			;
		if (k == 6) {
			ERR("%s: unknown attribute '%s' (collector, active, idle, template, domain, cache)", name, keys[i]);
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			ERR("%s: attribute '%s' given twice", name, keys[i]);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (k == 0) {
			if (!collector_parse(vals[i], &conf, canon, sizeof(canon))) {
				ERR("%s: invalid collector '%s' (IPv4:PORT or [IPv6]:PORT)", name, vals[i]);
				return -EINVAL;
			}
		} else if (k == 4) {
			if (!vw_uint_parse(vals[i], 0, UINT32_MAX, &v)) {
				ERR("%s: invalid domain '%s' (0 to 4294967295)", name, vals[i]);
				return -EINVAL;
			}
			conf.domain = (uint32_t)v;
		} else if (k == 5) {
			/* flows per worker: buckets of 8, a power of 2 of them */
			if (!vw_uint_parse(vals[i], 1024, 1048576, &v)) {
				ERR("%s: invalid cache '%s' (1024 to 1048576 flows per worker)", name, vals[i]);
				return -EINVAL;
			}
			conf.nbuckets = 1;
			while (conf.nbuckets * BUCKET < v)
				conf.nbuckets <<= 1;
		} else {
			if (!vw_uint_parse(vals[i], 1, 3600, &v)) {
				ERR("%s: invalid %s %s '%s' (1 to 3600 seconds)", name, keys[i],
				    k == 3 ? "interval" : "timeout", vals[i]);
				return -EINVAL;
			}
			if (k == 1)
				conf.active_s = (unsigned)v;
			else if (k == 2)
				conf.idle_s = (unsigned)v;
			else
				conf.template_s = (unsigned)v;
		}
	}
	if (!(seen & 1)) {
		ERR("%s: attribute 'collector' is required (collector=IP:PORT)", name);
		return -EINVAL;
	}
	if (links) {
		char *save = NULL, *tok;

		if (strlen(links) >= sizeof(lcopy)) {
			ERR("%s: link list too long", name);
			return -EINVAL;
		}
		snprintf(lcopy, sizeof(lcopy), "%s", links);
		if (!*links || links[strlen(links) - 1] == ',' || strstr(links, ",,") || *links == ',') {
			ERR("%s: invalid link list '%s' (LINK[,LINK...])", name, links);
			return -EINVAL;
		}
		for (tok = strtok_r(lcopy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			l = link_find(tok);
			if (!l) {
				ERR("%s: no such link '%s'", name, tok);
				return -ENOENT;
			}
			if (l->cls->portless) {
				ERR("%s: %s is an etherstub: list its VNICs, or omit -l for every VNIC", name, tok);
				return -EINVAL;
			}
			for (j = 0; j < nl; j++)
				if (!strcmp(lnames[j], tok)) {
					ERR("%s: link '%s' listed twice", name, tok);
					return -EINVAL;
				}
			if (nl == MAX_LINKS) {
				ERR("%s: more than %d links", name, MAX_LINKS);
				return -EINVAL;
			}
			snprintf(lnames[nl++], sizeof(lnames[0]), "%s", tok);
		}
	}
	if (!watching) {
		if (link_watch(watch_fn, NULL) < 0) {
			ERR("%s: cannot watch links (too many watchers)", name);
			return -ENOSPC;
		}
		watching = true;
	}
	e = ipfix_new(&conf, vw_workers_count(), err, errlen);
	if (!e)
		return -ENOMEM;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->collector, sizeof(e->collector), "%s", canon);
	e->all = !links;
	e->nlinks = nl;
	memcpy(e->links, lnames, sizeof(lnames[0]) * (size_t)nl);
	ipfix_start_tasks(e);
	for (l = vw_links; l; l = l->next) {
		if (!exporter_selects(e, l))
			continue;
		if (link_port(l))
			tap_attach(e, l, link_port(l));
	}
	e->next = exporters;
	exporters = e;
	return 0;
}

int exporter_delete_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct ipfix_exp **pp, *e;
	struct ipfix_tap *t;

	(void)out;
	for (pp = &exporters; *pp && strcmp((*pp)->name, c->operand[0]); pp = &(*pp)->next)
		;
	if (!*pp) {
		ERR("%s: no such exporter", c->operand[0]);
		return -ENOENT;
	}
	e = *pp;
	*pp = e->next;
	/* no worker meters for it any more, then every flow ends (reason 4) */
	for (t = e->taps; t; t = t->next)
		vw_obs_del(t->port, &t->obs);
	ipfix_flush_all(e, NULL, e->tasks);
	while ((t = e->taps)) {
		e->taps = t->next;
		free(t);
	}
	ipfix_free(e); /* sends what the rings hold */
	return 0;
}

static void links_format(const struct ipfix_exp *e, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < e->nlinks && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", e->links[i]);
}

int exporter_show_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct ipfix_exp *e;
	int i;

	for (i = 0; i < c->noperand; i++)
		if (!exporter_find(c->operand[i])) {
			ERR("%s: no such exporter", c->operand[i]);
			return -ENOENT;
		}
	for (e = exporters; e; e = e->next) {
		struct ipfix_stats st;
		char lk[MAX_LINKS * (VW_LINKNAME_MAX + 1) + 1];
		bool want = !c->noperand;

		for (i = 0; i < c->noperand; i++)
			want |= !strcmp(c->operand[i], e->name);
		if (!want)
			continue;
		ipfix_get_stats(e, &st);
		links_format(e, lk, sizeof(lk));
		vw_buf_kv(out, "record", "exporter");
		vw_buf_kv(out, "exporter", "%s", e->name);
		vw_buf_kv(out, "type", "ipfix");
		vw_buf_kv(out, "collector", "%s", e->collector);
		vw_buf_kv(out, "links", "%s", e->all ? "all" : e->nlinks ? lk : "--");
		vw_buf_kv(out, "active", "%u", e->conf.active_s);
		vw_buf_kv(out, "idle", "%u", e->conf.idle_s);
		vw_buf_kv(out, "template", "%u", e->conf.template_s);
		vw_buf_kv(out, "domain", "%u", e->conf.domain);
		vw_buf_kv(out, "cache", "%u", e->nb * BUCKET);
		vw_buf_kv(out, "flows", "%lu", st.flows);
		vw_buf_kv(out, "records", "%lu", st.records);
		vw_buf_kv(out, "messages", "%lu", st.messages);
		vw_buf_kv(out, "drops", "%lu", st.drops);
		vw_buf_kv(out, "evicted", "%lu", st.evicted);
	}
	return 0;
}

void exporters_export(struct vw_buf *out)
{
	struct ipfix_exp *e, *order[256];
	int n = 0;

	/* oldest first, as they were created */
	for (e = exporters; e && n < 256; e = e->next)
		order[n++] = e;
	while (n--) {
		char lk[MAX_LINKS * (VW_LINKNAME_MAX + 1) + 1];

		e = order[n];
		if (!e->all && !e->nlinks)
			continue; /* its links were all deleted: it meters nothing */
		vw_buf_printf(out, "create-exporter -T ipfix -a collector=%s,active=%u,idle=%u,template=%u,domain=%u",
			      e->collector, e->conf.active_s, e->conf.idle_s, e->conf.template_s, e->conf.domain);
		if (e->conf.nbuckets && e->conf.nbuckets != IPFIX_DEFAULT_BUCKETS)
			vw_buf_printf(out, ",cache=%u", e->conf.nbuckets * BUCKET);
		if (!e->all) {
			links_format(e, lk, sizeof(lk));
			vw_buf_printf(out, " -l %s", lk);
		}
		vw_buf_printf(out, " %s\n", e->name);
	}
}
