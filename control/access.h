/*
 * The control socket's access rules (control/access.c), for control/ctl.c.
 */
#ifndef VW_ACCESS_H
#define VW_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/vwire.h"

/* Binds and listens on path (see ctl_listen): mode 0600 root, or 0660 with
 * group gid when group is set, from the moment the socket exists.  The
 * listening descriptor, or -errno with a reason in err. */
int access_listen(const char *path, bool group, gid_t gid, char *err, size_t errlen);
/* What the peer of a connected socket may run (1 << VW_PRIV_x); *root
 * when it is uid 0. */
unsigned access_peer(int fd, bool *root);

#endif
