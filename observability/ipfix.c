/*
 * IPFIX export (RFC 7011): the meter (per-worker flow caches fed by an
 * observer, swept by a task on each worker) and the exporter thread (rings
 * -> messages -> sendmmsg).  The create/delete/show-exporter commands are
 * observability/exporter.c.  See ipfix.h for the shape.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "datapath/pkt.h"
#include "datapath/pktparse.h"
#include "datapath/vnet.h"
#include "datapath/worker.h"
#include "observability/ipfix_impl.h"

#define SWEEP_NS 200000000ull /* a worker's sweep task runs this often */
#define SWEEP_PASS_MS 1000 /* and covers the whole cache in about this long */
#define BATCH_MSGS 32     /* messages per sendmmsg */

/* What tells one flow from another: the observation point (the tap of the
 * link's port), the 5-tuple and the direction.  48 bytes, no holes. */
struct fkey {
	const struct ipfix_tap *tap; /* NULL: free slot */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint8_t proto, dir, ipver, pad;
};

struct ent {
	struct fkey k;
	uint16_t vlan;
	uint8_t smac[6], dmac[6];
	uint64_t pkts, octets, first, last;
};

/* What a lookup or a sweep reads first: one bucket's tags and times (ms,
 * mod 2^32), so the entries are touched only for a match or an end. */
struct bucket {
	uint32_t tag[BUCKET];   /* key hash | 1; 0: free */
	uint32_t last[BUCKET];  /* last packet */
	uint32_t first[BUCKET]; /* first packet */
	uint32_t pad[BUCKET];
} __attribute__((aligned(64)));

/* One worker's share: its cache, its ring to the exporter thread, its task. */
struct pw {
	/* the worker's line(s) */
	struct bucket *bkt;
	struct ent *ent;
	unsigned sweep_pos;
	uint32_t head, tail_cache; /* ring producer */
	bool pushed;               /* records put since the last wake check */
	uint64_t nflows, drops, evicted; /* read by the control thread */
	struct vw_task task;
	struct ipfix_exp *e;
	char pad1[64];
	/* the exporter thread's */
	uint32_t tail, head_cache;
	char pad2[64];
	struct ipfix_rec *ring;
	uint32_t mask;
} __attribute__((aligned(64)));


static inline uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- encoding ---- */

static inline void put8(struct ipfix_enc *m, uint8_t v)
{
	m->buf[m->len++] = v;
}

static inline void put16(struct ipfix_enc *m, uint16_t v)
{
	m->buf[m->len++] = (uint8_t)(v >> 8);
	m->buf[m->len++] = (uint8_t)v;
}

static inline void put32(struct ipfix_enc *m, uint32_t v)
{
	put16(m, (uint16_t)(v >> 16));
	put16(m, (uint16_t)v);
}

static inline void put64(struct ipfix_enc *m, uint64_t v)
{
	put32(m, (uint32_t)(v >> 32));
	put32(m, (uint32_t)v);
}

static inline void putn(struct ipfix_enc *m, const void *p, size_t n)
{
	memcpy(m->buf + m->len, p, n);
	m->len += n;
}

/* The templates: IANA element id and length; 65535 is variable length. */
struct ie {
	uint16_t id, len;
};
#define IE_ADDR 0xfffe /* stands for the address pair's element */
static const struct ie fields[] = {
	{ IE_ADDR, 0 },  /* sourceIPv4Address 8 / sourceIPv6Address 27 */
	{ IE_ADDR, 1 },  /* destinationIPv4Address 12 / destinationIPv6Address 28 */
	{ 7, 2 },        /* sourceTransportPort */
	{ 11, 2 },       /* destinationTransportPort (ICMP: type << 8 | code) */
	{ 4, 1 },        /* protocolIdentifier */
	{ 2, 8 },        /* packetDeltaCount */
	{ 1, 8 },        /* octetDeltaCount */
	{ 152, 8 },      /* flowStartMilliseconds */
	{ 153, 8 },      /* flowEndMilliseconds */
	{ 56, 6 },       /* sourceMacAddress */
	{ 80, 6 },       /* destinationMacAddress */
	{ 58, 2 },       /* vlanId */
	{ 10, 4 },       /* ingressInterface */
	{ 14, 4 },       /* egressInterface */
	{ 61, 1 },       /* flowDirection: 0 ingress, 1 egress */
	{ 136, 1 },      /* flowEndReason */
	{ 82, 65535 },   /* interfaceName */
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

void ipfix_enc_begin(struct ipfix_enc *m)
{
	m->len = IPFIX_HDR_LEN;
	m->set = 0;
	m->tid = 0;
	m->nrec = 0;
}

static void set_close(struct ipfix_enc *m)
{
	if (!m->set)
		return;
	m->buf[m->set + 2] = (uint8_t)((m->len - m->set) >> 8);
	m->buf[m->set + 3] = (uint8_t)(m->len - m->set);
	m->set = 0;
	m->tid = 0;
}

static void set_open(struct ipfix_enc *m, uint16_t id)
{
	m->set = m->len;
	m->tid = id;
	put16(m, id);
	put16(m, 0); /* length, at close */
}

void ipfix_enc_templates(struct ipfix_enc *m)
{
	int v;
	size_t i;

	set_close(m);
	set_open(m, 2);
	for (v = 0; v < 2; v++) {
		put16(m, v ? IPFIX_TID_V6 : IPFIX_TID_V4);
		put16(m, NFIELDS);
		for (i = 0; i < NFIELDS; i++) {
			if (fields[i].id == IE_ADDR) {
				put16(m, fields[i].len ? (v ? 28 : 12) : (v ? 27 : 8));
				put16(m, v ? 16 : 4);
			} else {
				put16(m, fields[i].id);
				put16(m, fields[i].len);
			}
		}
	}
	set_close(m);
}

bool ipfix_enc_record(struct ipfix_enc *m, const struct ipfix_rec *r, int64_t wall_ofs)
{
	uint16_t tid = r->ipver == 6 ? IPFIX_TID_V6 : IPFIX_TID_V4;
	size_t alen = r->ipver == 6 ? 16 : 4, nlen = strnlen(r->name, sizeof(r->name));
	size_t need = 2 * alen + 61 + 1 + nlen + (m->tid == tid ? 0 : 4);
	uint32_t ifx = r->ifindex;

	if (m->len + need > IPFIX_MSG_MAX)
		return false;
	if (m->tid != tid) {
		set_close(m);
		set_open(m, tid);
	}
	putn(m, r->ipver == 6 ? r->src : r->src + 12, alen);
	putn(m, r->ipver == 6 ? r->dst : r->dst + 12, alen);
	put16(m, r->sport);
	put16(m, r->dport);
	put8(m, r->proto);
	put64(m, r->pkts);
	put64(m, r->octets);
	put64(m, (uint64_t)((int64_t)r->first_ms + wall_ofs));
	put64(m, (uint64_t)((int64_t)r->last_ms + wall_ofs));
	putn(m, r->smac, 6);
	putn(m, r->dmac, 6);
	put16(m, r->vlan);
	/* the link receives (IN): it is the ingress interface */
	put32(m, r->dir == VW_OBS_IN ? ifx : 0);
	put32(m, r->dir == VW_OBS_OUT ? ifx : 0);
	put8(m, r->dir == VW_OBS_IN ? 0 : 1);
	put8(m, r->reason);
	put8(m, (uint8_t)nlen);
	putn(m, r->name, nlen);
	m->nrec++;
	return true;
}

size_t ipfix_enc_finish(struct ipfix_enc *m, uint32_t export_time, uint32_t seq, uint32_t domain)
{
	size_t len;

	set_close(m);
	len = m->len;
	m->len = 0;
	put16(m, IPFIX_VERSION);
	put16(m, (uint16_t)len);
	put32(m, export_time);
	put32(m, seq);
	put32(m, domain);
	m->len = len;
	return len;
}

/* ---- the cache (worker side) ---- */

static inline uint32_t key_hash(const struct fkey *k)
{
	uint64_t h = 0x9e3779b97f4a7c15ull, v;
	size_t i;

	for (i = 0; i < sizeof(*k); i += 8) {
		memcpy(&v, (const char *)k + i, 8);
		h ^= v;
		h *= 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

/* Hands a finished flow to the exporter thread: false (a counted drop) if
 * the ring is full. */
static bool ring_put(struct pw *p, const struct ipfix_rec *r)
{
	uint32_t head = p->head;

	if (head - p->tail_cache > p->mask) {
		p->tail_cache = __atomic_load_n(&p->tail, __ATOMIC_ACQUIRE);
		if (head - p->tail_cache > p->mask) {
			__atomic_store_n(&p->drops, p->drops + 1, __ATOMIC_RELAXED);
			return false;
		}
	}
	p->ring[head & p->mask] = *r;
	__atomic_store_n(&p->head, head + 1, __ATOMIC_RELEASE);
	p->pushed = true;
	return true;
}

static void ent_rec(const struct ent *x, uint8_t reason, struct ipfix_rec *r)
{
	const struct ipfix_tap *t = x->k.tap;

	memcpy(r->src, x->k.src, 16);
	memcpy(r->dst, x->k.dst, 16);
	r->pkts = x->pkts;
	r->octets = x->octets;
	r->first_ms = x->first;
	r->last_ms = x->last;
	memcpy(r->smac, x->smac, 6);
	memcpy(r->dmac, x->dmac, 6);
	r->sport = x->k.sport;
	r->dport = x->k.dport;
	r->vlan = x->vlan;
	r->proto = x->k.proto;
	r->ipver = x->k.ipver;
	r->dir = x->k.dir;
	r->reason = reason;
	r->ifindex = t->ifindex;
	memcpy(r->name, t->name, sizeof(r->name));
}

/* Ends flow j of bucket b: its record goes to the ring, the slot is free. */
static void ent_end(struct pw *p, struct bucket *b, unsigned j, uint8_t reason)
{
	struct ent *x = &p->ent[(size_t)(b - p->bkt) * BUCKET + j];
	struct ipfix_rec r;

	ent_rec(x, reason, &r);
	ring_put(p, &r);
	b->tag[j] = 0;
	x->k.tap = NULL;
	__atomic_store_n(&p->nflows, p->nflows - 1, __ATOMIC_RELAXED);
}

/* After a batch: wakes the exporter thread if it sleeps and records were
 * put (at most one write per batch, none while it is awake). */
static void pw_wake(struct ipfix_exp *e, struct pw *p)
{
	uint64_t one = 1;

	if (!p->pushed)
		return;
	p->pushed = false;
	/* the heads' stores before the load of sleeping (the thread sets
	 * sleeping, then looks at the heads) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&e->sleeping, __ATOMIC_RELAXED) && __atomic_exchange_n(&e->sleeping, 0, __ATOMIC_ACQ_REL) &&
	    write(e->wake_fd, &one, sizeof(one)) < 0)
		return; /* the counter is full: a wake-up is pending anyway */
}

void ipfix_meter(struct ipfix_tap *t, int w, unsigned dir, struct vw_pkt **pkts, int n, bool tagged, uint64_t now_ms)
{
	struct ipfix_exp *e = t->e;
	struct pw *p;
	uint32_t active = e->conf.active_s * 1000u, now32 = (uint32_t)now_ms;
	int i;

	(void)tagged; /* the tag is pkt->vid; octets count from the IP header */
	if (w < 0 || w >= e->nworkers)
		return;
	p = &e->pw[w];
	for (i = 0; i < n; i++) {
		const struct vw_pkt *pkt = pkts[i];
		const uint8_t *f = pkt->data;
		struct vw_pktinfo pi;
		struct fkey k;
		struct bucket *b;
		struct ent *x;
		uint64_t octets, segs = 1;
		uint32_t h;
		unsigned j, freeslot = BUCKET, oldest = BUCKET;

		if (vw_pkt_parse(f, pkt->len, &pi) != VW_PP_OK || !pi.ipver)
			continue; /* only IP is metered */
		octets = pi.ip_end - pi.l3;
		/* a GSO super-frame stands for the segments it will be cut into,
		 * each with its own copy of the headers */
		if (vw_vnet_is_gso(&pkt->vnet) && pi.l4hlen && pi.l4) {
			uint32_t gs = le16toh(pkt->vnet.gso_size), hdrs = pi.l4 + pi.l4hlen - pi.l3;
			uint32_t pay = pi.ip_end - pi.l4 - pi.l4hlen;

			if (gs && pay > gs) {
				segs = (pay + gs - 1) / gs;
				octets = pay + segs * hdrs;
			}
		}
		memset(&k, 0, sizeof(k));
		k.tap = t;
		memcpy(k.src, pi.src, 16);
		memcpy(k.dst, pi.dst, 16);
		k.sport = pi.sport;
		k.dport = pi.dport;
		k.proto = pi.proto;
		k.dir = (uint8_t)dir;
		k.ipver = pi.ipver;
		if ((pi.proto == VW_IPPROTO_ICMP || pi.proto == VW_IPPROTO_ICMPV6) && pi.l4 && pi.l4 + 2u <= pi.ip_end)
			k.dport = (uint16_t)(f[pi.l4] << 8 | f[pi.l4 + 1]);
		h = key_hash(&k) | 1; /* tag 0 is a free slot */
		b = &p->bkt[(h >> 1) & (e->nb - 1)];
		/* the bucket's tags are one cache line: a flow's entry is read
		 * only when its tag matches */
		for (j = 0; j < BUCKET; j++) {
			if (!b->tag[j]) {
				if (freeslot == BUCKET)
					freeslot = j;
				continue;
			}
			if (b->tag[j] == h && !memcmp(&p->ent[(size_t)(b - p->bkt) * BUCKET + j].k, &k, sizeof(k)))
				goto found;
			if (oldest == BUCKET || (int32_t)(b->last[j] - b->last[oldest]) < 0)
				oldest = j;
		}
		if (freeslot == BUCKET) {
			/* no room in the bucket: the least recently seen flow ends */
			__atomic_store_n(&p->evicted, p->evicted + 1, __ATOMIC_RELAXED);
			ent_end(p, b, oldest, IPFIX_END_LACK);
			freeslot = oldest;
		}
		j = freeslot;
	newflow:
		x = &p->ent[(size_t)(b - p->bkt) * BUCKET + j];
		x->k = k;
		x->pkts = x->octets = 0;
		x->first = now_ms;
		memcpy(x->dmac, f, 6);
		memcpy(x->smac, f + 6, 6);
		x->vlan = pkt->vid ? pkt->vid
				   : pi.ntags ? (uint16_t)((f[14] << 8 | f[15]) & 0xfff) : t->vid;
		b->tag[j] = h;
		b->first[j] = now32;
		__atomic_store_n(&p->nflows, p->nflows + 1, __ATOMIC_RELAXED);
		goto count;
	found:
		x = &p->ent[(size_t)(b - p->bkt) * BUCKET + j];
		if (now32 - b->first[j] >= active) {
			ent_end(p, b, j, IPFIX_END_ACTIVE);
			goto newflow;
		}
	count:
		x->pkts += segs;
		x->octets += octets;
		x->last = now_ms;
		b->last[j] = now32;
		if (pi.proto == VW_IPPROTO_TCP && (pi.tcp_flags & (VW_TCP_FIN | VW_TCP_RST)))
			ent_end(p, b, j, IPFIX_END_FIN);
	}
	pw_wake(e, p);
}

unsigned ipfix_sweep(struct ipfix_exp *e, int w, uint64_t now_ms, unsigned nb)
{
	uint32_t active = e->conf.active_s * 1000u, idle = e->conf.idle_s * 1000u, now32 = (uint32_t)now_ms;
	struct pw *p;
	unsigned n = 0, i, j;

	if (w < 0 || w >= e->nworkers)
		return 0;
	p = &e->pw[w];
	if (nb > e->nb)
		nb = e->nb;
	for (i = 0; i < nb; i++) {
		struct bucket *b = &p->bkt[p->sweep_pos];

		p->sweep_pos = (p->sweep_pos + 1) & (e->nb - 1);
		for (j = 0; j < BUCKET; j++) {
			if (!b->tag[j])
				continue;
			if (now32 - b->last[j] >= idle)
				ent_end(p, b, j, IPFIX_END_IDLE), n++;
			else if (now32 - b->first[j] >= active)
				ent_end(p, b, j, IPFIX_END_ACTIVE), n++;
		}
	}
	pw_wake(e, p);
	return n;
}

unsigned ipfix_flush(struct ipfix_exp *e, int w, const struct ipfix_tap *t, uint64_t now_ms)
{
	const struct timespec nap = { 0, 100000 };
	struct pw *p;
	unsigned n = 0;
	size_t i;

	(void)now_ms;
	if (w < 0 || w >= e->nworkers)
		return 0;
	p = &e->pw[w];
	for (i = 0; i < (size_t)e->nb * BUCKET; i++) {
		struct ent *x = &p->ent[i];
		int tries = 20000; /* 2 s for the exporter thread to make room */

		if (!p->bkt[i / BUCKET].tag[i % BUCKET] || (t && x->k.tap != t))
			continue;
		while (tries-- > 0 && p->head - __atomic_load_n(&p->tail, __ATOMIC_ACQUIRE) > p->mask) {
			pw_wake(e, p);
			nanosleep(&nap, NULL);
		}
		ent_end(p, &p->bkt[i / BUCKET], (unsigned)(i % BUCKET), IPFIX_END_FORCED);
		n++;
	}
	pw_wake(e, p);
	return n;
}

/* ---- the exporter thread ---- */

static void send_batch(struct ipfix_exp *e, int n)
{
	struct mmsghdr mh[BATCH_MSGS];
	struct iovec iov[BATCH_MSGS];
	int i, done = 0;

	for (i = 0; i < n; i++) {
		iov[i].iov_base = e->msgs[i].buf;
		iov[i].iov_len = e->msgs[i].len;
		memset(&mh[i], 0, sizeof(mh[i]));
		mh[i].msg_hdr.msg_name = &e->conf.collector;
		mh[i].msg_hdr.msg_namelen = e->conf.collen;
		mh[i].msg_hdr.msg_iov = &iov[i];
		mh[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < n) {
		int r = sendmmsg(e->fd, mh + done, (unsigned)(n - done), 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			/* the message is lost: its records count as drops (the
			 * collector sees the gap in the sequence numbers) */
			__atomic_store_n(&e->send_drops, e->send_drops + e->msgs[done].nrec, __ATOMIC_RELAXED);
			done++;
			continue;
		}
		for (i = done; i < done + r; i++) {
			__atomic_store_n(&e->records, e->records + e->msgs[i].nrec, __ATOMIC_RELAXED);
			__atomic_store_n(&e->messages, e->messages + 1, __ATOMIC_RELAXED);
		}
		done += r;
	}
}

/* Closes message i (header, sequence number) and counts its records. */
static void msg_close(struct ipfix_exp *e, int i)
{
	ipfix_enc_finish(&e->msgs[i], (uint32_t)(wall_ms() / 1000), e->seq, e->conf.domain);
	e->seq += e->msgs[i].nrec;
}

static bool rings_empty(const struct ipfix_exp *e)
{
	int w;

	for (w = 0; w < e->nworkers; w++)
		if (__atomic_load_n(&e->pw[w].head, __ATOMIC_ACQUIRE) != e->pw[w].tail)
			return false;
	return true;
}

/*
 * Every ring was empty: sleeps until a worker puts records (pw_wake), the
 * templates are due, or 100 ms pass.  sleeping is set before the rings are
 * looked at again, so a record put meanwhile either is seen here or wakes
 * the poll.
 */
static void sleep_until_work(struct ipfix_exp *e, uint64_t next_tmpl)
{
	struct pollfd pfd = { .fd = e->wake_fd, .events = POLLIN };
	uint64_t now = mono_ms(), v;
	int ms = next_tmpl > now ? (int)(next_tmpl - now < 100 ? next_tmpl - now : 100) : 0;

	__atomic_store_n(&e->sleeping, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (rings_empty(e) && !__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE) && ms > 0)
		poll(&pfd, 1, ms);
	__atomic_store_n(&e->sleeping, 0, __ATOMIC_RELEASE);
	if (read(e->wake_fd, &v, sizeof(v)) < 0)
		return; /* nothing to clear */
}

static void *exporter_main(void *arg)
{
	struct ipfix_exp *e = arg;
	uint64_t next_tmpl = 0;

	pthread_setname_np(pthread_self(), "vw-ipfix");

	for (;;) {
		bool stopping = __atomic_load_n(&e->stop, __ATOMIC_ACQUIRE);
		uint64_t now = mono_ms();
		int64_t ofs = (int64_t)wall_ms() - (int64_t)now;
		int nm = 0, w;
		unsigned got = 0;

		if (now >= next_tmpl) {
			/* templates first, at start and every template= seconds */
			ipfix_enc_begin(&e->msgs[nm]);
			ipfix_enc_templates(&e->msgs[nm]);
			msg_close(e, nm++);
			next_tmpl = now + (uint64_t)e->conf.template_s * 1000;
		}
		ipfix_enc_begin(&e->msgs[nm]);
		for (w = 0; w < e->nworkers; w++) {
			struct pw *p = &e->pw[w];
			uint32_t tail = p->tail, head = __atomic_load_n(&p->head, __ATOMIC_ACQUIRE);

			while (tail != head) {
				if (!ipfix_enc_record(&e->msgs[nm], &p->ring[tail & p->mask], ofs)) {
					msg_close(e, nm++);
					if (nm == BATCH_MSGS) {
						/* let the worker reuse the slots first */
						__atomic_store_n(&p->tail, tail, __ATOMIC_RELEASE);
						send_batch(e, nm);
						nm = 0;
					}
					ipfix_enc_begin(&e->msgs[nm]);
					continue;
				}
				tail++;
				got++;
			}
			__atomic_store_n(&p->tail, tail, __ATOMIC_RELEASE);
		}
		if (e->msgs[nm].nrec)
			msg_close(e, nm++);
		if (nm)
			send_batch(e, nm);
		if (!got) {
			if (stopping)
				break; /* what was pushed before stop was set is out */
			sleep_until_work(e, next_tmpl);
		}
	}
	return NULL;
}

/* ---- life cycle ---- */

struct ipfix_exp *ipfix_new(const struct ipfix_conf *conf, int nworkers, char *err, size_t errlen)
{
	struct ipfix_exp *e;
	int w, sz = 4 << 20;

	if (nworkers < 1)
		nworkers = 1;
	e = calloc(1, sizeof(*e));
	if (!e)
		goto oom;
	e->conf = *conf;
	e->nworkers = nworkers;
	e->nb = conf->nbuckets ? conf->nbuckets : IPFIX_DEFAULT_BUCKETS;
	e->fd = -1;
	e->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->wake_fd < 0)
		goto oom;
	e->pw = aligned_alloc(64, sizeof(*e->pw) * (size_t)nworkers);
	e->msgs = calloc(BATCH_MSGS, sizeof(*e->msgs));
	if (!e->pw || !e->msgs)
		goto oom;
	memset(e->pw, 0, sizeof(*e->pw) * (size_t)nworkers);
	for (w = 0; w < nworkers; w++) {
		struct pw *p = &e->pw[w];
		unsigned rs = conf->ringsize ? conf->ringsize : 32768;

		p->e = e;
		p->bkt = aligned_alloc(64, (size_t)e->nb * sizeof(*p->bkt));
		p->ent = calloc((size_t)e->nb * BUCKET, sizeof(*p->ent));
		p->ring = calloc(rs, sizeof(*p->ring));
		p->mask = rs - 1;
		if (!p->bkt || !p->ent || !p->ring)
			goto oom;
		memset(p->bkt, 0, (size_t)e->nb * sizeof(*p->bkt));
	}
	e->fd = socket(conf->collector.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0) {
		snprintf(err, errlen, "cannot open the exporter's socket: %s", strerror(errno));
		ipfix_free(e);
		return NULL;
	}
	setsockopt(e->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (pthread_create(&e->thr, NULL, exporter_main, e)) {
		snprintf(err, errlen, "cannot start the exporter's thread");
		ipfix_free(e);
		return NULL;
	}
	e->started = true;
	return e;
oom:
	snprintf(err, errlen, "out of memory");
	ipfix_free(e);
	return NULL;
}

void ipfix_free(struct ipfix_exp *e)
{
	int w;

	if (!e)
		return;
	if (e->started) {
		uint64_t one = 1;

		__atomic_store_n(&e->stop, 1, __ATOMIC_RELEASE);
		if (write(e->wake_fd, &one, sizeof(one)) < 0)
			(void)0; /* a wake-up is pending anyway */
		pthread_join(e->thr, NULL);
	}
	if (e->fd >= 0)
		close(e->fd);
	if (e->wake_fd > 0)
		close(e->wake_fd);
	if (e->pw)
		for (w = 0; w < e->nworkers; w++) {
			free(e->pw[w].bkt);
			free(e->pw[w].ent);
			free(e->pw[w].ring);
		}
	free(e->pw);
	free(e->msgs);
	free(e);
}

void ipfix_get_stats(struct ipfix_exp *e, struct ipfix_stats *st)
{
	int w;

	memset(st, 0, sizeof(*st));
	for (w = 0; w < e->nworkers; w++) {
		st->flows += __atomic_load_n(&e->pw[w].nflows, __ATOMIC_RELAXED);
		st->drops += __atomic_load_n(&e->pw[w].drops, __ATOMIC_RELAXED);
		st->evicted += __atomic_load_n(&e->pw[w].evicted, __ATOMIC_RELAXED);
	}
	st->records = __atomic_load_n(&e->records, __ATOMIC_RELAXED);
	st->messages = __atomic_load_n(&e->messages, __ATOMIC_RELAXED);
	st->drops += __atomic_load_n(&e->send_drops, __ATOMIC_RELAXED);
}

static void tap_fn(struct vw_obs *obs, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts, int n,
		   bool tagged)
{
	struct ipfix_tap *t = (struct ipfix_tap *)((char *)obs - offsetof(struct ipfix_tap, obs));

	(void)port;
	ipfix_meter(t, w, dir, pkts, n, tagged, mono_ms());
}

void ipfix_tap_init(struct ipfix_tap *t, struct ipfix_exp *e, struct vw_port *port, const char *name,
		    uint32_t ifindex, uint16_t vid)
{
	memset(t, 0, sizeof(*t));
	t->obs.fn = tap_fn;
	t->obs.dir = VW_OBS_IN | VW_OBS_OUT;
	t->e = e;
	t->port = port;
	t->ifindex = ifindex;
	t->vid = vid;
	snprintf(t->name, sizeof(t->name), "%s", name);
}

/* ---- the sweep tasks (the workers') ---- */

static int task_run(struct vw_task *t, uint64_t now)
{
	struct pw *p = (struct pw *)((char *)t - offsetof(struct pw, task));
	struct ipfix_exp *e = p->e;
	unsigned nb = (unsigned)((uint64_t)e->nb * (SWEEP_NS / 1000000) / SWEEP_PASS_MS);

	ipfix_sweep(e, (int)(p - e->pw), now / 1000000, nb ? nb : 1);
	t->due = now + SWEEP_NS;
	return 0;
}

static void task_add(void *arg)
{
	struct pw *p = arg;

	p->task.run = task_run;
	p->task.due = 0;
	vw_worker_task_add(&p->task);
}

struct flush_arg {
	struct ipfix_exp *e;
	int w;
	const struct ipfix_tap *t;
	bool untask;
};

static void flush_on_worker(void *arg)
{
	struct flush_arg *a = arg;

	ipfix_flush(a->e, a->w, a->t, mono_ms());
	if (a->untask)
		vw_worker_task_del(&a->e->pw[a->w].task);
}

/* Ends the flows of t (NULL: all) on every worker, in the worker's thread. */
void ipfix_flush_all(struct ipfix_exp *e, const struct ipfix_tap *t, bool untask)
{
	int w;

	for (w = 0; w < e->nworkers; w++) {
		struct flush_arg a = { e, w, t, untask };

		if (vw_worker_call(w, flush_on_worker, &a) < 0)
			ipfix_flush(e, w, t, mono_ms()); /* no workers running */
	}
}

void ipfix_start_tasks(struct ipfix_exp *e)
{
	int i;

	for (i = 0; i < vw_workers_count() && i < e->nworkers; i++)
		if (vw_worker_call(i, task_add, &e->pw[i]) == 0)
			e->tasks = true;
}
