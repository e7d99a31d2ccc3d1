/* Packet capture: the engine and the snoop sessions (observability/capture.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <pcap/pcap.h>

#include "observability/loop.h"
#include "datapath/observe.h"
#include "datapath/worker.h"
#include "objects/link.h"
#include "observability/capture.h"
#include "observability/filter.h"

/* ---- the engine ---- */

/*
 * A worker's ring of pcap records: [ts_sec ts_nsec caplen len] then the
 * frame, padded to 8 bytes.  A record never wraps: when the room left at
 * the end is too small, the producer writes a marker there (ts_nsec
 * 0xffffffff; records are 8-aligned, so 8 bytes always remain) and starts
 * again at 0.  head and tail count bytes; each side publishes its own with
 * a release store, once per batch for the producer.
 */
struct cap_ring {
	uint64_t head;       /* producer's */
	uint64_t tail_cache; /* the producer's last view of tail */
	uint64_t drops;      /* frames it had no room for (producer writes) */
	char pad1[40];
	uint64_t tail;       /* consumer's */
	char pad2[56];
	uint8_t *mem;
	uint64_t mask;
} __attribute__((aligned(64)));

#define CAP_WRAP 0xffffffffu
#define CAP_HDR 16u

struct cap_port {
	struct vw_obs obs;
	struct vw_cap *cap;
	struct vw_port *port;
	struct cap_port *next;
};

struct vw_cap {
	struct cap_ring ring[VW_MAX_WORKERS];
	struct bpf_program prog;
	bool filtered;
	struct cap_port *ports;
};

static inline uint32_t rec_size(uint32_t caplen)
{
	return CAP_HDR + ((caplen + 7u) & ~7u);
}

/* Worker side: the observer. */
static void cap_obs_fn(struct vw_obs *obs, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts, int n,
		       bool tagged)
{
	struct cap_port *cp = (struct cap_port *)obs; /* obs is its first member */
	struct vw_cap *c = cp->cap;
	struct cap_ring *r = &c->ring[w];
	uint64_t head = r->head, size = r->mask + 1, drops = 0;
	struct timespec ts = { 0, 0 };
	bool stamped = false;
	int i;

	(void)port;
	(void)dir;
	for (i = 0; i < n; i++) {
		const struct vw_pkt *pkt = pkts[i];
		uint32_t len = vw_obs_len(pkt, tagged), need = rec_size(len);
		uint64_t pos = head & r->mask, contig = size - pos, total;
		uint32_t *hdr;

		/* the frame as it is in the buffer is the frame on the link:
		 * filter it there, so a filter that matches nothing copies nothing */
		if (c->filtered && len == pkt->len && !bpf_filter(c->prog.bf_insns, pkt->data, len, len))
			continue;
		total = need + (need > contig ? contig : 0);
		if (size - (head - r->tail_cache) < total) {
			r->tail_cache = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
			if (size - (head - r->tail_cache) < total) {
				drops++;
				continue;
			}
		}
		if (need > contig) {
			((uint32_t *)(r->mem + pos))[1] = CAP_WRAP;
			head += contig;
			pos = 0;
		}
		hdr = (uint32_t *)(r->mem + pos);
		vw_obs_copy(pkt, tagged, r->mem + pos + CAP_HDR, len);
		/* with a tag inserted, the copy is what the filter must see */
		if (c->filtered && len != pkt->len && !bpf_filter(c->prog.bf_insns, r->mem + pos + CAP_HDR, len, len))
			continue;
		if (!stamped) { /* vDSO: at most one per batch */
			clock_gettime(CLOCK_REALTIME, &ts);
			stamped = true;
		}
		hdr[0] = (uint32_t)ts.tv_sec;
		hdr[1] = (uint32_t)ts.tv_nsec;
		hdr[2] = len;
		hdr[3] = len;
		head += need;
	}
	if (drops)
		__atomic_store_n(&r->drops, r->drops + drops, __ATOMIC_RELAXED);
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
}

struct vw_cap *vw_cap_new(const char *filter, uint32_t ringsize, char *err, size_t errlen)
{
	struct vw_cap *c;
	int w;

	/* the largest record, and the end of the ring it may skip, fit */
	if (ringsize < (256u << 10) || (ringsize & (ringsize - 1))) {
		snprintf(err, errlen, "capture ring size %u is not a power of two of at least 256 KiB", ringsize);
		return NULL;
	}
	c = aligned_alloc(64, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	if (filter && *filter) {
		if (vw_filter_compile(filter, &c->prog, err, errlen)) {
			free(c);
			return NULL;
		}
		c->filtered = true;
	}
	for (w = 0; w < VW_MAX_WORKERS; w++) {
		/* pages are touched only as a worker fills its ring */
		c->ring[w].mem = calloc(1, ringsize);
		c->ring[w].mask = ringsize - 1;
		if (!c->ring[w].mem) {
			snprintf(err, errlen, "out of memory");
			vw_cap_free(c);
			return NULL;
		}
	}
	return c;
}

int vw_cap_add_port(struct vw_cap *c, struct vw_port *port, unsigned dir)
{
	struct cap_port *cp;
	int rc;

	if (vw_cap_has_port(c, port))
		return -EEXIST;
	cp = calloc(1, sizeof(*cp));
	if (!cp)
		return -ENOMEM;
	cp->obs.fn = cap_obs_fn;
	cp->obs.dir = dir;
	cp->cap = c;
	cp->port = port;
	rc = vw_obs_add(port, &cp->obs);
	if (rc) {
		free(cp);
		return rc;
	}
	cp->next = c->ports;
	c->ports = cp;
	return 0;
}

int vw_cap_del_port(struct vw_cap *c, struct vw_port *port)
{
	struct cap_port **pp, *cp;

	for (pp = &c->ports; (cp = *pp); pp = &cp->next)
		if (cp->port == port) {
			*pp = cp->next;
			vw_obs_del(port, &cp->obs);
			free(cp);
			return 0;
		}
	return -ENOENT;
}

bool vw_cap_has_port(const struct vw_cap *c, const struct vw_port *port)
{
	const struct cap_port *cp;

	for (cp = c->ports; cp; cp = cp->next)
		if (cp->port == port)
			return true;
	return false;
}

/* The record at the ring's tail, skipping a wrap marker; NULL if none. */
static const uint32_t *ring_peek(struct cap_ring *r)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	while (r->tail != head) {
		uint64_t pos = r->tail & r->mask;
		const uint32_t *h = (const uint32_t *)(r->mem + pos);

		if (h[1] != CAP_WRAP)
			return h;
		__atomic_store_n(&r->tail, r->tail + (r->mask + 1 - pos), __ATOMIC_RELEASE);
	}
	return NULL;
}

size_t vw_cap_read(struct vw_cap *c, uint8_t *buf, size_t room, uint64_t max, uint64_t *nrec)
{
	size_t used = 0;
	uint64_t n = 0;

	while (!max || n < max) {
		const uint32_t *best = NULL, *h;
		struct cap_ring *br = NULL;
		int w;

		/* merge the workers' rings by time */
		for (w = 0; w < VW_MAX_WORKERS; w++) {
			h = ring_peek(&c->ring[w]);
			if (h && (!best || h[0] < best[0] || (h[0] == best[0] && h[1] < best[1]))) {
				best = h;
				br = &c->ring[w];
			}
		}
		if (!best)
			break;
		if (buf) {
			if (room - used < CAP_HDR + best[2])
				break;
			memcpy(buf + used, best, CAP_HDR + best[2]);
			used += CAP_HDR + best[2];
		}
		__atomic_store_n(&br->tail, br->tail + rec_size(best[2]), __ATOMIC_RELEASE);
		n++;
	}
	*nrec = n;
	return used;
}

uint64_t vw_cap_drops(const struct vw_cap *c)
{
	uint64_t d = 0;
	int w;

	for (w = 0; w < VW_MAX_WORKERS; w++)
		d += __atomic_load_n(&c->ring[w].drops, __ATOMIC_RELAXED);
	return d;
}

void vw_cap_free(struct vw_cap *c)
{
	int w;

	if (!c)
		return;
	while (c->ports)
		vw_cap_del_port(c, c->ports->port);
	for (w = 0; w < VW_MAX_WORKERS; w++)
		free(c->ring[w].mem);
	if (c->filtered)
		pcap_freecode(&c->prog);
	free(c);
}

void vw_cap_file_header(uint8_t hdr[24])
{
	uint32_t h[6] = { VW_PCAP_MAGIC_NS, 2u | 4u << 16, 0, 0, VW_CAP_SNAPLEN, DLT_EN10MB };

	memcpy(hdr, h, sizeof(h));
}

/* ---- snoop sessions ---- */

#define OUT_MAX (4u << 20) /* bytes waiting for the client */
#define TRAILER_ROOM 128u

struct snoop {
	struct snoop *next;
	char link[VW_LINKNAME_MAX + 1];
	struct vw_link *l;  /* NULL once it is gone */
	struct vw_cap *cap;
	int fd;             /* -1 until the connection is handed over */
	bool stub;          /* an etherstub: what every VNIC on it sends */
	unsigned dir;
	uint64_t count, sent;
	const char *ending; /* the trailer's reason once it is written */
	uint8_t *out;
	size_t off, len;
};

static struct snoop *sessions;
static int tfd = -1;
static bool watching;

static void snoop_free(struct snoop *s)
{
	struct snoop **pp;

	for (pp = &sessions; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	vw_cap_free(s->cap);
	if (s->fd >= 0)
		close(s->fd);
	free(s->out);
	free(s);
	if (!sessions && tfd >= 0)
		timerfd_settime(tfd, 0, &(struct itimerspec){ { 0, 0 }, { 0, 0 } }, NULL);
}

/* Moves what the rings hold to the output, as far as it has room: what
 * does not fit waits in the rings, which drop (and count) once full. */
static void snoop_drain(struct snoop *s)
{
	uint64_t n, left = s->count ? s->count - s->sent : 0;

	if (s->count && !left)
		return;
	if (s->off == s->len) {
		s->off = s->len = 0;
	} else if (s->off && OUT_MAX - s->len < OUT_MAX / 2) {
		memmove(s->out, s->out + s->off, s->len - s->off);
		s->len -= s->off;
		s->off = 0;
	}
	s->len += vw_cap_read(s->cap, s->out + s->len, OUT_MAX - TRAILER_ROOM - s->len, left, &n);
	s->sent += n;
}

/* Stops capturing and writes the trailer (once). */
static void snoop_end(struct snoop *s, const char *reason)
{
	struct timespec ts;
	char text[TRAILER_ROOM - CAP_HDR];
	uint64_t lost;
	uint32_t h[4];
	int n;

	if (s->ending)
		return;
	while (s->cap->ports)
		vw_cap_del_port(s->cap, s->cap->ports->port);
	snoop_drain(s);
	/* what the client had no room for yet is lost */
	vw_cap_read(s->cap, NULL, 0, 0, &lost);
	if (s->count && s->sent >= s->count)
		lost = 0;
	s->ending = reason;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(text, sizeof(text), "vwsnoop end=%s drops=%lu", reason,
		     (unsigned long)(vw_cap_drops(s->cap) + lost));
	h[0] = (uint32_t)ts.tv_sec;
	h[1] = (uint32_t)ts.tv_nsec;
	h[2] = (uint32_t)n;
	h[3] = 0; /* the mark of the trailer */
	memcpy(s->out + s->len, h, sizeof(h));
	memcpy(s->out + s->len + sizeof(h), text, (size_t)n);
	s->len += sizeof(h) + (size_t)n;
}

/* Writes what the client takes; false when it is gone. */
static bool snoop_flush(struct snoop *s)
{
	while (s->off < s->len) {
		ssize_t w = send(s->fd, s->out + s->off, s->len - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (w <= 0)
			return false;
		s->off += (size_t)w;
	}
	return true;
}

static void snoop_run(struct snoop *s)
{
	char buf[256];
	ssize_t r;

	if (s->fd < 0)
		return;
	/* the client half-closes (vwsnoop on SIGINT) to ask for the end */
	r = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		if (r < 0) {
			snoop_free(s);
			return;
		}
		snoop_end(s, "stopped");
	}
	if (!s->ending) {
		snoop_drain(s);
		if (s->count && s->sent >= s->count)
			snoop_end(s, "count");
	}
	if (!snoop_flush(s) || (s->ending && s->off == s->len))
		snoop_free(s);
}

static void capture_run(void)
{
	struct snoop *s, *next;
	uint64_t ticks;

	if (tfd >= 0 && read(tfd, &ticks, sizeof(ticks)) < 0)
		errno = 0;
	for (s = sessions; s; s = next) {
		next = s->next;
		snoop_run(s);
	}
}

static int capture_timeout(void)
{
	return -1;
}

/* Follows links: an etherstub's VNICs, and the end of a captured link. */
static void capture_watch(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg)
{
	struct snoop *s, *next;

	(void)arg;
	for (s = sessions; s; s = next) {
		next = s->next;
		if (s->ending)
			continue;
		switch (ev) {
		case VW_LINK_PORT_UP:
			if (s->stub && l->over == s->l && !vw_cap_has_port(s->cap, port) &&
			    vw_cap_add_port(s->cap, port, VW_OBS_OUT))
				fprintf(stderr, "vwired: snoop on %s: cannot watch %s\n", s->link, l->name);
			break;
		case VW_LINK_PORT_DOWN:
			vw_cap_del_port(s->cap, port);
			if (s->l == l) {
				s->l = NULL;
				snoop_end(s, l->cls->on_demand ? "detached" : "deleted");
			}
			break;
		case VW_LINK_DELETED:
			if (s->l == l) {
				s->l = NULL;
				snoop_end(s, "deleted");
			}
			break;
		}
	}
}

/* The connection, once the reply is complete (loop_take_client). */
static void snoop_take(int fd, const char *reply, size_t len, void *arg)
{
	struct snoop *s = arg;

	if (len > OUT_MAX / 2) { /* cannot happen: a reply is a few lines */
		close(fd);
		snoop_free(s);
		return;
	}
	s->fd = fd;
	memmove(s->out + len, s->out, s->len);
	memcpy(s->out, reply, len);
	s->len += len;
	snoop_run(s);
}

int capture_snoop(const struct vw_cmd *cmd, char *err, size_t errlen)
{
	const char *name = vw_cmd_opt(cmd, 'l'), *d = vw_cmd_opt(cmd, 'd'), *cnt = vw_cmd_opt(cmd, 'c');
	struct vw_link *l = link_find(name);
	struct snoop *s;
	unsigned dir = VW_OBS_IN | VW_OBS_OUT;
	uint64_t count = 0;
	int rc = 0;

	if (!l) {
		if (link_named(name))
			snprintf(err, errlen, "%s: phys link not attached (it has no VNIC), nothing to capture", name);
		else
			snprintf(err, errlen, "%s: no such link", name);
		return -ENOENT;
	}
	if (d && !strcmp(d, "in"))
		dir = VW_OBS_IN;
	else if (d && !strcmp(d, "out"))
		dir = VW_OBS_OUT;
	else if (d && strcmp(d, "both")) {
		snprintf(err, errlen, "invalid direction '%s' (in, out or both)", d);
		return -EINVAL;
	}
	if (d && dir != (VW_OBS_IN | VW_OBS_OUT) && l->cls->portless) {
		snprintf(err, errlen, "%s: an etherstub has no direction (-d applies to VNICs and phys links)", name);
		return -EINVAL;
	}
	if (cnt && !vw_uint_parse(cnt, 1, UINT32_MAX, &count)) {
		snprintf(err, errlen, "invalid count '%s' (1 to %u)", cnt, UINT32_MAX);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->out = malloc(OUT_MAX))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->cap = vw_cap_new(vw_cmd_opt(cmd, 'f'), VW_CAP_RING, err, errlen);
	if (!s->cap) {
		free(s->out);
		free(s);
		return -EINVAL;
	}
	snprintf(s->link, sizeof(s->link), "%s", l->name);
	s->l = l;
	s->fd = -1;
	s->dir = dir;
	s->count = count;
	s->stub = l->cls->portless;
	vw_cap_file_header(s->out);
	s->len = 24;
	if (!watching) {
		if ((rc = link_watch(capture_watch, NULL))) {
			snprintf(err, errlen, "%s: cannot follow links: %s", name, strerror(-rc));
			goto fail;
		}
		watching = true;
	}
	if (tfd < 0) {
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tfd < 0) {
			rc = -errno;
			snprintf(err, errlen, "%s: cannot start: %s", name, strerror(-rc));
			goto fail;
		}
		if ((rc = loop_add_poll(tfd, capture_run, capture_timeout))) {
			close(tfd);
			tfd = -1;
			snprintf(err, errlen, "%s: cannot start: %s", name, strerror(-rc));
			goto fail;
		}
	}
	if (s->stub) {
		struct vw_link *v;

		/* every frame on an etherstub is sent by one of its VNICs: seen once */
		for (v = vw_links; v && !rc; v = v->next)
			if (v->over == l && link_port(v))
				rc = vw_cap_add_port(s->cap, link_port(v), VW_OBS_OUT);
	} else {
		rc = vw_cap_add_port(s->cap, link_port(l), dir);
	}
	if (rc) {
		snprintf(err, errlen, "%s: cannot capture: %s", name, strerror(-rc));
		goto fail;
	}
	if ((rc = loop_take_client(snoop_take, s))) {
		snprintf(err, errlen, "snoop: only a client's connection can carry a capture");
		goto fail;
	}
	s->next = sessions;
	sessions = s;
	timerfd_settime(tfd, 0, &(struct itimerspec){ { 0, 10000000 }, { 0, 10000000 } }, NULL);
	return 0;
fail:
	vw_cap_free(s->cap);
	free(s->out);
	free(s);
	return rc < 0 ? rc : -EINVAL;
}

void capture_stop_all(void)
{
	while (sessions) {
		snoop_end(sessions, "shutdown");
		snoop_flush(sessions);
		snoop_free(sessions);
	}
	if (watching)
		link_unwatch(capture_watch, NULL);
	watching = false;
	if (tfd >= 0)
		close(tfd);
	tfd = -1;
}
