/*
 * A vhost-user device: our side (the "back-end") of a vhost-user socket
 * (QEMU's docs/interop/vhost-user.rst), a virtio-net device whose rings
 * live in a guest's memory (datapath/virtq.h).  We either listen on the
 * socket (server mode: QEMU connects, and waits for us before it starts the
 * guest) or connect to the one QEMU listens on (client mode: QEMU's guest
 * survives our restart, and we reconnect every second until it answers).
 *
 * One connection at a time.  When the peer's socket closes, or a message
 * is bad (a wrong size, a count out of range, fds that do not match, a
 * ring size that is not a power of two up to 32768, an address outside the
 * memory table...), the connection is dropped: rings stopped, memory
 * unmapped, every fd closed, one line logged and counted, and the device
 * is ready for the next connection.  A guest that resets its device is a
 * front-end that stops every ring (GET_VRING_BASE) and sets it up again.
 *
 * Threading: the protocol runs on the thread that calls vw_vhost_run() or
 * vw_vhost_ctl_run(), the daemon's control thread, never a worker; so do
 * the callbacks.  Workers see the device only through its map (below),
 * published with a release store and loaded once per batch; a ring is
 * taken out of the map, and a grace period passed (datapath/rcu.h), before
 * anything it points to changes or goes away.
 */
#ifndef VW_VHOST_H
#define VW_VHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "datapath/port.h"
#include "datapath/virtq.h"

#define VW_VHOST_MAX_QP 8                  /* queue pairs (GET_QUEUE_NUM) */
#define VW_VHOST_NVQ (2 * VW_VHOST_MAX_QP) /* rings: 2q receive, 2q+1 transmit */

/* vhost-user requests we serve (front-end to back-end) */
enum {
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
};
#define VHOST_USER_VERSION 0x1
#define VHOST_USER_FLAG_REPLY (1u << 2)
#define VHOST_USER_FLAG_NEED_REPLY (1u << 3)
#define VHOST_USER_VRING_NOFD (1ull << 8)
#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define VHOST_USER_PROTOCOL_F_MQ 0
#define VHOST_USER_PROTOCOL_F_REPLY_ACK 3
#define VHOST_USER_HDR_SIZE 12
#define VHOST_USER_PAYLOAD_MAX (8 + VW_VMEM_MAX * 32) /* the memory table */

#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4 54
#define VIRTIO_NET_F_GUEST_USO6 55
#define VIRTIO_NET_F_HOST_USO 56
#endif

/* What we offer (GET_FEATURES): virtio 1, merged receive buffers,
 * checksum and TCP/UDP segmentation offloads both ways (super-frames
 * cross the switch whole, as a zone's do), multiqueue, event indexes (a
 * guest is interrupted and kicks once per several batches, not once per
 * batch), and the vhost-user protocol features MQ and REPLY_ACK.  Not
 * offered: indirect descriptors, UFO (Linux no longer sends it), dirty
 * logging (migration). */
#define VW_VHOST_FEATURES                                                                              \
	((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MRG_RXBUF) | (1ull << VIRTIO_NET_F_CSUM) | \
	 (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_HOST_TSO4) |                         \
	 (1ull << VIRTIO_NET_F_HOST_TSO6) | (1ull << VIRTIO_NET_F_HOST_ECN) |                           \
	 (1ull << VIRTIO_NET_F_GUEST_TSO4) | (1ull << VIRTIO_NET_F_GUEST_TSO6) |                        \
	 (1ull << VIRTIO_NET_F_GUEST_ECN) | (1ull << VIRTIO_NET_F_HOST_USO) |                           \
	 (1ull << VIRTIO_NET_F_GUEST_USO4) | (1ull << VIRTIO_NET_F_GUEST_USO6) |                        \
	 (1ull << VIRTIO_NET_F_MQ) | (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VHOST_USER_F_PROTOCOL_FEATURES))
#define VW_VHOST_PROTOCOL_FEATURES ((1ull << VHOST_USER_PROTOCOL_F_MQ) | (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK))

/*
 * What workers read, one acquire load per batch: the running rings.
 * Worker w polls the transmit rings tx[w][0..ntx[w]-1]: transmit ring of
 * pair q goes to worker q % nworkers (or every one to the worker the port
 * is steered to), so each has one poller.  Worker w writes to receive ring
 * rx[w % nrx]; several workers may share one (virtq.h says how).
 */
struct vw_vhost_map {
	uint64_t features;  /* negotiated: which offloads the guest takes */
	uint32_t nrx;
	struct vw_virtq *rx[VW_VHOST_MAX_QP];
	uint32_t ntx[VW_MAX_WORKERS];
	struct vw_virtq *tx[VW_MAX_WORKERS][VW_VHOST_MAX_QP];
};

/* Connection state, as the owner is told of it. */
enum vw_vhost_state {
	VW_VHOST_DISCONNECTED, /* no peer (listening, or retrying to connect) */
	VW_VHOST_CONNECTED,    /* a peer; rings not running (negotiating, or
				* a guest resetting its device) */
	VW_VHOST_RUNNING,      /* at least one receive and one transmit ring
				* run: frames flow */
};
const char *vw_vhost_state_name(enum vw_vhost_state st);

/* Counters of the protocol side (control thread). */
struct vw_vhost_ctl_stats {
	uint64_t connects, disconnects;
	uint64_t errors;     /* bad messages (each dropped its connection) */
	uint64_t refused;    /* connections refused while one was open */
};

struct vw_vhost;

/*
 * Opens a device on the socket at path: listening on it (client false; a
 * stale socket file there is replaced), or connecting to it (client true;
 * not being able to yet is no error: retried every second).  nworkers
 * (1..VW_MAX_WORKERS): the workers that will poll it, one kick set each
 * (vw_vhost_kickfd).  NULL with a message in err on failure.
 */
struct vw_vhost *vw_vhost_open(const char *path, bool client, int nworkers, char *err, size_t errlen);
/* Drops any connection, removes the socket file it listened on, frees. */
void vw_vhost_close(struct vw_vhost *dev);
/* For tests and fuzzers: a device with no socket of its own, and the
 * connected socket fd given as its peer (the device owns it then). */
struct vw_vhost *vw_vhost_open_fd(int fd, int nworkers);
/* Tells fn(arg, state) of every state change, on the control thread. */
void vw_vhost_set_notify(struct vw_vhost *dev, void (*fn)(void *arg, enum vw_vhost_state st), void *arg);
enum vw_vhost_state vw_vhost_state(const struct vw_vhost *dev);
const char *vw_vhost_path(const struct vw_vhost *dev);

/* Serves the device: accepts or connects, and handles every message the
 * peer has sent.  Never blocks. */
void vw_vhost_run(struct vw_vhost *dev);

/* For the daemon's loop (observability/loop.h: loop_add_poll takes a
 * function without argument): one descriptor, readable when a device has
 * something to do; vw_vhost_ctl_run serves every such device and retries
 * connections that are due; vw_vhost_ctl_timeout says in how many ms the
 * next retry is (-1: none).  The descriptor is made on first use; -errno
 * if it cannot be. */
int vw_vhost_ctl_fd(void);
void vw_vhost_ctl_run(void);
int vw_vhost_ctl_timeout(void);

/* Worker side: the map (NULL: no ring runs), the descriptor worker w
 * polls (an epoll set of the kick eventfds of its transmit rings), and its
 * counters. */
static inline const struct vw_vhost_map *vw_vhost_map(const struct vw_vhost *dev);
int vw_vhost_kickfd(const struct vw_vhost *dev, int w);
int vw_vhost_nworkers(const struct vw_vhost *dev);
struct vw_virtq_stats *vw_vhost_wstats(struct vw_vhost *dev, int w);
/* Control thread: the sum of every worker's counters, and the protocol's. */
void vw_vhost_stats(const struct vw_vhost *dev, struct vw_virtq_stats *ring, struct vw_vhost_ctl_stats *ctl);
/* Control thread: every transmit ring to worker w (w < 0: spread again).
 * 0 or -EINVAL. */
int vw_vhost_steer(struct vw_vhost *dev, int w);

/* 0 to silence the log lines (fuzzers); 1 by default. */
extern int vw_vhost_log;

/* The map pointer sits first in the device, so that workers can load it
 * without knowing the rest. */
struct vw_vhost_head {
	struct vw_vhost_map *map;
};
static inline const struct vw_vhost_map *vw_vhost_map(const struct vw_vhost *dev)
{
	return __atomic_load_n(&((const struct vw_vhost_head *)dev)->map, __ATOMIC_ACQUIRE);
}

#endif
