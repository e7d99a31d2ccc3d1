/*
 * Linux links, addresses and zones (network namespaces), through rtnetlink
 * (libmnl).  Used only by the daemon's control thread: every function here
 * may switch the calling thread's network namespace for the duration of the
 * call, and always switches it back before returning.
 *
 * A "zone" argument of NULL or "" means the daemon's own (host) namespace.
 * Functions return 0 (or a non-negative count/index) on success and a
 * negative errno on failure; none prints anything.
 */
#ifndef VW_NETLINK_H
#define VW_NETLINK_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/vwire.h"

/* Call once at daemon start-up, from the thread that will use the rest. */
int nl_init(void);
void nl_fini(void);

/* ---- zones: compatible with `ip netns` (/run/netns/NAME bind mounts) ---- */
bool zone_exists(const char *zone);
/* Creates /run/netns/NAME as `ip netns add` does and sets "lo" up in it. */
int zone_create(const char *zone);
/* Unmounts and removes /run/netns/NAME (like `ip netns delete`). */
int zone_delete(const char *zone);
/* Names of the zones in /run/netns, sorted; returns how many (<= max). */
int zone_list(char (*names)[VW_ZONENAME_MAX + 1], int max);

/* ---- links ---- */
/* ifindex of the link in that zone, or -ENODEV. */
int nl_link_index(const char *zone, const char *ifname);
/* Moves a link from one zone to another (either may be the host). */
int nl_link_move(const char *from_zone, const char *ifname, const char *to_zone);
int nl_link_set_up(const char *zone, const char *ifname, bool up);
int nl_link_set_mtu(const char *zone, const char *ifname, unsigned mtu);
int nl_link_set_mac(const char *zone, const char *ifname, const uint8_t mac[6]);

/*
 * Retiring a link without waiting for it: one request takes it down, renames
 * it (so its name is free at once) and puts it in a netdev group; later
 * nl_link_del_group() unregisters every link of the group in one kernel
 * batch (unregister_netdevice_many: one set of RCU grace periods for all,
 * instead of about 20 ms per device).
 */
struct nl_retire {
	char newname[16];
	uint32_t group; /* not 0 */
};
int nl_link_retire(const char *zone, const char *ifname, const struct nl_retire *r);
/* Deletes every link of the group in the zone; 0 when there is none. */
int nl_link_del_group(const char *zone, uint32_t group);

/*
 * A veth pair (a VNIC's face with the kernel fast path, datapath/fastpath.h):
 * the host end in the daemon's namespace, down, with the largest MTU (frames
 * of any VNIC MTU cross it); the peer, named name, with mac and mtu (0: the
 * default) in zone, down.  Either both ends exist afterwards or neither.
 */
struct nl_veth {
	const char *host;   /* the host end's name */
	const char *name;   /* the zone end's name */
	const char *zone;   /* NULL or "": the daemon's namespace */
	const uint8_t *mac; /* the zone end's address */
	unsigned mtu;       /* the zone end's MTU; 0: the default */
};
int nl_veth_create(const struct nl_veth *v);
/* Marks a device of the daemon's own plumbing in its namespace (a veth
 * host end, a slow-path TAP): a netdev group and an alias, so that `ip link`
 * says what it is, and IPv6 off (no address generated, addrgenmode none,
 * and disable_ipv6; set while it is down), so its stack sends nothing of
 * its own on it and no route of its own is made for it. */
int nl_link_plumbing(const char *ifname, uint32_t group, const char *alias);
/* Deletes the link (both ends of a veth pair). */
int nl_link_del(const char *zone, const char *ifname);
/* Deletes link ifindex if it is still called ifname (names are reused: a
 * device another daemon made since may have it); -ENODEV if not. */
int nl_link_del_index(const char *zone, int ifindex, const char *ifname);

struct nl_link_info {
	char name[16];
	int ifindex;
	char kind[16]; /* IFLA_INFO_KIND: "veth", "tun", "bridge", "" for a NIC or lo */
	unsigned flags; /* IFF_* */
	unsigned mtu;
	uint8_t mac[6];
	bool loopback;
	uint64_t tx_dropped; /* frames the device could not send (IFLA_STATS64) */
	uint32_t group;      /* IFLA_GROUP: its netdev group */
	char alias[128];     /* IFLA_IFALIAS, cut short if longer */
	int link;            /* IFLA_LINK: a veth end's peer's ifindex (in the
			      * peer's namespace); 0: none */
};
/* Calls fn for every link of the zone; stops and returns fn's value if it
 * returns non-zero. */
int nl_link_foreach(const char *zone, int (*fn)(const struct nl_link_info *li, void *arg), void *arg);
int nl_link_get(const char *zone, const char *ifname, struct nl_link_info *li);

struct nlmsghdr;
/* One rtnetlink request of the daemon's namespace (built whole in nlh) and
 * its answer: cb runs over each reply of a dump; 0 or -errno (the kernel's
 * error, or cb's).  For the request kinds this file does not build itself
 * (objects/vxlan.c). */
int nl_request(struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *nlh, void *data), void *data);

/* Watching the daemon's namespace's links: a non-blocking rtnetlink socket
 * that hears every link's changes (RTMGRP_LINK), or -errno. */
int nl_monitor_open(void);
/* Reads what fd has heard and calls fn for each link that changed (gone:
 * it was deleted).  How many, or -errno (-ENOBUFS: messages were lost, so
 * the caller must look at the links it cares about afresh). */
int nl_monitor_read(int fd, void (*fn)(const struct nl_link_info *li, bool gone, void *arg), void *arg);

/* Replaces the link's root queueing discipline with noqueue: a TAP face
 * needs none (vwired reads its queue directly), and a multi-queue TAP would
 * otherwise get an mq qdisc with one pfifo_fast per possible queue (256),
 * megabytes of kernel memory per VNIC. */
int nl_qdisc_noqueue(const char *zone, const char *ifname);

/* ---- addresses ---- */
/* Adds ADDR/PREFIX to the link (IPv6 without duplicate address detection,
 * so it is usable at once). -EEXIST if it is already there. */
int nl_addr_add(const char *zone, const char *ifname, const struct vw_prefix *p);
int nl_addr_del(const char *zone, const char *ifname, const struct vw_prefix *p);

/* ---- multicast membership ---- */
/* The link-layer multicast addresses the link's stack has joined (what
 * /proc/net/dev_mcast shows in that zone).  Returns how many (<= max). */
int nl_mcast_list(const char *zone, const char *ifname, uint8_t (*macs)[6], int max);
/* Calls fn for every (interface, address) of the zone's whole list, reading
 * it once; stops and returns fn's value if it returns non-zero. */
int nl_mcast_dump(const char *zone, int (*fn)(const char *ifname, const uint8_t mac[6], void *arg), void *arg);

#endif
