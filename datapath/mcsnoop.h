/*
 * Multicast group reports a virtual machine sends (IGMPv3, MLDv2), for the
 * ports whose memberships no kernel can tell us: a zone's VNIC has its
 * groups read from the zone's kernel (objects/mcast.c) when it reports a
 * change; a VM's groups are known only from what its guest says on the
 * wire, so its port keeps a mailbox of the reports it sent (IGMP/MLD
 * snooping, RFC 4541, for one host behind the port).
 *
 * Workers put a copy of each report in the box (vw_snoop_put: a claim with
 * one atomic add, no lock, no allocation; reports are rare: a guest sends
 * one when it joins or leaves a group, twice or three times for
 * robustness).  The control thread, woken by the port's mcast_dirty
 * (vw_switch_mcast_changed), drains the box (vw_snoop_drain), folds the
 * reports' records into the port's group set, and gives the switch the
 * set's MACs (vw_snoop_macs).  A report the workers overwrote before the
 * control thread read it is counted as lost (the guest repeats its
 * reports).
 *
 * Understood: IGMPv3 reports (to 224.0.0.22) and MLDv2 reports (to
 * ff02::16), Linux's defaults.  A record joins its group when it asks for
 * any source (MODE_IS_EXCLUDE, CHANGE_TO_EXCLUDE) or names sources
 * (MODE_IS_INCLUDE, CHANGE_TO_INCLUDE, ALLOW with sources), and leaves it
 * when it includes none (MODE_IS_INCLUDE or CHANGE_TO_INCLUDE with no
 * source).  Source filtering itself is not done: a member gets every
 * frame of its group, as with a zone's VNIC.
 */
#ifndef VW_MCSNOOP_H
#define VW_MCSNOOP_H

#include <stdbool.h>
#include <stdint.h>

#define VW_SNOOP_SLOTS 16
#define VW_SNOOP_FRAME 1536  /* a report's bytes kept (the rest's records
			      * are not read) */
#define VW_SNOOP_GROUPS 64   /* groups a port may be in, beyond its fixed
			      * ones */

struct vw_snoop_slot {
	uint32_t seq; /* 2 * claim + 1 while written, 2 * claim + 2 once done */
	uint16_t len;
	uint8_t data[VW_SNOOP_FRAME];
};

struct vw_snoop {
	uint32_t head;   /* next claim (workers, atomic) */
	uint32_t tail;   /* next to read (control thread) */
	uint64_t reports, lost, full; /* read; overwritten before read; joins
				       * refused: the set was full */
	unsigned ngroups;
	uint8_t groups[VW_SNOOP_GROUPS][16]; /* IPv6, or IPv4-mapped */
	struct vw_snoop_slot slot[VW_SNOOP_SLOTS];
};

/* Worker: a copy of the report frame (Ethernet header first). */
void vw_snoop_put(struct vw_snoop *s, const uint8_t *frame, uint32_t len);

/* Control thread: reads every report written since the last call and
 * folds it into the group set.  Whether the set changed. */
bool vw_snoop_drain(struct vw_snoop *s);

/* The group set's MACs (01:00:5e:… for IPv4, 33:33:… for IPv6; groups
 * that share a MAC give it once) into macs[0..max-1]; how many. */
unsigned vw_snoop_macs(const struct vw_snoop *s, uint8_t (*macs)[6], unsigned max);

/* Parses one report frame: fn(arg, group, join) for each record that joins
 * or leaves (group: 16 bytes, IPv4 as ::ffff:a.b.c.d).  The number of
 * records passed to fn, or -1 for a frame that is not a well-formed IGMPv3
 * or MLDv2 report (records cut short by the frame's end are ignored). */
int vw_snoop_parse(const uint8_t *frame, uint32_t len, void (*fn)(void *arg, const uint8_t group[16], bool join),
		   void *arg);

#endif
