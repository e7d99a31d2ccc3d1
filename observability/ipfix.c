/*
 * IPFIX export (RFC 7011): the meter (per-worker flow caches fed by an
 * observer), the exporter thread (rings -> messages -> sendmmsg) and the
 * create/delete/show-exporter commands.  See ipfix.h for the shape.
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
#include "objects/link.h"
#include "observability/ipfix.h"

#define BUCKET 8          /* flows per bucket */
#define IPFIX_DEFAULT_BUCKETS 8192 /* 65,536 flows per worker */
#define SWEEP_NS 200000000ull /* a worker's sweep task runs this often */
#define SWEEP_PASS_MS 1000 /* and covers the whole cache in about this long */
#define MAX_LINKS 32
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

struct ipfix_exp {
	struct ipfix_conf conf;
	int nworkers;
	unsigned nb;      /* buckets per worker */
	struct pw *pw;
	int fd;
	pthread_t thr;
	bool started;
	int stop;
	/* the thread sleeps on wake_fd when every ring is empty (sleeping
	 * set); a worker that put records writes to it, once per batch */
	int wake_fd;
	int sleeping;
	uint32_t seq;     /* data records sent, mod 2^32 (the exporter thread's) */
	uint64_t records, messages, send_drops; /* written by the thread */
	struct ipfix_enc *msgs; /* BATCH_MSGS of them */
	/* the command side (control thread) */
	struct ipfix_exp *next;
	char name[VW_LINKNAME_MAX + 1];
	char collector[64];
	bool all;                       /* no -l: every VNIC */
	int nlinks;
	char links[MAX_LINKS][VW_LINKNAME_MAX + 1];
	struct ipfix_tap *taps;
	bool tasks;
};

static inline uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

/* ---- the commands (control thread) ---- */

static struct ipfix_exp *exporters;
static bool watching;

/* ingressInterface/egressInterface: a number per link name, 1, 2, ... in
 * the order the daemon's exporters meet them, kept while it runs. */
static char ifnames[1024][VW_LINKNAME_MAX + 1];
static unsigned nifnames;

static uint32_t ifindex_of(const char *name)
{
	unsigned i;

	for (i = 0; i < nifnames; i++)
		if (!strcmp(ifnames[i], name))
			return i + 1;
	if (nifnames == sizeof(ifnames) / sizeof(ifnames[0]))
		return 0;
	snprintf(ifnames[nifnames], sizeof(ifnames[0]), "%s", name);
	return ++nifnames;
}

static struct ipfix_exp *exporter_find(const char *name)
{
	struct ipfix_exp *e;

	for (e = exporters; e; e = e->next)
		if (!strcmp(e->name, name))
			return e;
	return NULL;
}

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
static void flush_all(struct ipfix_exp *e, const struct ipfix_tap *t, bool untask)
{
	int w;

	for (w = 0; w < e->nworkers; w++) {
		struct flush_arg a = { e, w, t, untask };

		if (vw_worker_call(w, flush_on_worker, &a) < 0)
			ipfix_flush(e, w, t, mono_ms()); /* no workers running */
	}
}

static bool exporter_selects(const struct ipfix_exp *e, const struct vw_link *l)
{
	int i;

	if (e->all)
		return l->cls->has_face;
	for (i = 0; i < e->nlinks; i++)
		if (!strcmp(e->links[i], l->name))
			return true;
	return false;
}

static void tap_attach(struct ipfix_exp *e, struct vw_link *l, struct vw_port *port)
{
	struct ipfix_tap *t;

	for (t = e->taps; t; t = t->next)
		if (t->port == port)
			return;
	t = malloc(sizeof(*t));
	if (!t)
		return;
	ipfix_tap_init(t, e, port, l->name, ifindex_of(l->name), l->vid);
	if (vw_obs_add(port, &t->obs) < 0) {
		free(t);
		return;
	}
	t->next = e->taps;
	e->taps = t;
}

static void tap_detach(struct ipfix_exp *e, struct ipfix_tap **pp)
{
	struct ipfix_tap *t = *pp;

	vw_obs_del(t->port, &t->obs);
	flush_all(e, t, false); /* forced end: the link's flows */
	*pp = t->next;
	free(t);
}

static void watch_fn(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg)
{
	struct ipfix_exp *e;

	(void)arg;
	for (e = exporters; e; e = e->next) {
		struct ipfix_tap **pp;
		int i;

		switch (ev) {
		case VW_LINK_PORT_UP:
			if (exporter_selects(e, l))
				tap_attach(e, l, port);
			break;
		case VW_LINK_PORT_DOWN:
			for (pp = &e->taps; *pp; pp = &(*pp)->next)
				if ((*pp)->port == port) {
					tap_detach(e, pp);
					break;
				}
			break;
		case VW_LINK_DELETED:
			/* -l names links that exist: a deleted one leaves the list */
			for (i = 0; i < e->nlinks; i++)
				if (!strcmp(e->links[i], l->name)) {
					memmove(e->links[i], e->links[i + 1],
						sizeof(e->links[0]) * (size_t)(e->nlinks - i - 1));
					e->nlinks--;
					break;
				}
			break;
		}
	}
}

static bool collector_parse(const char *s, struct ipfix_conf *c, char *canon, size_t clen)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&c->collector;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&c->collector;
	const char *colon = strrchr(s, ':'), *h = s;
	char host[64], a[INET6_ADDRSTRLEN];
	uint64_t port;
	size_t hl;

	if (!colon || colon == s || !vw_uint_parse(colon + 1, 1, 65535, &port))
		return false;
	hl = (size_t)(colon - s);
	if (*h == '[') {
		if (colon[-1] != ']' || hl < 3)
			return false;
		h++, hl -= 2;
	}
	if (hl >= sizeof(host))
		return false;
	memcpy(host, h, hl);
	host[hl] = 0;
	memset(&c->collector, 0, sizeof(c->collector));
	if (h == s && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		c->collen = sizeof(*s4);
		snprintf(canon, clen, "%s:%u", inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)), (unsigned)port);
		return true;
	}
	if (h != s && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		c->collen = sizeof(*s6);
		snprintf(canon, clen, "[%s]:%u", inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)), (unsigned)port);
		return true;
	}
	return false;
}

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

int exporter_create_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	const char *name = c->operand[0], *type = vw_cmd_opt(c, 'T'), *attrs = vw_cmd_opt(c, 'a');
	const char *links = vw_cmd_opt(c, 'l');
	struct ipfix_conf conf = { .active_s = 60, .idle_s = 15, .template_s = 60, .domain = 1 };
	char copy[512], lcopy[1024], canon[64] = "", *keys[8], *vals[8];
	char lnames[MAX_LINKS][VW_LINKNAME_MAX + 1];
	struct ipfix_exp *e;
	struct vw_link *l;
	int n, i, j, nl = 0;
	unsigned seen = 0;

	(void)out;
	if (!vw_linkname_valid(name)) {
		ERR("invalid exporter name '%s' (1-15 characters, a letter first)", name);
		return -EINVAL;
	}
	if (exporter_find(name)) {
		ERR("exporter %s already exists", name);
		return -EEXIST;
	}
	if (strcmp(type, "ipfix")) {
		ERR("%s: unknown exporter type '%s' (ipfix)", name, type);
		return -EINVAL;
	}
	snprintf(copy, sizeof(copy), "%s", attrs);
	n = strlen(attrs) < sizeof(copy) ? vw_kvlist_split(copy, keys, vals, 8) : -1;
	if (n < 0) {
		ERR("%s: invalid attribute list '%s' (collector=IP:PORT[,active=S,idle=S,template=S,domain=N,cache=FLOWS])", name,
		    attrs);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		static const char *const names[] = { "collector", "active", "idle", "template", "domain", "cache" };
		uint64_t v = 0;
		unsigned k;

		for (k = 0; k < 6 && strcmp(keys[i], names[k]); k++)
			;
		if (k == 6) {
			ERR("%s: unknown attribute '%s' (collector, active, idle, template, domain, cache)", name, keys[i]);
			return -EINVAL;
		}
		if (seen & (1u << k)) {
			ERR("%s: attribute '%s' given twice", name, keys[i]);
			return -EINVAL;
		}
		seen |= 1u << k;
		if (k == 0) {
			if (!collector_parse(vals[i], &conf, canon, sizeof(canon))) {
				ERR("%s: invalid collector '%s' (IPv4:PORT or [IPv6]:PORT)", name, vals[i]);
				return -EINVAL;
			}
		} else if (k == 4) {
			if (!vw_uint_parse(vals[i], 0, UINT32_MAX, &v)) {
				ERR("%s: invalid domain '%s' (0 to 4294967295)", name, vals[i]);
				return -EINVAL;
			}
			conf.domain = (uint32_t)v;
		} else if (k == 5) {
			/* flows per worker: buckets of 8, a power of 2 of them */
			if (!vw_uint_parse(vals[i], 1024, 1048576, &v)) {
				ERR("%s: invalid cache '%s' (1024 to 1048576 flows per worker)", name, vals[i]);
				return -EINVAL;
			}
			conf.nbuckets = 1;
			while (conf.nbuckets * BUCKET < v)
				conf.nbuckets <<= 1;
		} else {
			if (!vw_uint_parse(vals[i], 1, 3600, &v)) {
				ERR("%s: invalid %s %s '%s' (1 to 3600 seconds)", name, keys[i],
				    k == 3 ? "interval" : "timeout", vals[i]);
				return -EINVAL;
			}
			if (k == 1)
				conf.active_s = (unsigned)v;
			else if (k == 2)
				conf.idle_s = (unsigned)v;
			else
				conf.template_s = (unsigned)v;
		}
	}
	if (!(seen & 1)) {
		ERR("%s: attribute 'collector' is required (collector=IP:PORT)", name);
		return -EINVAL;
	}
	if (links) {
		char *save = NULL, *tok;

		if (strlen(links) >= sizeof(lcopy)) {
			ERR("%s: link list too long", name);
			return -EINVAL;
		}
		snprintf(lcopy, sizeof(lcopy), "%s", links);
		if (!*links || links[strlen(links) - 1] == ',' || strstr(links, ",,") || *links == ',') {
			ERR("%s: invalid link list '%s' (LINK[,LINK...])", name, links);
			return -EINVAL;
		}
		for (tok = strtok_r(lcopy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			l = link_find(tok);
			if (!l) {
				ERR("%s: no such link '%s'", name, tok);
				return -ENOENT;
			}
			if (l->cls->portless) {
				ERR("%s: %s is an etherstub: list its VNICs, or omit -l for every VNIC", name, tok);
				return -EINVAL;
			}
			for (j = 0; j < nl; j++)
				if (!strcmp(lnames[j], tok)) {
					ERR("%s: link '%s' listed twice", name, tok);
					return -EINVAL;
				}
			if (nl == MAX_LINKS) {
				ERR("%s: more than %d links", name, MAX_LINKS);
				return -EINVAL;
			}
			snprintf(lnames[nl++], sizeof(lnames[0]), "%s", tok);
		}
	}
	if (!watching) {
		if (link_watch(watch_fn, NULL) < 0) {
			ERR("%s: cannot watch links (too many watchers)", name);
			return -ENOSPC;
		}
		watching = true;
	}
	e = ipfix_new(&conf, vw_workers_count(), err, errlen);
	if (!e)
		return -ENOMEM;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->collector, sizeof(e->collector), "%s", canon);
	e->all = !links;
	e->nlinks = nl;
	memcpy(e->links, lnames, sizeof(lnames[0]) * (size_t)nl);
	for (i = 0; i < vw_workers_count() && i < e->nworkers; i++)
		if (vw_worker_call(i, task_add, &e->pw[i]) == 0)
			e->tasks = true;
	for (l = vw_links; l; l = l->next) {
		if (!exporter_selects(e, l))
			continue;
		if (link_port(l))
			tap_attach(e, l, link_port(l));
	}
	e->next = exporters;
	exporters = e;
	return 0;
}

int exporter_delete_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct ipfix_exp **pp, *e;
	struct ipfix_tap *t;

	(void)out;
	for (pp = &exporters; *pp && strcmp((*pp)->name, c->operand[0]); pp = &(*pp)->next)
		;
	if (!*pp) {
		ERR("%s: no such exporter", c->operand[0]);
		return -ENOENT;
	}
	e = *pp;
	*pp = e->next;
	/* no worker meters for it any more, then every flow ends (reason 4) */
	for (t = e->taps; t; t = t->next)
		vw_obs_del(t->port, &t->obs);
	flush_all(e, NULL, e->tasks);
	while ((t = e->taps)) {
		e->taps = t->next;
		free(t);
	}
	ipfix_free(e); /* sends what the rings hold */
	return 0;
}

static void links_format(const struct ipfix_exp *e, char *buf, size_t len)
{
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < e->nlinks && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", e->links[i]);
}

int exporter_show_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen)
{
	struct ipfix_exp *e;
	int i;

	for (i = 0; i < c->noperand; i++)
		if (!exporter_find(c->operand[i])) {
			ERR("%s: no such exporter", c->operand[i]);
			return -ENOENT;
		}
	for (e = exporters; e; e = e->next) {
		struct ipfix_stats st;
		char lk[MAX_LINKS * (VW_LINKNAME_MAX + 1) + 1];
		bool want = !c->noperand;

		for (i = 0; i < c->noperand; i++)
			want |= !strcmp(c->operand[i], e->name);
		if (!want)
			continue;
		ipfix_get_stats(e, &st);
		links_format(e, lk, sizeof(lk));
		vw_buf_kv(out, "record", "exporter");
		vw_buf_kv(out, "exporter", "%s", e->name);
		vw_buf_kv(out, "type", "ipfix");
		vw_buf_kv(out, "collector", "%s", e->collector);
		vw_buf_kv(out, "links", "%s", e->all ? "all" : e->nlinks ? lk : "--");
		vw_buf_kv(out, "active", "%u", e->conf.active_s);
		vw_buf_kv(out, "idle", "%u", e->conf.idle_s);
		vw_buf_kv(out, "template", "%u", e->conf.template_s);
		vw_buf_kv(out, "domain", "%u", e->conf.domain);
		vw_buf_kv(out, "cache", "%u", e->nb * BUCKET);
		vw_buf_kv(out, "flows", "%lu", st.flows);
		vw_buf_kv(out, "records", "%lu", st.records);
		vw_buf_kv(out, "messages", "%lu", st.messages);
		vw_buf_kv(out, "drops", "%lu", st.drops);
		vw_buf_kv(out, "evicted", "%lu", st.evicted);
	}
	return 0;
}

void exporters_export(struct vw_buf *out)
{
	struct ipfix_exp *e, *order[256];
	int n = 0;

	/* oldest first, as they were created */
	for (e = exporters; e && n < 256; e = e->next)
		order[n++] = e;
	while (n--) {
		char lk[MAX_LINKS * (VW_LINKNAME_MAX + 1) + 1];

		e = order[n];
		if (!e->all && !e->nlinks)
			continue; /* its links were all deleted: it meters nothing */
		vw_buf_printf(out, "create-exporter -T ipfix -a collector=%s,active=%u,idle=%u,template=%u,domain=%u",
			      e->collector, e->conf.active_s, e->conf.idle_s, e->conf.template_s, e->conf.domain);
		if (e->conf.nbuckets && e->conf.nbuckets != IPFIX_DEFAULT_BUCKETS)
			vw_buf_printf(out, ",cache=%u", e->conf.nbuckets * BUCKET);
		if (!e->all) {
			links_format(e, lk, sizeof(lk));
			vw_buf_printf(out, " -l %s", lk);
		}
		vw_buf_printf(out, " %s\n", e->name);
	}
}
