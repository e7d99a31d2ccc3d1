/*
 * A bounded single-producer, single-consumer ring of pointers: how one
 * worker hands packet buffers to another without a lock (a frame for a link
 * another worker owns, and the buffer going back to the pool it came from).
 *
 * Exactly one thread calls vw_spsc_put and exactly one calls vw_spsc_get;
 * they may be different threads running at the same time.  The producer
 * publishes slots with a release store of head, the consumer frees them
 * with a release store of tail; each side keeps a private copy of the
 * other's index and rereads it only when the ring looks full (or empty),
 * so a burst costs one shared-line access per side, not one per pointer.
 * Both calls move up to n pointers and return how many they moved; neither
 * blocks or allocates.
 */
#ifndef VW_SPSC_H
#define VW_SPSC_H

#include <stdint.h>
#include <stdlib.h>

struct vw_spsc {
	/* producer's line */
	uint32_t head;        /* next slot to fill (shared) */
	uint32_t tail_cache;  /* the producer's last view of tail */
	char pad1[56];
	/* consumer's line */
	uint32_t tail;        /* next slot to drain (shared) */
	uint32_t head_cache;  /* the consumer's last view of head */
	char pad2[56];
	uint32_t mask;        /* size - 1 */
	void **slot;
};

/* size: a power of two >= 2.  0 or -1 (no memory / bad size). */
static inline int vw_spsc_init(struct vw_spsc *r, uint32_t size)
{
	if (size < 2 || (size & (size - 1)))
		return -1;
	*r = (struct vw_spsc){ .mask = size - 1 };
	r->slot = calloc(size, sizeof(*r->slot));
	return r->slot ? 0 : -1;
}

static inline void vw_spsc_fini(struct vw_spsc *r)
{
	free(r->slot);
	r->slot = NULL;
}

static inline unsigned vw_spsc_put(struct vw_spsc *r, void *const *p, unsigned n)
{
	uint32_t head = r->head, room = r->mask + 1 - (head - r->tail_cache), i;

	if (room < n) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		room = r->mask + 1 - (head - r->tail_cache);
		if (n > room)
			n = room;
	}
	for (i = 0; i < n; i++)
		r->slot[(head + i) & r->mask] = p[i];
	__atomic_store_n(&r->head, head + n, __ATOMIC_RELEASE);
	return n;
}

static inline unsigned vw_spsc_get(struct vw_spsc *r, void **p, unsigned n)
{
	uint32_t tail = r->tail, avail = r->head_cache - tail, i;

	if (avail < n) {
		r->head_cache = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		avail = r->head_cache - tail;
		if (n > avail)
			n = avail;
	}
	for (i = 0; i < n; i++)
		p[i] = r->slot[(tail + i) & r->mask];
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
	return n;
}

/* Consumer side: true when nothing is waiting (rereads head). */
static inline int vw_spsc_empty(struct vw_spsc *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) == r->tail;
}

#endif
