/*
 * The traffic management engine's configuration: checking a configuration,
 * creating and destroying a shaper, and live changes of its rate and
 * classes (datapath/shaper.h).  Its packet path is datapath/shaper.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datapath/shaper_impl.h"

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
		shaper_sq_reset(&c->fq[k]);
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
	shaper_sq_reset(&c->q);
	shaper_tb_set(&c->g, cfg->guarantee, shaper_default_burst(cfg->guarantee, s->cfg.mtu), now);
	shaper_tb_set(&c->c, cfg->maxbw, shaper_default_burst(cfg->maxbw, s->cfg.mtu), now);
	shaper_cls_params(s, c);
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
	shaper_tb_set(&s->root, cfg->maxbw,
	       cfg->burst ? cfg->burst : shaper_default_burst(cfg->maxbw, s->cfg.mtu), now);
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
			for (i = shaper_cls_take_all(s, &s->cls[ci]); i != NIL; i = next) {
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
			shaper_cls_params(s, &s->cls[ci]);
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
	now = shaper_clock_in(s, now);
	shaper_tb_set(&s->root, maxbw, s->cfg.burst ? s->cfg.burst : shaper_default_burst(maxbw, s->cfg.mtu), now);
	all_params(s);
	return 0;
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
	now = shaper_clock_in(s, now);
	cls_init(s, &s->cls[id], cfg, now);
	if (cfg->fair_conn && fq_attach(s, &s->cls[id])) {
		s->cls[id].used = false;
		seterr(err, errlen, "too many fairness=conn classes (at most %u)", s->cfg.max_fair);
		return -ENOSPC;
	}
	s->sum_g += cfg->guarantee;
	return 0;
}

int vw_shaper_class_modify(struct vw_shaper *s, int id,
			   const struct vw_shaper_class_cfg *cfg, uint64_t now,
			   char *err, size_t errlen)
{
	struct cls *c = shaper_cls_get(s, id);
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
	now = shaper_clock_in(s, now);
	if (cfg->fair_conn != !!c->fq) {
		struct cls tmp = *c;

		tmp.fq = NULL;
		if (cfg->fair_conn && fq_attach(s, &tmp)) {
			seterr(err, errlen, "too many fairness=conn classes (at most %u)",
			       s->cfg.max_fair);
			return -ENOSPC;
		}
		chain = shaper_cls_take_all(s, c);
		fq_detach(s, c);
		c->fq = tmp.fq;
		c->fq_set = tmp.fq_set;
		c->new_h = c->new_t = c->old_h = c->old_t = NIL;
		shaper_sq_reset(&c->q);
	}
	s->sum_g += cfg->guarantee - c->cfg.guarantee;
	c->cfg = *cfg;
	shaper_tb_set(&c->g, cfg->guarantee, shaper_default_burst(cfg->guarantee, s->cfg.mtu), now);
	shaper_tb_set(&c->c, cfg->maxbw, shaper_default_burst(cfg->maxbw, s->cfg.mtu), now);
	shaper_cls_params(s, c);
	shaper_put_chain(s, c, chain);
	shaper_cls_update(s, (uint32_t)id, now);
	return 0;
}

int vw_shaper_class_remove(struct vw_shaper *s, int id, uint64_t now,
			   char *err, size_t errlen)
{
	struct cls *c = shaper_cls_get(s, id);

	if (!c) {
		seterr(err, errlen, "no class %d", id);
		return -ENOENT;
	}
	if (id == 0) {
		seterr(err, errlen, "the default class cannot be removed");
		return -EINVAL;
	}
	now = shaper_clock_in(s, now);
	shaper_put_chain(s, &s->cls[0], shaper_cls_take_all(s, c));
	shaper_cls_update(s, (uint32_t)id, now);
	shaper_cls_update(s, 0, now);
	fq_detach(s, c);
	s->sum_g -= c->cfg.guarantee;
	c->used = false;
	return 0;
}
