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
/* Runs one command through its handler without saving the state (apply
 * saves once, at its end); 0 or -errno with err. */
int ctl_exec(int argc, char *const argv[], char *err, size_t errlen);
/* Whether the daemon has a handler for command id (tests/unit/test_cmdtable.c). */
bool ctl_handles(enum vw_cmd_id id);

/* Binds the socket (refusing to take over one a live daemon answers on, and
 * to remove anything at path that is not a socket), mode 0600 root only or,
 * after ctl_set_group, 0660 with that group, from the moment it exists. */
int ctl_listen(const char *path, char *err, size_t errlen);
/* vwired --client-timeout "SECONDS[,IDLE_SECONDS]": how long a request may
 * take to arrive whole (and a reply to be taken), and how long a connection
 * may sit idle (default 10 and 60; IDLE 6 x SECONDS when not given).  Before
 * ctl_run. */
int ctl_set_timeouts(const char *spec, char *err, size_t errlen);
/* vwired --socket-group GROUP (a name or a number): read-only commands open
 * to that group.  Before ctl_listen. */
int ctl_set_group(const char *group, char *err, size_t errlen);
/*
 * The control protocol's request parser (docs/protocol.md): buf holds len
 * bytes (a request without its final empty line) followed by a NUL; its
 * lines are cut in place into argv (at most max words, argv has max + 1
 * entries, NULL-terminated); an empty line is skipped.  -1 with *why
 * ("malformed request", "too many words in request") for anything but
 * "arg=WORD" lines.  Exposed for the fuzz harness.
 */
int ctl_parse_request(char *buf, size_t len, int *argc, char **argv, int max, const char **why);
/* Serves clients until SIGINT or SIGTERM. */
int ctl_run(void);
void ctl_close(void);
/* What the loop offers the subsystems below it (observability/loop.h):
 * its descriptors, timers and clients, and running a command; vwired hands
 * it down with loop_set() before anything registers. */
struct loop_ops;
extern const struct loop_ops ctl_loop;

#endif
