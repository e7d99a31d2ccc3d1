/*
 * Traffic management engine: root token bucket, HTB-like classes, CoDel and
 * fq_codel-like buckets.  Semantics and threading in datapath/shaper.h.
 *
 * Layout.  Items live in a slot array (pointer, bytes, enqueue time,
 * connection hash, next), linked into FIFOs by index; free slots form a
 * list.  A class has one FIFO, or with fair_conn a set of fq_buckets FIFOs
 * taken from a pool sized max_fair at creation.  A backlogged class is in
 * one of six circular lists, (guaranteed | borrowing) x priority, with a
 * bit per non-empty list, and/or in a min-heap keyed by the time its tokens
 * come back (a class over its ceiling; a borrowing class waiting for its
 * guarantee).  Tokens are refilled lazily, when a class is looked at.
 *
 * Token buckets count 2^-36 bytes; rate_fp is 2^-36 bytes per ns, so
 * 1 Kb/s is 8590 (error 6e-5), 1 Mb/s 8589935 (6e-8) and 100 Gb/s 8.6e11;
 * a 100 Gb/s burst (12.5 MB) is 8.6e17, well inside 63 bits.  Refills are
 * clamped to the time that fills a bucket emptied by the biggest item, so
 * dt * rate_fp never overflows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/shaper_impl.h"

/* ---- token buckets ---- */

uint32_t shaper_default_burst(uint64_t bps, uint32_t mtu)
{
	uint64_t b = bps / 8000;   /* 1 ms */

	return b < 2ULL * mtu ? 2 * mtu : (uint32_t)b;
}

static void tb_refill(struct tb *b, uint64_t now)
{
	uint64_t dt;

	if (now <= b->t)
		return;
	dt = now - b->t;
	b->t = now;
	if (dt >= b->fill_ns) {
		b->tokens = b->burst;
		return;
	}
	b->tokens += (int64_t)(dt * b->rate_fp);
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

/* Time at which the tokens are back to zero (not before the last refill). */
static uint64_t tb_ready(const struct tb *b)
{
	uint64_t need;

	if (b->tokens >= 0)
		return b->t;
	need = (uint64_t)-b->tokens;
	return b->t + (need + b->rate_fp - 1) / b->rate_fp;
}

/* Sets a bucket's rate at now, keeping what it earned at the old one. */
void shaper_tb_set(struct tb *b, uint64_t bps, uint32_t burst, uint64_t now)
{
	bool had = b->rate_fp != 0;

	if (had)
		tb_refill(b, now);
	if (!bps) {
		memset(b, 0, sizeof(*b));
		return;
	}
	b->bps = bps;
	b->rate_fp = (uint64_t)((((unsigned __int128)bps << (TB_SHIFT - 3)) + 500000000u) /
				1000000000u);
	if (!b->rate_fp)
		b->rate_fp = 1;
	b->burst = (int64_t)burst << TB_SHIFT;
	b->fill_ns = (uint64_t)(b->burst + ((int64_t)VW_SHAPER_ITEM_MAX << TB_SHIFT)) /
		     b->rate_fp + 1;
	if (!had || b->tokens > b->burst)
		b->tokens = b->burst;
	b->t = now;
}

static void tb_charge(struct tb *b, uint32_t bytes)
{
	if (b->rate_fp)
		b->tokens -= (int64_t)bytes << TB_SHIFT;
}

/* ---- CoDel (RFC 8289; the control law in integers, as Linux does) ---- */

static void codel_newton(struct codel *v)
{
	uint32_t invsqrt = (uint32_t)v->rec_inv_sqrt << 16;
	uint32_t invsqrt2 = (uint32_t)(((uint64_t)invsqrt * invsqrt) >> 32);
	uint64_t val = (3ULL << 32) - (uint64_t)v->count * invsqrt2;

	val >>= 2;
	val = (val * invsqrt) >> (32 - 2 + 1);
	v->rec_inv_sqrt = (uint16_t)(val >> 16);
}

static uint64_t codel_law(uint64_t t, uint64_t interval, uint16_t ris)
{
	return t + ((interval * ((uint32_t)ris << 16)) >> 32);
}

static void codel_reset(struct codel *v)
{
	memset(v, 0, sizeof(*v));
	v->rec_inv_sqrt = 0xffff;
}

/* ---- slots and queues ---- */

void shaper_sq_reset(struct sq *q)
{
	q->head = q->tail = q->lnext = NIL;
	q->bytes = 0;
	q->deficit = 0;
	q->active = false;
	codel_reset(&q->cv);
}

static void sq_append(struct vw_shaper *s, struct sq *q, uint32_t i)
{
	s->slots[i].next = NIL;
	if (q->tail == NIL)
		q->head = i;
	else
		s->slots[q->tail].next = i;
	q->tail = i;
	q->bytes += s->slots[i].bytes;
}

static uint32_t bucket_of(const struct vw_shaper *s, uint32_t hash)
{
	return ((hash ^ s->cfg.seed) * 0x9e3779b1u) >> s->fq_shift;
}

/*
 * The bucket of a connection: the one that holds it already, if any, among
 * the FQ_PROBE buckets from its home bucket on; else the first of those that
 * holds none; else (all busy) its home bucket, shared.  The whole window is
 * searched before a free bucket is taken, so a connection never has items
 * in two buckets: two connections share a bucket only when FQ_PROBE
 * connections already fill their window, not whenever their hashes collide.
 */
static uint32_t bucket_pick(const struct vw_shaper *s, const struct cls *c, uint32_t hash)
{
	uint32_t home = bucket_of(s, hash), mask = s->cfg.fq_buckets - 1, k, b, fresh = NIL;
	uint32_t win = s->cfg.fq_buckets < FQ_PROBE ? s->cfg.fq_buckets : FQ_PROBE;

	for (k = 0; k < win; k++) {
		b = (home + k) & mask;
		if (!c->fq[b].active) {
			if (fresh == NIL)
				fresh = b;
		} else if (c->fq[b].conn == hash) {
			return b;
		}
	}
	return fresh != NIL ? fresh : home;
}

static void blist_push(struct cls *c, uint32_t *h, uint32_t *t, uint32_t b)
{
	c->fq[b].lnext = NIL;
	if (*t == NIL)
		*h = b;
	else
		c->fq[*t].lnext = b;
	*t = b;
}

static uint32_t blist_pop(struct cls *c, uint32_t *h, uint32_t *t)
{
	uint32_t b = *h;

	*h = c->fq[b].lnext;
	if (*h == NIL)
		*t = NIL;
	return b;
}

/* Appends slot i to class c (its bucket when fair) and counts it. */
void shaper_cls_put(struct vw_shaper *s, struct cls *c, uint32_t i)
{
	struct slot *sl = &s->slots[i];

	if (c->fq) {
		uint32_t b = bucket_pick(s, c, sl->hash);
		struct sq *q = &c->fq[b];

		sq_append(s, q, i);
		if (!q->active) {
			q->active = true;
			q->conn = sl->hash;
			q->deficit = (int32_t)s->cfg.mtu;
			blist_push(c, &c->new_h, &c->new_t, b);
		}
		if (q->bytes > s->cfg.mtu)      /* buckets grow only here */
			c->thin = false;
	} else {
		sq_append(s, &c->q, i);
	}
	c->pkts_q++;
	c->bytes_q += sl->bytes;
	s->st.qlen++;
	s->st.qbytes += sl->bytes;
}

/* Unlinks every item of c, in order (per connection for a fair class),
 * and returns the chain; the queues are left empty and uncounted. */
uint32_t shaper_cls_take_all(struct vw_shaper *s, struct cls *c)
{
	uint32_t head = NIL, tail = NIL, b;

	if (c->fq) {
		uint32_t *lists[2][2] = { { &c->new_h, &c->new_t }, { &c->old_h, &c->old_t } };
		int l;

		for (l = 0; l < 2; l++)
			while (*lists[l][0] != NIL) {
				struct sq *q;

				b = blist_pop(c, lists[l][0], lists[l][1]);
				q = &c->fq[b];
				if (q->head != NIL) {
					if (tail == NIL)
						head = q->head;
					else
						s->slots[tail].next = q->head;
					tail = q->tail;
				}
				shaper_sq_reset(q);
			}
		c->thin = true;
	} else {
		head = c->q.head;
		shaper_sq_reset(&c->q);
	}
	s->st.qlen -= c->pkts_q;
	s->st.qbytes -= c->bytes_q;
	c->pkts_q = 0;
	c->bytes_q = 0;
	return head;
}

static uint32_t slot_alloc(struct vw_shaper *s)
{
	uint32_t i = s->free_head;

	if (i != NIL)
		s->free_head = s->slots[i].next;
	return i;
}

static void slot_free(struct vw_shaper *s, uint32_t i)
{
	s->slots[i].item = NULL;
	s->slots[i].next = s->free_head;
	s->free_head = i;
}

static uint32_t sq_pop(struct vw_shaper *s, struct cls *c, struct sq *q)
{
	uint32_t i = q->head;

	if (i == NIL)
		return NIL;
	q->head = s->slots[i].next;
	if (q->head == NIL)
		q->tail = NIL;
	q->bytes -= s->slots[i].bytes;
	c->pkts_q--;
	c->bytes_q -= s->slots[i].bytes;
	s->st.qlen--;
	s->st.qbytes -= s->slots[i].bytes;
	return i;
}

/* Drops queued slot i (already unlinked) of class c: counted, and the item
 * goes to the drop callback. */
static void slot_drop(struct vw_shaper *s, struct cls *c, uint32_t i, int why)
{
	struct slot *sl = &s->slots[i];

	c->st.drops[why]++;
	c->st.drop_bytes += sl->bytes;
	s->st.drops[why]++;
	s->st.drop_bytes += sl->bytes;
	s->cfg.drop(s->cfg.drop_arg, sl->item, sl->bytes, why);
	slot_free(s, i);
}

static void codel_drop(struct vw_shaper *s, struct cls *c, uint32_t i)
{
	slot_drop(s, c, i, VW_SHAPER_DROP_CODEL);
}

static uint32_t codel_pop(struct vw_shaper *s, struct cls *c, struct sq *q,
			  uint64_t now, bool *ok_to_drop)
{
	struct codel *v = &q->cv;
	uint32_t i = sq_pop(s, c, q);

	*ok_to_drop = false;
	if (i == NIL) {
		v->first_above = 0;
		return NIL;
	}
	if (now - s->slots[i].ts < c->target || c->bytes_q <= s->cfg.mtu) {
		v->first_above = 0;
	} else if (!v->first_above) {
		v->first_above = now + c->interval;
	} else if (now >= v->first_above) {
		*ok_to_drop = true;
	}
	return i;
}

static uint32_t codel_dequeue(struct vw_shaper *s, struct cls *c, struct sq *q,
			      uint64_t now)
{
	struct codel *v = &q->cv;
	bool ok;
	uint32_t i = codel_pop(s, c, q, now, &ok), delta;

	if (i == NIL) {
		v->dropping = false;
		return NIL;
	}
	if (v->dropping) {
		if (!ok)
			v->dropping = false;
		while (v->dropping && now >= v->drop_next) {
			codel_drop(s, c, i);
			v->count++;
			codel_newton(v);
			i = codel_pop(s, c, q, now, &ok);
			if (!ok)
				v->dropping = false;
			else
				v->drop_next = codel_law(v->drop_next, c->interval, v->rec_inv_sqrt);
		}
	} else if (ok) {
		codel_drop(s, c, i);
		i = codel_pop(s, c, q, now, &ok);
		v->dropping = true;
		delta = v->count - v->lastcount;
		if (delta > 1 && (int64_t)(now - v->drop_next) < 16 * (int64_t)c->interval) {
			v->count = delta;
			codel_newton(v);
		} else {
			v->count = 1;
			v->rec_inv_sqrt = 0xffff;
		}
		v->lastcount = v->count;
		v->drop_next = codel_law(now, c->interval, v->rec_inv_sqrt);
	}
	return i;
}

/* fq_codel's dequeue: new buckets first, DRR with a quantum of one MTU. */
static uint32_t fq_dequeue(struct vw_shaper *s, struct cls *c, uint64_t now)
{
	for (;;) {
		bool isnew = c->new_h != NIL;
		uint32_t *h = isnew ? &c->new_h : &c->old_h;
		uint32_t *t = isnew ? &c->new_t : &c->old_t;
		uint32_t b, i;
		struct sq *q;

		if (*h == NIL)
			return NIL;
		b = *h;
		q = &c->fq[b];
		if (q->deficit <= 0) {
			q->deficit += (int32_t)s->cfg.mtu;
			blist_pop(c, h, t);
			blist_push(c, &c->old_h, &c->old_t, b);
			continue;
		}
		i = codel_dequeue(s, c, q, now);
		if (i == NIL) {
			blist_pop(c, h, t);
			/* an emptied new bucket goes behind the old ones, so a
			 * connection cannot stay "new" by sending in bursts */
			if (isnew && c->old_h != NIL)
				blist_push(c, &c->old_h, &c->old_t, b);
			else
				q->active = false;
			continue;
		}
		q->deficit -= (int32_t)s->slots[i].bytes;
		return i;
	}
}

/* The bucket with the most bytes, over one MTU, among the first FQ_SCAN
 * queued (old ones first); NIL if none holds more than one MTU. */
static uint32_t fq_fattest(const struct vw_shaper *s, const struct cls *c)
{
	uint32_t lists[2] = { c->old_h, c->new_h }, fat = NIL, b, n = 0;
	uint64_t most = s->cfg.mtu;

	for (int l = 0; l < 2; l++)
		for (b = lists[l]; b != NIL && n < FQ_SCAN; b = c->fq[b].lnext, n++)
			if (c->fq[b].bytes > most) {
				most = c->fq[b].bytes;
				fat = b;
			}
	return fat;
}

/*
 * A fair class over its byte limit makes room the way fq_codel does: it
 * drops from the head of its fattest bucket (the connection with the most
 * bytes queued), not the arriving item, so the connection that built the
 * queue pays for it and a thin one (a connection recovering from a loss,
 * whose retransmission is arriving) does not.  Head drops also tell the
 * fat sender soonest.  Drops only what the item needs, so no connection
 * loses a burst at once.  When no connection has more than one MTU queued
 * (a flood of new connections), nobody built the queue: the arriving item
 * is refused.
 *
 * Cost: one search of FQ_SCAN buckets at most per item dropped (exact up
 * to FQ_SCAN connections queued; beyond, the fattest of the first ones).
 * "None is fat" is remembered until a bucket grows past one MTU, so a
 * flood of thin connections is refused in O(1).  Returns false if the
 * item is to be refused.
 */
static bool fq_make_room(struct vw_shaper *s, struct cls *c, uint32_t bytes)
{
	if (bytes > c->limit)
		return false;
	while (c->bytes_q + bytes > c->limit) {
		uint32_t b = c->thin ? NIL : fq_fattest(s, c);

		if (b == NIL) {
			c->thin = true;
			return false;
		}
		slot_drop(s, c, sq_pop(s, c, &c->fq[b]), VW_SHAPER_DROP_LIMIT);
	}
	return true;
}

static uint32_t cls_dequeue(struct vw_shaper *s, struct cls *c, uint64_t now)
{
	return c->fq ? fq_dequeue(s, c, now) : codel_dequeue(s, c, &c->q, now);
}

/* ---- class lists and the wait heap ---- */

static void list_del(struct vw_shaper *s, uint32_t ci)
{
	struct cls *c = &s->cls[ci];
	int l = c->list;

	if (l < 0)
		return;
	if (c->next == ci) {
		s->lhead[l] = NIL;
		s->bitmap &= ~(1u << l);
	} else {
		s->cls[c->prev].next = c->next;
		s->cls[c->next].prev = c->prev;
		if (s->lhead[l] == ci)
			s->lhead[l] = c->next;
	}
	c->list = -1;
}

static void list_add(struct vw_shaper *s, uint32_t ci, int l)
{
	struct cls *c = &s->cls[ci];
	uint32_t h = s->lhead[l];

	if (h == NIL) {
		s->lhead[l] = ci;
		c->prev = c->next = ci;
		s->bitmap |= 1u << l;
	} else {
		uint32_t t = s->cls[h].prev;

		c->prev = t;
		c->next = h;
		s->cls[t].next = ci;
		s->cls[h].prev = ci;
	}
	c->list = l;
	c->deficit = (int32_t)s->cfg.mtu;
}

static void heap_place(struct vw_shaper *s, uint32_t pos, uint32_t ci)
{
	s->heap[pos] = ci;
	s->cls[ci].heap_pos = pos;
}

static void heap_up(struct vw_shaper *s, uint32_t pos)
{
	uint32_t ci = s->heap[pos];
	uint64_t w = s->cls[ci].wake;

	while (pos) {
		uint32_t p = (pos - 1) / 2;

		if (s->cls[s->heap[p]].wake <= w)
			break;
		heap_place(s, pos, s->heap[p]);
		pos = p;
	}
	heap_place(s, pos, ci);
}

static void heap_down(struct vw_shaper *s, uint32_t pos)
{
	uint32_t ci = s->heap[pos];
	uint64_t w = s->cls[ci].wake;

	for (;;) {
		uint32_t k = 2 * pos + 1;

		if (k >= s->heap_n)
			break;
		if (k + 1 < s->heap_n && s->cls[s->heap[k + 1]].wake < s->cls[s->heap[k]].wake)
			k++;
		if (w <= s->cls[s->heap[k]].wake)
			break;
		heap_place(s, pos, s->heap[k]);
		pos = k;
	}
	heap_place(s, pos, ci);
}

static void heap_set(struct vw_shaper *s, uint32_t ci, uint64_t wake)
{
	struct cls *c = &s->cls[ci];
	uint32_t pos = c->heap_pos;

	if (wake == NEVER) {
		if (pos == NIL)
			return;
		c->heap_pos = NIL;
		if (--s->heap_n != pos) {
			heap_place(s, pos, s->heap[s->heap_n]);
			heap_up(s, pos);
			heap_down(s, s->cls[s->heap[pos]].heap_pos);
		}
		return;
	}
	c->wake = wake;
	if (pos == NIL) {
		pos = s->heap_n++;
		heap_place(s, pos, ci);
	}
	heap_up(s, pos);
	heap_down(s, c->heap_pos);
}

/*
 * Puts class ci where its state at now says: guaranteed list (under its
 * guarantee and ceiling), borrowing list (under its ceiling), or none; and
 * in the heap until the time that state will improve.
 */
void shaper_cls_update(struct vw_shaper *s, uint32_t ci, uint64_t now)
{
	struct cls *c = &s->cls[ci];
	int want = -1;
	uint64_t wake = NEVER;

	if (c->pkts_q) {
		bool cok = true, gok = false;

		if (c->c.rate_fp) {
			tb_refill(&c->c, now);
			cok = c->c.tokens >= 0;
		}
		if (c->g.rate_fp) {
			tb_refill(&c->g, now);
			gok = c->g.tokens >= 0;
		}
		if (!cok) {
			wake = tb_ready(&c->c);
		} else if (gok) {
			want = (int)c->cfg.priority;
		} else {
			want = VW_SHAPER_NPRIO + (int)c->cfg.priority;
			if (c->g.rate_fp)
				wake = tb_ready(&c->g);
		}
	}
	if (want != c->list) {
		list_del(s, ci);
		if (want >= 0)
			list_add(s, ci, want);
	}
	if (wake != NEVER || c->heap_pos != NIL)
		heap_set(s, ci, wake);
}

uint64_t shaper_clock_in(struct vw_shaper *s, uint64_t now)
{
	if (now < s->now)
		return s->now;
	s->now = now;
	return now;
}

/* Rate at which class c's items cross the link: root or ceiling. */
static uint64_t link_rate(const struct vw_shaper *s, const struct cls *c)
{
	uint64_t r = s->root.bps;

	if (c->cfg.maxbw && (!r || c->cfg.maxbw < r))
		r = c->cfg.maxbw;
	return r;
}

/* CoDel parameters and default limit, from the class's link rate. */
void shaper_cls_params(struct vw_shaper *s, struct cls *c)
{
	uint64_t r = link_rate(s, c), target = s->cfg.codel_target;
	uint64_t interval = s->cfg.codel_interval;

	if (r) {
		uint64_t mtu_ns = (uint64_t)s->cfg.mtu * 8 * 1000000000ULL / r;

		if (mtu_ns * 3 / 2 > target)
			target = mtu_ns * 3 / 2;
		if (target > TARGET_MAX)
			target = TARGET_MAX;
		interval += target - s->cfg.codel_target;
		if (interval < 2 * target)
			interval = 2 * target;
		if (interval > INTERVAL_MAX)
			interval = INTERVAL_MAX;
	}
	c->target = target;
	c->interval = interval;
	if (c->cfg.limit) {
		c->limit = c->cfg.limit;
	} else {
		uint64_t l = r ? r / 40 : LIMIT_MAX;    /* 200 ms */

		if (l < 64ULL * s->cfg.mtu)
			l = 64ULL * s->cfg.mtu;
		c->limit = l > LIMIT_MAX ? LIMIT_MAX : l;
	}
}

struct cls *shaper_cls_get(struct vw_shaper *s, int id)
{
	if (id < 0 || (uint32_t)id >= s->cfg.max_classes || !s->cls[id].used)
		return NULL;
	return &s->cls[id];
}

void shaper_put_chain(struct vw_shaper *s, struct cls *c, uint32_t i)
{
	uint32_t next;

	for (; i != NIL; i = next) {
		next = s->slots[i].next;
		shaper_cls_put(s, c, i);
	}
}

/* ---- the packet path ---- */

int vw_shaper_enqueue(struct vw_shaper *s, int id, uint32_t conn, void *item,
		      uint32_t bytes, uint64_t now)
{
	struct cls *c = shaper_cls_get(s, id);
	int why = 0;
	uint32_t i = NIL;

	if (!c || !bytes || bytes > VW_SHAPER_ITEM_MAX)
		why = VW_SHAPER_DROP_INVAL;
	else if (c->bytes_q + bytes > c->limit && !(c->fq && fq_make_room(s, c, bytes)))
		why = VW_SHAPER_DROP_LIMIT;
	else if ((i = slot_alloc(s)) == NIL)
		why = VW_SHAPER_DROP_FULL;
	if (why) {
		if (c) {
			c->st.drops[why]++;
			c->st.drop_bytes += bytes;
		}
		s->st.drops[why]++;
		s->st.drop_bytes += bytes;
		return why;
	}
	now = shaper_clock_in(s, now);
	s->slots[i].item = item;
	s->slots[i].bytes = bytes;
	s->slots[i].ts = now;
	s->slots[i].hash = conn;
	shaper_cls_put(s, c, i);
	if (c->pkts_q == 1)
		shaper_cls_update(s, (uint32_t)id, now);
	return 0;
}

/* The class to serve next, and whether it is under its guarantee. */
static uint32_t pick(struct vw_shaper *s, bool *guaranteed)
{
	uint32_t g = s->bitmap & ((1u << VW_SHAPER_NPRIO) - 1);
	uint32_t b = s->bitmap >> VW_SHAPER_NPRIO;
	int top, l;
	uint32_t ci;

	if (g) {
		*guaranteed = true;
		return s->lhead[__builtin_ctz(g)];
	}
	if (!b)
		return NIL;
	*guaranteed = false;
	top = __builtin_ctz(b);
	l = top;
	for (int k = VW_SHAPER_NPRIO - 1; k > top; k--)
		if ((b & (1u << k)) &&
		    s->starve[k] >= (int64_t)(VW_SHAPER_STARVE_SHARE - 1) * s->cfg.mtu) {
			l = k;
			break;
		}
	l += VW_SHAPER_NPRIO;
	for (;;) {
		ci = s->lhead[l];
		if (s->cls[ci].deficit > 0)
			return ci;
		s->cls[ci].deficit += (int32_t)s->cfg.mtu;
		s->lhead[l] = s->cls[ci].next;
	}
}

/* Starvation guard: a waiting lower level earns what a higher one is
 * served while borrowing, and is served once it has earned 15 MTUs. */
static void starve_account(struct vw_shaper *s, int prio, uint32_t bytes)
{
	int k;

	for (k = prio + 1; k < VW_SHAPER_NPRIO; k++)
		if (s->bitmap & (1u << (VW_SHAPER_NPRIO + k)))
			s->starve[k] += bytes;
	if (prio > 0) {
		s->starve[prio] -= (int64_t)(VW_SHAPER_STARVE_SHARE - 1) * bytes;
		if (s->starve[prio] < 0)
			s->starve[prio] = 0;
	}
}

int vw_shaper_dequeue(struct vw_shaper *s, uint64_t now, void **items,
		      uint32_t *bytes, int max)
{
	int n = 0;

	now = shaper_clock_in(s, now);
	while (s->heap_n && s->cls[s->heap[0]].wake <= now)
		shaper_cls_update(s, s->heap[0], now);
	while (n < max) {
		bool guaranteed;
		uint32_t ci, i, b;
		struct cls *c;
		uint64_t soj;

		if (s->root.rate_fp) {
			tb_refill(&s->root, now);
			if (s->root.tokens < 0)
				break;
		}
		ci = pick(s, &guaranteed);
		if (ci == NIL)
			break;
		c = &s->cls[ci];
		i = cls_dequeue(s, c, now);
		if (i == NIL) {         /* CoDel emptied it */
			shaper_cls_update(s, ci, now);
			continue;
		}
		b = s->slots[i].bytes;
		soj = now - s->slots[i].ts;
		items[n] = s->slots[i].item;
		bytes[n++] = b;
		slot_free(s, i);
		tb_charge(&s->root, b);
		tb_charge(&c->c, b);
		c->st.pkts++;
		c->st.bytes += b;
		c->st.sojourn = soj;
		s->st.pkts++;
		s->st.bytes += b;
		s->st.sojourn = soj;
		if (guaranteed) {
			tb_charge(&c->g, b);
			if (s->lhead[c->list] == ci)
				s->lhead[c->list] = c->next;  /* round robin */
		} else {
			c->deficit -= (int32_t)b;
			c->st.borrowed += b;
			s->st.borrowed += b;
		}
		shaper_cls_update(s, ci, now);
		if (!guaranteed)
			starve_account(s, (int)c->cfg.priority, b);
	}
	return n;
}

uint64_t vw_shaper_next_time(const struct vw_shaper *s)
{
	uint64_t t, r;

	if (!s->st.qlen)
		return NEVER;
	if (s->bitmap || !s->heap_n)
		t = s->now;
	else
		t = s->cls[s->heap[0]].wake;
	if (s->root.rate_fp) {
		r = tb_ready(&s->root);
		if (r > t)
			t = r;
	}
	return t;
}

int vw_shaper_flush(struct vw_shaper *s, void **items, uint32_t *bytes, int max)
{
	uint32_t ci, i;
	int n = 0;

	for (ci = 0; ci < s->cfg.max_classes && n < max; ci++) {
		struct cls *c = &s->cls[ci];

		if (!c->used || !c->pkts_q)
			continue;
		i = shaper_cls_take_all(s, c);
		while (i != NIL && n < max) {
			uint32_t next = s->slots[i].next;

			items[n] = s->slots[i].item;
			bytes[n++] = s->slots[i].bytes;
			slot_free(s, i);
			i = next;
		}
		shaper_put_chain(s, c, i);     /* what did not fit, in order */
		shaper_cls_update(s, ci, s->now);
	}
	return n;
}

/* ---- statistics ---- */

int vw_shaper_class_stats(const struct vw_shaper *s, int id, struct vw_shaper_stats *st)
{
	const struct cls *c;

	if (id < 0 || (uint32_t)id >= s->cfg.max_classes || !s->cls[id].used)
		return -ENOENT;
	c = &s->cls[id];
	*st = c->st;
	st->qlen = c->pkts_q;
	st->qbytes = c->bytes_q;
	return 0;
}

void vw_shaper_root_stats(const struct vw_shaper *s, struct vw_shaper_stats *st)
{
	*st = s->st;
}

const char *vw_shaper_drop_name(int why)
{
	static const char *const names[VW_SHAPER_NDROP] = {
		[VW_SHAPER_DROP_CODEL] = "codel",
		[VW_SHAPER_DROP_LIMIT] = "limit",
		[VW_SHAPER_DROP_FULL] = "full",
		[VW_SHAPER_DROP_INVAL] = "inval",
	};

	return why > 0 && why < VW_SHAPER_NDROP ? names[why] : "none";
}
