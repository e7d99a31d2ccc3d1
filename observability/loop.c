/*
 * The control loop's services, reached through the operations control/
 * hands down (observability/loop.h).
 */
#include <errno.h>

#include "observability/loop.h"

static const struct loop_ops *loop;

void loop_set(const struct loop_ops *ops)
{
	loop = ops;
}

int loop_add_poll(int fd, void (*fn)(void), int (*timeout)(void))
{
	return loop ? loop->add_poll(fd, fn, timeout) : -ENOSYS;
}

void loop_del_poll(int fd)
{
	if (loop)
		loop->del_poll(fd);
}

int loop_take_client(void (*fn)(int fd, const char *reply, size_t len, void *arg), void *arg)
{
	return loop ? loop->take_client(fn, arg) : -ENOTCONN;
}

void loop_run_command(int argc, char *const argv[], struct vw_buf *out)
{
	if (loop)
		loop->run_command(argc, argv, out);
}
