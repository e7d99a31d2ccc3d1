/*
 * Announcing a VNIC where it now is (objects/announce.c): when its face
 * comes up in its zone, and when it gets an address, vwired sends on its
 * behalf what a hypervisor sends for a guest after a migration -- a
 * gratuitous ARP per IPv4 address, an unsolicited neighbour advertisement
 * per IPv6 address, a RARP frame when it has no address -- so that the
 * switches and neighbour tables on the way learn at once where its MAC
 * and addresses are.  Control thread only.
 */
#ifndef VW_ANNOUNCE_H
#define VW_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>
#include "lib/vwire.h"

struct vw_link;

/* The longest announcement frame: Ethernet, IPv6, ICMPv6 NA, its option. */
#define VW_ANNOUNCE_FRAME_MAX 86

/*
 * The announcement frame for address p of the VNIC whose MAC is mac, built
 * into f (VW_ANNOUNCE_FRAME_MAX bytes); its length.  p IPv4: a gratuitous
 * ARP request (60 bytes, padded); IPv6: an unsolicited neighbour
 * advertisement (86 bytes); NULL: a RARP request as QEMU's announce_self
 * (60 bytes, padded).  Every byte is written.
 */
size_t announce_frame(uint8_t *f, const uint8_t mac[6], const struct vw_prefix *p);

/* Announces VNIC l now (its face must be up), and again in the rounds
 * that follow, each with its MAC and addresses as they are then.  A new
 * call starts the rounds again.  Failures to send are logged, never fatal:
 * an announcement only speeds things up. */
void announce_vnic(struct vw_link *l);
/* The control loop: milliseconds until a round is due (0: now; -1: none),
 * and the rounds that are due. */
int announce_timeout(void);
void announce_run(void);

#endif
