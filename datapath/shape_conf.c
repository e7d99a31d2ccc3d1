/*
 * Shaping as a port hook (datapath/shape.h), its control side: checking a
 * configuration, putting a port's shapers on and off, changing their
 * classes live on their owners, and their counters.  The packet path is
 * datapath/shape.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "datapath/conntab.h"
#include "datapath/flow.h"
#include "datapath/gso.h"
#include "datapath/rcu.h"
#include "datapath/observe.h"
#include "datapath/shape.h"
#include "datapath/shaper.h"
#include "datapath/spsc.h"
#include "datapath/tcpops.h"
#include "datapath/vnet.h"
#include "datapath/vswitch.h"
#include "datapath/worker.h"
#include "datapath/shape_impl.h"

static unsigned owner_load[VW_MAX_WORKERS];

/* ---- control thread ----------------------------------------------------- */

struct shape_pair {
	struct vw_shape *sh[2];
	const struct vw_shape_conf *conf;
	struct vw_conntab *ct_new, *ct_old; /* installed / given back */
	bool want_ct;                       /* some flow has maxconn */
	int rc;
	char err[200];
};

/* Largest item at the lowest rate the configuration holds anything to. */
static uint32_t conf_max_item(const struct vw_shape_conf *c)
{
	uint64_t low = c->rate;
	int i;

	for (i = 0; i < c->n; i++)
		if (c->cls[i].shaped && c->cls[i].cfg.maxbw && (!low || c->cls[i].cfg.maxbw < low))
			low = c->cls[i].cfg.maxbw;
	return vw_shaper_max_item(low);
}

static void on_owner_add(void *arg)
{
	struct shape_pair *p = arg;
	int d;

	for (d = 0; d < 2; d++) {
		p->sh[d]->task.due = UINT64_MAX;
		vw_worker_task_add(&p->sh[d]->task);
	}
}

/* Forgets flow id on one direction: its class goes (its queued frames
 * move to the default class), its connections are no longer counted. */
static void id_clear(struct vw_shape *sh, int id, uint64_t now)
{
	if (sh->shaped[id])
		vw_shaper_class_remove(sh->sh, id, now, NULL, 0);
	if (sh->ct && sh->maxconn[id])
		vw_ct_flush_flow(sh->ct, (uint32_t)id);
	sh->flow_of[id] = NULL;
	sh->shaped[id] = 0;
	sh->drops_seen[id] = 0;
	sh->mss[id] = 0;
	sh->maxconn[id] = 0;
}

/* Applies a checked configuration: the rate, the connection table, then
 * per flow id what went (first, so that its id is free), what changed and
 * what came; last, each flow's id, which makes classification find it. */
static void on_owner_conf(void *arg)
{
	struct shape_pair *p = arg;
	const struct vw_shape_conf *c = p->conf;
	const struct vw_shape_class *byid[VW_SHAPE_MAX_CLASSES] = { 0 };
	uint64_t now = vw_mono_ns();
	char err[200];
	int d, i, id, rc;

	p->rc = 0;
	for (i = 0; i < c->n; i++)
		byid[c->cls[i].id] = &c->cls[i];
	for (d = 0; d < 2; d++) {
		struct vw_shape *sh = p->sh[d];

		rc = vw_shaper_set_rate(sh->sh, c->rate, now, err, sizeof(err));
		if (p->ct_new)
			sh->ct = p->ct_new;
		for (id = 1; id < VW_SHAPE_MAX_CLASSES; id++)
			if (sh->flow_of[id] && (!byid[id] || byid[id]->flow != sh->flow_of[id])) {
				sh->flow_of[id]->cls = 0;
				id_clear(sh, id, now);
			}
		for (i = 0; i < c->n && !rc; i++) {
			const struct vw_shape_class *k = &c->cls[i];

			if (k->shaped && sh->shaped[k->id])
				rc = vw_shaper_class_modify(sh->sh, k->id, &k->cfg, now, err, sizeof(err));
			else if (k->shaped)
				rc = vw_shaper_class_add(sh->sh, k->id, &k->cfg, now, err, sizeof(err));
			else if (sh->shaped[k->id])
				rc = vw_shaper_class_remove(sh->sh, k->id, now, err, sizeof(err));
			if (rc)
				break;
			if (sh->ct && sh->maxconn[k->id] && !k->maxconn)
				vw_ct_flush_flow(sh->ct, k->id);
			sh->flow_of[k->id] = k->flow;
			sh->shaped[k->id] = k->shaped;
			sh->mss[k->id] = k->mss;
			sh->maxconn[k->id] = k->maxconn;
		}
		if (rc && !p->rc) {
			p->rc = rc; /* cannot happen for a checked configuration */
			snprintf(p->err, sizeof(p->err), "%s", err);
		}
		if (!p->ct_new && sh->ct && !p->want_ct) {
			p->ct_old = sh->ct; /* the control thread frees it */
			sh->ct = NULL;
		}
		sh->rate = c->rate;
		sh->max_item = conf_max_item(c);
		sh->nflows = c->n;
		sh->task.due = now;
	}
	for (i = 0; i < c->n; i++)
		c->cls[i].flow->cls = c->cls[i].id;
}

/* Shaping off: what is queued or handed over is sent on as it is. */
static void on_owner_remove(void *arg)
{
	struct shape_pair *p = arg;
	void *items[64];
	uint32_t bytes[64];
	unsigned got;
	int d, n, id;

	for (d = 0; d < 2; d++) {
		struct vw_shape *sh = p->sh[d];

		vw_worker_task_del(&sh->task);
		for (id = 1; id < VW_SHAPE_MAX_CLASSES; id++)
			if (sh->flow_of[id])
				sh->flow_of[id]->cls = 0;
		/* the queue first: what was handed over came after it */
		while ((n = vw_shaper_flush(sh->sh, items, bytes, 64)) > 0)
			shape_send_on(sh, items, n);
		if (d == VW_SHAPE_IN)
			while ((got = shape_take_handed(sh, items, 64)) > 0)
				shape_send_on(sh, items, (int)got);
		vw_shaper_destroy(sh->sh);
		sh->sh = NULL;
	}
}

static void ct_free(struct vw_conntab *ct)
{
	if (ct) {
		vw_ct_fini(ct);
		free(ct);
	}
}

static void shape_free(struct vw_shape *sh)
{
	int w;

	if (!sh)
		return;
	if (sh->sh)
		vw_shaper_destroy(sh->sh);
	if (sh->dir == VW_SHAPE_OUT)
		ct_free(sh->ct);
	for (w = 0; w < VW_MAX_WORKERS; w++)
		vw_spsc_fini(&sh->in[w]);
	free(sh);
}

static void shaper_cfg(struct vw_shaper_cfg *cfg, struct vw_shape *sh)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->maxbw = sh ? sh->rate : 0;
	cfg->max_items = SHAPER_ITEMS;
	cfg->max_classes = VW_SHAPE_MAX_CLASSES;
	cfg->max_fair = VW_SHAPE_MAX_FAIR;
	cfg->dflt.priority = VW_SHAPER_MEDIUM; /* traffic of no flow (no class) */
	cfg->drop = shape_on_drop;
	cfg->drop_arg = sh;
	if (sh && getrandom(&cfg->seed, sizeof(cfg->seed), GRND_NONBLOCK) != sizeof(cfg->seed))
		cfg->seed = (uint32_t)(uintptr_t)sh;
}

int vw_shape_check(const struct vw_shape_conf *conf, char *err, size_t errlen)
{
	struct vw_shaper_class_cfg cls[VW_SHAPE_MAX_CLASSES];
	struct vw_shaper_cfg cfg;
	bool seen[VW_SHAPE_MAX_CLASSES] = { 0 };
	int i, n = 0;

	if (conf->n < 0 || conf->n >= VW_SHAPE_MAX_CLASSES) {
		snprintf(err, errlen, "too many flows with traffic properties (at most %d)", VW_SHAPE_MAX_CLASSES - 1);
		return -ENOSPC;
	}
	for (i = 0; i < conf->n; i++) {
		unsigned id = conf->cls[i].id;

		if (!id || id >= VW_SHAPE_MAX_CLASSES || seen[id] || !conf->cls[i].flow) {
			snprintf(err, errlen, "bad class %u", id);
			return -EINVAL;
		}
		seen[id] = true;
		if (conf->cls[i].shaped)
			cls[n++] = conf->cls[i].cfg;
	}
	shaper_cfg(&cfg, NULL);
	cfg.maxbw = conf->rate;
	return vw_shaper_validate(&cfg, cls, n, err, errlen);
}

/* Turns shaping off: queued frames go on, the port's steering goes back to
 * its own choice. */
static void shape_off(struct vw_port *port)
{
	struct shape_pair p = { .sh = { port->shape[VW_SHAPE_OUT], port->shape[VW_SHAPE_IN] } };
	int owner;

	if (!p.sh[0])
		return;
	owner = p.sh[0]->owner;
	vw_port_hook_set(port, VW_HOOK_RX, NULL);
	vw_port_hook_set(port, VW_HOOK_TX, NULL);
	port->shape[VW_SHAPE_OUT] = port->shape[VW_SHAPE_IN] = NULL;
	vw_port_steer(port, -1);
	/* no worker is inside the hooks for it after this */
	vw_rcu_synchronize();
	vw_worker_call(owner, on_owner_remove, &p);
	owner_load[owner]--;
	shape_free(p.sh[0]);
	shape_free(p.sh[1]);
}

int vw_shape_set(struct vw_port *port, const struct vw_shape_conf *conf, char *err, size_t errlen)
{
	struct shape_pair p = { .conf = conf };
	int d, w, nw = vw_workers_count(), owner, rc;

	if (!conf) {
		shape_off(port);
		return 0;
	}
	rc = vw_shape_check(conf, err, errlen);
	if (rc)
		return rc;
	p.sh[0] = port->shape[VW_SHAPE_OUT];
	p.sh[1] = port->shape[VW_SHAPE_IN];
	for (d = 0; d < conf->n; d++)
		p.want_ct |= conf->cls[d].maxconn != 0;
	if (p.want_ct && !(p.sh[0] && p.sh[0]->ct)) {
		uint64_t seed;

		if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
			seed = (uint64_t)(uintptr_t)port ^ vw_mono_ns();
		p.ct_new = calloc(1, sizeof(*p.ct_new));
		if (!p.ct_new || vw_ct_init(p.ct_new, CT_CONNS, VW_SHAPE_MAX_CLASSES, seed, NULL) < 0) {
			free(p.ct_new);
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	if (p.sh[0]) {
		vw_worker_call(p.sh[0]->owner, on_owner_conf, &p);
		ct_free(p.ct_old);
		if (p.rc)
			snprintf(err, errlen, "%s", p.err);
		return p.rc;
	}
	/* the owner must be the only reader of the port: its one poller, or
	 * the queue its backend steers every frame to */
	if (!port->ops || nw < 1 || (port->nq > 1 ? !port->ops->steer : port->worker < 0)) {
		snprintf(err, errlen, "shaping needs a VNIC's TAP or a polled uplink, and a running worker");
		return -EINVAL;
	}
	if (vw_worker_returns_init()) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	/* a port with one reader: that reader owns its shaping; else the
	 * least loaded of the workers the link may use (cpus) */
	owner = port->nq > 1 ? -1 : port->worker;
	for (w = 0; w < nw && port->nq > 1; w++)
		if ((!port->workers_allowed || (port->workers_allowed & (1u << w))) &&
		    (owner < 0 || owner_load[w] < owner_load[owner]))
			owner = w;
	if (owner < 0)
		owner = 0;
	for (d = 0; d < 2; d++) {
		struct vw_shaper_cfg cfg;
		struct vw_shape *sh = calloc(1, sizeof(*sh));

		p.sh[d] = sh;
		if (!sh) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		sh->port = port;
		sh->dir = d;
		sh->owner = owner;
		sh->rate = conf->rate;
		sh->max_item = vw_shaper_max_item(conf->rate);
		sh->task.run = shape_run;
		if (d == VW_SHAPE_OUT)
			sh->hook.rx = shape_out_take;
		else
			sh->hook.tx = port->uplink ? shape_uplink_tx : shape_in_tx;
		shaper_cfg(&cfg, sh);
		rc = vw_shaper_create(&cfg, vw_mono_ns(), &sh->sh, err, errlen);
		if (rc)
			goto fail_rc;
		if (d == VW_SHAPE_IN)
			for (w = 0; w < nw; w++)
				if (vw_spsc_init(&sh->in[w], HANDOFF_RING) < 0) {
					snprintf(err, errlen, "out of memory");
					goto fail;
				}
	}
	vw_worker_call(owner, on_owner_add, &p);
	vw_worker_call(owner, on_owner_conf, &p); /* the classes */
	owner_load[owner]++;
	port->shape[VW_SHAPE_OUT] = p.sh[0];
	port->shape[VW_SHAPE_IN] = p.sh[1];
	vw_port_hook_set(port, VW_HOOK_TX, &p.sh[1]->hook);
	vw_port_hook_set(port, VW_HOOK_RX, &p.sh[0]->hook);
	if (vw_port_steer(port, owner) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot steer the TAP's frames to one queue");
		shape_off(port);
		return rc ? rc : -EIO;
	}
	return 0;
fail_rc:
	shape_free(p.sh[0]);
	shape_free(p.sh[1]);
	ct_free(p.ct_new);
	return rc;
fail:
	shape_free(p.sh[0]);
	shape_free(p.sh[1]);
	ct_free(p.ct_new);
	return -ENOMEM;
}

void vw_shape_stats(const struct vw_port *port, int dir, struct vw_shape_stats *st)
{
	const struct vw_shape *sh = port->shape[dir];
	int w;

	memset(st, 0, sizeof(*st));
	if (!sh)
		return;
	st->pkts = __atomic_load_n(&sh->st.pkts, __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&sh->st.bytes, __ATOMIC_RELAXED);
	st->drop_codel = __atomic_load_n(&sh->st.drop_codel, __ATOMIC_RELAXED);
	st->drop_limit = __atomic_load_n(&sh->st.drop_limit, __ATOMIC_RELAXED);
	st->drop_bad = __atomic_load_n(&sh->st.drop_bad, __ATOMIC_RELAXED);
	st->qlen = __atomic_load_n(&sh->st.qlen, __ATOMIC_RELAXED);
	st->qbytes = __atomic_load_n(&sh->st.qbytes, __ATOMIC_RELAXED);
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		st->drop_nobuf += __atomic_load_n(&sh->prod[w].nobuf, __ATOMIC_RELAXED);
		st->drop_bad += __atomic_load_n(&sh->prod[w].bad, __ATOMIC_RELAXED);
	}
}
