/*
 * The control loop as the subsystems below control/ see it: they register
 * descriptors and timers, take a client's connection, or run a command,
 * without knowing who serves them.  control/ctl.c implements these and
 * hands them down once at start-up (loop_set, from vwired's main); until
 * then there is no loop: loop_add_poll says -ENOSYS, loop_take_client
 * -ENOTCONN, loop_run_command answers nothing.  Control thread only.
 */
#ifndef VW_LOOP_H
#define VW_LOOP_H

#include <stddef.h>
#include "lib/vwire.h"

struct loop_ops {
	/* One more descriptor for the loop (at most 8, -ENOSPC past that;
	 * one may be added while the loop runs): fn runs on the control
	 * thread when fd is readable, on each one-second tick, and when
	 * timeout() milliseconds (-1: none) have passed; timeout may be
	 * NULL. */
	int (*add_poll)(int fd, void (*fn)(void), int (*timeout)(void));
	/* Takes fd out of the loop again (it is not closed). */
	void (*del_poll)(int fd);
	/*
	 * For a command whose reply starts a stream (snoop): its handler, on
	 * success, asks for the client's connection.  Once the handler has
	 * returned and the reply is complete, fn gets the connection
	 * (non-blocking; fn must send the reply's len bytes first, then owns
	 * and closes fd) and the loop forgets the client.  -ENOTCONN when the
	 * command does not come from a client (a vWire file).
	 */
	int (*take_client)(void (*fn)(int fd, const char *reply, size_t len, void *arg), void *arg);
	/* Runs one command (argv as a client gives it) and appends its
	 * records and verdict to out, as a client's request would. */
	void (*run_command)(int argc, char *const argv[], struct vw_buf *out);
};

void loop_set(const struct loop_ops *ops);
int loop_add_poll(int fd, void (*fn)(void), int (*timeout)(void));
void loop_del_poll(int fd);
int loop_take_client(void (*fn)(int fd, const char *reply, size_t len, void *arg), void *arg);
void loop_run_command(int argc, char *const argv[], struct vw_buf *out);

#endif
