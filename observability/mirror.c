/* Port mirroring (observability/mirror.h). */
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
#include "objects/link.h"
#include "observability/filter.h"
#include "observability/mirror.h"
#include "lib/bytes.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)
#define MAX_SOURCES 16
#define FILTER_MAX 1024
#define REC_PAD 0xffffffffu
#define DRAIN_MAX 256 /* records per ring per pass */

/* A record in a ring: this header, then the frame as on the link; 8-byte
 * aligned.  A record that would not fit before the ring's end is preceded
 * by a pad record (len REC_PAD) up to the end. */
struct rec {
	uint32_t len;  /* the frame's length, or REC_PAD */
	uint32_t size; /* the record's bytes, header included */
	struct virtio_net_hdr_v1 vnet; /* offsets as in the copy */
	uint8_t pad[4];
};

/* One worker's ring: the producer's line, the consumer's line, counters. */
struct ring {
	uint64_t head;       /* bytes written (worker) */
	uint64_t tail_cache; /* the worker's last view of tail */
	uint64_t copied, drops;
	char pad1[32];
	uint64_t tail;       /* bytes consumed (sender) */
	char pad2[56];
	uint8_t *buf;
} __attribute__((aligned(64)));

struct mirror_obs {
	struct vw_obs obs;
	struct vw_mirror *m;
};

struct vw_mirror {
	struct vw_mirror *next;
	char name[32];
	int nsrc;
	char src[MAX_SOURCES][VW_LINKNAME_MAX + 1];
	unsigned dir;
	char filter[FILTER_MAX];
	struct bpf_program prog;
	bool has_prog;
	/* destination */
	enum vw_mirror_kind kind;
	char dlink[VW_LINKNAME_MAX + 1];
	struct vw_port *dport; /* guarded by lock for the sender; NULL: down */
	struct sockaddr_in daddr;
	bool has_key;
	uint32_t key;
	uint16_t session;
	uint32_t seq;
	char dest[64]; /* as given, for show and export */
	/* explicit sources' ports (m->dir) and etherstub members' (OUT) */
	struct mirror_obs obs_link, obs_stub;
	struct ring *rings; /* VW_MAX_WORKERS */
	/* the sender's counters */
	uint64_t sent_pkts, sent_bytes, send_drops;
	uint32_t cur_len; /* the sender's record at hand */
};

static struct vw_mirror *mirrors;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t sender;
static bool sender_up, sender_stop, watching;
static int wake_fd = -1, raw_fd = -1;
static int sleeping; /* the sender waits on wake_fd */

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
	    wake_fd >= 0)
		(void)!write(wake_fd, &one, sizeof(one));
}

static void mirror_obs_fn(struct vw_obs *obs, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts,
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
			int r = sendmmsg(raw_fd, ss.msgs + i, (unsigned)(ss.n - i), MSG_DONTWAIT);

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
static int drain(struct vw_mirror *m, struct ring *r)
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

		pthread_mutex_lock(&lock);
		if (sender_stop) {
			pthread_mutex_unlock(&lock);
			break;
		}
		for (m = mirrors; m; m = m->next)
			for (w = 0; w < VW_MAX_WORKERS; w++)
				done += drain(m, &m->rings[w]);
		pthread_mutex_unlock(&lock);
		if (done)
			continue;
		__atomic_store_n(&sleeping, 1, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST); /* before reading the heads */
		pthread_mutex_lock(&lock);
		empty = rings_empty() && !sender_stop;
		pthread_mutex_unlock(&lock);
		if (empty) {
			struct pollfd pfd = { .fd = wake_fd, .events = POLLIN };
			uint64_t v;

			/* the timeout bounds a lost wake-up's cost */
			if (poll(&pfd, 1, 100) > 0)
				(void)!read(wake_fd, &v, sizeof(v));
		}
		__atomic_store_n(&sleeping, 0, __ATOMIC_SEQ_CST);
	}
	return NULL;
}

/* The sender's scratch, made once. */
static int sender_alloc(char *err, size_t errlen)
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

static int sender_start(char *err, size_t errlen)
{
	int rc;

	if (sender_up)
		return 0;
	if ((rc = sender_alloc(err, errlen)))
		return rc;
	if (wake_fd < 0 && (wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
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

static void sender_end(void)
{
	uint64_t one = 1;

	if (!sender_up)
		return;
	pthread_mutex_lock(&lock);
	sender_stop = true;
	pthread_mutex_unlock(&lock);
	(void)!write(wake_fd, &one, sizeof(one));
	pthread_join(sender, NULL);
	sender_up = false;
}

static int raw_open(char *err, size_t errlen)
{
	int off = IP_PMTUDISC_DONT, buf = 4 << 20;

	if (raw_fd >= 0)
		return 0;
	raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_GRE);
	if (raw_fd < 0) {
		int e = errno;

		ERR("mirror: cannot open a raw GRE socket: %s", strerror(e));
		return -e;
	}
	/* a mirrored full-size frame plus its encapsulation exceeds a
	 * 1500-byte path: let the kernel fragment it */
	setsockopt(raw_fd, IPPROTO_IP, IP_MTU_DISCOVER, &off, sizeof(off));
	setsockopt(raw_fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	return 0;
}

/* ---- mirrors: making and freeing ---- */

static struct vw_mirror *mirror_alloc(void)
{
	struct vw_mirror *m = calloc(1, sizeof(*m));
	void *mem;

	if (!m)
		return NULL;
	m->rings = aligned_alloc(64, sizeof(struct ring) * VW_MAX_WORKERS);
	mem = mmap(NULL, (size_t)VW_MIRROR_RING * VW_MAX_WORKERS, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!m->rings || mem == MAP_FAILED) {
		free(m->rings);
		if (mem != MAP_FAILED)
			munmap(mem, (size_t)VW_MIRROR_RING * VW_MAX_WORKERS);
		free(m);
		return NULL;
	}
	memset(m->rings, 0, sizeof(struct ring) * VW_MAX_WORKERS);
	for (int w = 0; w < VW_MAX_WORKERS; w++)
		m->rings[w].buf = (uint8_t *)mem + (size_t)w * VW_MIRROR_RING;
	m->obs_link = (struct mirror_obs){ { mirror_obs_fn, 0 }, m };
	m->obs_stub = (struct mirror_obs){ { mirror_obs_fn, VW_OBS_OUT }, m };
	return m;
}

static void mirror_free(struct vw_mirror *m)
{
	if (m->has_prog)
		pcap_freecode(&m->prog);
	munmap(m->rings[0].buf, (size_t)VW_MIRROR_RING * VW_MAX_WORKERS);
	free(m->rings);
	free(m);
}

static int filter_compile(struct vw_mirror *m, const char *filter, char *err, size_t errlen)
{
	char why[512];
	int rc;

	if (!filter || !*filter)
		return 0;
	if (strlen(filter) >= sizeof(m->filter) || strchr(filter, '\n')) {
		ERR("%s: filter too long", m->name);
		return -EINVAL;
	}
	rc = vw_filter_compile(filter, &m->prog, why, sizeof(why));
	if (rc) {
		ERR("%s: %s", m->name, why);
		return rc;
	}
	m->has_prog = true;
	snprintf(m->filter, sizeof(m->filter), "%s", filter);
	return 0;
}

static bool is_source(const struct vw_mirror *m, const char *name)
{
	for (int i = 0; i < m->nsrc; i++)
		if (!strcmp(m->src[i], name))
			return true;
	return false;
}

/* The observers a VNIC's or uplink's port gets from mirror m. */
static void attach_port(struct vw_mirror *m, struct vw_link *l, struct vw_port *port)
{
	bool explicit = is_source(m, l->name);

	if (!port || (m->kind == VW_MIRROR_LINK && !strcmp(l->name, m->dlink)))
		return;
	if (explicit)
		vw_obs_add(port, &m->obs_link.obs);
	/* an etherstub's member: what it sends, unless its own -d has it */
	if (link_on_portless(l) && is_source(m, l->over->name) &&
	    !(explicit && (m->dir & VW_OBS_OUT)))
		vw_obs_add(port, &m->obs_stub.obs);
}

static void detach_port(struct vw_mirror *m, struct vw_port *port)
{
	if (!port)
		return;
	vw_obs_del(port, &m->obs_link.obs);
	vw_obs_del(port, &m->obs_stub.obs);
}

static void attach_all(struct vw_mirror *m)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		attach_port(m, l, link_port(l));
}

static void detach_all(struct vw_mirror *m)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		detach_port(m, link_port(l));
}

static void set_dport(struct vw_mirror *m, struct vw_port *p)
{
	pthread_mutex_lock(&lock);
	m->dport = p;
	pthread_mutex_unlock(&lock);
}

static void unlink_mirror(struct vw_mirror *m)
{
	struct vw_mirror **pp;

	detach_all(m); /* after this no worker writes its rings */
	pthread_mutex_lock(&lock);
	for (pp = &mirrors; *pp && *pp != m; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = m->next;
	pthread_mutex_unlock(&lock);
}

static void mirror_watch(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg);

static void maybe_stop(void)
{
	if (mirrors)
		return;
	sender_end();
	if (watching) {
		link_unwatch(mirror_watch, NULL);
		watching = false;
	}
}

/* Links come and go: sources follow their ports; a destination link that
 * goes leaves the mirror counting drops until a link of its name is back. */
static void mirror_watch(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg)
{
	struct vw_mirror *m, *next;

	(void)arg;
	for (m = mirrors; m; m = next) {
		next = m->next;
		switch (ev) {
		case VW_LINK_PORT_UP:
			attach_port(m, l, port);
			if (m->kind == VW_MIRROR_LINK && !strcmp(l->name, m->dlink))
				set_dport(m, port);
			break;
		case VW_LINK_PORT_DOWN:
			detach_port(m, port);
			if (m->kind == VW_MIRROR_LINK && m->dport == port)
				set_dport(m, NULL);
			break;
		case VW_LINK_DELETED:
			/* a deleted VNIC or etherstub is no source any more */
			for (int i = 0; i < m->nsrc; i++)
				if (!strcmp(m->src[i], l->name)) {
					memmove(m->src[i], m->src[i + 1], sizeof(m->src[0]) * (size_t)(m->nsrc - i - 1));
					m->nsrc--;
					break;
				}
			if (!m->nsrc) {
				/* nothing left to mirror: it goes, as a VNIC's flows do */
				unlink_mirror(m);
				mirror_free(m);
			}
			break;
		}
	}
	maybe_stop();
}

static struct vw_mirror *mirror_find(const char *name)
{
	struct vw_mirror *m;

	for (m = mirrors; m && strcmp(m->name, name); m = m->next)
		;
	return m;
}

static int parse_dest(struct vw_mirror *m, const char *dest, char *err, size_t errlen)
{
	char buf[64], *opt, *ip;
	uint64_t v;

	if (strlen(dest) >= sizeof(buf)) {
		ERR("%s: bad destination '%.40s...'", m->name, dest);
		return -EINVAL;
	}
	snprintf(m->dest, sizeof(m->dest), "%s", dest);
	if (strncmp(dest, "gre:", 4) && strncmp(dest, "erspan:", 7)) {
		struct vw_link *l = link_find(dest);

		if (!l || l->cls->portless) {
			ERR("%s: %s '%s' (a VNIC, an attached phys link, gre:IP[,key=N] or erspan:IP[,session=N])",
			    m->name, l ? "cannot send to etherstub" : "bad destination: no such link", dest);
			return l ? -EINVAL : -ENOENT;
		}
		m->kind = VW_MIRROR_LINK;
		snprintf(m->dlink, sizeof(m->dlink), "%s", dest);
		return 0;
	}
	m->kind = dest[0] == 'g' ? VW_MIRROR_GRE : VW_MIRROR_ERSPAN;
	snprintf(buf, sizeof(buf), "%s", strchr(dest, ':') + 1);
	ip = buf;
	opt = strchr(buf, ',');
	if (opt)
		*opt++ = 0;
	m->daddr.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &m->daddr.sin_addr) != 1 || !m->daddr.sin_addr.s_addr ||
	    IN_MULTICAST(ntohl(m->daddr.sin_addr.s_addr)) || m->daddr.sin_addr.s_addr == INADDR_BROADCAST) {
		ERR("%s: bad destination address '%s' (a unicast IPv4 address)", m->name, ip);
		return -EINVAL;
	}
	if (!opt)
		return 0;
	if (m->kind == VW_MIRROR_GRE && !strncmp(opt, "key=", 4) && vw_uint_parse(opt + 4, 0, UINT32_MAX, &v)) {
		m->has_key = true;
		m->key = (uint32_t)v;
	} else if (m->kind == VW_MIRROR_ERSPAN && !strncmp(opt, "session=", 8) && vw_uint_parse(opt + 8, 0, 1023, &v)) {
		m->session = (uint16_t)v;
	} else {
		ERR("%s: bad destination option '%s' (%s)", m->name, opt,
		    m->kind == VW_MIRROR_GRE ? "key=0..4294967295" : "session=0..1023");
		return -EINVAL;
	}
	return 0;
}

static int parse_sources(struct vw_mirror *m, const char *links, char *err, size_t errlen)
{
	char buf[MAX_SOURCES * (VW_LINKNAME_MAX + 2)], *p, *save = NULL;

	if (strlen(links) >= sizeof(buf)) {
		ERR("%s: too many links (at most %d)", m->name, MAX_SOURCES);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", links);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (!link_find(p)) {
			ERR("%s: no such link '%s'", m->name, p);
			return -ENOENT;
		}
		if (is_source(m, p)) {
			ERR("%s: link '%s' given twice", m->name, p);
			return -EINVAL;
		}
		if (m->nsrc == MAX_SOURCES) {
			ERR("%s: too many links (at most %d)", m->name, MAX_SOURCES);
			return -EINVAL;
		}
		snprintf(m->src[m->nsrc++], sizeof(m->src[0]), "%s", p);
	}
	if (!m->nsrc) {
		ERR("%s: no link to mirror", m->name);
		return -EINVAL;
	}
	return 0;
}

int mirror_create(const char *name, const char *links, const char *dir, const char *filter, const char *dest,
		  char *err, size_t errlen)
{
	struct vw_mirror *m, **pp;
	struct vw_link *dl;
	int rc;

	if (!vw_flowname_valid(name)) {
		ERR("%s: invalid mirror name (1-31 characters of A-Z a-z 0-9 _ . -, starting with a letter)", name);
		return -EINVAL;
	}
	if (mirror_find(name)) {
		ERR("%s: mirror already exists", name);
		return -EEXIST;
	}
	m = mirror_alloc();
	if (!m) {
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	if (!dir || !strcmp(dir, "both")) {
		m->dir = VW_OBS_IN | VW_OBS_OUT;
	} else if (!strcmp(dir, "in")) {
		m->dir = VW_OBS_IN;
	} else if (!strcmp(dir, "out")) {
		m->dir = VW_OBS_OUT;
	} else {
		ERR("%s: bad direction '%s' (in, out or both)", name, dir);
		rc = -EINVAL;
		goto fail;
	}
	m->obs_link.obs.dir = m->dir;
	if ((rc = parse_sources(m, links, err, errlen)) || (rc = parse_dest(m, dest, err, errlen)) ||
	    (rc = filter_compile(m, filter, err, errlen)))
		goto fail;
	if (m->kind == VW_MIRROR_LINK && is_source(m, m->dlink)) {
		ERR("%s: link '%s' is a source of the mirror; it cannot be its destination too", name, m->dlink);
		rc = -EINVAL;
		goto fail;
	}
	if (m->kind != VW_MIRROR_LINK && (rc = raw_open(err, errlen)))
		goto fail;
	if ((rc = sender_start(err, errlen)))
		goto fail;
	if (!watching && link_watch(mirror_watch, NULL) == 0)
		watching = true;
	if (!watching) {
		ERR("%s: cannot watch links", name);
		rc = -ENOSPC;
		goto fail;
	}
	if (m->kind == VW_MIRROR_LINK && (dl = link_find(m->dlink)))
		m->dport = link_port(dl);
	/* at the end: show and export list them in the order made */
	for (pp = &mirrors; *pp; pp = &(*pp)->next)
		;
	pthread_mutex_lock(&lock);
	*pp = m;
	pthread_mutex_unlock(&lock);
	attach_all(m);
	return 0;
fail:
	mirror_free(m);
	maybe_stop();
	return rc;
}

int mirror_delete(const char *name, char *err, size_t errlen)
{
	struct vw_mirror *m = mirror_find(name);

	if (!m) {
		ERR("%s: no such mirror", name);
		return -ENOENT;
	}
	unlink_mirror(m);
	mirror_free(m);
	maybe_stop();
	return 0;
}

int mirror_check_delete(const char *link, char *err, size_t errlen)
{
	struct vw_mirror *m;

	for (m = mirrors; m; m = m->next)
		if (m->kind == VW_MIRROR_LINK && !strcmp(m->dlink, link)) {
			ERR("%s: destination of mirror %s; delete the mirror first", link, m->name);
			return -EBUSY;
		}
	return 0;
}

static const char *dir_name(unsigned dir)
{
	return dir == VW_OBS_IN ? "in" : dir == VW_OBS_OUT ? "out" : "both";
}

static void links_text(const struct vw_mirror *m, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < m->nsrc && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", m->src[i]);
}

int mirror_show(const char *const *names, int n, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_mirror *m;
	int i;

	for (i = 0; i < n; i++)
		if (!mirror_find(names[i])) {
			ERR("%s: no such mirror", names[i]);
			return -ENOENT;
		}
	for (m = mirrors; m; m = m->next) {
		uint64_t drops = __atomic_load_n(&m->send_drops, __ATOMIC_RELAXED);
		char links[MAX_SOURCES * (VW_LINKNAME_MAX + 1)];
		bool want = !n;

		for (i = 0; i < n && !want; i++)
			want = !strcmp(names[i], m->name);
		if (!want)
			continue;
		for (i = 0; i < VW_MAX_WORKERS; i++)
			drops += __atomic_load_n(&m->rings[i].drops, __ATOMIC_RELAXED);
		links_text(m, links, sizeof(links));
		vw_buf_kv(out, "record", "mirror");
		vw_buf_kv(out, "mirror", "%s", m->name);
		vw_buf_kv(out, "links", "%s", links);
		vw_buf_kv(out, "dir", "%s", dir_name(m->dir));
		vw_buf_kv(out, "filter", "%s", m->filter);
		vw_buf_kv(out, "dest", "%s", m->dest);
		vw_buf_kv(out, "pkts", "%lu", __atomic_load_n(&m->sent_pkts, __ATOMIC_RELAXED));
		vw_buf_kv(out, "bytes", "%lu", __atomic_load_n(&m->sent_bytes, __ATOMIC_RELAXED));
		vw_buf_kv(out, "drops", "%lu", drops);
	}
	return 0;
}

void mirrors_export(struct vw_buf *out)
{
	struct vw_mirror *m;
	char links[MAX_SOURCES * (VW_LINKNAME_MAX + 1)], q[2 * FILTER_MAX + 8];

	for (m = mirrors; m; m = m->next) {
		links_text(m, links, sizeof(links));
		vw_buf_printf(out, "create-mirror -l %s", links);
		if (m->dir != (VW_OBS_IN | VW_OBS_OUT))
			vw_buf_printf(out, " -d %s", dir_name(m->dir));
		if (m->filter[0] && vw_word_quote(m->filter, q, sizeof(q)))
			vw_buf_printf(out, " -f %s", q);
		vw_buf_printf(out, " -t %s %s\n", m->dest, m->name);
	}
}

void mirrors_destroy_all(void)
{
	while (mirrors) {
		struct vw_mirror *m = mirrors;

		unlink_mirror(m);
		mirror_free(m);
	}
	maybe_stop();
	if (raw_fd >= 0)
		close(raw_fd);
	raw_fd = -1;
	if (wake_fd >= 0)
		close(wake_fd);
	wake_fd = -1;
	free(ss.gso);
	ss.gso = NULL;
	if (ss.carriers)
		munmap(ss.carriers, ss.carriers_len);
	ss.carriers = NULL;
}

/* ---- for the unit tests ---- */

struct vw_mirror *vw_mirror_test_new(struct vw_port *port, unsigned dir, const char *filter, char *err,
				     size_t errlen)
{
	struct vw_mirror *m = mirror_alloc();

	if (!m) {
		ERR("out of memory");
		return NULL;
	}
	snprintf(m->name, sizeof(m->name), "test");
	m->dir = dir;
	m->obs_link.obs.dir = dir;
	if (filter_compile(m, filter, err, errlen) || vw_obs_add(port, &m->obs_link.obs)) {
		mirror_free(m);
		return NULL;
	}
	m->dport = port; /* remembered for the free */
	return m;
}

bool vw_mirror_test_next(struct vw_mirror *m, int w, const uint8_t **frame, uint32_t *len)
{
	struct ring *r = &m->rings[w];
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	while (r->tail != head) {
		struct rec *rec = (struct rec *)(r->buf + (r->tail & (VW_MIRROR_RING - 1)));

		r->tail += rec->size;
		if (rec->len != REC_PAD) {
			*frame = (const uint8_t *)(rec + 1);
			*len = rec->len;
			return true;
		}
	}
	return false;
}

int vw_mirror_test_send(struct vw_mirror *m, struct vw_port *to, char *err, size_t errlen)
{
	struct vw_port *watched = m->dport; /* a test mirror's source */
	int rc = sender_alloc(err, errlen), w;

	if (rc)
		return rc;
	m->kind = VW_MIRROR_LINK;
	m->dport = to;
	for (w = 0; w < VW_MAX_WORKERS; w++)
		while (drain(m, &m->rings[w]) > 0)
			;
	m->dport = watched;
	return 0;
}

void vw_mirror_test_counts(struct vw_mirror *m, uint64_t *copied, uint64_t *drops)
{
	*copied = *drops = 0;
	for (int w = 0; w < VW_MAX_WORKERS; w++) {
		*copied += m->rings[w].copied;
		*drops += m->rings[w].drops;
	}
}

void vw_mirror_test_free(struct vw_mirror *m)
{
	vw_obs_del(m->dport, &m->obs_link.obs);
	mirror_free(m);
}
