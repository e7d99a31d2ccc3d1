/*
 * VNICs whose face is a virtual machine's (face=vhost-user, SPEC §4): no
 * Linux device and no zone, but the virtio-net device of a QEMU guest,
 * whose rings vwired reads and writes over vhost-user (datapath/vhost.c,
 * port_vhost.c).  The port is a VNIC's port like any other to the switch:
 * VLANs, maxbw, flows, protection, captures, mirrors and accounting apply.
 *
 * The socket: vwired listens on it (vhost-mode=server, the default; QEMU
 * connects: -chardev socket,path=PATH,reconnect=1, and reconnects after a
 * vwired restart) or connects to it (vhost-mode=client: QEMU listens with
 * server=on; vwired retries every second).  Its path is vhost-socket=, or
 * by default NAME.vhost in the directory of vwired's control socket.
 *
 * The guest's multicast groups cannot be read as a zone's are (there is no
 * device of it in a namespace of ours): a VM's VNIC is made a member of the
 * groups every host needs, IPv4 all-hosts and IPv6 all-nodes, and of the
 * solicited-node group of the addresses made from its MAC (link-local,
 * SLAAC).  IPv4 works whatever the guest's address (ARP is broadcast); a
 * static IPv6 address is found by neighbour discovery only if its last 24
 * bits are the MAC's.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "datapath/mcsnoop.h"
#include "datapath/port_vhost.h"
#include "datapath/worker.h"
#include "objects/linkclass.h"

static char vm_dir[PATH_MAX] = "/run/vwire";

void vnic_vm_set_dir(const char *dir)
{
	snprintf(vm_dir, sizeof(vm_dir), "%s", dir);
}

bool vnic_is_vm(const struct vw_link *l)
{
	return l->prop.face == VW_FACE_VHOST;
}

/* The socket's path: vhost-socket=, or NAME.vhost beside the control socket. */
static int vm_path(const struct vnic_spec *s, char *buf, size_t len)
{
	if (*s->props.vhost_socket)
		return snprintf(buf, len, "%s", s->props.vhost_socket);
	return snprintf(buf, len, "%.*s/%s.vhost", (int)strlen(vm_dir), vm_dir, s->name);
}

int vnic_vm_check(const struct vnic_spec *s, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];

	if (s->props.face != VW_FACE_VHOST) {
		if (*s->props.vhost_socket || s->props.vhost_client) {
			ERR("%s: vhost-socket and vhost-mode go with face=vhost-user", s->name);
			return -EINVAL;
		}
		return 0;
	}
	if (*s->props.zone) {
		ERR("%s: a VNIC with face=vhost-user is in no zone: its face is a virtual machine's", s->name);
		return -EINVAL;
	}
	if (!*s->props.vhost_socket && vm_path(s, path, sizeof(path)) > VW_VHOST_PATH_MAX) {
		ERR("%s: the default socket path %s is too long for a Unix socket: give vhost-socket=", s->name, path);
		return -ENAMETOOLONG;
	}
	return 0;
}

static void vm_state(void *arg, enum vw_vhost_state st)
{
	const struct vw_link *l = arg;

	fprintf(stderr, "vwired: %s: virtual machine %s\n", l->name, vw_vhost_state_name(st));
}

struct vw_port *vnic_vm_open(struct vw_link *l, const struct vnic_spec *s, char *err, size_t errlen, int *rc)
{
	char path[PATH_MAX + 32], why[256];
	struct vw_port *port;

	vm_path(s, path, sizeof(path));
	port = vw_port_vhost_open(path, s->props.vhost_client, vw_workers_count(), why, sizeof(why));
	if (!port) {
		ERR("%s: %s", s->name, why);
		*rc = -EINVAL;
		return NULL;
	}
	snprintf(port->name, sizeof(port->name), "%s", l->name);
	memcpy(port->mac, l->mac, 6);
	vw_vhost_set_notify(vw_port_vhost_dev(port), vm_state, l);
	l->prop.face = l->saved.face = VW_FACE_VHOST;
	l->prop.vhost_client = l->saved.vhost_client = s->props.vhost_client;
	memcpy(l->prop.vhost_socket, s->props.vhost_socket, sizeof(l->prop.vhost_socket));
	memcpy(l->saved.vhost_socket, s->props.vhost_socket, sizeof(l->saved.vhost_socket));
	return port;
}

/* The groups every host needs, the solicited-node group of addresses made
 * from the MAC, and the groups the guest reported it joined (IGMPv3 and
 * MLDv2 reports snooped: datapath/mcsnoop.h), as they are now. */
int vnic_vm_groups(struct vw_link *l)
{
	uint8_t g[3 + VW_SNOOP_GROUPS][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
					      { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 },
					      { 0x33, 0x33, 0xff, l->mac[3], l->mac[4], l->mac[5] } };
	unsigned n = 3;

	if (l->port->snoop) {
		vw_snoop_drain(l->port->snoop);
		n += vw_snoop_macs(l->port->snoop, g + 3, VW_SNOOP_GROUPS);
	}
	return vw_switch_set_mcast(l->over->sw, l->port, (const uint8_t(*)[6])g, n);
}

const char *vnic_vm_socket(const struct vw_link *l)
{
	struct vw_vhost *dev = l->port ? vw_port_vhost_dev(l->port) : NULL;

	return dev ? vw_vhost_path(dev) : "";
}

const char *vnic_vm_state(const struct vw_link *l)
{
	struct vw_vhost *dev = l->port ? vw_port_vhost_dev(l->port) : NULL;

	return dev ? vw_vhost_state_name(vw_vhost_state(dev)) : "";
}
