/*
 * The daemon's objects: links (phys, etherstub, vnic), their properties and
 * addresses, and zones.  This is the model the control commands act on and
 * the persistent state is written from.
 *
 * Threading: everything here belongs to the control thread.  Workers never
 * see these structs; they see only the datapath ports and switches that the
 * objects own (datapath/port.h, datapath/vswitch.h).
 *
 * Errors: functions return 0 or a negative errno and, on failure, write a
 * one-line reason naming the object into err ("vnic0: ...").  A failed call
 * leaves everything as it was.
 */
#ifndef VW_LINK_H
#define VW_LINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "lib/vwire.h"
#include "datapath/port.h"
#include "datapath/vswitch.h"

enum vw_class { VW_CLASS_PHYS, VW_CLASS_ETHERSTUB, VW_CLASS_VNIC };
enum vw_mactype { VW_MAC_RANDOM, VW_MAC_AUTO, VW_MAC_FIXED };

#define VW_MAX_ADDRS 32
#define VW_MAX_MCAST 64
#define VW_MAX_ALLOWED 32 /* allowed-ips: VW_PROT_MAXNETS */

struct vw_addr {
	struct vw_prefix p;
};

struct vw_link {
	struct vw_link *next;
	char name[VW_LINKNAME_MAX + 1];
	enum vw_class cls;
	bool temporary;

	/* phys and etherstub: the switch (created with the first VNIC over a
	 * phys; an etherstub always has one) */
	struct vw_switch *sw;
	struct vw_port *uplink; /* phys: the AF_PACKET port */
	unsigned nvnics;

	/* vnic */
	struct vw_link *over;
	uint8_t mac[6];
	enum vw_mactype mactype;
	uint16_t vid;
	struct vw_port *port;
	char zone[VW_ZONENAME_MAX + 1];         /* current; "" = host */
	char zone_saved[VW_ZONENAME_MAX + 1];   /* persistent value */
	unsigned mtu, mtu_saved;                /* 0 = default */
	uint64_t maxbw, maxbw_saved;            /* bits/s each way; 0 = none */
	struct vw_cpuset cpus, cpus_saved;      /* CPUs that read it; empty = all */
	uint8_t priority, priority_saved;       /* enum vw_priority (0: medium) */
	uint32_t protect, protect_saved;        /* VW_PROT_* (datapath/protect.h) */
	int nallowed, nallowed_saved;           /* allowed-ips; 0: unset */
	struct vw_prefix allowed[VW_MAX_ALLOWED], allowed_saved[VW_MAX_ALLOWED];
	int naddr;
	struct vw_addr addrs[VW_MAX_ADDRS];
	bool mcast_pending; /* its groups are to be re-read (vnic_refresh_mcast_dirty) */
};

struct vw_zone {
	struct vw_zone *next;
	char name[VW_ZONENAME_MAX + 1];
	bool created;       /* this daemon made its namespace (not adopted) */
};

extern struct vw_link *vw_links;
extern struct vw_zone *vw_zones;

struct vw_link *link_find(const char *name);

/*
 * Watching links' datapath ports come and go: what captures, mirrors and
 * meters (observability/) use to follow a link, or every port of a switch.
 *   VW_LINK_PORT_UP    port (a VNIC's TAP, or a phys's uplink) is attached
 *                      and carries traffic; for a VNIC, l->over is its switch's
 *                      link;
 *   VW_LINK_PORT_DOWN  port is about to go: a watcher must drop its
 *                      observers on it (vw_obs_del) now;
 *   VW_LINK_DELETED    the link is about to be freed (a VNIC, after its
 *                      PORT_DOWN; an etherstub).
 * At most 8 watchers; fn runs on the control thread.
 */
enum vw_link_event { VW_LINK_PORT_UP, VW_LINK_PORT_DOWN, VW_LINK_DELETED };
typedef void (*vw_link_watch_fn)(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg);
int link_watch(vw_link_watch_fn fn, void *arg);
void link_unwatch(vw_link_watch_fn fn, void *arg);
const char *link_class_name(enum vw_class c);

int etherstub_create(const char *name, bool temporary, char *err, size_t errlen);
int etherstub_delete(const char *name, char *err, size_t errlen);

/* A value of link property maxbw (10K to 100G bits/s) for link name; false
 * with the one-line error in err. */
bool linkprop_maxbw_parse(const char *name, const char *value, uint64_t *bps, char *err, size_t errlen);
/* A value of link property cpus (a CPU list, "0,2-3") for link name; false
 * with the one-line error in err.  Whether the CPUs can be used is
 * vnic_set_cpus's to say. */
bool linkprop_cpus_parse(const char *name, const char *value, struct vw_cpuset *set, char *err, size_t errlen);
/* Values of link properties protection ("mac-nospoof,ip-nospoof") and
 * allowed-ips (up to VW_MAX_ALLOWED addresses or subnets; a bare address
 * is a host) for link name; false with the one-line error in err
 * (objects/protect.c). */
bool linkprop_protection_parse(const char *name, const char *value, uint32_t *flags, char *err, size_t errlen);
bool linkprop_allowed_parse(const char *name, const char *value, struct vw_prefix *nets, int *n, char *err,
			    size_t errlen);
char *linkprop_protection_format(uint32_t flags, char *buf, size_t len);
char *linkprop_allowed_format(const struct vw_prefix *nets, int n, char *buf, size_t len);
/* Publishes the VNIC's protection (l->protect, l->allowed, else l->addrs)
 * to its port; after a change of any of them. */
int vnic_protect_apply(struct vw_link *l, char *err, size_t errlen);
/* Appends the persistent protection and allowed-ips to a -p list, each
 * after *sep (then ","). */
void linkprop_protect_export(const struct vw_link *l, struct vw_buf *out, const char **sep);
/* The link properties whose value is a list ("cpus=0,2"): for
 * vw_proplist_split. */
extern const char *const linkprop_lists[];

struct vnic_spec {
	const char *name;
	const char *over;
	const char *mac;    /* NULL, "random", "auto" or an address */
	const char *prefix; /* NULL: default */
	uint16_t vid;
	bool temporary;
	const char *zone;   /* NULL: host */
	unsigned mtu;       /* 0: default */
	uint64_t maxbw;     /* bits/s; 0: none */
	struct vw_cpuset cpus; /* empty: all */
	uint8_t priority;   /* enum vw_priority */
	bool has_priority;  /* -p priority= given */
};
int vnic_create(const struct vnic_spec *spec, char *err, size_t errlen);
/* Takes the VNIC out of the model and the datapath (its MAC is no longer
 * forwarded to) and retires its Linux face: down, renamed (its name is free
 * at once), unregistered by the next vnic_reap() (objects/link.c). */
int vnic_delete(const char *name, char *err, size_t errlen);
/* Unregisters every retired face (one kernel batch per zone) and closes
 * their fds. */
void vnic_reap(void);
/* Milliseconds until a reap is due, 0 if it is, -1 if nothing is retired. */
int vnic_reap_timeout(void);
/* Moves the VNIC's TAP face into zone ("" = host), re-adding its addresses. */
int vnic_set_zone(struct vw_link *l, const char *zone, char *err, size_t errlen);
int vnic_set_mtu(struct vw_link *l, unsigned mtu, char *err, size_t errlen);
/* Holds each direction of the VNIC to bps bits/s by shaping (0: no limit);
 * live, queued frames kept (datapath/shape.h). */
int vnic_set_maxbw(struct vw_link *l, uint64_t bps, char *err, size_t errlen);
/* Lets only the datapath workers on these CPUs (NULL or empty: all) read
 * what the VNIC sends.  Each CPU must be online and run a worker.  A shaped
 * VNIC's shaping is set up again, so that its owner is one of them. */
int vnic_set_cpus(struct vw_link *l, const struct vw_cpuset *set, char *err, size_t errlen);
/* The VNIC's priority at its phys link's egress (live); takes effect while
 * the phys has a maxbw (its shaper has a class per VNIC with a priority
 * other than medium). */
int vnic_set_priority(struct vw_link *l, enum vw_priority prio, char *err, size_t errlen);

/* Properties of phys links (maxbw, cpus), kept by name whether the phys is
 * attached or not, and applied when it is. */
struct vw_physprop {
	struct vw_physprop *next;
	char name[VW_LINKNAME_MAX + 1];
	uint64_t maxbw, maxbw_saved; /* bits/s each way; 0 = none */
	struct vw_cpuset cpus, cpus_saved; /* the uplink's reader's; empty = any */
};
extern struct vw_physprop *vw_physprops;
struct vw_physprop *physprop_find(const char *name);
/* The maxbw of link name (a VNIC's, or a phys link's, attached or not);
 * 0: none. */
uint64_t link_maxbw(const char *name);
/* Adds to attached phys l's newly made uplink shaping the egress class of
 * each VNIC over it with a priority other than medium. */
int phys_vnic_classes(struct vw_link *l, char *err, size_t errlen);
/* Sets (0: resets) the maxbw of phys link name: live when it is attached.
 * With temporary, the persistent value stays. */
int phys_set_maxbw(const char *name, uint64_t bps, bool temporary, char *err, size_t errlen);
/* Puts back both values (undo of a failed change). */
void phys_restore_maxbw(const char *name, uint64_t bps, uint64_t saved);
/* Sets (NULL or empty: resets) the cpus of phys link name: the uplink is
 * read by a worker on one of them (vw_worker_add_port_in: the one with the
 * fewest ports), live when it is attached; one that already does keeps
 * it.  Each CPU must be online and run a worker, as for a VNIC. */
int phys_set_cpus(const char *name, const struct vw_cpuset *set, bool temporary, char *err, size_t errlen);
void phys_restore_cpus(const char *name, const struct vw_cpuset *cpus, const struct vw_cpuset *saved);

/* Re-reads the multicast groups of every VNIC's Linux face. */
void vnic_refresh_mcast(struct vw_link *only);
/* Calls fn once for each zone ("" = host) that holds a VNIC. */
void vnic_foreach_zone(void (*fn)(const char *zone, void *arg), void *arg);
/* Re-reads those of the VNICs whose port a worker marked (mcast_dirty). */
void vnic_refresh_mcast_dirty(void);

int addr_create(const char *link, const char *addr, char *err, size_t errlen);
int addr_delete(const char *link, const char *addr, char *err, size_t errlen);

int zone_add(const char *name, char *err, size_t errlen);
int zone_remove(const char *name, bool force, char *err, size_t errlen);
struct vw_zone *zone_find(const char *name);

/* Tears every link down (daemon exit); zones stay. */
void links_destroy_all(void);
/* The same, and deletes the namespaces of the zones this daemon created:
 * a start-up refused after part of the state was replayed leaves nothing. */
void links_undo_all(void);

/* ---- link properties (objects/linkprop.c) ---- */
struct vw_propdef {
	const char *name;
	bool implemented;
	const char *possible; /* for show-linkprop */
};
const struct vw_propdef *linkprop_table(int *n);
const struct vw_propdef *linkprop_find(const char *name);
/* The link whose properties name names: a link of the model, or else a
 * Linux interface that could be a phys link (a scratch object, valid until
 * the next call); NULL: no such link. */
struct vw_link *linkprop_link(const char *name);
/* Whether property prop applies to the link (show-linkprop lists those). */
bool linkprop_applies(const struct vw_link *l, const char *prop);
/* Sets, or with value NULL resets, one property; temporary changes are not
 * saved. */
int linkprop_set(struct vw_link *l, const char *prop, const char *value, bool temporary, char *err, size_t errlen);
/* What a failed multi-property change must put back. */
struct linkprop_undo {
	char zone[VW_ZONENAME_MAX + 1], zone_saved[VW_ZONENAME_MAX + 1];
	unsigned mtu, mtu_saved;
	uint64_t maxbw, maxbw_saved;
	struct vw_cpuset cpus, cpus_saved;
	uint8_t priority, priority_saved;
	uint32_t protect, protect_saved;
	int nallowed, nallowed_saved;
	struct vw_prefix allowed[VW_MAX_ALLOWED], allowed_saved[VW_MAX_ALLOWED];
};
void linkprop_save(const struct vw_link *l, struct linkprop_undo *u);
void linkprop_undo(struct vw_link *l, const struct linkprop_undo *u);
/* Current, default and persistent values as text ("" when none). */
void linkprop_get(const struct vw_link *l, const char *prop, char *cur, char *def, char *saved, size_t len);

/* ---- persistent state (objects/state.c; the file: control/persist.h) ---- */
/* The link objects' lines: zones, etherstubs, phys links' properties,
 * VNICs and their addresses. */
void links_export(struct vw_buf *out);

#endif
