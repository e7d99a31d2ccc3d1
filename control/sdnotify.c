/*
 * The service manager's notification protocol (sd_notify(3), "Standalone
 * Implementations"): one datagram per state change, newline-separated
 * VARIABLE=VALUE lines, to the AF_UNIX socket named by $NOTIFY_SOCKET, a
 * file system path or, after '@', an abstract name.  Written here rather
 * than linked from libsystemd: the protocol is this one sendto(), and the
 * daemon stays free of a library it would use for nothing else.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/sdnotify.h"

static struct sockaddr_un notify_addr;
static socklen_t notify_len; /* 0: no service manager asked */
static bool notify_failed;

void sdnotify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (!path || !*path)
		return;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(notify_addr.sun_path)) {
		fprintf(stderr, "vwired: NOTIFY_SOCKET '%s' is not a socket path or an abstract name; not notifying\n",
			path);
		unsetenv("NOTIFY_SOCKET");
		return;
	}
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, n);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';
	/* an abstract name is exactly its bytes; a path ends at its NUL */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/'));
	unsetenv("NOTIFY_SOCKET");
}

void sdnotify(const char *state)
{
	int fd;
	ssize_t n = -1;

	if (!notify_len)
		return;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&notify_addr, notify_len);
		if (n < 0)
			n = -errno;
		close(fd);
	} else {
		n = -errno;
	}
	if (n < 0 && !notify_failed) {
		notify_failed = true;
		fprintf(stderr, "vwired: cannot notify the service manager (%s): %s\n", state, strerror((int)-n));
	}
}
