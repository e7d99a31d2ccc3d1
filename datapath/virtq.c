/*
 * Split virtqueues in guest memory: see datapath/virtq.h for what is
 * checked and who may call what.
 *
 * Everything the guest can write (ring entries, descriptors, the indexes)
 * is read once into a local through a volatile access and checked there,
 * so that a guest changing its rings under us can make us drop or cut a
 * frame, never read or write outside its memory.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "datapath/virtq.h"

#define CHAIN_END UINT32_MAX
#define FRAME_CHAINS_MAX 256 /* chains one received frame may take */

uint8_t *vw_vmem_uva(const struct vw_vmem *m, uint64_t uaddr, uint64_t len)
{
	int i;

	for (i = 0; i < m->n; i++) {
		const struct vw_vmem_region *r = &m->r[i];

		if (uaddr >= r->uaddr && uaddr - r->uaddr < r->size && len <= r->size - (uaddr - r->uaddr))
			return r->host + (uaddr - r->uaddr);
	}
	return NULL;
}

static inline uint16_t avail_entry(const struct vw_virtq *vq, uint16_t pos)
{
	return ((const volatile uint16_t *)vq->avail->ring)[pos & vq->mask];
}

static inline uint16_t avail_idx(const struct vw_virtq *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
}

static inline void used_put(struct vw_virtq *vq, uint16_t pos, uint32_t id, uint32_t len)
{
	volatile struct vring_used_elem *e = &vq->used->ring[pos & vq->mask];

	e->id = id;
	e->len = len;
}

/* The event indexes (EVENT_IDX): the guest's used_event after the avail
 * ring, ours (avail_event) after the used ring. */
static inline volatile uint16_t *used_event(const struct vw_virtq *vq)
{
	return (volatile uint16_t *)&vq->avail->ring[vq->num];
}

static inline volatile uint16_t *avail_event(const struct vw_virtq *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->num];
}

/* virtio 1.x, 2.7.10: whether moving an index from old to new crossed
 * event (the entry the other side asked to be told of). */
static inline bool need_event(uint16_t event, uint16_t new, uint16_t old)
{
	return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}

/* Tells the guest about the used entries [old, new) unless it asked not
 * to be told: with EVENT_IDX only when they pass its used_event (a guest
 * that has many frames in flight asks for one interrupt per several
 * batches), else unless its flags say VRING_AVAIL_F_NO_INTERRUPT. */
static void signal_guest(struct vw_virtq *vq, uint16_t old, uint16_t new, struct vw_virtq_stats *st)
{
	uint64_t one = 1;

	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used->idx before the guest's flags or event */
	if (vq->callfd < 0)
		return;
	if (vq->event_idx ? !need_event(*used_event(vq), new, old)
			  : (((const volatile struct vring_avail *)vq->avail)->flags & VRING_AVAIL_F_NO_INTERRUPT))
		return;
	if (write(vq->callfd, &one, sizeof(one)) == sizeof(one))
		st->calls++;
}

/* A walk along one descriptor chain, bounded by the ring size. */
struct walk {
	const struct vw_virtq *vq;
	uint32_t idx;
	unsigned steps;
};

/* The next descriptor of the chain: 1 with *d, 0 at its end, -1 when the
 * chain is bad (an index out of range, a loop, an indirect table, which
 * was not offered). */
static int walk_next(struct walk *w, struct vring_desc *d)
{
	const volatile struct vring_desc *s;

	if (w->idx == CHAIN_END)
		return 0;
	if (w->idx >= w->vq->num || ++w->steps > w->vq->num)
		return -1;
	s = &w->vq->desc[w->idx];
	d->addr = s->addr;
	d->len = s->len;
	d->flags = s->flags;
	d->next = s->next;
	if (d->flags & VRING_DESC_F_INDIRECT)
		return -1;
	w->idx = (d->flags & VRING_DESC_F_NEXT) ? d->next : CHAIN_END;
	return 1;
}

void vw_virtq_start(struct vw_virtq *vq, uint16_t base)
{
	uint16_t u = ((volatile struct vring_used *)vq->used)->idx;
	bool rx = !(vq->idx & 1);

	/* a front-end that reconnected may not know where we were: the
	 * guest's used index is where the ring really is */
	if (u != base)
		base = u;
	vq->last_avail = vq->used_idx = base;
	vq->rx_head = vq->rx_tail = base;
	vq->broken = false;
	vq->polling = false;
	vq->idle_since = 0;
	/* kicks matter on a transmit queue only: frames for a guest without
	 * buffers are dropped, never kept until it posts some.  With
	 * EVENT_IDX the transmit queue asks for a kick at its next entry, and
	 * the receive queue's avail_event is left behind the guest (a kick
	 * there at most once per 65536 buffers, and nobody waits for it) */
	((volatile struct vring_used *)vq->used)->flags = rx ? VRING_USED_F_NO_NOTIFY : 0;
	if (vq->event_idx && !rx)
		*avail_event(vq) = base;
}

uint16_t vw_virtq_base(const struct vw_virtq *vq, bool rx)
{
	return rx ? vq->rx_head : vq->last_avail;
}

/* Copies the chain at head (header, then frame) into pkt.  0, -EINVAL for
 * a bad chain, -EMSGSIZE for a frame longer than a buffer. */
static int chain_read(const struct vw_virtq *vq, uint16_t head, struct vw_pkt *pkt)
{
	struct walk w = { vq, head, 0 };
	uint8_t *hdr = (uint8_t *)&pkt->vnet;
	uint64_t off = 0, hl = vq->hdrlen;
	struct vring_desc d;
	int r;

	memset(&pkt->vnet, 0, sizeof(pkt->vnet));
	pkt->len = 0;
	while ((r = walk_next(&w, &d)) > 0) {
		uint64_t addr = d.addr, len = d.len;

		if (d.flags & VRING_DESC_F_WRITE)
			return -EINVAL;
		while (len) {
			uint64_t room, c;
			const uint8_t *src = vw_vmem_gpa(vq->mem, addr, &room);

			if (!src)
				return -EINVAL;
			c = len < room ? len : room;
			if (off < hl) {
				uint64_t h = hl - off < c ? hl - off : c;

				memcpy(hdr + off, src, h);
				off += h;
				src += h;
				addr += h;
				len -= h;
				c -= h;
			}
			if (!c)
				continue;
			if (pkt->len + c > VW_PKT_DATA_MAX)
				return -EMSGSIZE;
			memcpy(pkt->buf + pkt->len, src, c);
			pkt->len += (uint32_t)c;
			addr += c;
			len -= c;
		}
	}
	if (r < 0 || off < hl)
		return -EINVAL;
	return 0;
}

int vw_virtq_pop(struct vw_virtq *vq, struct vw_pool *pool, struct vw_pkt **pkts, int n,
		 struct vw_virtq_stats *st, int *taken)
{
	uint16_t navail, used0 = vq->used_idx;
	int got = 0, k = 0;

	*taken = 0;
	if (vq->broken)
		return 0;
	navail = (uint16_t)(avail_idx(vq) - vq->last_avail);
	if (navail > vq->num) {
		vq->broken = true;
		st->broken++;
		return 0;
	}
	while (k < navail && k < n) {
		uint16_t head = avail_entry(vq, vq->last_avail);
		struct vw_pkt *pkt = vw_pkt_alloc(pool);
		int rc;

		if (!pkt)
			break;
		vq->last_avail++;
		k++;
		rc = chain_read(vq, head, pkt);
		/* a head out of range names no chain to give back */
		if (head < vq->num)
			used_put(vq, vq->used_idx++, head, 0);
		if (rc) {
			vw_pkt_free(pool, pkt);
			if (rc == -EMSGSIZE)
				st->too_long++;
			else
				st->bad_chain++;
			continue;
		}
		pkts[got++] = pkt;
	}
	if (k) {
		__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
		signal_guest(vq, used0, vq->used_idx, st);
	}
	*taken = k;
	return got;
}

/* The bytes the chain at head can take, or -1 when it is bad (a
 * descriptor the device may not write, or outside memory). */
static int64_t chain_room(const struct vw_virtq *vq, uint16_t head)
{
	struct walk w = { vq, head, 0 };
	struct vring_desc d;
	int64_t total = 0;
	int r;

	while ((r = walk_next(&w, &d)) > 0) {
		uint64_t addr = d.addr, len = d.len;

		if (!(d.flags & VRING_DESC_F_WRITE))
			return -1;
		total += d.len;
		while (len) {
			uint64_t room;

			if (!vw_vmem_gpa(vq->mem, addr, &room))
				return -1;
			if (room >= len)
				break;
			addr += room;
			len -= room;
		}
	}
	return r < 0 ? -1 : total;
}

/* Writing one frame into one or more chains. */
struct sink {
	struct vw_virtq *vq;
	struct walk w;
	uint64_t addr, left; /* what is left of the current descriptor */
	uint32_t written;    /* into the current chain */
	bool end;            /* the chain is full (or went bad) */
};

static void sink_open(struct sink *s, struct vw_virtq *vq, uint16_t head)
{
	*s = (struct sink){ .vq = vq, .w = { vq, head, 0 } };
}

/* Puts up to len bytes of src into the chain; returns how many. */
static uint32_t sink_put(struct sink *s, const uint8_t *src, uint32_t len)
{
	uint32_t put = 0;

	while (put < len && !s->end) {
		uint64_t room, c;
		uint8_t *dst;

		if (!s->left) {
			struct vring_desc d;

			if (walk_next(&s->w, &d) <= 0 || !(d.flags & VRING_DESC_F_WRITE)) {
				s->end = true;
				break;
			}
			s->addr = d.addr;
			s->left = d.len;
			continue;
		}
		dst = vw_vmem_gpa(s->vq->mem, s->addr, &room);
		if (!dst) {
			s->end = true;
			break;
		}
		c = len - put;
		if (c > s->left)
			c = s->left;
		if (c > room)
			c = room;
		memcpy(dst, src + put, c);
		put += (uint32_t)c;
		s->addr += c;
		s->left -= c;
		s->written += (uint32_t)c;
	}
	return put;
}

static uint32_t frame_len(const struct vw_vq_frame *f)
{
	uint32_t len = 0;
	int i;

	for (i = 0; i < f->np; i++)
		len += f->l[i];
	return len;
}

/* Writes frame f into the k chains from avail position pos, and their used
 * entries. */
static void frame_write(struct vw_virtq *vq, const struct vw_vq_frame *f, uint16_t pos, int k)
{
	struct virtio_net_hdr_v1 h = f->hdr;
	const uint8_t *piece[4];
	uint32_t plen[4];
	int np = 0, p = 0, j;
	uint32_t done = 0;

	h.num_buffers = (uint16_t)k;
	piece[np] = (const uint8_t *)&h;
	plen[np++] = vq->hdrlen;
	for (j = 0; j < f->np; j++) {
		piece[np] = f->p[j];
		plen[np++] = f->l[j];
	}
	for (j = 0; j < k; j++) {
		uint16_t head = avail_entry(vq, (uint16_t)(pos + j));
		struct sink s;

		sink_open(&s, vq, head);
		while (p < np && !s.end) {
			done += sink_put(&s, piece[p] + done, plen[p] - done);
			if (done == plen[p]) {
				p++;
				done = 0;
			}
		}
		used_put(vq, (uint16_t)(pos + j), head, s.written);
	}
}

int vw_virtq_push(struct vw_virtq *vq, const struct vw_vq_frame *f, int n, struct vw_virtq_stats *st)
{
	uint16_t first[VW_VIRTQ_PUSH_MAX], nch[VW_VIRTQ_PUSH_MAX];
	uint16_t head, pos;
	int i, sent, spins = 0;

	if (n > VW_VIRTQ_PUSH_MAX)
		n = VW_VIRTQ_PUSH_MAX;
	/* reserve: plan which chains each frame takes, then claim them all */
	for (;;) {
		uint16_t end, navail;

		if (__atomic_load_n(&vq->broken, __ATOMIC_RELAXED))
			return 0;
		head = __atomic_load_n(&vq->rx_head, __ATOMIC_ACQUIRE);
		end = avail_idx(vq);
		navail = (uint16_t)(end - head);
		if (navail > vq->num) {
			__atomic_store_n(&vq->broken, true, __ATOMIC_RELAXED);
			st->broken++;
			return 0;
		}
		pos = head;
		for (i = 0; i < n; i++) {
			uint64_t need = vq->hdrlen + frame_len(&f[i]), room = 0;
			int k = 0;

			first[i] = pos;
			nch[i] = 0;
			while (room < need && pos != end && k < FRAME_CHAINS_MAX) {
				int64_t r = chain_room(vq, avail_entry(vq, pos));

				if (r < 0) {
					/* a bad chain: given back empty, skipped */
					st->bad_chain++;
					pos++;
					first[i] = pos;
					room = 0;
					k = 0;
					continue;
				}
				if (!vq->mrg && (uint64_t)r < need)
					break; /* too small for this frame; kept */
				room += (uint64_t)r;
				k++;
				pos++;
			}
			if (room < need) {
				/* no room: with merged buffers the chains
				 * looked at stay for the next frame */
				pos = first[i];
				continue;
			}
			nch[i] = (uint16_t)k;
		}
		if (pos == head)
			break;
		if (__atomic_compare_exchange_n(&vq->rx_head, &head, pos, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
	}
	if (pos == head) {
		st->no_room += (uint64_t)n;
		return 0;
	}
	/* copy; chains skipped as bad are given back with length 0 */
	{
		uint16_t at = head;

		for (i = 0, sent = 0; i < n; i++) {
			for (; at != first[i] && nch[i]; at++)
				used_put(vq, at, avail_entry(vq, at), 0);
			if (!nch[i]) {
				st->no_room++;
				continue;
			}
			frame_write(vq, &f[i], first[i], nch[i]);
			at = (uint16_t)(first[i] + nch[i]);
			sent++;
		}
		for (; at != pos; at++)
			used_put(vq, at, avail_entry(vq, at), 0);
	}
	/* publish in reservation order */
	while (__atomic_load_n(&vq->rx_tail, __ATOMIC_ACQUIRE) != head) {
		if (++spins > 256)
			sched_yield();
	}
	__atomic_store_n(&vq->used->idx, pos, __ATOMIC_RELEASE);
	__atomic_store_n(&vq->rx_tail, pos, __ATOMIC_RELEASE);
	signal_guest(vq, head, pos, st);
	return sent;
}

void vw_virtq_notify_off(struct vw_virtq *vq)
{
	/* with EVENT_IDX the guest ignores the flag: avail_event stays where
	 * it was, behind what the guest makes available, and it does not
	 * kick */
	__atomic_store_n(&vq->used->flags, VRING_USED_F_NO_NOTIFY, __ATOMIC_RELAXED);
}

bool vw_virtq_pending(const struct vw_virtq *vq)
{
	return !vq->broken && avail_idx(vq) != vq->last_avail;
}

bool vw_virtq_notify_on(struct vw_virtq *vq)
{
	__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	if (vq->event_idx)
		*avail_event(vq) = vq->last_avail; /* a kick for the next entry */
	/* the flag (or event) before the index: a chain made available
	 * after this load comes with a kick */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !vw_virtq_pending(vq);
}
