/*
 * Split virtqueues (virtio 1.x, section 2.7) in a guest's memory, served
 * from our side of a vhost-user socket (datapath/vhost.h): guest memory
 * regions mapped into the daemon, guest-physical addresses (descriptors)
 * and the front-end's (QEMU's) own addresses (ring addresses) translated
 * through them, and the two directions of a virtio-net queue pair:
 *
 *   - a transmit queue (odd index: the guest sends): vw_virtq_pop() takes
 *     descriptor chains from the available ring, copies each frame and its
 *     virtio-net header into a pool buffer, and gives the chains back on
 *     the used ring;
 *   - a receive queue (even index: the guest receives): vw_virtq_push()
 *     writes frames with their virtio-net header into the guest's buffers,
 *     over several chains with VIRTIO_NET_F_MRG_RXBUF (num_buffers), else
 *     one chain per frame.
 *
 * A batch updates the used index once and writes the call eventfd at most
 * once; nothing is allocated and no system call is made per frame.
 *
 * The guest is not trusted: every index is checked against the ring size,
 * every walk of a chain is bounded by it (a loop ends the walk), and every
 * byte read or written lies inside a mapped region, whatever the guest
 * writes into its rings meanwhile.  A bad chain is a counted drop (given
 * back with length 0 when its head is a valid index); an available index
 * that ran more than the ring size ahead marks the ring broken, and it is
 * no longer served until it is set up again.
 *
 * Threading: the fields above "worker state" are written by the control
 * thread only while no worker can see the ring (datapath/vhost.c publishes
 * a ring to workers, and takes it back with a grace period, around every
 * change).  A transmit queue has one poller, the worker it is assigned to,
 * which owns last_avail, used_idx and the polling state.  A receive queue
 * may be written by several workers at once: each batch reserves its
 * chains with a compare-and-swap on rx_head and publishes its used entries
 * in reservation order (rx_tail), as a multi-producer ring does: one
 * atomic operation per batch, none per frame.
 */
#ifndef VW_VIRTQ_H
#define VW_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_net.h>
#include "datapath/pkt.h"

#define VW_VMEM_MAX 8          /* regions in a memory table (QEMU's baseline) */
#define VW_VIRTQ_MAX 32768     /* the largest split ring */
#define VW_VIRTQ_PUSH_MAX 256  /* frames one vw_virtq_push() takes */

/* One region of guest memory, mapped once (datapath/vhost.c). */
struct vw_vmem_region {
	uint64_t gpa;    /* guest-physical address of its first byte */
	uint64_t size;
	uint64_t uaddr;  /* the front-end's address of its first byte */
	uint8_t *host;   /* ours */
	void *map;       /* the whole mapping (host is inside it) */
	size_t maplen;
};

struct vw_vmem {
	int n;
	struct vw_vmem_region r[VW_VMEM_MAX];
};

/* Guest-physical gpa here, and how many bytes from it lie in the same
 * region (*room); NULL when it is in none. */
static inline uint8_t *vw_vmem_gpa(const struct vw_vmem *m, uint64_t gpa, uint64_t *room)
{
	int i;

	for (i = 0; i < m->n; i++) {
		const struct vw_vmem_region *r = &m->r[i];

		if (gpa >= r->gpa && gpa - r->gpa < r->size) {
			*room = r->size - (gpa - r->gpa);
			return r->host + (gpa - r->gpa);
		}
	}
	return NULL;
}

/* The front-end's [uaddr, uaddr + len) here, when it lies whole in one
 * region; else NULL. */
uint8_t *vw_vmem_uva(const struct vw_vmem *m, uint64_t uaddr, uint64_t len);

/* Counters one worker keeps for a device (plain stores, one writer). */
struct vw_virtq_stats {
	uint64_t bad_chain;  /* chains with a bad index, a loop, a descriptor
			      * outside memory or of the wrong direction */
	uint64_t too_long;   /* guest frames longer than a pool buffer */
	uint64_t no_room;    /* frames for the guest with no buffer for them */
	uint64_t broken;     /* rings found broken (avail index out of range) */
	uint64_t calls;      /* call eventfd writes */
} __attribute__((aligned(64)));

/* A frame for vw_virtq_push(): its header and up to three pieces. */
struct vw_vq_frame {
	struct virtio_net_hdr_v1 hdr;
	uint8_t np;
	const uint8_t *p[3];
	uint32_t l[3];
};

struct vw_virtq {
	const struct vw_vmem *mem;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t num, mask;
	uint16_t hdrlen;  /* 12 with VERSION_1 or MRG_RXBUF, else 10 */
	bool mrg;         /* MRG_RXBUF: a received frame may span chains */
	bool event_idx;   /* EVENT_IDX: the guest says at which used index it
			   * wants its next interrupt (used_event), we say at
			   * which avail index we want its next kick
			   * (avail_event); the rings' flags are not used */
	int idx;          /* the ring's index in its device */
	int kickfd, callfd;

	/* worker state; set up by vw_virtq_start() */
	bool broken;
	/* transmit queue, its poller only */
	uint16_t last_avail, used_idx;
	bool polling;         /* VRING_USED_F_NO_NOTIFY set: the worker polls */
	uint64_t idle_since;  /* while polling: when it last found nothing */
	/* receive queue: next chain to reserve, and next to publish */
	uint16_t rx_head __attribute__((aligned(64)));
	uint16_t rx_tail __attribute__((aligned(64)));
};

/* Control thread, before the ring is published: worker state from the
 * avail index base (SET_VRING_BASE), or the guest's used index when that
 * differs (a reconnected front-end that could not say where it was). */
void vw_virtq_start(struct vw_virtq *vq, uint16_t base);
/* Control thread, once the ring is stopped: the next available entry to
 * take, for GET_VRING_BASE. */
uint16_t vw_virtq_base(const struct vw_virtq *vq, bool rx);

/* Transmit queue: up to n frames into buffers of pool.  Returns how many;
 * *taken counts every chain taken from the ring (dropped ones too), so
 * that 0 means the ring was empty. */
int vw_virtq_pop(struct vw_virtq *vq, struct vw_pool *pool, struct vw_pkt **pkts, int n,
		 struct vw_virtq_stats *st, int *taken);

/* Receive queue: writes n (<= VW_VIRTQ_PUSH_MAX) frames in order and
 * returns how many the guest got; the rest had no room (counted). */
int vw_virtq_push(struct vw_virtq *vq, const struct vw_vq_frame *f, int n, struct vw_virtq_stats *st);

/* Notification suppression on a transmit queue, its poller only.
 * vw_virtq_notify_off: the guest need not kick (we poll).
 * vw_virtq_notify_on: asks for kicks again, then looks once more; true
 * when the ring is still empty (safe to sleep on the kick), false when
 * something came meanwhile (go on polling). */
void vw_virtq_notify_off(struct vw_virtq *vq);
bool vw_virtq_notify_on(struct vw_virtq *vq);
/* Whether the guest has made chains available that we have not taken. */
bool vw_virtq_pending(const struct vw_virtq *vq);

#endif
