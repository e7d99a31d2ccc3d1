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

enum vw_mactype { VW_MAC_RANDOM, VW_MAC_AUTO, VW_MAC_FIXED };

#define VW_MAX_ADDRS 32
#define VW_MAX_MCAST 64
#define VW_MAX_ALLOWED 32 /* allowed-ips: VW_PROT_MAXNETS */

struct vw_addr {
	struct vw_prefix p;
};

struct vw_link;
struct vw_aggr;
struct vw_tunnel;
struct nl_link_info;

/* The values of a link's properties (objects/linkprop.c), held twice: the
 * current ones, and the persistent ones the state file keeps. */
/* A VNIC's face (SPEC §4, face=): a network device in a zone, or a QEMU
 * guest's virtio-net device over vhost-user. */
enum vw_face { VW_FACE_NETDEV, VW_FACE_VHOST };
#define VW_VHOST_PATH_MAX 107 /* sun_path less its NUL */

struct vw_linkprops {
	char zone[VW_ZONENAME_MAX + 1]; /* "" = host */
	unsigned mtu;                   /* 0 = default */
	uint64_t maxbw;                 /* bits/s each way; 0 = none */
	struct vw_cpuset cpus;          /* CPUs that read it; empty = all */
	uint8_t priority;               /* enum vw_priority (0: medium) */
	uint32_t protect;               /* VW_PROT_* (datapath/protect.h) */
	int nallowed;                   /* allowed-ips; 0: unset */
	struct vw_prefix allowed[VW_MAX_ALLOWED];
	/* set at creation only (a VNIC's kind of face): */
	uint8_t face;                   /* enum vw_face */
	bool vhost_client;              /* vhost-mode=client: vwired connects */
	char vhost_socket[VW_VHOST_PATH_MAX + 1]; /* "": the default path */
};

/*
 * A link class (objects/vnic.c, etherstub.c, phys.c): what differs between
 * kinds of link, so that the rest of the daemon asks the class rather than
 * tests which it is.  The classes are listed in one table (objects/link.c);
 * adding a class is one file and one entry there.  A hook that may be NULL
 * says so.
 */
struct vw_link_class {
	const char *name;   /* "vnic": show-link's and vwstat's class */
	bool has_face;      /* a Linux face in a zone (l->zone): addresses, groups */
	bool configured;    /* made by a command, saved unless temporary (a phys
			     * link is not: it is there while VNICs are over it) */
	bool portless;      /* a switch with no port of its own: what crosses it
			     * is seen at the ports of the links over it */
	bool on_demand;     /* in the model only while links are over it: its
			     * port goes ("detached") with the last of them */
	unsigned flow_ids;  /* flow ids its port may give (objects/flow.c) */
	const char *const *props; /* the properties it takes (NULL-ended) */
	/* Where its property values are kept: current or persistent; with
	 * create, made when there are none yet (NULL: out of memory).  NULL
	 * without create when none are kept.  May be NULL (no properties). */
	struct vw_linkprops *(*props_of)(struct vw_link *l, bool saved, bool create);
	/* After a change of its properties (a phys link's are dropped once
	 * they hold nothing).  May be NULL. */
	void (*props_done)(struct vw_link *l);
	/* Lets only the datapath workers on these CPUs (empty: all) read its
	 * port; the value is not stored.  NULL when it takes no cpus. */
	int (*set_cpus)(struct vw_link *l, const struct vw_cpuset *set, char *err, size_t errlen);
	/* Its port, and the switch the port is on; NULL when it has none now.
	 * NULL for a portless class. */
	struct vw_port *(*port)(const struct vw_link *l, struct vw_switch **sw);
	/* A link of this class that name could be, not in the model (a phys
	 * link not attached: a scratch object, valid until the next call);
	 * NULL: none.  The hook may be NULL. */
	struct vw_link *(*named)(const char *name);
	/* Takes name into the model so that a VNIC goes over it (a phys link
	 * is attached); NULL with err and *rc.  The hook may be NULL. */
	struct vw_link *(*adopt)(const char *name, char *err, size_t errlen, int *rc);
	/* A link over it went (a phys link goes with its last).  May be NULL. */
	void (*release)(struct vw_link *l);
	/* Its port was just given a shaper (a phys's uplink: its VNICs' egress
	 * classes).  May be NULL. */
	int (*shaped)(struct vw_link *l, char *err, size_t errlen);
	/* The MTU of a VNIC with VID vid (0: untagged) over it by default, and
	 * the most one may have (a tunnel's: its underlay's less the
	 * encapsulation, less the 802.1Q tag that a VID's frames carry inside
	 * it).  NULL or 0: 1500, and no limit but the property's own. */
	unsigned (*vnic_mtu)(const struct vw_link *l, uint16_t vid);
	/* show-link's mtu and state */
	void (*state)(const struct vw_link *l, unsigned *mtu, const char **state);
	/* Adds its ports' counters to s; IPKTS, RBYTES, OPKTS, OBYTES in c. */
	void (*counters)(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4]);
	/* Deletes it (daemon exit: links over it first).  May be NULL. */
	int (*delete)(struct vw_link *l, char *err, size_t errlen);
	/* At daemon exit, in place of delete: leaves its Linux objects to
	 * outlive the daemon (a VNIC's face on the kernel fast path, adopted
	 * by the next daemon) and takes it out of the model; false when it
	 * does not (then it is deleted).  May be NULL. */
	bool (*leave)(struct vw_link *l);
	/* Frees what is left of it at daemon exit, once no link is over it. */
	void (*destroy)(struct vw_link *l);
	/* Appends the persistent lines of every link of the class. */
	void (*export)(struct vw_buf *out);
};

struct vw_link {
	struct vw_link *next;
	char name[VW_LINKNAME_MAX + 1];
	const struct vw_link_class *cls;
	bool temporary;

	/* phys and etherstub: the switch (created with the first VNIC over a
	 * phys; an etherstub always has one) */
	struct vw_switch *sw;
	struct vw_port *uplink; /* phys: the AF_PACKET port; aggr: its port
				 * (datapath/port_aggr.h) */
	struct vw_aggr *aggr;   /* aggr: members, LACP (objects/aggr.c) */
	struct vw_tunnel *tun;  /* tunnel: its VXLAN device (objects/tunnel.c) */
	unsigned nvnics;

	/* vnic */
	struct vw_link *over;
	uint8_t mac[6];
	enum vw_mactype mactype;
	uint16_t vid;
	struct vw_port *port;       /* its TAP: the face, or its slow-path channel */
	char host_end[16];          /* with the kernel fast path: the host end of
				     * its veth pair, whose peer is the face;
				     * "": the face is the TAP */
	int host_ifindex;           /* the host end's ifindex */
	struct vw_linkprops prop;   /* current values */
	struct vw_linkprops saved;  /* persistent values */
	int naddr;
	struct vw_addr addrs[VW_MAX_ADDRS];
	bool mcast_pending; /* its groups are to be re-read (vnic_refresh_mcast_dirty) */
	bool adopted;       /* its face was left by an earlier daemon (addresses
			     * and all) and taken over (vnic_adopt_scan) */
	/* its announcement (objects/announce.h): the rounds still to send (0:
	 * none) and when the next is due, CLOCK_MONOTONIC ms; kept here so
	 * that it goes with the VNIC */
	uint8_t announce_left;
	int64_t announce_at;
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

/* The port of a link (a VNIC's TAP, an attached phys's uplink); NULL when
 * it has none. */
struct vw_port *link_port(const struct vw_link *l);
/* The port and the switch it is on; NULL when it has none. */
struct vw_port *link_port_sw(const struct vw_link *l, struct vw_switch **sw);
/* Whether l is over a portless link (a VNIC of an etherstub). */
bool link_on_portless(const struct vw_link *l);
/* The link name names: one of the model, or else one that a class says
 * name could be (a phys link not attached: a scratch object, valid until
 * the next call); NULL: no such link. */
struct vw_link *link_named(const char *name);

/*
 * Subscribers to what a link does beyond its port: the flows on a link
 * (objects/flow.c) go with it and make its port's shaping.  They hear of a
 * change before the watchers do.
 *   VW_LINK_ATTACHING  l's port is attached, before VW_LINK_PORT_UP;
 *   VW_LINK_DETACHING  l's port is about to go, l stays known by name (a
 *                      phys), before VW_LINK_PORT_DOWN;
 *   VW_LINK_DELETING   l is about to go, before VW_LINK_PORT_DOWN;
 *   VW_LINK_MAXBW      may link name (l may be NULL: a phys not attached)
 *                      take maxbw bps?  A subscriber refuses with -errno
 *                      and err;
 *   VW_LINK_SHAPE      shape l's port at bps (its maxbw): after a change
 *                      of maxbw, or of the port's readers; -errno and err
 *                      when it cannot;
 *   VW_LINKS_ENDING    every link is about to go (l NULL).
 * At most 4 subscribers; fn runs on the control thread.
 */
enum vw_link_change {
	VW_LINK_ATTACHING,
	VW_LINK_DETACHING,
	VW_LINK_DELETING,
	VW_LINK_MAXBW,
	VW_LINK_SHAPE,
	VW_LINKS_ENDING,
};
typedef int (*vw_link_sub_fn)(enum vw_link_change ev, struct vw_link *l, const char *name, uint64_t bps, char *err,
			      size_t errlen);
int link_subscribe(vw_link_sub_fn fn);

/* A link's counters: IPKTS, RBYTES, OPKTS, OBYTES (what `vwstat` shows). */
void link_counters(const struct vw_link *l, uint64_t c[4]);
/* The same, and its ports' counters summed into s. */
void link_port_stats(const struct vw_link *l, struct vw_port_stats *s, uint64_t c[4]);
/* show-link's mtu and state of the link. */
void link_state(const struct vw_link *l, unsigned *mtu, const char **state);

bool etherstub_is(const struct vw_link *l);

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
bool linkprop_canon(const char *link, const char *prop, const char *value, char *buf, size_t len, char *err,
		    size_t errlen);
char *linkprop_allowed_format(const struct vw_prefix *nets, int n, char *buf, size_t len);
/* Publishes the VNIC's protection (l->protect, l->allowed, else l->addrs)
 * to its port; after a change of any of them. */
int vnic_protect_apply(struct vw_link *l, char *err, size_t errlen);
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
	struct vw_linkprops props; /* -p: zone, mtu, maxbw, priority, cpus, protection, allowed-ips */
};
int vnic_create(const struct vnic_spec *spec, char *err, size_t errlen);
/* ---- a VNIC whose face is a virtual machine's (objects/vnic_vm.c) ---- */
bool vnic_is_vm(const struct vw_link *l);
/* The directory of default vhost-user sockets (the control socket's). */
void vnic_vm_set_dir(const char *dir);
/* What a spec with face=vhost-user may not have (a zone...); 0 or -errno. */
int vnic_vm_check(const struct vnic_spec *s, char *err, size_t errlen);
/* The VM port of l (its MAC set) on its socket; NULL with err and *rc. */
struct vw_port *vnic_vm_open(struct vw_link *l, const struct vnic_spec *s, char *err, size_t errlen, int *rc);
/* Gives the switch the VM VNIC's groups: those every host is in, and
 * those its guest reported (read from its port's mailbox). */
int vnic_vm_groups(struct vw_link *l);
/* Its socket's path and its connection state, for show-vnic. */
const char *vnic_vm_socket(const struct vw_link *l);
const char *vnic_vm_state(const struct vw_link *l);
/* Whether a link has a Linux face in a zone (addresses, groups): its
 * class's, but not a VNIC whose face is a virtual machine's. */
bool link_has_face(const struct vw_link *l);
bool vnic_is(const struct vw_link *l);
/* Takes the VNIC out of the model and the datapath (its MAC is no longer
 * forwarded to) and retires its Linux face: down, renamed (its name is free
 * at once), unregistered by the next vnic_reap() (objects/link.c). */
int vnic_delete(const char *name, char *err, size_t errlen);
/* Unregisters every retired face (one kernel batch per zone) and closes
 * their fds. */
void vnic_reap(void);
/*
 * With the kernel fast path a VNIC's face outlives the daemon (its veth
 * pair and the programs keep switching): at start, vnic_adopt_scan() lists
 * the faces an earlier daemon left in this namespace (their host ends) and
 * returns the ifindex of one (0: none), whose program holds the maps to
 * take over (datapath/fastpath.h); the replay's create-vnic then takes a
 * listed face rather than making one (no link flap in the zone); and
 * vnic_adopt_done() removes those left over (temporary VNICs, VNICs no
 * longer configured).
 */
int vnic_adopt_scan(void);
/* Who this daemon is, in the aliases of its faces' host ends (its state
 * file): daemons sharing a namespace take over only their own faces. */
void vnic_set_owner(const char *owner);
const char *vnic_owner(void);
void vnic_adopt_done(void);
/* Milliseconds until a reap is due, 0 if it is, -1 if nothing is retired. */
int vnic_reap_timeout(void);
/* Moves the VNIC's TAP face into zone ("" = host), re-adding its addresses. */
int vnic_set_zone(struct vw_link *l, const char *zone, char *err, size_t errlen);
int vnic_set_mtu(struct vw_link *l, unsigned mtu, char *err, size_t errlen);
/* Lets only the datapath workers on these CPUs (NULL or empty: all) read
 * what the VNIC sends.  Each CPU must be online and run a worker.  A shaped
 * VNIC's shaping is set up again, so that its owner is one of them. */
int vnic_set_cpus(struct vw_link *l, const struct vw_cpuset *set, char *err, size_t errlen);
/* The VNIC's priority at its phys link's egress (live); takes effect while
 * the phys has a maxbw (its shaper has a class per VNIC with a priority
 * other than medium). */
int vnic_set_priority(struct vw_link *l, enum vw_priority prio, char *err, size_t errlen);

/* Whether name (a Linux interface li) can be a phys link: no loopback or
 * tun, and no link of another class. */
bool phys_candidate(const char *name, const struct nl_link_info *li);

/* Properties of phys links (maxbw, cpus), kept by name whether the phys is
 * attached or not, and applied when it is. */
struct vw_physprop {
	struct vw_physprop *next;
	char name[VW_LINKNAME_MAX + 1];
	struct vw_linkprops prop, saved; /* maxbw (bits/s each way), cpus (the
					  * uplink's reader's; empty = any) */
};
extern struct vw_physprop *vw_physprops;
struct vw_physprop *physprop_find(const char *name);
/* The maxbw of link name (a VNIC's, or a phys link's, attached or not);
 * 0: none. */
uint64_t link_maxbw(const char *name);
/* Re-reads the multicast groups of every VNIC's Linux face. */
void vnic_refresh_mcast(struct vw_link *only);
/* Calls fn once for each zone ("" = host) that holds a VNIC. */
void vnic_foreach_zone(void (*fn)(const char *zone, void *arg), void *arg);
/* Re-reads those of the VNICs whose port a worker marked (mcast_dirty). */
void vnic_refresh_mcast_dirty(void);

int addr_create(const char *link, const char *addr, char *err, size_t errlen);
int addr_delete(const char *link, const char *addr, char *err, size_t errlen);

int zone_add(const char *name, char *err, size_t errlen);
/* Takes the zone out of the model and deletes its namespace; with keep
 * the namespace stays as it is (a zone moved to another daemon's care). */
int zone_remove(const char *name, bool force, bool keep, char *err, size_t errlen);
struct vw_zone *zone_find(const char *name);

/* Tears every link down (daemon exit); zones stay. */
void links_destroy_all(void);
/* The same, and deletes the namespaces of the zones this daemon created:
 * a start-up refused after part of the state was replayed leaves nothing. */
void links_undo_all(void);

/* ---- link properties (objects/linkprop.c) ---- */
struct vw_linkprop;
/* The i-th property of the table (show-linkprop's order); NULL past the end. */
const struct vw_linkprop *linkprop_nth(int i);
const struct vw_linkprop *linkprop_find(const char *name);
const char *linkprop_name(const struct vw_linkprop *pd);
const char *linkprop_possible(const struct vw_linkprop *pd); /* for show-linkprop */
bool linkprop_implemented(const struct vw_linkprop *pd);
/* Whether the property applies to the link (show-linkprop lists those). */
bool linkprop_applies(const struct vw_link *l, const struct vw_linkprop *pd);
/* One PROP=VALUE of create-vnic -p for link into v: refused when unknown,
 * not supported, already in *given (a bit per property) or a bad value. */
int linkprop_parse(const char *link, const char *prop, const char *value, struct vw_linkprops *v, unsigned *given,
		   char *err, size_t errlen);
/* Sets, or with value NULL resets, one property; temporary changes are not
 * saved. */
int linkprop_set(struct vw_link *l, const char *prop, const char *value, bool temporary, char *err, size_t errlen);
/* What a failed multi-property change must put back. */
struct linkprop_undo {
	struct vw_linkprops prop, saved;
};
void linkprop_save(struct vw_link *l, struct linkprop_undo *u);
void linkprop_undo(struct vw_link *l, const struct linkprop_undo *u);
/* Current, default and persistent values as text ("" when none). */
void linkprop_get(struct vw_link *l, const struct vw_linkprop *pd, char *cur, char *def, char *saved, size_t len);
/* Appends " -p PROP=VALUE,..." of the values v that class c takes and that
 * are set; returns how many. */
int linkprop_export(const struct vw_link_class *c, const struct vw_linkprops *v, struct vw_buf *out);

/* The lines of the zones and of every link (with its properties and
 * addresses), for the persistent state (written by control/persist.c). */
void links_export(struct vw_buf *out);

#endif
