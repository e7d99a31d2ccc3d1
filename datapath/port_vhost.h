/*
 * The VM port backend (datapath/port_vhost.c): a VNIC whose face is a
 * QEMU guest's virtio-net device over vhost-user.  What the object layer
 * calls:
 *
 *   port = vw_port_vhost_open(path, client, vw_workers_count(), err, sizeof(err));
 *       The socket at path: listened on (client false: QEMU connects with
 *       -chardev socket,path=PATH; a stale socket file is replaced) or
 *       connected to (client true: QEMU listens, server=on; retried every
 *       second until it answers, and again after each disconnection).
 *       The port has one queue per worker (port->nq == nworkers), so
 *       vw_worker_add_port() gives every worker its share, as for a
 *       multi-queue TAP; then set port->mac/vid/name and attach it to a
 *       switch like any VNIC port.  Frames flow once the guest's driver
 *       has set up its rings; until then writes are refused (drop_txerr).
 *   dev = vw_port_vhost_dev(port);
 *   vw_vhost_set_notify(dev, fn, arg);
 *       fn(arg, state) on the control thread at each change:
 *       VW_VHOST_CONNECTED (QEMU connected), VW_VHOST_RUNNING (rings set
 *       up: the guest's link is up), VW_VHOST_CONNECTED again (the guest
 *       reset its device), VW_VHOST_DISCONNECTED (QEMU went away: all its
 *       state dropped, waiting for the next connection).
 *       vw_vhost_state(dev) and vw_vhost_path(dev) for show-vnic.
 *   loop_add_poll(vw_vhost_ctl_fd(), vw_vhost_ctl_run, vw_vhost_ctl_timeout);
 *       once, for every VM port: the protocol runs on the control thread.
 *   vw_port_destroy(port);
 *       closes the connection, removes a socket file it listened on.
 *       Free it as any port: out of the workers' sets, detached, a grace
 *       period, then destroyed.
 */
#ifndef VW_PORT_VHOST_H
#define VW_PORT_VHOST_H

#include <stdbool.h>
#include <stddef.h>
#include "datapath/port.h"
#include "datapath/vhost.h"

/* NULL with a message in err on failure (bad path, cannot listen). */
struct vw_port *vw_port_vhost_open(const char *sock_path, bool client, int nworkers, char *err, size_t errlen);
/* For tests and fuzzers: the port over an already connected socket. */
struct vw_port *vw_port_vhost_open_fd(int fd, int nworkers);
/* The port's device; NULL when the port is not a VM port. */
struct vw_vhost *vw_port_vhost_dev(struct vw_port *port);

#endif
