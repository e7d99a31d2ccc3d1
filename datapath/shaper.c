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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/shaper.h"

#define NIL UINT32_MAX
#define NEVER UINT64_MAX
#define LIMIT_MAX (16u << 20)     /* largest default class limit */
#define TARGET_MAX 1000000000ULL  /* CoDel target/interval caps, ns */
#define INTERVAL_MAX 4000000000ULL
#define TB_SHIFT 36                /* token fixed point */
#define FQ_PROBE 8                 /* buckets a connection may take from its home on */
#define FQ_SCAN 32                 /* buckets searched for the fattest, at most */

struct slot {
	void *item;
	uint64_t ts;       /* enqueue time */
	uint32_t bytes;
	uint32_t hash;     /* the caller's connection hash */
	uint32_t next;
};

struct tb {
	int64_t tokens;    /* 2^-TB_SHIFT bytes */
	int64_t burst;
	uint64_t rate_fp;  /* 2^-TB_SHIFT bytes per ns; 0: no limit */
	uint64_t fill_ns;  /* refills longer than this fill the bucket */
	uint64_t t;        /* time of the last refill */
	uint64_t bps;
};

struct codel {
	uint64_t first_above; /* 0: sojourn below target */
	uint64_t drop_next;
	uint32_t count, lastcount;
	uint16_t rec_inv_sqrt; /* 1/sqrt(count), Q0.16 */
	bool dropping;
};

/* A FIFO under CoDel: a class's queue or one bucket of a fair class. */
struct sq {
	uint32_t head, tail;
	uint64_t bytes;    /* queued */
	uint32_t lnext;    /* bucket: next in the new/old list */
	int32_t deficit;   /* bucket: DRR */
	bool active;       /* bucket: in the new or old list */
	uint32_t conn;     /* bucket: the connection it holds while active */
	struct codel cv;
};

struct cls {
	struct vw_shaper_class_cfg cfg;
	bool used;
	struct tb g, c;        /* guarantee, ceiling */
	struct sq q;           /* not fair */
	struct sq *fq;         /* fair: fq_buckets buckets */
	uint32_t fq_set;
	uint32_t new_h, new_t, old_h, old_t; /* fair: bucket lists */
	bool thin;             /* fair: no bucket holds over one MTU (known
	                          since the last search; fq_make_room) */
	uint32_t pkts_q;
	uint64_t bytes_q;
	uint64_t limit;
	uint64_t target, interval;
	int list;              /* -1, or phase * NPRIO + priority */
	uint32_t prev, next;   /* in that list */
	int32_t deficit;       /* DRR among borrowers */
	uint32_t heap_pos;     /* NIL: not waiting */
	uint64_t wake;
	struct vw_shaper_stats st;
};

struct vw_shaper {
	struct vw_shaper_cfg cfg;   /* with the defaults filled in */
	uint64_t now;               /* latest time seen */
	struct tb root;
	uint64_t sum_g;
	struct slot *slots;
	uint32_t free_head;
	struct cls *cls;
	struct sq *buckets;         /* max_fair sets of fq_buckets */
	uint8_t *set_used;
	uint32_t fq_shift;
	uint32_t lhead[2 * VW_SHAPER_NPRIO];
	uint32_t bitmap;            /* bit l: list l not empty */
	uint32_t *heap;
	uint32_t heap_n;
	int64_t starve[VW_SHAPER_NPRIO];
	struct vw_shaper_stats st;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A rate as the user writes it: 100K, 1.5M, 10G, or bits/s. */
static const char *fmt_rate(char *buf, size_t len, uint64_t r)
{
	static const struct { uint64_t div; char unit; } u[] = {
		{ 1000000000ULL, 'G' }, { 1000000ULL, 'M' }, { 1000ULL, 'K' },
	};
	size_t i;

	for (i = 0; i < 3; i++)
		if (r >= u[i].div) {
			snprintf(buf, len, "%.6g%c", (double)r / (double)u[i].div, u[i].unit);
			return buf;
		}
	snprintf(buf, len, "%llu", (unsigned long long)r);
	return buf;
}

uint32_t vw_shaper_max_item(uint64_t rate)
{
	uint64_t b;

	if (!rate)
		return VW_SHAPER_ITEM_MAX;
	b = rate / 8 * VW_SHAPER_ITEM_NS / 1000000000ULL;
	if (b < VW_SHAPER_MTU_DEFAULT)
		b = VW_SHAPER_MTU_DEFAULT;
	return b > VW_SHAPER_ITEM_MAX ? VW_SHAPER_ITEM_MAX : (uint32_t)b;
}

/* ---- token buckets ---- */

static uint32_t default_burst(uint64_t bps, uint32_t mtu)
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
static void tb_set(struct tb *b, uint64_t bps, uint32_t burst, uint64_t now)
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

static void sq_reset(struct sq *q)
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
static void cls_put(struct vw_shaper *s, struct cls *c, uint32_t i)
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
static uint32_t cls_take_all(struct vw_shaper *s, struct cls *c)
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
				sq_reset(q);
			}
		c->thin = true;
	} else {
		head = c->q.head;
		sq_reset(&c->q);
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
static void cls_update(struct vw_shaper *s, uint32_t ci, uint64_t now)
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

static uint64_t clock_in(struct vw_shaper *s, uint64_t now)
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
static void cls_params(struct vw_shaper *s, struct cls *c)
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

/* ---- validation ---- */

static int check_rate(const char *what, uint64_t r, char *err, size_t errlen)
{
	char b1[32];

	if (r && (r < VW_SHAPER_RATE_MIN || r > VW_SHAPER_RATE_MAX)) {
		seterr(err, errlen, "%s %s out of range (1K to 100G)", what,
		       fmt_rate(b1, sizeof(b1), r));
		return -ERANGE;
	}
	return 0;
}

static int check_class(uint32_t mtu, const struct vw_shaper_class_cfg *c,
		       char *err, size_t errlen)
{
	char b1[32], b2[32];
	int rc;

	if ((rc = check_rate("guarantee", c->guarantee, err, errlen)) ||
	    (rc = check_rate("maxbw", c->maxbw, err, errlen)))
		return rc;
	if ((unsigned)c->priority >= VW_SHAPER_NPRIO) {
		seterr(err, errlen, "priority %d unknown (high, medium or low)", (int)c->priority);
		return -EINVAL;
	}
	if (c->guarantee && c->maxbw && c->guarantee > c->maxbw) {
		seterr(err, errlen, "guarantee %s above maxbw %s",
		       fmt_rate(b1, sizeof(b1), c->guarantee), fmt_rate(b2, sizeof(b2), c->maxbw));
		return -EINVAL;
	}
	if (c->limit && c->limit < 2 * mtu) {
		seterr(err, errlen, "queue limit %u bytes below two frames (%u)", c->limit, 2 * mtu);
		return -EINVAL;
	}
	return 0;
}

static int check_sum(uint64_t maxbw, uint64_t sum, char *err, size_t errlen)
{
	char b1[32], b2[32];

	if (maxbw && sum > maxbw) {
		seterr(err, errlen, "guarantees sum to %s, over maxbw %s",
		       fmt_rate(b1, sizeof(b1), sum), fmt_rate(b2, sizeof(b2), maxbw));
		return -EINVAL;
	}
	return 0;
}

static uint32_t cfg_mtu(const struct vw_shaper_cfg *cfg)
{
	return cfg->mtu ? cfg->mtu : VW_SHAPER_MTU_DEFAULT;
}

static int check_root(const struct vw_shaper_cfg *cfg, char *err, size_t errlen)
{
	uint32_t mtu = cfg_mtu(cfg), nb = cfg->fq_buckets;
	int rc;

	if ((rc = check_rate("maxbw", cfg->maxbw, err, errlen)))
		return rc;
	if (mtu < 64 || mtu > 65535) {
		seterr(err, errlen, "mtu %u out of range (64 to 65535)", mtu);
		return -EINVAL;
	}
	if (cfg->burst && cfg->burst < mtu) {
		seterr(err, errlen, "burst %u bytes below one frame (%u)", cfg->burst, mtu);
		return -EINVAL;
	}
	if (!cfg->max_items || cfg->max_items >= NIL) {
		seterr(err, errlen, "max_items %u out of range", cfg->max_items);
		return -EINVAL;
	}
	if (!cfg->max_classes || cfg->max_classes > 65536) {
		seterr(err, errlen, "max_classes %u out of range (1 to 65536)", cfg->max_classes);
		return -EINVAL;
	}
	if (nb && (nb < 2 || nb > 65536 || (nb & (nb - 1)))) {
		seterr(err, errlen, "fq_buckets %u not a power of two from 2 to 65536", nb);
		return -EINVAL;
	}
	return check_class(mtu, &cfg->dflt, err, errlen);
}

int vw_shaper_validate(const struct vw_shaper_cfg *cfg,
		       const struct vw_shaper_class_cfg *cls, int n,
		       char *err, size_t errlen)
{
	uint64_t sum;
	uint32_t fair;
	int i, rc;

	if ((rc = check_root(cfg, err, errlen)))
		return rc;
	if (n < 0 || (uint32_t)n + 1 > cfg->max_classes) {
		seterr(err, errlen, "too many classes (at most %u)", cfg->max_classes);
		return -ENOSPC;
	}
	sum = cfg->dflt.guarantee;
	fair = cfg->dflt.fair_conn;
	for (i = 0; i < n; i++) {
		if ((rc = check_class(cfg_mtu(cfg), &cls[i], err, errlen)))
			return rc;
		sum += cls[i].guarantee;
		fair += cls[i].fair_conn;
	}
	if (fair > cfg->max_fair) {
		seterr(err, errlen, "too many fairness=conn classes (at most %u)", cfg->max_fair);
		return -ENOSPC;
	}
	return check_sum(cfg->maxbw, sum, err, errlen);
}

/* ---- creation ---- */

static size_t sizes(const struct vw_shaper_cfg *cfg, size_t *slots, size_t *cls,
		    size_t *heap, size_t *buckets)
{
	uint32_t nb = cfg->fq_buckets ? cfg->fq_buckets : VW_SHAPER_BUCKETS_DEFAULT;

	*slots = (size_t)cfg->max_items * sizeof(struct slot);
	*cls = (size_t)cfg->max_classes * sizeof(struct cls);
	*heap = (size_t)cfg->max_classes * sizeof(uint32_t);
	*buckets = (size_t)cfg->max_fair * nb * sizeof(struct sq);
	return sizeof(struct vw_shaper) + *slots + *cls + *heap + *buckets + cfg->max_fair;
}

size_t vw_shaper_memsize(const struct vw_shaper_cfg *cfg)
{
	size_t a, b, c, d;

	return sizes(cfg, &a, &b, &c, &d);
}

static int fq_attach(struct vw_shaper *s, struct cls *c)
{
	uint32_t k, nb = s->cfg.fq_buckets;

	for (k = 0; k < s->cfg.max_fair; k++)
		if (!s->set_used[k])
			break;
	if (k == s->cfg.max_fair)
		return -ENOSPC;
	s->set_used[k] = 1;
	c->fq_set = k;
	c->fq = &s->buckets[(size_t)k * nb];
	for (k = 0; k < nb; k++)
		sq_reset(&c->fq[k]);
	c->new_h = c->new_t = c->old_h = c->old_t = NIL;
	c->thin = true;
	return 0;
}

static void fq_detach(struct vw_shaper *s, struct cls *c)
{
	if (!c->fq)
		return;
	s->set_used[c->fq_set] = 0;
	c->fq = NULL;
}

static void cls_init(struct vw_shaper *s, struct cls *c,
		     const struct vw_shaper_class_cfg *cfg, uint64_t now)
{
	memset(c, 0, sizeof(*c));
	c->used = true;
	c->cfg = *cfg;
	c->list = -1;
	c->heap_pos = NIL;
	sq_reset(&c->q);
	tb_set(&c->g, cfg->guarantee, default_burst(cfg->guarantee, s->cfg.mtu), now);
	tb_set(&c->c, cfg->maxbw, default_burst(cfg->maxbw, s->cfg.mtu), now);
	cls_params(s, c);
}

int vw_shaper_create(const struct vw_shaper_cfg *cfg, uint64_t now,
		     struct vw_shaper **sp, char *err, size_t errlen)
{
	size_t zs, zc, zh, zb;
	struct vw_shaper *s;
	uint32_t i;
	int rc;

	*sp = NULL;
	if ((rc = vw_shaper_validate(cfg, NULL, 0, err, errlen)))
		return rc;
	if (!cfg->drop) {
		seterr(err, errlen, "no drop callback");
		return -EINVAL;
	}
	sizes(cfg, &zs, &zc, &zh, &zb);
	s = calloc(1, sizeof(*s));
	if (!s)
		goto nomem;
	s->slots = malloc(zs);
	s->cls = calloc(1, zc);
	s->heap = malloc(zh);
	s->buckets = zb ? malloc(zb) : NULL;
	s->set_used = cfg->max_fair ? calloc(1, cfg->max_fair) : NULL;
	if (!s->slots || !s->cls || !s->heap || (zb && !s->buckets) ||
	    (cfg->max_fair && !s->set_used)) {
		vw_shaper_destroy(s);
		goto nomem;
	}
	s->cfg = *cfg;
	s->cfg.mtu = cfg_mtu(cfg);
	if (!s->cfg.fq_buckets)
		s->cfg.fq_buckets = VW_SHAPER_BUCKETS_DEFAULT;
	if (!s->cfg.codel_target)
		s->cfg.codel_target = VW_SHAPER_TARGET_DEFAULT;
	if (!s->cfg.codel_interval)
		s->cfg.codel_interval = VW_SHAPER_INTERVAL_DEFAULT;
	s->fq_shift = 32 - (uint32_t)__builtin_ctz(s->cfg.fq_buckets);
	s->now = now;
	for (i = 0; i < cfg->max_items; i++)
		s->slots[i].next = i + 1 < cfg->max_items ? i + 1 : NIL;
	s->free_head = 0;
	for (i = 0; i < 2 * VW_SHAPER_NPRIO; i++)
		s->lhead[i] = NIL;
	tb_set(&s->root, cfg->maxbw,
	       cfg->burst ? cfg->burst : default_burst(cfg->maxbw, s->cfg.mtu), now);
	cls_init(s, &s->cls[0], &cfg->dflt, now);
	s->sum_g = cfg->dflt.guarantee;
	if (cfg->dflt.fair_conn && fq_attach(s, &s->cls[0])) {
		vw_shaper_destroy(s);
		seterr(err, errlen, "too many fairness=conn classes (at most %u)", cfg->max_fair);
		return -ENOSPC;
	}
	*sp = s;
	return 0;
nomem:
	seterr(err, errlen, "out of memory (%zu bytes)", sizes(cfg, &zs, &zc, &zh, &zb));
	return -ENOMEM;
}

void vw_shaper_destroy(struct vw_shaper *s)
{
	uint32_t ci, i, next;

	if (!s)
		return;
	if (s->cls && s->slots)
		for (ci = 0; ci < s->cfg.max_classes; ci++) {
			if (!s->cls[ci].used)
				continue;
			for (i = cls_take_all(s, &s->cls[ci]); i != NIL; i = next) {
				next = s->slots[i].next;
				s->cfg.drop(s->cfg.drop_arg, s->slots[i].item, s->slots[i].bytes, 0);
			}
		}
	free(s->slots);
	free(s->cls);
	free(s->heap);
	free(s->buckets);
	free(s->set_used);
	free(s);
}

/* ---- live changes ---- */

static void all_params(struct vw_shaper *s)
{
	uint32_t ci;

	for (ci = 0; ci < s->cfg.max_classes; ci++)
		if (s->cls[ci].used)
			cls_params(s, &s->cls[ci]);
}

int vw_shaper_set_rate(struct vw_shaper *s, uint64_t maxbw, uint64_t now,
		       char *err, size_t errlen)
{
	char b1[32], b2[32];
	int rc;

	if ((rc = check_rate("maxbw", maxbw, err, errlen)))
		return rc;
	if (maxbw && s->sum_g > maxbw) {
		seterr(err, errlen, "maxbw %s below the sum of the guarantees %s",
		       fmt_rate(b1, sizeof(b1), maxbw), fmt_rate(b2, sizeof(b2), s->sum_g));
		return -EINVAL;
	}
	now = clock_in(s, now);
	tb_set(&s->root, maxbw, s->cfg.burst ? s->cfg.burst : default_burst(maxbw, s->cfg.mtu), now);
	all_params(s);
	return 0;
}

static struct cls *cls_get(struct vw_shaper *s, int id)
{
	if (id < 0 || (uint32_t)id >= s->cfg.max_classes || !s->cls[id].used)
		return NULL;
	return &s->cls[id];
}

int vw_shaper_class_add(struct vw_shaper *s, int id, const struct vw_shaper_class_cfg *cfg,
			uint64_t now, char *err, size_t errlen)
{
	int rc;

	if (id < 1 || (uint32_t)id >= s->cfg.max_classes) {
		seterr(err, errlen, "class id %d out of range (1 to %u)", id, s->cfg.max_classes - 1);
		return -ENOSPC;
	}
	if (s->cls[id].used) {
		seterr(err, errlen, "class %d exists", id);
		return -EEXIST;
	}
	if ((rc = check_class(s->cfg.mtu, cfg, err, errlen)) ||
	    (rc = check_sum(s->root.bps, s->sum_g + cfg->guarantee, err, errlen)))
		return rc;
	now = clock_in(s, now);
	cls_init(s, &s->cls[id], cfg, now);
	if (cfg->fair_conn && fq_attach(s, &s->cls[id])) {
		s->cls[id].used = false;
		seterr(err, errlen, "too many fairness=conn classes (at most %u)", s->cfg.max_fair);
		return -ENOSPC;
	}
	s->sum_g += cfg->guarantee;
	return 0;
}

static void put_chain(struct vw_shaper *s, struct cls *c, uint32_t i)
{
	uint32_t next;

	for (; i != NIL; i = next) {
		next = s->slots[i].next;
		cls_put(s, c, i);
	}
}

int vw_shaper_class_modify(struct vw_shaper *s, int id,
			   const struct vw_shaper_class_cfg *cfg, uint64_t now,
			   char *err, size_t errlen)
{
	struct cls *c = cls_get(s, id);
	uint32_t chain = NIL;
	int rc;

	if (!c) {
		seterr(err, errlen, "no class %d", id);
		return -ENOENT;
	}
	if ((rc = check_class(s->cfg.mtu, cfg, err, errlen)) ||
	    (rc = check_sum(s->root.bps, s->sum_g - c->cfg.guarantee + cfg->guarantee,
			    err, errlen)))
		return rc;
	now = clock_in(s, now);
	if (cfg->fair_conn != !!c->fq) {
		struct cls tmp = *c;

		tmp.fq = NULL;
		if (cfg->fair_conn && fq_attach(s, &tmp)) {
			seterr(err, errlen, "too many fairness=conn classes (at most %u)",
			       s->cfg.max_fair);
			return -ENOSPC;
		}
		chain = cls_take_all(s, c);
		fq_detach(s, c);
		c->fq = tmp.fq;
		c->fq_set = tmp.fq_set;
		c->new_h = c->new_t = c->old_h = c->old_t = NIL;
		sq_reset(&c->q);
	}
	s->sum_g += cfg->guarantee - c->cfg.guarantee;
	c->cfg = *cfg;
	tb_set(&c->g, cfg->guarantee, default_burst(cfg->guarantee, s->cfg.mtu), now);
	tb_set(&c->c, cfg->maxbw, default_burst(cfg->maxbw, s->cfg.mtu), now);
	cls_params(s, c);
	put_chain(s, c, chain);
	cls_update(s, (uint32_t)id, now);
	return 0;
}

int vw_shaper_class_remove(struct vw_shaper *s, int id, uint64_t now,
			   char *err, size_t errlen)
{
	struct cls *c = cls_get(s, id);

	if (!c) {
		seterr(err, errlen, "no class %d", id);
		return -ENOENT;
	}
	if (id == 0) {
		seterr(err, errlen, "the default class cannot be removed");
		return -EINVAL;
	}
	now = clock_in(s, now);
	put_chain(s, &s->cls[0], cls_take_all(s, c));
	cls_update(s, (uint32_t)id, now);
	cls_update(s, 0, now);
	fq_detach(s, c);
	s->sum_g -= c->cfg.guarantee;
	c->used = false;
	return 0;
}

/* ---- the packet path ---- */

int vw_shaper_enqueue(struct vw_shaper *s, int id, uint32_t conn, void *item,
		      uint32_t bytes, uint64_t now)
{
	struct cls *c = cls_get(s, id);
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
	now = clock_in(s, now);
	s->slots[i].item = item;
	s->slots[i].bytes = bytes;
	s->slots[i].ts = now;
	s->slots[i].hash = conn;
	cls_put(s, c, i);
	if (c->pkts_q == 1)
		cls_update(s, (uint32_t)id, now);
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

	now = clock_in(s, now);
	while (s->heap_n && s->cls[s->heap[0]].wake <= now)
		cls_update(s, s->heap[0], now);
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
			cls_update(s, ci, now);
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
		cls_update(s, ci, now);
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
		i = cls_take_all(s, c);
		while (i != NIL && n < max) {
			uint32_t next = s->slots[i].next;

			items[n] = s->slots[i].item;
			bytes[n++] = s->slots[i].bytes;
			slot_free(s, i);
			i = next;
		}
		put_chain(s, c, i);     /* what did not fit, in order */
		cls_update(s, ci, s->now);
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
