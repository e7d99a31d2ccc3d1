/*
 * The kernel fast path's userspace half: loads datapath/bpf/vw_fast.bpf.c
 * (built into the daemon at `make`) with libbpf, attaches it at TC ingress
 * of every VNIC host end, phys uplink and slow-path channel, and keeps its
 * maps in step with the switches (docs/fastpath.md).
 *
 * A VNIC with the fast path is a veth pair (its zone end carries the
 * VNIC's name and MAC; its host end lives in the daemon's namespace) plus
 * a TAP in the daemon's namespace, its slow-path channel: the switch port
 * (struct vw_port) is that TAP, so the userspace datapath reads and writes
 * it as it did the TAP face.  The program sends a frame of the host end
 * either straight to its destination or into the channel; frames userspace
 * writes into the channel go on into the zone.  An uplink keeps its packet
 * socket, filtered so that it does not read the frames the program
 * switches.
 *
 * Whether a port's frames may stay in the kernel is decided here, from what
 * the datapath publishes on the port (hooks, flows, observers, protection,
 * MTU): vw_fast_port_sync() after any of them changes.  Control thread
 * only.  Without vw_fast_start() (or when it failed) every function is a
 * no-op and ports have no fast-path state.
 */
#ifndef VW_FASTPATH_H
#define VW_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include "datapath/port.h"

/* Loads the programs; 0, or -errno with why set (the daemon says so once
 * and runs the userspace datapath alone).  With adopt_ifindex (a VNIC host
 * end an earlier daemon left), its program's maps are taken over rather
 * than made: they go on switching while the new daemon rewrites them. */
int vw_fast_start(int adopt_ifindex, char *why, size_t whylen);
void vw_fast_stop(void);
bool vw_fast_enabled(void);
/* The daemon is exiting: ports leave the datapath without leaving the
 * kernel (maps, programs and the uplinks' filters stay and switch on). */
void vw_fast_leave(void);
/* Removes from the maps what no port of this daemon wrote (what an
 * earlier daemon left for VNICs that are gone). */
void vw_fast_purge(void);

/* A VNIC's port (its channel, a TAP already attached to its switch) with
 * its veth host end host_ifindex; samens: the zone end is in the daemon's
 * namespace.  Attaches the program to both devices and enters the VNIC in
 * the maps.  0 or -errno (nothing changed). */
int vw_fast_vnic_add(struct vw_port *port, int host_ifindex, bool samens);
/* A VNIC with no device, whose frames only the userspace datapath can
 * deliver (a virtual machine's, over vhost-user): its address in the fdb
 * says "slow", so that the program sends its frames into the sender's
 * channel.  After the port is attached.  0 or -errno. */
int vw_fast_vm_add(struct vw_port *port);
/* The VNIC's zone end moved into (samens) or out of the daemon's namespace. */
void vw_fast_vnic_samens(struct vw_port *port, bool samens);
/* An uplink's port (a packet socket attached to its switch) on ifindex,
 * whose MTU is mtu.  0 or -errno (nothing changed).  Without the fast
 * path, takes off ifindex the filter an earlier daemon may have left.
 * ifindex 0: an uplink with no device of its own (an aggregation, whose
 * port must be VW_SLOW_BACKEND): only the switch's uplink entry, which
 * sends its VNICs' frames for the uplink to the slow path. */
int vw_fast_uplink_add(struct vw_port *port, int ifindex, unsigned mtu);
/* Takes off ifindex the program an earlier daemon may have left there (a
 * device that becomes an aggregation's member).  Works with the fast path
 * off too. */
void vw_fast_dev_clear(int ifindex);
/* Takes the port out of the maps and its program off its uplink device
 * (a VNIC's devices go with the VNIC).  Before it is detached. */
void vw_fast_port_del(struct vw_port *port);
/* Sets (on) or clears a reason (VW_SLOW_*) for the port to keep to the
 * userspace datapath, and moves it accordingly. */
void vw_fast_port_hold(struct vw_port *port, uint8_t why, bool on);
/* Moves the port to the slow path or back, from what is published on it. */
void vw_fast_port_sync(struct vw_port *port);
/* Adds what the kernel switched for the port to sum (rx/tx, drops, and the
 * fast_* fields). */
void vw_fast_stats_add(const struct vw_port *port, struct vw_port_stats *sum);

#endif
