/*
 * Virtual network machines (SPEC §2, §4; docs/design.md "Virtual network
 * machines"): a zone with one network function (router, nat, lb, firewall)
 * over some of its VNICs, made of the kernel's own netfilter and routes in
 * the zone.
 *
 *   objects/vnm.c         the objects: create, delete, properties, export
 *   objects/vnm_prop.c    property values: parsing, checking, text (pure)
 *   objects/vnm_nft.c     the nftables table's text (pure), and running it,
 *                         routes and sysctls in the zone
 *   objects/vnm_health.c  the lb's health check
 *
 * Threading: the objects belong to the control thread.  Work in a zone
 * (libnftables' netlink socket, routes, /proc/sys/net, the health check's
 * sockets) runs on a short-lived thread that enters the zone and ends, so
 * the control thread never changes namespace.  Errors as objects/link.h:
 * 0 or -errno with a one-line reason naming the VNM; a failed call changes
 * nothing.
 */
#ifndef VW_VNM_H
#define VW_VNM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/vwire.h"

#define VNM_MAX_LINKS 8
#define VNM_MAX_ROUTES 16
#define VNM_MAX_BACKENDS 16
#define VNM_MAX_RULES 32
#define VNM_RULE_MAX 160 /* a rule's text */
#define VNM_TABLE "vwire_vnm"

enum vnm_type { VNM_ROUTER, VNM_NAT, VNM_LB, VNM_FIREWALL, VNM_TYPE_COUNT };
enum vnm_algo { VNM_RR, VNM_HASH };
enum vnm_check { VNM_CHECK_TCP, VNM_CHECK_NONE };

/* The properties, bit 1 << id in vnm_props.set when given. */
enum vnm_prop_id {
	VNM_P_ROUTE, VNM_P_INSIDE, VNM_P_OUTSIDE, VNM_P_VIP, VNM_P_BACKENDS, VNM_P_ALGO, VNM_P_CHECK,
	VNM_P_POLICY, VNM_P_ALLOW, VNM_P_DENY, VNM_P_COUNT
};

/* An address and port: a vip or a backend (plen is the full length). */
struct vnm_ep {
	struct vw_prefix ip;
	uint16_t port;
};

struct vnm_route {
	struct vw_prefix dst; /* no host bits; "default" is plen 0 */
	struct vw_prefix gw;
};

struct vnm_rule {
	bool deny;
	struct vw_flow_attrs a;
	char text[VNM_RULE_MAX]; /* as given */
};

struct vnm_props {
	unsigned set;
	int nroutes;
	struct vnm_route routes[VNM_MAX_ROUTES];
	char inside[VW_LINKNAME_MAX + 1], outside[VW_LINKNAME_MAX + 1];
	struct vnm_ep vip;
	int nbackends;
	struct vnm_ep backends[VNM_MAX_BACKENDS];
	enum vnm_algo algo;
	enum vnm_check check;
	bool policy_allow;
	int nrules; /* deny and allow rules, each list in the order given */
	struct vnm_rule rules[VNM_MAX_RULES];
};

/* A backend's health (objects/vnm_health.c) */
struct vnm_hc {
	bool up;
	int fd;          /* the probe in flight; -1: none */
	int64_t sent_ms; /* when it was started */
	int64_t next_ms; /* when the next is due */
};

/* A counter's total that survives the table's rewrites */
struct vnm_count {
	char key[24];
	uint64_t pkts, bytes;
};

struct vnm {
	struct vnm *next;
	char name[VW_ZONENAME_MAX + 1]; /* = its zone */
	enum vnm_type type;
	int nlinks;
	char links[VNM_MAX_LINKS][VW_LINKNAME_MAX + 1];
	bool temporary;
	struct vnm_props p;
	struct vnm_hc hc[VNM_MAX_BACKENDS];
	int nbase;
	struct vnm_count base[VNM_MAX_RULES + VNM_MAX_BACKENDS + 4];
	char state[256]; /* "ok" or the last error */
};

extern struct vnm *vw_vnms;

/* ---- property values (objects/vnm_prop.c: no model, no system calls) ---- */
const char *vnm_type_name(enum vnm_type t);
int vnm_type_parse(const char *s, enum vnm_type *t);
/* "IP:PORT", "[IPv6]:PORT"; false when malformed. */
bool vnm_ep_parse(const char *s, struct vnm_ep *e);
char *vnm_ep_format(const struct vnm_ep *e, char *buf, size_t len);
/*
 * One -p list ("k=v,k=v") of VNM name of type t into p: each value parsed,
 * a property the type does not take refused; allow= and deny= given here
 * replace the whole allow (deny) list of p the first time each appears in
 * the lists of one command (*replaced: a bit per VNM_P_ALLOW/DENY, start 0).
 * -EINVAL with "NAME: reason" quoting the bad word.
 */
int vnm_props_parse(const char *name, enum vnm_type t, const char *list, struct vnm_props *p, unsigned *replaced,
		    char *err, size_t errlen);
/* reset-vnmprop of one property name. */
int vnm_props_reset(const char *name, enum vnm_type t, const char *prop, struct vnm_props *p, char *err,
		    size_t errlen);
/* What the model says is around the VNM: the subnets of its VNICs'
 * addresses (plen as configured) and which VNIC each is on. */
struct vnm_env {
	int naddrs;
	struct vw_prefix addrs[VNM_MAX_LINKS * 32];
	const char *link[VNM_MAX_LINKS * 32];
	int nlinks;
	const char *links[VNM_MAX_LINKS];
};
/* The checks that need the VNM's surroundings: required properties there,
 * inside/outside among the links, gateways on a connected subnet, the vip
 * an address of a VNIC, each backend reachable. */
int vnm_props_check(const char *name, enum vnm_type t, const struct vnm_props *p, const struct vnm_env *env,
		    char *err, size_t errlen);
/* " -p k=v,..." of the given properties in the canonical order ("" when
 * none); false when it does not fit. */
bool vnm_props_format(const struct vnm_props *p, char *buf, size_t len);

/* ---- the table (objects/vnm_nft.c) ---- */
/* The whole nftables text that replaces the VNM's table (live[i]: backend i
 * is up), built in out: pure. */
void vnm_nft_text(const struct vnm *v, struct vw_buf *out);
/* Parses `nft list table` output: calls fn for each rule that has a
 * counter and a comment. */
void vnm_nft_counters_parse(const char *text, void (*fn)(const char *key, uint64_t pkts, uint64_t bytes, void *arg),
			    void *arg);
/* Installs (replaces) the VNM's table, routes old -> new and forwarding,
 * in its zone.  old may be NULL (nothing of it installed).  err: one line. */
int vnm_install(const struct vnm *v, const struct vnm_props *old, char *err, size_t errlen);
/* Rewrites only the table (a backend went up or down). */
int vnm_table_write(const struct vnm *v, char *err, size_t errlen);
/* Takes out what the VNM put in its zone. */
int vnm_uninstall(const struct vnm *v, char *err, size_t errlen);
/* `nft list table` in the zone, for counters; malloc'd text or NULL. */
char *vnm_table_list(const struct vnm *v);
/* Whether route r is in the zone's main table. */
bool vnm_route_present(const struct vnm *v, const struct vnm_route *r);
/* Runs fn(arg) on a thread of its own inside zone; fn's value, or -errno. */
int vnm_in_zone(const char *zone, int (*fn)(void *arg), void *arg);

/* ---- the health check (objects/vnm_health.c) ---- */
enum vnm_probe { VNM_PROBE_PENDING, VNM_PROBE_OK, VNM_PROBE_FAIL };
#define VNM_HC_INTERVAL_MS 1000
#define VNM_HC_TIMEOUT_MS 1000
/* One step of a backend's state machine at time now: the probe's result
 * (PENDING: still in flight, failed once it is older than the timeout).
 * Returns true when up changed.  Pure. */
bool vnm_hc_step(struct vnm_hc *h, enum vnm_probe r, int64_t now);
/* Every backend set up afresh: up, no probe. */
void vnm_hc_reset(struct vnm *v);
void vnm_hc_close(struct vnm *v);
/* The checker's timer (made at the first call; -errno), and what the
 * control loop runs when it fires (control/cmd_vnm.c registers them). */
int vnm_health_fd(void);
void vnm_health_tick(void);

/* ---- the objects (objects/vnm.c) ---- */
struct vnm *vnm_find(const char *name);
int vnm_create(const char *name, const char *type, const char *links, const char *const *props, int nprops,
	       bool temporary, char *err, size_t errlen);
int vnm_delete(const char *name, char *err, size_t errlen);
int vnm_setprop(const char *name, const char *const *props, int nprops, bool reset, char *err, size_t errlen);
/* The VNM using link, or NULL. */
struct vnm *vnm_of_link(const char *link);
/* Refuses (-EBUSY) deleting VNIC link, or moving it to zone to (NULL:
 * deleting it), while a VNM uses it. */
int vnm_check_link(const char *link, const char *to, char *err, size_t errlen);
/* Refuses deleting a zone that is a VNM. */
int vnm_check_zone(const char *zone, char *err, size_t errlen);
/* Counters of element key (rule, backend, nat), summed over rewrites. */
void vnm_counts(struct vnm *v, const char *listing, const char *key, uint64_t *pkts, uint64_t *bytes);
/* Before the table is rewritten with the same rules: its counters so far
 * are kept. */
void vnm_counts_fold(struct vnm *v);
void vnms_export(struct vw_buf *out);
/* Daemon exit: frees the model; what is in the zones stays (it goes on
 * working, and the next daemon's replay replaces it). */
void vnms_destroy_all(void);

#endif
