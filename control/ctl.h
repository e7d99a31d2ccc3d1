/*
 * The control thread: the daemon's main thread.  It owns every object
 * (objects/), accepts clients on the control socket, runs their commands one
 * at a time, and wakes once a second for housekeeping (multicast membership
 * of the VNICs' Linux faces).  Nothing here runs on a datapath worker.
 */
#ifndef VW_CTL_H
#define VW_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include "lib/vwire.h"

/* Runs one command (argv as a client or a vWire file gives it) and appends
 * its records and verdict ("status=", "message=") to out.  When restoring,
 * the persistent state is not rewritten. */
void ctl_handle(int argc, char *const argv[], struct vw_buf *out, bool restoring);

/* Binds the socket (refusing to take over one a live daemon answers on). */
int ctl_listen(const char *path, char *err, size_t errlen);
/* Serves clients until SIGINT or SIGTERM. */
int ctl_run(void);
void ctl_close(void);
/* One more descriptor for the loop (the metrics server's): fn runs on the
 * control thread when fd is readable, on each one-second tick, and when
 * timeout() milliseconds (-1: none) have passed. */
void ctl_add_poll(int fd, void (*fn)(void), int (*timeout)(void));
/* Takes fd out of the loop again (it is not closed). */
void ctl_del_poll(int fd);

/* A link's IPKTS, RBYTES, OPKTS, OBYTES as `vwstat` shows them
 * (control/handlers.c): what accounting samples. */
struct vw_link;
void link_counters(const struct vw_link *l, uint64_t c[4]);

#endif
