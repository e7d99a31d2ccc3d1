/*
 * Traffic management for one direction of one shaped link: a rate limit
 * (maxbw) enforced by shaping, classes under it with a guaranteed rate, a
 * ceiling and a priority (HTB-like borrowing), CoDel on every queue and, per
 * class, optional fairness among connections (fq_codel-like DRR).
 *
 * The engine never touches packets: an item is an opaque pointer and its
 * size in bytes on the wire, Ethernet header included.  For a super-frame
 * that is the sum of the frames it will be cut into (payload plus one set
 * of headers per segment: a 64 KiB TCP super-frame with MSS 1448 is 46
 * frames, 4.5% more than its own length).  The caller owns the buffers;
 * the shaper only keeps the pointers in arrays sized at creation.  Time is
 * CLOCK_MONOTONIC nanoseconds passed in by the caller (a time earlier than
 * one already seen counts as that one); the shaper reads no clock.
 *
 * Root.  Items leave at the root rate: a token bucket in bytes, filled at
 * maxbw/8 bytes per second up to the burst, max(2 MTU, maxbw x 1 ms) by
 * default.  An item may leave when the bucket is not negative and is then
 * charged in full, so any item, however big or small, passes (an idle link
 * lets a ping through at once, whatever the rate) and over any interval T
 * at most burst + maxbw x T + one item leave.  Rates are kept to better
 * than one part in 10^5 (fixed point, 2^-36 bytes), so the achieved rate is
 * exact but for the last item of a measuring window: keep items to
 * vw_shaper_max_item(rate) bytes (1 ms of the link, at least one 1514-byte
 * frame) and the error over 10 s is below 1.3% at 100 Kb/s and far below
 * at higher rates; the same bound keeps the time a high-priority item waits
 * behind one already sent to about a millisecond.  Cut bigger super-frames
 * before enqueueing them (datapath/gso.h).
 *
 * Classes.  Class 0 is the default class (traffic that matches no flow); it
 * exists from creation and cannot be removed.  Each class has
 *   guarantee  a rate it always gets while backlogged (0: none); the sum of
 *              the guarantees may not exceed the root's maxbw;
 *   maxbw      a ceiling (0: none but the root's);
 *   priority   high, medium or low.
 * Scheduling, at every item: (1) classes under their guarantee (and under
 * their ceiling), by priority then round robin; (2) else classes under
 * their ceiling borrow what the root has left: high before medium before
 * low, and deficit round robin in bytes (quantum one MTU) among the classes
 * of one priority, so the excess is shared equally, not in proportion to
 * the guarantees.  Borrowed service is not charged to the guarantee, so a
 * class that borrowed gets its guarantee again at once when others want
 * their share.  Starvation bound: while a medium or low class is backlogged
 * and under its ceiling, its priority level receives at least 1/16
 * (VW_SHAPER_STARVE_SHARE) of the borrowed service given to it and to the
 * levels above it (within one MTU); with no guarantees and every level
 * greedy, low gets at least maxbw/16.  Guarantees come first: a class with
 * no guarantee gets nothing while guaranteed classes use the whole root.
 *
 * Queues.  Each class queue is a FIFO under CoDel (RFC 8289: target 5 ms,
 * interval 100 ms, sojourn time from the enqueue timestamp, drop at head),
 * with a byte limit beyond which arriving items are refused (tail drop).
 * At rates where one MTU takes longer than the target, target becomes 1.5
 * MTU times at the class's link rate (min of root and ceiling) and interval
 * grows to match (as sch_cake does), or CoDel would drop at every queue of
 * two frames.  With fair_conn (fairness=conn) the class queue is split in
 * fq_buckets sub-queues chosen by the caller's connection hash (a connection
 * keeps its sub-queue while it has one; a new one takes a free sub-queue
 * among the 8 from the one its hash names, so connections share a sub-queue
 * only when 8 busy ones surround it, not whenever their hashes collide),
 * served by deficit round robin with a
 * quantum of one MTU, new sub-queues first, each with its own CoDel state,
 * as in fq_codel.  Over the byte limit a fair class drops from the head of
 * its fattest sub-queue (the connection with the most bytes queued), as
 * many items as the arriving one needs, and takes the arriving item, so a
 * thin connection (one recovering from a loss) is not the one that pays;
 * when no sub-queue holds more than one MTU, the arriving item is refused.
 * The fattest is searched for among 32 queued sub-queues at most, so with
 * more connections queued it may be a fat one rather than the fattest.
 *
 * Drops.  vw_shaper_enqueue() refuses an item with a reason (the caller
 * frees it); CoDel drops happen inside vw_shaper_dequeue(), and a fair
 * class's drops for room inside vw_shaper_enqueue(): both go to the drop
 * callback of the configuration (cause VW_SHAPER_DROP_CODEL or _LIMIT).
 * All are counted per class and at the root, by cause.
 *
 * Cost.  Enqueue and dequeue are O(1) in the number of classes (a bitmap
 * of non-empty priority lists) except for a class that waits for its
 * guarantee or ceiling tokens: it sits in a binary heap, O(log classes).
 * No allocation after vw_shaper_create().
 *
 * Threading: none.  One instance belongs to one thread (the worker that
 * sends on the link direction); every call, configuration changes included,
 * must come from it.  The control thread checks a configuration with the
 * pure vw_shaper_validate() (so the user sees the error synchronously) and
 * then hands the change to the owner, where it cannot fail for the same
 * configuration.
 *
 * Errors: configuration calls return 0 or a negative errno and write a
 * one-line reason into err (may be NULL) that names no object: the caller
 * prefixes its own ("flow1: guarantees sum to 120M, over maxbw 100M").
 * A refused call changes nothing.
 */
#ifndef VW_SHAPER_H
#define VW_SHAPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VW_SHAPER_RATE_MIN 1000ULL              /* bits/s */
#define VW_SHAPER_RATE_MAX 100000000000ULL      /* 100 Gb/s */
#define VW_SHAPER_ITEM_MAX (256 * 1024)         /* largest item, bytes */
#define VW_SHAPER_MTU_DEFAULT 1514
#define VW_SHAPER_BUCKETS_DEFAULT 1024
#define VW_SHAPER_TARGET_DEFAULT (5 * 1000 * 1000)      /* ns */
#define VW_SHAPER_INTERVAL_DEFAULT (100 * 1000 * 1000)  /* ns */
#define VW_SHAPER_STARVE_SHARE 16
/* Time of the link one item should take at most (vw_shaper_max_item). */
#define VW_SHAPER_ITEM_NS (1000 * 1000)

enum vw_shaper_prio {
	VW_SHAPER_HIGH,
	VW_SHAPER_MEDIUM,
	VW_SHAPER_LOW,
	VW_SHAPER_NPRIO
};

/* Return values of vw_shaper_enqueue() (0: taken) and drop causes. */
enum vw_shaper_drop {
	VW_SHAPER_DROP_CODEL = 1, /* CoDel, at the head (drop callback) */
	VW_SHAPER_DROP_LIMIT,     /* the class's byte limit (tail drop; a
	                             fair class: head of its fattest) */
	VW_SHAPER_DROP_FULL,      /* every item slot of the shaper in use */
	VW_SHAPER_DROP_INVAL,     /* no such class, or bytes 0 or too big */
	VW_SHAPER_NDROP
};

struct vw_shaper_class_cfg {
	uint64_t guarantee;        /* bits/s; 0: none */
	uint64_t maxbw;            /* bits/s ceiling; 0: the root's */
	enum vw_shaper_prio priority;
	bool fair_conn;            /* fairness=conn */
	uint32_t limit;            /* queue bytes; 0: default (see .c) */
};

typedef void vw_shaper_drop_fn(void *arg, void *item, uint32_t bytes, int why);

struct vw_shaper_cfg {
	uint64_t maxbw;            /* bits/s; 0: no limit */
	uint32_t burst;            /* root burst, bytes; 0: default */
	uint32_t mtu;              /* 0: 1514; DRR quantum, burst floor */
	uint32_t max_items;        /* item slots, all classes together */
	uint32_t max_classes;      /* the default class included */
	uint32_t max_fair;         /* classes with fair_conn at once */
	uint32_t fq_buckets;       /* per fair class, power of 2; 0: 1024 */
	uint32_t codel_target;     /* ns; 0: 5 ms */
	uint32_t codel_interval;   /* ns; 0: 100 ms */
	uint32_t seed;             /* perturbs the bucket hash */
	struct vw_shaper_class_cfg dflt; /* class 0 */
	vw_shaper_drop_fn *drop;   /* drops of queued items: CoDel, a fair
	                              class's room (required; must not call
	                              the shaper back) */
	void *drop_arg;
};

struct vw_shaper_stats {
	uint64_t pkts, bytes;      /* items that left */
	uint64_t borrowed;         /* bytes of those sent beyond a guarantee */
	uint64_t drops[VW_SHAPER_NDROP]; /* items, by cause ([0] unused) */
	uint64_t drop_bytes;
	uint32_t qlen;             /* items queued now */
	uint64_t qbytes;
	uint64_t sojourn;          /* ns spent queued by the last item out */
};

struct vw_shaper;

/* Largest item (bytes) that keeps the goals at rate (bits/s, 0: no
 * limit): the bytes of VW_SHAPER_ITEM_NS, at least one 1514-byte frame, at
 * most VW_SHAPER_ITEM_MAX. */
uint32_t vw_shaper_max_item(uint64_t rate);

/* Checks a whole configuration: the root and n classes besides the default
 * one (cfg->dflt).  Pure; callable from any thread.  0 or -errno. */
int vw_shaper_validate(const struct vw_shaper_cfg *cfg,
		       const struct vw_shaper_class_cfg *cls, int n,
		       char *err, size_t errlen);

/* Allocates everything the instance will ever use.  0 or -errno. */
int vw_shaper_create(const struct vw_shaper_cfg *cfg, uint64_t now,
		     struct vw_shaper **sp, char *err, size_t errlen);
/* Items still queued go to the drop callback (cause 0). */
void vw_shaper_destroy(struct vw_shaper *s);
/* Bytes vw_shaper_create() allocates for cfg. */
size_t vw_shaper_memsize(const struct vw_shaper_cfg *cfg);

/* Live changes.  Queued items stay queued (none is dropped); tokens earned
 * at the old rates are kept, up to the new bursts. */
int vw_shaper_set_rate(struct vw_shaper *s, uint64_t maxbw, uint64_t now,
		       char *err, size_t errlen);
/* Adds class id (1..max_classes-1, chosen by the caller, so that the
 * control thread can number flows itself and publish its classifier
 * without waiting for the worker).  0 or -errno. */
int vw_shaper_class_add(struct vw_shaper *s, int id, const struct vw_shaper_class_cfg *c,
			uint64_t now, char *err, size_t errlen);
int vw_shaper_class_modify(struct vw_shaper *s, int id,
			   const struct vw_shaper_class_cfg *c, uint64_t now,
			   char *err, size_t errlen);
/* The class's queued items move to the default class, in order. */
int vw_shaper_class_remove(struct vw_shaper *s, int id, uint64_t now,
			   char *err, size_t errlen);

/* Queues item (bytes on the wire) in class id; conn is the connection's
 * hash, used by fair classes only.  Returns 0 (taken) or a drop cause
 * (refused, counted; the caller still owns item). */
int vw_shaper_enqueue(struct vw_shaper *s, int id, uint32_t conn, void *item,
		      uint32_t bytes, uint64_t now);
/* Takes up to max items that may leave at now, in sending order.  CoDel
 * drops on the way go to the drop callback.  Returns the number taken. */
int vw_shaper_dequeue(struct vw_shaper *s, uint64_t now, void **items,
		      uint32_t *bytes, int max);
/* Earliest time an item may leave: a time not after the last now means
 * at once (call dequeue again); UINT64_MAX when nothing is queued. */
uint64_t vw_shaper_next_time(const struct vw_shaper *s);
/* Hands back up to max queued items (any order; none counted as a drop);
 * call until it returns 0.  For a link being deleted. */
int vw_shaper_flush(struct vw_shaper *s, void **items, uint32_t *bytes, int max);

int vw_shaper_class_stats(const struct vw_shaper *s, int id,
			  struct vw_shaper_stats *st);
void vw_shaper_root_stats(const struct vw_shaper *s, struct vw_shaper_stats *st);

const char *vw_shaper_drop_name(int why);

#endif
