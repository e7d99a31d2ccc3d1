/*
 * The kernel's VXLAN devices through rtnetlink (objects/vxlan.c), in the
 * daemon's namespace.  Control thread only; 0 or -errno.
 */
#ifndef VW_VXLAN_H
#define VW_VXLAN_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/vwire.h"

#define VXLAN_VNI_MAX 16777215u /* 24 bits */
#define VXLAN_PORT 4789         /* IANA's */
/* What the encapsulation adds in front of an inner frame: outer IP, UDP
 * and VXLAN headers (the inner Ethernet header rides inside the MTU's
 * count of the outer frame's payload, hence IP + UDP + VXLAN + 14) */
#define VXLAN_OVERHEAD4 50
#define VXLAN_OVERHEAD6 70

struct vxlan_conf {
	const char *name;
	uint32_t vni;
	struct vw_prefix local; /* a host address (plen 32 or 128) */
	uint16_t port;          /* UDP destination port */
	int link;               /* the underlay interface (its MTU), 0: none */
	unsigned mtu;           /* 0: the kernel's default */
	unsigned ageing;        /* learned entries' life, s; 0: 300 */
};

/* A device with learning on, down. */
int vxlan_create(const struct vxlan_conf *c);
/* Adds a static remote: broadcast, multicast and unknown unicast are
 * replicated to each (an all-zero entry of the device's table). */
int vxlan_remote_add(int ifindex, const struct vw_prefix *remote);

struct vxlan_fdb {
	uint8_t mac[6];           /* 00:00:00:00:00:00: a static remote */
	struct vw_prefix remote;
	bool permanent;           /* static, else learned */
	unsigned idle_s;          /* since it was last confirmed */
};
/* Calls fn for each entry of the device's table that names a remote; stops
 * and returns fn's value if it is not 0. */
int vxlan_fdb_walk(int ifindex, int (*fn)(const struct vxlan_fdb *e, void *arg), void *arg);
/* The ifindex of the interface of the daemon's namespace that holds addr,
 * -EADDRNOTAVAIL when none does. */
int vxlan_addr_owner(const struct vw_prefix *addr);

#endif
