/*
 * Port mirroring (vwadm create-mirror): copies of what some links send and
 * receive, to a local link (SPAN) or to an IPv4 address, encapsulated in GRE
 * (Transparent Ethernet Bridging) or ERSPAN type II (RSPAN over IP).
 *
 * A mirror is an observer (datapath/observe.h) on each source link's port:
 * a VNIC's TAP port, a phys's uplink, or for an etherstub its VNICs' ports
 * (what each sends: every frame crossing the etherstub once).  On a worker
 * it runs the mirror's filter (libpcap syntax, compiled on the control
 * thread, run with bpf_filter on the frame as on the link) and copies what
 * matches into the worker's ring of the mirror: a byte ring of
 * VW_MIRROR_RING bytes, one producer (the worker), one consumer (the mirror
 * sender).  A full ring drops the copy, counted; the mirrored traffic is
 * never held up.
 *
 * The mirror sender is one thread of its own (not a worker): it drains the
 * rings, cuts GSO super-frames to wire size and completes checksums
 * (datapath/gso.h), and sends: to a local link with the port's raw write
 * (vw_port_write: its backend, past any hook), or to a raw IPv4 socket (IPPROTO_GRE;
 * the kernel routes and adds the IP header) with sendmmsg.  It sleeps on an
 * eventfd when every ring is empty; a worker writes it once per batch, and
 * only when the sender said it sleeps.
 *
 * Threading: everything but the observer callback and the sender belongs to
 * the control thread.  One mutex guards the list of mirrors and each
 * mirror's destination port against the sender; workers take no lock.
 */
#ifndef VW_MIRROR_H
#define VW_MIRROR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/vwire.h"

#define VW_MIRROR_RING (4u << 20) /* bytes per worker and mirror */

enum vw_mirror_kind { VW_MIRROR_LINK, VW_MIRROR_GRE, VW_MIRROR_ERSPAN };

/* The encapsulation header that goes before a mirrored frame: GRE with
 * protocol 0x6558 and an optional key (K bit), or GRE 0x88BE with a
 * sequence number (S bit) and an ERSPAN type II header (version 1, the
 * frame's VLAN and CoS when it carries an 802.1Q tag, encapsulation type 3
 * "tag preserved", the session id).  Writes at most 16 bytes; returns how
 * many. */
size_t vw_mirror_encap(uint8_t *hdr, enum vw_mirror_kind kind, bool has_key, uint32_t key, uint16_t session,
		       uint32_t seq, const uint8_t *frame, uint32_t len);

/* Control thread.  Each returns 0 or -errno with one line in err; a failed
 * call changes nothing. */
int mirror_create(const char *name, const char *links, const char *dir, const char *filter, const char *dest,
		  char *err, size_t errlen);
int mirror_delete(const char *name, char *err, size_t errlen);
/* show-mirror records ("mirror": mirror links dir filter dest pkts bytes
 * drops) for the names given (all when n is 0; -ENOENT for an unknown one). */
int mirror_show(const char *const *names, int n, struct vw_buf *out, char *err, size_t errlen);
/* A VNIC that is a mirror's destination is not deleted: -EBUSY with the
 * reason in err (delete the mirror first); 0 otherwise. */
int mirror_check_delete(const char *link, char *err, size_t errlen);
/* create-mirror lines of every mirror (state export). */
void mirrors_export(struct vw_buf *out);
/* Deletes every mirror and stops the sender (daemon exit). */
void mirrors_destroy_all(void);

/* ---- for the unit tests ---- */
struct vw_mirror;
struct vw_port;
/* A mirror with no link, watching port (an in-memory one will do) in dir
 * (VW_OBS_*) with filter (NULL: all), whose sender does not run: the test
 * drains it with vw_mirror_test_next. */
struct vw_mirror *vw_mirror_test_new(struct vw_port *port, unsigned dir, const char *filter, char *err,
				     size_t errlen);
/* The next record of worker w's ring: its frame (valid until the next
 * call), length and VLAN; false when the ring is empty. */
bool vw_mirror_test_next(struct vw_mirror *m, int w, const uint8_t **frame, uint32_t *len);
/* Sends what the mirror holds to port to, as a mirror to a link does,
 * through the port's write (its backend).  0 or -errno. */
int vw_mirror_test_send(struct vw_mirror *m, struct vw_port *to, char *err, size_t errlen);
void vw_mirror_test_counts(struct vw_mirror *m, uint64_t *copied, uint64_t *drops);
void vw_mirror_test_free(struct vw_mirror *m);

#endif
