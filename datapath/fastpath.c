/*
 * The kernel fast path's loader and map keeper (datapath/fastpath.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "datapath/bpf/vw_fast.h"
#include "datapath/fastpath.h"
#include "datapath/vswitch.h"

/* the object built from datapath/bpf/vw_fast.bpf.c (Makefile: vw_fast_obj.c) */
extern const unsigned char vw_fast_obj[];
extern const unsigned long vw_fast_obj_len;

/* Our filter at TC ingress, among whatever else a phys device may have */
#define TC_HANDLE 0x7677
#define TC_PRIO 1

/* A port's fast-path state (port->fast), on the list of them all */
struct vw_fast_ref {
	struct vw_fast_ref *next;
	int ifindex;   /* where its frames come in: a VNIC's host end, the uplink */
	int chan;      /* a VNIC's channel (its TAP); 0 for an uplink */
	uint32_t slot; /* its counters in vw_stats */
	uint8_t kind;  /* VW_FAST_VNIC or VW_FAST_UPLINK */
	bool samens;   /* a VNIC whose zone end is in the daemon's namespace */
	unsigned mtu;  /* an uplink device's MTU */
	struct vw_fast_fdb_key key;
};

static struct {
	bool on;
	bool leaving; /* vw_fast_leave() */
	struct vw_fast_ref *refs;
	bool quiet; /* libbpf's warnings are expected (a clsact already there) */
	struct bpf_object *obj;
	int prog_tc, prog_sock;
	int ports, fdb, stats;
	int ncpu;
	struct vw_fast_stats *percpu; /* ncpu values: one map read or reset */
	uint8_t slot_used[VW_FAST_MAX_PORTS / 8];
} fp = { .prog_tc = -1, .prog_sock = -1 };

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level > LIBBPF_WARN || fp.quiet)
		return 0;
	fputs("vwired: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

bool vw_fast_enabled(void)
{
	return fp.on;
}

static int map_fd(const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(fp.obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

static int prog_fd(const char *name)
{
	struct bpf_program *p = bpf_object__find_program_by_name(fp.obj, name);

	return p ? bpf_program__fd(p) : -ENOENT;
}

/*
 * The maps of the program at TC ingress of ifindex, as our object's maps
 * if they are laid out as ours are (an older daemon's may not be: then the
 * next daemon starts with new ones, and its VNICs' traffic stops for the
 * moment it takes to write them).
 */
static void maps_take_over(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);
	struct bpf_prog_info pi = { 0 };
	uint32_t ids[16], len = sizeof(pi), i;
	int pfd, taken = 0;

	fp.quiet = true;
	if (bpf_tc_query(&hook, &opts) || (pfd = bpf_prog_get_fd_by_id(opts.prog_id)) < 0) {
		fp.quiet = false;
		return;
	}
	fp.quiet = false;
	pi.nr_map_ids = 16;
	pi.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(pfd, &pi, &len) == 0)
		for (i = 0; i < pi.nr_map_ids && i < 16; i++) {
			struct bpf_map_info mi = { 0 };
			uint32_t mlen = sizeof(mi);
			int mfd = bpf_map_get_fd_by_id(ids[i]);
			struct bpf_map *m;

			if (mfd < 0)
				continue;
			if (bpf_obj_get_info_by_fd(mfd, &mi, &mlen) == 0 &&
			    (m = bpf_object__find_map_by_name(fp.obj, mi.name)) && strcmp(mi.name, "vw_last") &&
			    mi.type == bpf_map__type(m) && mi.key_size == bpf_map__key_size(m) &&
			    mi.value_size == bpf_map__value_size(m) && mi.max_entries == bpf_map__max_entries(m) &&
			    bpf_map__reuse_fd(m, mfd) == 0)
				taken++;
			close(mfd);
		}
	close(pfd);
	if (taken)
		fprintf(stderr, "vwired: kernel fast path: took over the maps an earlier daemon left (%d)\n", taken);
}

static int tc_attach(int ifindex);

/*
 * Whether the program can be attached at TC ingress at all (clsact and
 * cls_bpf), tried on the namespace's loopback device: attached and taken
 * off again at once (it leaves alone every frame of a device that is not a
 * port), and the clsact qdisc removed again if the probe made it.
 */
static int tc_probe(void)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = 1, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);
	int made, rc;

	fp.quiet = true;
	made = bpf_tc_hook_create(&hook) == 0;
	rc = tc_attach(1);
	if (!rc)
		bpf_tc_detach(&hook, &opts);
	if (made) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	fp.quiet = false;
	return rc;
}

int vw_fast_start(int adopt_ifindex, char *why, size_t whylen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "vw_fast");
	int rc;

	if (fp.on)
		return 0;
	libbpf_set_print(libbpf_log);
	fp.ncpu = libbpf_num_possible_cpus();
	if (fp.ncpu <= 0) {
		snprintf(why, whylen, "cannot count the possible CPUs: %s", strerror(-fp.ncpu));
		return fp.ncpu ? fp.ncpu : -EINVAL;
	}
	fp.percpu = calloc((size_t)fp.ncpu, sizeof(*fp.percpu));
	fp.obj = bpf_object__open_mem(vw_fast_obj, vw_fast_obj_len, &opts);
	if (!fp.percpu || !fp.obj) {
		rc = fp.obj ? -ENOMEM : -errno;
		snprintf(why, whylen, "cannot open the fast path's programs: %s", strerror(-rc));
		goto fail;
	}
	if (adopt_ifindex > 0)
		maps_take_over(adopt_ifindex);
	rc = bpf_object__load(fp.obj);
	if (rc) {
		snprintf(why, whylen, "the kernel refused the fast path's programs (no BPF here?): %s", strerror(-rc));
		goto fail;
	}
	fp.prog_tc = prog_fd("vw_fast");
	fp.prog_sock = prog_fd("vw_sock");
	fp.ports = map_fd("vw_ports");
	fp.fdb = map_fd("vw_fdb");
	fp.stats = map_fd("vw_stats");
	if (fp.prog_tc < 0 || fp.prog_sock < 0 || fp.ports < 0 || fp.fdb < 0 || fp.stats < 0) {
		rc = -ENOENT;
		snprintf(why, whylen, "the fast path's object lacks a program or a map");
		goto fail;
	}
	rc = tc_probe();
	if (rc) {
		snprintf(why, whylen, "the kernel cannot run it at TC ingress (no clsact or cls_bpf?): %s",
			 strerror(-rc));
		goto fail;
	}
	memset(fp.slot_used, 0, sizeof(fp.slot_used));
	fp.on = true;
	fp.leaving = false;
	return 0;
fail:
	vw_fast_stop();
	return rc;
}

void vw_fast_stop(void)
{
	bpf_object__close(fp.obj); /* NULL is fine */
	fp.obj = NULL;
	free(fp.percpu);
	fp.percpu = NULL;
	fp.on = false;
	fp.prog_tc = fp.prog_sock = -1;
}

/* ---- TC ingress ---- */

static int tc_attach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO, .prog_fd = fp.prog_tc,
		    .flags = BPF_TC_F_REPLACE);
	int rc;

	fp.quiet = true; /* a phys device may have its clsact qdisc already */
	rc = bpf_tc_hook_create(&hook);
	fp.quiet = false;
	if (rc && rc != -EEXIST)
		return rc;
	return bpf_tc_attach(&hook, &opts);
}

static void tc_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO);

	bpf_tc_detach(&hook, &opts);
}

/* ---- counters' slots ---- */

static int slot_take(uint32_t *slot)
{
	uint32_t i;

	for (i = 0; i < VW_FAST_MAX_PORTS; i++)
		if (!(fp.slot_used[i / 8] & (1u << (i % 8)))) {
			/* from zero: a slot keeps what its last port counted */
			memset(fp.percpu, 0, (size_t)fp.ncpu * sizeof(*fp.percpu));
			if (bpf_map_update_elem(fp.stats, &i, fp.percpu, BPF_ANY))
				return -errno;
			fp.slot_used[i / 8] |= (uint8_t)(1u << (i % 8));
			*slot = i;
			return 0;
		}
	return -ENOSPC;
}

static void slot_give(uint32_t slot)
{
	fp.slot_used[slot / 8] &= (uint8_t)~(1u << (slot % 8));
}

/* ---- the maps' entries of a port ---- */

/* What only the userspace datapath does for a port today: shaping (its
 * hooks), flows, captures, mirrors and meters, link protection, and the
 * reasons of port->slow_only (a backend's, the link's cpus) */
static bool needs_slow(const struct vw_port *port)
{
	return port->hook[VW_HOOK_RX] || port->hook[VW_HOOK_TX] || port->flows || port->obs || port->prot ||
	       port->slow_only;
}

static uint32_t sw_id(const struct vw_port *port)
{
	return port->sw ? port->sw->fast_id : 0;
}

/* Writes the port's entries in vw_ports and vw_fdb (and its channel's). */
static int entries_put(struct vw_port *port, unsigned mtu)
{
	const struct vw_fast_ref *r = port->fast;
	bool slow = needs_slow(port);
	struct vw_fast_port in = {
		.sw = sw_id(port),
		.vid = port->vid,
		.kind = r->kind,
		.flags = slow ? VW_FAST_PORT_SLOW : 0,
		.slow_ifindex = (uint32_t)r->chan,
		.slot = r->slot,
		.mtu = mtu,
	};
	struct vw_fast_fdb_val to = {
		.ifindex = (uint32_t)r->ifindex,
		.slot = r->slot,
		.flags = (uint16_t)((slow ? VW_FAST_FDB_SLOW : 0) | (r->samens ? VW_FAST_FDB_SAMENS : 0) |
				    (r->kind == VW_FAST_UPLINK ? VW_FAST_FDB_UPLINK : 0)),
		.mtu = r->kind == VW_FAST_UPLINK ? 0 : mtu,
	};
	uint32_t k = (uint32_t)r->ifindex;

	/* an uplink with no device of its own (an aggregation) has no
	 * program to read its port entry: its fdb entry says "slow" */
	if ((k && bpf_map_update_elem(fp.ports, &k, &in, BPF_ANY)) || bpf_map_update_elem(fp.fdb, &r->key, &to, BPF_ANY))
		return -errno;
	if (r->chan) {
		struct vw_fast_port ch = {
			.sw = in.sw,
			.kind = VW_FAST_CHAN,
			.flags = r->samens ? VW_FAST_PORT_SAMENS : 0,
			.slow_ifindex = (uint32_t)r->ifindex,
			.slot = r->slot,
		};

		k = (uint32_t)r->chan;
		if (bpf_map_update_elem(fp.ports, &k, &ch, BPF_ANY))
			return -errno;
	}
	return 0;
}

static void entries_del(const struct vw_fast_ref *r)
{
	uint32_t k = (uint32_t)r->ifindex;

	/* the destination first: no frame is sent to a port being removed */
	bpf_map_delete_elem(fp.fdb, &r->key);
	if (k)
		bpf_map_delete_elem(fp.ports, &k);
	if (r->chan) {
		k = (uint32_t)r->chan;
		bpf_map_delete_elem(fp.ports, &k);
	}
}

static unsigned port_mtu(const struct vw_port *port, unsigned dflt)
{
	return port->mtu ? port->mtu : dflt;
}

static int port_add(struct vw_port *port, struct vw_fast_ref *r, unsigned mtu)
{
	int rc;

	if (!fp.on || !port->sw)
		return fp.on ? -EINVAL : 0;
	rc = slot_take(&r->slot);
	if (rc)
		return rc;
	r->key.sw = sw_id(port);
	port->fast = r;
	r->next = fp.refs;
	fp.refs = r;
	rc = entries_put(port, mtu);
	if (!rc && r->ifindex)
		rc = tc_attach(r->ifindex);
	if (!rc && r->chan)
		rc = tc_attach(r->chan);
	if (rc)
		vw_fast_port_del(port);
	return rc;
}

int vw_fast_vnic_add(struct vw_port *port, int host_ifindex, bool samens)
{
	struct vw_fast_ref *r;
	int chan = (int)if_nametoindex(port->name);

	if (!fp.on)
		return 0;
	if (!chan)
		return -ENODEV;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct vw_fast_ref){ .ifindex = host_ifindex, .chan = chan, .kind = VW_FAST_VNIC, .samens = samens };
	r->key.vid = port->vid;
	memcpy(r->key.mac, port->mac, 6);
	return port_add(port, r, port_mtu(port, 1500));
}

int vw_fast_vm_add(struct vw_port *port)
{
	struct vw_fast_ref *r;

	if (!fp.on)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct vw_fast_ref){ .kind = VW_FAST_VNIC }; /* no device: no ports entry */
	r->key.vid = port->vid;
	memcpy(r->key.mac, port->mac, 6);
	port->slow_only |= VW_SLOW_BACKEND;
	return port_add(port, r, port_mtu(port, 1500));
}

void vw_fast_dev_clear(int ifindex)
{
	libbpf_set_print(libbpf_log); /* also with the fast path off: no libbpf noise */
	fp.quiet = true;              /* most have no clsact qdisc at all */
	tc_detach(ifindex);
	fp.quiet = false;
}

int vw_fast_uplink_add(struct vw_port *port, int ifindex, unsigned mtu)
{
	struct vw_fast_ref *r;
	int rc;

	if (!fp.on) { /* what an earlier daemon with the fast path left */
		if (ifindex)
			vw_fast_dev_clear(ifindex);
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct vw_fast_ref){ .ifindex = ifindex, .kind = VW_FAST_UPLINK };
	r->key.vid = VW_FAST_VID_UPLINK; /* the switch's uplink: (sw, 0xffff, 0) */
	r->mtu = mtu;
	rc = port_add(port, r, mtu);
	if (!rc && ifindex && setsockopt(port->fd, SOL_SOCKET, SO_ATTACH_BPF, &fp.prog_sock, sizeof(fp.prog_sock)) < 0) {
		rc = -errno;
		vw_fast_port_del(port);
	}
	return rc;
}

void vw_fast_port_del(struct vw_port *port)
{
	struct vw_fast_ref *r = port->fast, **p;

	if (!r)
		return;
	for (p = &fp.refs; *p != r; p = &(*p)->next)
		;
	*p = r->next;
	if (fp.leaving) { /* the kernel goes on switching */
		port->fast = NULL;
		free(r);
		return;
	}
	entries_del(r);
	if (r->kind == VW_FAST_UPLINK && r->ifindex) {
		int none = 0;

		/* a phys device outlives us: leave nothing on it */
		tc_detach(r->ifindex);
		setsockopt(port->fd, SOL_SOCKET, SO_DETACH_BPF, &none, sizeof(none));
	}
	slot_give(r->slot);
	port->fast = NULL;
	free(r);
}

void vw_fast_port_hold(struct vw_port *port, uint8_t why, bool on)
{
	port->slow_only = on ? port->slow_only | why : port->slow_only & (uint8_t)~why;
	vw_fast_port_sync(port);
}

void vw_fast_leave(void)
{
	fp.leaving = true;
}

/* Is key (of vw_ports or, with fdb, of vw_fdb) one of our ports'? */
static bool ours(const void *key, bool fdb)
{
	const struct vw_fast_ref *r;

	for (r = fp.refs; r; r = r->next)
		if (fdb ? !memcmp(key, &r->key, sizeof(r->key))
			: *(const uint32_t *)key == (uint32_t)r->ifindex || *(const uint32_t *)key == (uint32_t)r->chan)
			return true;
	return false;
}

static void purge(int map, size_t keylen, bool fdb)
{
	uint8_t cur[sizeof(struct vw_fast_fdb_key)], prev[sizeof(cur)];
	bool have_prev = false;

	while (bpf_map_get_next_key(map, have_prev ? prev : NULL, cur) == 0) {
		if (!ours(cur, fdb) && bpf_map_delete_elem(map, cur) == 0)
			continue; /* on from prev: cur is gone */
		memcpy(prev, cur, keylen);
		have_prev = true;
	}
}

void vw_fast_purge(void)
{
	if (!fp.on)
		return;
	purge(fp.fdb, sizeof(struct vw_fast_fdb_key), true);
	purge(fp.ports, sizeof(uint32_t), false);
}

void vw_fast_port_sync(struct vw_port *port)
{
	struct vw_fast_ref *r = port->fast;

	if (!r)
		return;
	if (entries_put(port, r->kind == VW_FAST_UPLINK ? r->mtu : port_mtu(port, 1500)))
		fprintf(stderr, "vwired: fast path: cannot update the maps for %s: %s\n", port->name,
			strerror(errno));
}

void vw_fast_vnic_samens(struct vw_port *port, bool samens)
{
	if (!port->fast)
		return;
	port->fast->samens = samens;
	vw_fast_port_sync(port);
}

void vw_fast_stats_add(const struct vw_port *port, struct vw_port_stats *sum)
{
	const struct vw_fast_ref *r = port->fast;
	uint32_t slot;
	int c;

	if (!r)
		return;
	slot = r->slot;
	if (bpf_map_lookup_elem(fp.stats, &slot, fp.percpu))
		return;
	for (c = 0; c < fp.ncpu; c++) {
		const struct vw_fast_stats *s = &fp.percpu[c];

		sum->rx_pkts += s->rx_fast_frames;
		sum->rx_bytes += s->rx_fast_bytes;
		sum->tx_pkts += s->tx_fast_frames;
		sum->tx_bytes += s->tx_fast_bytes;
		sum->fast_rx_pkts += s->rx_fast_frames;
		sum->fast_tx_pkts += s->tx_fast_frames;
		sum->drop_tagged += s->drops[VW_FAST_DROP_TAGGED];
		sum->drop_runt += s->drops[VW_FAST_DROP_RUNT];
		sum->drop_unknown += s->drops[VW_FAST_DROP_UNKNOWN];
		sum->drop_txerr += s->drops[VW_FAST_DROP_HELPER];
	}
}
