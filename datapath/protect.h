/*
 * Link protection, as Crossbow's mac_protect defines it: checks on the
 * frames a VNIC's client sends into the switch, so that a tenant cannot
 * speak with another's addresses.
 *
 *   mac-nospoof  the source MAC is the VNIC's (and an ARP packet's sender
 *                hardware address too);
 *   ip-nospoof   the source of IPv4 and IPv6 packets and an ARP packet's
 *                sender IP are in the allowed networks (link property
 *                allowed-ips, or when it is unset the VNIC's configured
 *                addresses), or the IPv6 link-local address derived from the
 *                VNIC's MAC (EUI-64); the unspecified address is allowed
 *                where a host without an address must use it: 0.0.0.0 for
 *                DHCP (UDP 68 to 67) and ARP probes, :: for ICMPv6 (duplicate
 *                address detection's neighbour solicitations, MLD reports);
 *   dhcp-nospoof a DHCPv4 request's chaddr, and its client identifier
 *                (option 61) when it has one, name the VNIC's MAC; so does a
 *                DHCPv6 client's DUID (option 1) -- DUIDs that hold no
 *                link-layer address (DUID-EN, DUID-UUID) are refused;
 *   restricted   only IPv4, IPv6 and ARP frames.
 * (Tagged frames from a VNIC are always dropped, as DROP_TAGGED, before
 * these checks.)  A frame that fails one check is dropped and counted under
 * the first that failed, in the order restricted, mac, ip, dhcp.  An IP or
 * ARP frame too short or too malformed to show what is checked fails the
 * check that needed it.
 *
 * Threading: a struct vw_protect is built by the control thread and
 * published to the port (port->prot) with vw_protect_publish(); workers
 * load it once per batch and never write it.  vw_protect_check() reads
 * nothing past len, allocates nothing and keeps no state.
 */
#ifndef VW_PROTECT_H
#define VW_PROTECT_H

#include <stdint.h>

struct vw_port;

enum {
	VW_PROT_MAC = 1,
	VW_PROT_IP = 2,
	VW_PROT_DHCP = 4,
	VW_PROT_RESTRICTED = 8,
};

#define VW_PROT_MAXNETS 32

/* Return values of vw_protect_check(). */
enum vw_prot_verdict {
	VW_PROT_PASS = 0,
	VW_PROT_DROP_RESTRICTED,
	VW_PROT_DROP_MAC,
	VW_PROT_DROP_IP,
	VW_PROT_DROP_DHCP,
};

struct vw_protect_net {
	uint8_t addr[16]; /* IPv6, or IPv4 as ::ffff:a.b.c.d */
	uint8_t plen;     /* 0..128 (an IPv4 /n is 96 + n) */
};

struct vw_protect {
	uint32_t flags;  /* VW_PROT_* */
	uint8_t mac[6];
	uint8_t ll6[16]; /* fe80::/64 with the MAC's EUI-64 */
	unsigned nnets;
	struct vw_protect_net nets[VW_PROT_MAXNETS];
};

/* Clears p and sets its checks and the VNIC's MAC (and from it ll6). */
void vw_protect_init(struct vw_protect *p, uint32_t flags, const uint8_t mac[6]);
/* Allows source addresses in addr/plen (family 4: addr holds 4 bytes, plen
 * <= 32; 6: 16 bytes, plen <= 128).  -ENOSPC when full, -EINVAL. */
int vw_protect_allow(struct vw_protect *p, int family, const uint8_t *addr, unsigned plen);
/* The verdict on an untagged Ethernet frame of len bytes. */
enum vw_prot_verdict vw_protect_check(const struct vw_protect *p, const uint8_t *frame, uint32_t len);
/* Control thread: publishes p (NULL: no protection) as the port's and
 * returns the old one once no worker can hold it, for the caller to free. */
struct vw_protect *vw_protect_publish(struct vw_port *port, struct vw_protect *p);

#endif
