/*
 * Port mirroring, the copies (observability/mirror.h): the observer that
 * copies what a source port carries into its worker's ring, and the sender
 * thread that drains the rings to the destination (a link's port, or a raw
 * GRE socket for ERSPAN and GRE), with the encapsulation.  Mirrors as
 * objects are observability/mirror.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "datapath/gso.h"
#include "datapath/observe.h"
#include "datapath/port.h"
#include "datapath/vnet.h"
#include "observability/filter.h"
#include "observability/mirror.h"
#include "lib/bytes.h"

#include "observability/mirror_impl.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

struct vw_mirror *mirrors;
pthread_mutex_t mirrors_lock = PTHREAD_MUTEX_INITIALIZER;
int mirror_wake_fd = -1, mirror_raw_fd = -1;
static pthread_t sender;
static bool sender_up, sender_stop;
static int sleeping; /* the sender waits on mirror_wake_fd */

static inline uint32_t align8(uint32_t n)
{
	return (n + 7u) & ~7u;
}

/* ---- encapsulation ---- */

size_t vw_mirror_encap(uint8_t *hdr, enum vw_mirror_kind kind, bool has_key, uint32_t key, uint16_t session,
		       uint32_t seq, const uint8_t *frame, uint32_t len)
{
	uint16_t vid = 0, cos = 0, en = 0;

	if (kind == VW_MIRROR_GRE) {
		vw_put16(hdr, has_key ? 0x2000 : 0); /* K */
		vw_put16(hdr + 2, 0x6558);           /* Transparent Ethernet Bridging */
		if (!has_key)
			return 4;
		vw_put32(hdr + 4, key);
		return 8;
	}
	vw_put16(hdr, 0x1000); /* S */
	vw_put16(hdr + 2, 0x88be);
	vw_put32(hdr + 4, seq);
	if (len >= 16 && frame[12] == 0x81 && frame[13] == 0x00) {
		vid = (uint16_t)((frame[14] & 0x0f) << 8 | frame[15]);
		cos = frame[14] >> 5;
		en = 3; /* the VLAN tag is in the frame */
	}
	/* Ver 1 | VLAN; CoS | En | T | session id; reserved | index */
	vw_put16(hdr + 8, (uint16_t)(1u << 12 | vid));
	vw_put16(hdr + 10, (uint16_t)(cos << 13 | en << 11 | (session & 0x3ff)));
	vw_put32(hdr + 12, 0);
	return 16;
}

/* ---- the worker side ---- */

/* Room for need bytes at head (a pad record first if they would cross the
 * ring's end); returns the record's offset, or -1 when the ring is full. */
static int64_t ring_reserve(struct ring *r, uint64_t head, uint32_t need, uint32_t *padded)
{
	uint32_t pos = (uint32_t)(head & (VW_MIRROR_RING - 1)), pad = 0;

	if (pos + need > VW_MIRROR_RING)
		pad = VW_MIRROR_RING - pos;
	if (head + pad + need - r->tail_cache > VW_MIRROR_RING) {
		r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (head + pad + need - r->tail_cache > VW_MIRROR_RING)
			return -1;
	}
	if (pad) {
		struct rec *p = (struct rec *)(r->buf + pos);

		p->len = REC_PAD;
		p->size = pad;
	}
	*padded = pad;
	return pad ? 0 : pos;
}

static void wake_sender(void)
{
	uint64_t one = 1;

	/* pairs with the sender's store of sleeping and recheck of the rings */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sleeping, __ATOMIC_RELAXED) && __atomic_exchange_n(&sleeping, 0, __ATOMIC_SEQ_CST) &&
	    mirror_wake_fd >= 0)
		(void)!write(mirror_wake_fd, &one, sizeof(one));
}

void mirror_obs_fn(struct vw_obs *obs, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts,
			  int n, bool tagged)
{
	struct vw_mirror *m = ((struct mirror_obs *)obs)->m;
	struct ring *r = &m->rings[w];
	uint64_t head = r->head;
	uint64_t copied = 0, drops = 0;
	int i;

	(void)port, (void)dir;
	for (i = 0; i < n; i++) {
		const struct vw_pkt *pkt = pkts[i];
		uint32_t len = vw_obs_len(pkt, tagged), need = align8((uint32_t)sizeof(struct rec) + len), pad;
		bool with_tag = len != pkt->len;
		struct rec *rec;
		int64_t off;

		/* untagged: the filter runs on the frame itself, before any copy */
		if (m->has_prog && !with_tag && !bpf_filter(m->prog.bf_insns, pkt->data, len, len))
			continue;
		off = ring_reserve(r, head, need, &pad);
		if (off < 0) {
			if (with_tag && m->has_prog) {
				uint8_t hdr[256];
				uint32_t h = vw_obs_copy(pkt, tagged, hdr, sizeof(hdr)) < sizeof(hdr) ? len : sizeof(hdr);

				if (!bpf_filter(m->prog.bf_insns, hdr, len, h))
					continue;
			}
			drops++;
			continue;
		}
		rec = (struct rec *)(r->buf + off);
		vw_obs_copy(pkt, tagged, (uint8_t *)(rec + 1), len);
		if (with_tag && m->has_prog && !bpf_filter(m->prog.bf_insns, (uint8_t *)(rec + 1), len, len))
			continue; /* not committed: the next one overwrites it */
		rec->len = len;
		rec->size = need;
		rec->vnet = pkt->vnet;
		if (with_tag)
			vw_vnet_shift(&rec->vnet, 4);
		head += pad + need;
		copied++;
	}
	if (copied) {
		__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
		wake_sender();
	}
	/* plain stores: only this worker writes them */
	r->copied += copied;
	r->drops += drops;
}

/* ---- the sender ---- */

struct sender_state {
	struct vw_gso_scratch *gso;
	struct vw_pkt *carriers; /* headers of frames for vw_port_write */
	size_t carriers_len;
	struct vw_pkt *pp[VW_BATCH];
	struct mmsghdr msgs[VW_BATCH];
	struct iovec iov[VW_BATCH][2];
	uint8_t hdr[VW_BATCH][16];
	/* the record each queued frame is (a segment of): counted once */
	uint64_t recno[VW_BATCH], cur, failed;
	uint32_t reclen[VW_BATCH];
	int n;
};

static struct sender_state ss;

/* Sends what is queued.  PKTS and BYTES count frames as on the link (a
 * super-frame once, with its length, as vwstat does), counted when queued;
 * one whose frame or any of whose segments could not go becomes a drop. */
static void flush(struct vw_mirror *m)
{
	int i = 0, sent = 0;
	uint64_t pk = 0, by = 0, dr = 0;

	if (!ss.n)
		return;
	if (m->kind == VW_MIRROR_LINK) {
		struct vw_port *p = m->dport;

		if (p)
			sent = vw_port_write(p, ss.pp, ss.n, false);
		i = sent; /* the failed ones: taken as the last */
	} else {
		while (i < ss.n) {
			int r = sendmmsg(mirror_raw_fd, ss.msgs + i, (unsigned)(ss.n - i), MSG_DONTWAIT);

			if (r > 0) {
				i += r;
				continue;
			}
			if (ss.recno[i] != ss.failed) { /* that one could not go */
				ss.failed = ss.recno[i];
				pk++, by += ss.reclen[i], dr++;
			}
			i++;
		}
		i = ss.n;
	}
	for (; i < ss.n; i++)
		if (ss.recno[i] != ss.failed) {
			ss.failed = ss.recno[i];
			pk++, by += ss.reclen[i], dr++;
		}
	__atomic_store_n(&m->sent_pkts, m->sent_pkts - pk, __ATOMIC_RELAXED);
	__atomic_store_n(&m->sent_bytes, m->sent_bytes - by, __ATOMIC_RELAXED);
	__atomic_store_n(&m->send_drops, m->send_drops + dr, __ATOMIC_RELAXED);
	ss.n = 0;
}

static void queue_frame(struct vw_mirror *m, uint8_t *frame, uint32_t len)
{
	int k = ss.n;

	ss.recno[k] = ss.cur;
	ss.reclen[k] = m->cur_len;
	if (m->kind == VW_MIRROR_LINK) {
		struct vw_pkt *p = ss.pp[k];

		p->data = frame;
		p->len = len;
		p->vid = 0;
		memset(&p->vnet, 0, sizeof(p->vnet));
	} else {
		size_t h = vw_mirror_encap(ss.hdr[k], m->kind, m->has_key, m->key, m->session, m->seq++, frame, len);

		ss.iov[k][0] = (struct iovec){ ss.hdr[k], h };
		ss.iov[k][1] = (struct iovec){ frame, len };
		memset(&ss.msgs[k], 0, sizeof(ss.msgs[k]));
		ss.msgs[k].msg_hdr.msg_name = &m->daddr;
		ss.msgs[k].msg_hdr.msg_namelen = sizeof(m->daddr);
		ss.msgs[k].msg_hdr.msg_iov = ss.iov[k];
		ss.msgs[k].msg_hdr.msg_iovlen = 2;
	}
	if (++ss.n == VW_BATCH)
		flush(m);
}

/* Sends up to DRAIN_MAX records of ring r; returns how many it took. */
int mirror_drain(struct vw_mirror *m, struct ring *r)
{
	uint64_t tail = r->tail, head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	int done = 0;

	while (tail != head && done < DRAIN_MAX) {
		struct rec *rec = (struct rec *)(r->buf + (tail & (VW_MIRROR_RING - 1)));
		uint8_t *frame = (uint8_t *)(rec + 1);
		int nseg, i;

		if (rec->len == REC_PAD) {
			tail += rec->size;
			continue;
		}
		done++;
		ss.cur++;
		m->cur_len = rec->len;
		/* wire-size frames with their checksums, as the analyser would
		 * have seen them on a wire */
		nseg = !vw_vnet_has_work(&rec->vnet) ? 0 :
		       vw_gso_segment(&rec->vnet, frame, rec->len, ss.gso->out, sizeof(ss.gso->out),
				      ss.gso->segs, VW_GSO_SEGS_MAX);
		if (nseg < 0) {
			__atomic_store_n(&m->send_drops, m->send_drops + 1, __ATOMIC_RELAXED);
		} else {
			__atomic_store_n(&m->sent_pkts, m->sent_pkts + 1, __ATOMIC_RELAXED);
			__atomic_store_n(&m->sent_bytes, m->sent_bytes + rec->len, __ATOMIC_RELAXED);
		}
		if (nseg == 0) {
			queue_frame(m, frame, rec->len);
		} else if (nseg == 1) {
			queue_frame(m, ss.gso->segs[0].data, ss.gso->segs[0].len);
		} else if (nseg > 1) {
			/* the segments live in scratch until sent */
			flush(m);
			for (i = 0; i < nseg; i++)
				queue_frame(m, ss.gso->segs[i].data, ss.gso->segs[i].len);
			flush(m);
		}
		tail += rec->size;
	}
	flush(m);
	__atomic_store_n(&r->tail, tail, __ATOMIC_RELEASE);
	return done;
}

static bool rings_empty(void)
{
	struct vw_mirror *m;
	int w;

	for (m = mirrors; m; m = m->next)
		for (w = 0; w < VW_MAX_WORKERS; w++)
			if (__atomic_load_n(&m->rings[w].head, __ATOMIC_ACQUIRE) != m->rings[w].tail)
				return false;
	return true;
}

static void *sender_main(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "vw-mirror");
	/* the mirror takes only the CPU the mirrored traffic leaves
	 * (SCHED_IDLE: it runs when nothing else wants the CPU; nice 19
	 * where that policy is refused): on a busy machine it drops
	 * (counted) rather than slow that traffic */
	{
		struct sched_param sp = { .sched_priority = 0 };

		if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp))
			setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
	}
	for (;;) {
		struct vw_mirror *m;
		int w, done = 0;
		bool empty;

		pthread_mutex_lock(&mirrors_lock);
		if (sender_stop) {
			pthread_mutex_unlock(&mirrors_lock);
			break;
		}
		for (m = mirrors; m; m = m->next)
			for (w = 0; w < VW_MAX_WORKERS; w++)
				done += mirror_drain(m, &m->rings[w]);
		pthread_mutex_unlock(&mirrors_lock);
		if (done)
			continue;
		__atomic_store_n(&sleeping, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* before reading the heads */
		pthread_mutex_lock(&mirrors_lock);
		empty = rings_empty() && !sender_stop;
		pthread_mutex_unlock(&mirrors_lock);
		if (empty) {
			struct pollfd pfd = { .fd = mirror_wake_fd, .events = POLLIN };
			uint64_t v;

			/* the timeout bounds a lost wake-up's cost */
			if (poll(&pfd, 1, 100) > 0)
				(void)!read(mirror_wake_fd, &v, sizeof(v));
		}
		__atomic_store_n(&sleeping, 0, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* The sender's scratch, made once. */
int mirror_sender_alloc(char *err, size_t errlen)
{
	int rc;

	if (!ss.gso) {
		ss.gso = malloc(sizeof(*ss.gso));
		ss.carriers_len = sizeof(struct vw_pkt) * VW_BATCH;
		ss.carriers = mmap(NULL, ss.carriers_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				   -1, 0);
		if (!ss.gso || ss.carriers == MAP_FAILED) {
			free(ss.gso);
			ss.gso = NULL;
			if (ss.carriers != MAP_FAILED)
				munmap(ss.carriers, ss.carriers_len);
			ss.carriers = NULL;
			ERR("mirror: out of memory");
			return -ENOMEM;
		}
		for (rc = 0; rc < VW_BATCH; rc++)
			ss.pp[rc] = &ss.carriers[rc];
	}
	return 0;
}

int mirror_sender_start(char *err, size_t errlen)
{
	int rc;

	if (sender_up)
		return 0;
	if ((rc = mirror_sender_alloc(err, errlen)))
		return rc;
	if (mirror_wake_fd < 0 && (mirror_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		rc = -errno;
		ERR("mirror: eventfd: %s", strerror(-rc));
		return rc;
	}
	sender_stop = false;
	rc = pthread_create(&sender, NULL, sender_main, NULL);
	if (rc) {
		ERR("mirror: cannot start the sender thread: %s", strerror(rc));
		return -rc;
	}
	sender_up = true;
	return 0;
}

void mirror_sender_end(void)
{
	uint64_t one = 1;

	if (!sender_up)
		return;
	pthread_mutex_lock(&mirrors_lock);
	sender_stop = true;
	pthread_mutex_unlock(&mirrors_lock);
	(void)!write(mirror_wake_fd, &one, sizeof(one));
	pthread_join(sender, NULL);
	sender_up = false;
}

int mirror_raw_open(char *err, size_t errlen)
{
	int off = IP_PMTUDISC_DONT, buf = 4 << 20;

	if (mirror_raw_fd >= 0)
		return 0;
	mirror_raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);
	if (mirror_raw_fd < 0) {
		int e = errno;

		ERR("mirror: cannot open a raw GRE socket: %s", strerror(e));
		return -e;
	}
	/* a mirrored full-size frame plus its encapsulation exceeds a
	 * 1500-byte path: let the kernel fragment it */
	setsockopt(mirror_raw_fd, IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof(off));
	setsockopt(mirror_raw_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return 0;
}

void mirror_sender_free(void)
{
	free(ss.gso);
	ss.gso = NULL;
	if (ss.carriers)
		munmap(ss.carriers, ss.carriers_len);
	ss.carriers = NULL;
}
