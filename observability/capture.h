/*
 * Packet capture (vwsnoop): frames a link sends and receives, filtered with
 * libpcap's filter syntax, streamed to the client as a pcap file with
 * nanosecond timestamps.
 *
 * The capture engine (struct vw_cap) is an observer (datapath/observe.h) on
 * one or more ports.  Each worker that sees a frame copies it, as on the
 * link, into its own byte ring as a ready pcap record (the filter runs on
 * the frame first, or on the copy when a tag had to be inserted), stamped
 * with one clock reading per batch; a full ring is a counted drop, never a
 * wait.  The control thread reads the rings, oldest record first.
 *
 * The session (capture_snoop) is the "snoop" command: it keeps the
 * client's connection, streams the pcap over it from a 10 ms timer in the
 * control loop, follows the link (an etherstub's VNICs as they come and
 * go; the end of the link ends the capture) and ends with a trailer record
 * that vwsnoop reads: a record with len 0 (a real frame always has
 * len >= caplen > 0) whose data is "vwsnoop end=REASON drops=N".
 */
#ifndef VW_CAPTURE_H
#define VW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/vwire.h"
#include "datapath/port.h"

#define VW_CAP_SNAPLEN 262144u      /* the pcap header's; frames are kept whole */
#define VW_CAP_RING (4u << 20)       /* bytes per worker */
#define VW_PCAP_MAGIC_NS 0xa1b23c4du /* pcap with nanosecond timestamps */

struct vw_cap;

/* Control thread.  A capture of filter (libpcap syntax; NULL or "": every
 * frame) with rings of ringsize bytes (a power of two >= 256 KiB); NULL with
 * the one-line error in err ("bad filter 'x': syntax error"). */
struct vw_cap *vw_cap_new(const char *filter, uint32_t ringsize, char *err, size_t errlen);
/* Observes the frames of direction dir (VW_OBS_IN|VW_OBS_OUT) on port. */
int vw_cap_add_port(struct vw_cap *c, struct vw_port *port, unsigned dir);
/* Stops observing port (-ENOENT if it was not); once it returns, no worker
 * writes what it sees on port. */
int vw_cap_del_port(struct vw_cap *c, struct vw_port *port);
bool vw_cap_has_port(const struct vw_cap *c, const struct vw_port *port);
/*
 * Moves captured frames, oldest first, as pcap records (16-byte header,
 * then the frame) into buf while they fit in room and fewer than max
 * (0: any number) were moved; returns the bytes written and the records
 * in *nrec.  With buf NULL the records are discarded (counted in *nrec).
 */
size_t vw_cap_read(struct vw_cap *c, uint8_t *buf, size_t room, uint64_t max, uint64_t *nrec);
/* Frames the rings had no room for. */
uint64_t vw_cap_drops(const struct vw_cap *c);
/* Removes every observer and frees c. */
void vw_cap_free(struct vw_cap *c);
/* The 24-byte pcap file header of a capture: nanosecond magic, DLT_EN10MB. */
void vw_cap_file_header(uint8_t hdr[24]);

/* The "snoop" command (control/handlers.c): checks -l LINK, -d, -c and the
 * filter (-f), starts a session and takes the client's connection (the
 * stream follows the reply); 0 or -errno with the one-line error in err. */
int capture_snoop(const struct vw_cmd *cmd, char *err, size_t errlen);
/* Ends every session (daemon exit). */
void capture_stop_all(void);

#endif
