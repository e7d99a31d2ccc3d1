/*
 * The traffic management engine's private part, shared by its packet path
 * (datapath/shaper.c) and its configuration (datapath/shaper_conf.c); no
 * other file includes it.  Layout and fixed point: datapath/shaper.c.
 */
#ifndef VW_SHAPER_IMPL_H
#define VW_SHAPER_IMPL_H
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

/* engine internals the configuration uses (datapath/shaper.c) */
uint64_t shaper_clock_in(struct vw_shaper *s, uint64_t now);
void shaper_cls_params(struct vw_shaper *s, struct cls *c);
void shaper_cls_put(struct vw_shaper *s, struct cls *c, uint32_t i);
uint32_t shaper_cls_take_all(struct vw_shaper *s, struct cls *c);
void shaper_cls_update(struct vw_shaper *s, uint32_t ci, uint64_t now);
uint32_t shaper_default_burst(uint64_t bps, uint32_t mtu);
void shaper_sq_reset(struct sq *q);
void shaper_tb_set(struct tb *b, uint64_t bps, uint32_t burst, uint64_t now);
struct cls *shaper_cls_get(struct vw_shaper *s, int id);
void shaper_put_chain(struct vw_shaper *s, struct cls *c, uint32_t i);

#endif
