/*
 * The control thread: the daemon's main thread.  It owns every object
 * (objects/), accepts clients on the control socket, runs their commands one
 * at a time, and wakes once a second for housekeeping (multicast membership
 * of the VNICs' Linux faces).  Nothing here runs on a datapath worker.
 */
#ifndef VW_CTL_H
#define VW_CTL_H

#include <stdbool.h>
#include <stddef.h>
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
/* One more descriptor for the loop (the metrics server's, the accounting
 * and captures' timers; at most 8, -ENOSPC past that; one may be added
 * while the loop runs): fn runs on the control thread when fd is readable,
 * on each one-second tick, and when timeout() milliseconds (-1: none) have
 * passed. */
int ctl_add_poll(int fd, void (*fn)(void), int (*timeout)(void));
/* Takes fd out of the loop again (it is not closed). */
void ctl_del_poll(int fd);
/*
 * For a command whose reply starts a stream (snoop): its handler, on
 * success, asks for the client's connection.  Once the handler has
 * returned and the reply is complete, fn gets the connection (non-blocking;
 * fn must send the reply's len bytes first, then owns and closes fd) and
 * the loop forgets the client.  -ENOTCONN when the command does not come
 * from a client (a vWire file).
 */
int ctl_take_client(void (*fn)(int fd, const char *reply, size_t len, void *arg), void *arg);

/* A link's IPKTS, RBYTES, OPKTS, OBYTES as `vwstat` shows them
 * (control/handlers.c): what accounting samples. */
struct vw_link;
void link_counters(const struct vw_link *l, uint64_t c[4]);

#endif
