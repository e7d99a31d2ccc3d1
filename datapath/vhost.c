/*
 * The vhost-user protocol, back-end side: see datapath/vhost.h.
 *
 * Lifetimes: a connection owns the memory table (each region mapped once,
 * unmapped on a new table, RESET_OWNER or the connection's end) and every
 * ring's eventfds.  A ring runs ("live": in the published map, its kick in
 * its worker's kick set) while it has a size, addresses inside the table, a
 * kick and is enabled; any message that changes it, or the table, takes it
 * out first (rings_stop: new map, grace period) and puts it back after
 * (rings_start), so a worker never sees a ring half changed or memory
 * unmapped under it.  GET_VRING_BASE stops a ring until its next kick fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "datapath/rcu.h"
#include "datapath/vhost.h"
#include "datapath/worker.h"

#define RETRY_NS 1000000000ull /* client mode: connect again after 1 s */
/* Client mode: a front-end that says nothing this long after we connected
 * missed the connection (QEMU 7.2 misses one that comes while it is still
 * tearing down the last: its handlers are unset for a moment), and will
 * not start talking on it; we connect again. */
#define SILENT_NS (3 * RETRY_NS)
#define MSGS_PER_RUN 64        /* messages handled per call, then yield */

int vw_vhost_log = 1;

struct ring {
	struct vw_virtq vq; /* what workers see while the ring is live */
	uint64_t a_desc, a_used, a_avail;
	bool addr_set;
	uint32_t num;
	uint16_t base;
	int kick, call, err;
	bool started; /* a kick fd came since the ring last stopped */
	bool enabled;
	bool live;
	int worker;   /* a live transmit ring: whose kick set holds its kick */
};

struct vw_vhost {
	struct vw_vhost_head h; /* first: the published map */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	bool client;
	int nworkers;
	int lfd, cfd;
	int kickset[VW_MAX_WORKERS];
	enum vw_vhost_state state;
	void (*notify)(void *arg, enum vw_vhost_state st);
	void *notify_arg;
	/* the message being read, and the fds that came with it */
	uint8_t msg[VHOST_USER_HDR_SIZE + VHOST_USER_PAYLOAD_MAX];
	size_t have;
	int fds[VW_VMEM_MAX];
	int nfds;
	bool fds_over;
	/* what was negotiated */
	uint64_t features, proto;
	struct vw_vmem mem;
	struct ring ring[VW_VHOST_NVQ];
	int steer;
	uint64_t next_try;
	uint64_t silent_until; /* client mode: connected, not heard from yet */
	bool heard;
	bool retry_logged;
	char why[160];
	struct vw_vhost_ctl_stats cst;
	struct vw_virtq_stats wst[VW_MAX_WORKERS];
	struct vw_vhost *next; /* every device, for vw_vhost_ctl_run */
};

static struct vw_vhost *devs;
static int ctl_epfd = -1;

static void vlog(const struct vw_vhost *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void vlog(const struct vw_vhost *dev, const char *fmt, ...)
{
	va_list ap;

	if (!vw_vhost_log)
		return;
	fprintf(stderr, "vwired: vhost-user %s: ", dev->path[0] ? dev->path : "(fd)");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Records why the message is refused; returns -1. */
static int bad(struct vw_vhost *dev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct vw_vhost *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->why, sizeof(dev->why), fmt, ap);
	va_end(ap);
	return -1;
}

const char *vw_vhost_state_name(enum vw_vhost_state st)
{
	switch (st) {
	case VW_VHOST_DISCONNECTED:
		return "disconnected";
	case VW_VHOST_CONNECTED:
		return "connected";
	case VW_VHOST_RUNNING:
		return "running";
	}
	return "?";
}

static void set_state(struct vw_vhost *dev, enum vw_vhost_state st)
{
	if (dev->state == st)
		return;
	dev->state = st;
	if (dev->notify)
		dev->notify(dev->notify_arg, st);
}

static void ctl_watch(struct vw_vhost *dev, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = dev };

	if (ctl_epfd >= 0 && fd >= 0)
		epoll_ctl(ctl_epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ctl_unwatch(int fd)
{
	if (ctl_epfd >= 0 && fd >= 0)
		epoll_ctl(ctl_epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- rings: publication to workers ---- */

static bool ring_ready(const struct vw_vhost *dev, const struct ring *r)
{
	return dev->mem.n && r->num && r->addr_set && r->started && r->enabled && r->kick >= 0;
}

/* Publishes the map of the live rings; the old one is freed after a grace
 * period, past which no worker holds a ring taken out of it. */
static void map_publish(struct vw_vhost *dev)
{
	struct vw_vhost_map *m = NULL, *old = dev->h.map;
	int i;

	for (i = 0; i < VW_VHOST_NVQ; i++)
		if (dev->ring[i].live && !m)
			m = calloc(1, sizeof(*m));
	if (m) {
		m->features = dev->features;
		for (i = 0; i < VW_VHOST_NVQ; i++) {
			struct ring *r = &dev->ring[i];

			if (!r->live)
				continue;
			if (i & 1)
				m->tx[r->worker][m->ntx[r->worker]++] = &r->vq;
			else
				m->rx[m->nrx++] = &r->vq;
		}
	} else {
		/* no ring runs (or out of memory: then none may, since a
		 * stopped ring must not stay visible) */
		for (i = 0; i < VW_VHOST_NVQ; i++)
			dev->ring[i].live = false;
	}
	vw_rcu_publish(&dev->h.map, m);
	vw_rcu_synchronize();
	free(old);
}

static void state_update(struct vw_vhost *dev)
{
	bool rx = false, tx = false;
	int i;

	for (i = 0; i < VW_VHOST_NVQ; i++)
		if (dev->ring[i].live)
			*(i & 1 ? &tx : &rx) = true;
	set_state(dev, dev->cfd < 0 ? VW_VHOST_DISCONNECTED : rx && tx ? VW_VHOST_RUNNING : VW_VHOST_CONNECTED);
}

/* Takes the live rings of mask (bit i: ring i) out of the workers' sight. */
static void rings_stop(struct vw_vhost *dev, uint32_t mask)
{
	uint32_t was = 0;
	int i;

	for (i = 0; i < VW_VHOST_NVQ; i++) {
		struct ring *r = &dev->ring[i];

		if (!(mask & (1u << i)) || !r->live)
			continue;
		r->live = false;
		was |= 1u << i;
		if (i & 1)
			epoll_ctl(dev->kickset[r->worker], EPOLL_CTL_DEL, r->kick, NULL);
	}
	if (!was)
		return;
	map_publish(dev);
	/* no worker touches them now: where they stopped is final */
	for (i = 0; i < VW_VHOST_NVQ; i++)
		if (was & (1u << i))
			dev->ring[i].base = vw_virtq_base(&dev->ring[i].vq, !(i & 1));
	state_update(dev);
}

/* Points the ring at guest memory; -1 (dev->why) when its addresses are
 * outside the table or misaligned. */
static int ring_translate(struct vw_vhost *dev, int i)
{
	struct ring *r = &dev->ring[i];
	struct vw_virtq *vq = &r->vq;
	uint64_t n = r->num;
	/* with EVENT_IDX each ring ends with the other side's event index */
	uint64_t ev = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX) ? 2 : 0;

	vq->desc = (struct vring_desc *)vw_vmem_uva(&dev->mem, r->a_desc, 16 * n);
	vq->avail = (struct vring_avail *)vw_vmem_uva(&dev->mem, r->a_avail, 6 + 2 * n + ev);
	vq->used = (struct vring_used *)vw_vmem_uva(&dev->mem, r->a_used, 6 + 8 * n + ev);
	if (!vq->desc || !vq->avail || !vq->used)
		return bad(dev, "ring %d: addresses (desc 0x%llx, avail 0x%llx, used 0x%llx, size %u) outside guest memory",
			   i, (unsigned long long)r->a_desc, (unsigned long long)r->a_avail,
			   (unsigned long long)r->a_used, r->num);
	if (((uintptr_t)vq->desc & 15) || ((uintptr_t)vq->avail & 1) || ((uintptr_t)vq->used & 3))
		return bad(dev, "ring %d: misaligned ring addresses", i);
	return 0;
}

/* Starts every ring that is ready and not running; -1 when one cannot be
 * translated (the caller drops the connection). */
static int rings_start(struct vw_vhost *dev)
{
	bool any = false, ver1 = dev->features & (1ull << VIRTIO_F_VERSION_1);
	bool mrg = dev->features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	uint32_t woken = 0;
	int i, rc = 0;

	for (i = 0; i < VW_VHOST_NVQ; i++) {
		struct ring *r = &dev->ring[i];
		struct vw_virtq *vq = &r->vq;

		if (r->live || !ring_ready(dev, r))
			continue;
		if (ring_translate(dev, i) < 0) {
			rc = -1;
			break;
		}
		vq->mem = &dev->mem;
		vq->num = (uint16_t)r->num;
		vq->mask = (uint16_t)(r->num - 1);
		vq->hdrlen = ver1 || mrg ? 12 : 10;
		vq->mrg = mrg;
		vq->event_idx = dev->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
		vq->idx = i;
		vq->kickfd = r->kick;
		vq->callfd = r->call;
		vw_virtq_start(vq, r->base);
		if (i & 1) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };

			r->worker = dev->steer >= 0 ? dev->steer : (i / 2) % dev->nworkers;
			if (epoll_ctl(dev->kickset[r->worker], EPOLL_CTL_ADD, r->kick, &ev) < 0) {
				rc = bad(dev, "ring %d: kick fd: %s", i, strerror(errno));
				break;
			}
			woken |= 1u << i;
		}
		r->live = true;
		any = true;
	}
	if (any)
		map_publish(dev);
	/* the guest may have made chains available before: its worker looks */
	for (i = 0; i < VW_VHOST_NVQ; i++)
		if (woken & (1u << i)) {
			uint64_t one = 1;

			if (write(dev->ring[i].kick, &one, sizeof(one)) < 0)
				continue;
		}
	state_update(dev);
	return rc;
}

static void vmem_unmap(struct vw_vmem *m)
{
	int i;

	for (i = 0; i < m->n; i++)
		munmap(m->r[i].map, m->r[i].maplen);
	m->n = 0;
}

/* Every ring stopped and forgotten, the memory unmapped: the device as a
 * new connection finds it (protocol features too with all). */
static void device_reset(struct vw_vhost *dev, bool all)
{
	int i;

	rings_stop(dev, ~0u);
	for (i = 0; i < VW_VHOST_NVQ; i++) {
		struct ring *r = &dev->ring[i];

		close_fd(&r->kick);
		close_fd(&r->call);
		close_fd(&r->err);
		memset(r, 0, sizeof(*r));
		r->kick = r->call = r->err = -1;
	}
	vmem_unmap(&dev->mem);
	dev->features = 0;
	if (all)
		dev->proto = 0;
}

static void fds_close(struct vw_vhost *dev)
{
	int i;

	for (i = 0; i < dev->nfds; i++)
		close(dev->fds[i]);
	dev->nfds = 0;
	dev->fds_over = false;
}

/* Ends the connection (error: why, counted and logged). */
static void conn_drop(struct vw_vhost *dev, bool error)
{
	if (dev->cfd < 0)
		return;
	if (error) {
		dev->cst.errors++;
		vlog(dev, "%s; connection dropped", dev->why);
	}
	device_reset(dev, true);
	fds_close(dev);
	dev->have = 0;
	ctl_unwatch(dev->cfd);
	close_fd(&dev->cfd);
	dev->cst.disconnects++;
	dev->next_try = vw_mono_ns() + RETRY_NS;
	set_state(dev, VW_VHOST_DISCONNECTED);
}

static void conn_set(struct vw_vhost *dev, int fd)
{
	dev->cfd = fd;
	dev->have = 0;
	dev->heard = false;
	dev->silent_until = vw_mono_ns() + SILENT_NS;
	dev->cst.connects++;
	if (dev->client)
		vlog(dev, "connected");
	dev->retry_logged = false;
	ctl_watch(dev, fd);
	set_state(dev, VW_VHOST_CONNECTED);
}

/* ---- messages ---- */

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static int reply(struct vw_vhost *dev, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t m[VHOST_USER_HDR_SIZE + 16];
	uint32_t h[3] = { htole32(req), htole32(VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY), htole32(size) };
	size_t len = VHOST_USER_HDR_SIZE + size;

	memcpy(m, h, sizeof(h));
	memcpy(m + VHOST_USER_HDR_SIZE, payload, size);
	if (send(dev->cfd, m, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		return bad(dev, "request %u: cannot reply: %s", req, strerror(errno));
	return 0;
}

static int reply64(struct vw_vhost *dev, uint32_t req, uint64_t v)
{
	v = htole64(v);
	return reply(dev, req, &v, 8);
}

/* Reads what has come of the current message: 1 when it is whole, 0 when
 * more is to come, -1 when the peer closed (why empty) or sent too much. */
static int msg_read(struct vw_vhost *dev)
{
	for (;;) {
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int) * VW_VMEM_MAX)];
		} cbuf;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
				     .msg_controllen = sizeof(cbuf.buf) };
		struct cmsghdr *c;
		size_t want;
		ssize_t n;

		if (dev->have < VHOST_USER_HDR_SIZE) {
			want = VHOST_USER_HDR_SIZE - dev->have;
		} else {
			uint32_t size = get32(dev->msg + 8);

			if (size > VHOST_USER_PAYLOAD_MAX)
				return bad(dev, "request %u: payload of %u bytes (at most %u)", get32(dev->msg), size,
					   VHOST_USER_PAYLOAD_MAX);
			want = VHOST_USER_HDR_SIZE + size - dev->have;
			if (!want)
				return 1;
		}
		iov.iov_base = dev->msg + dev->have;
		iov.iov_len = want;
		n = recvmsg(dev->cfd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			if (n < 0)
				return bad(dev, "read: %s", strerror(errno));
			dev->why[0] = 0;
			return -1;
		}
		for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			int k, nf;

			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			nf = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			for (k = 0; k < nf; k++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
				if (dev->nfds < VW_VMEM_MAX)
					dev->fds[dev->nfds++] = fd;
				else {
					close(fd);
					dev->fds_over = true;
				}
			}
		}
		if ((mh.msg_flags & MSG_CTRUNC) || dev->fds_over)
			return bad(dev, "request %u: more than %d fds", dev->have >= 4 ? get32(dev->msg) : 0,
				   VW_VMEM_MAX);
		dev->have += (size_t)n;
	}
}

static bool is_eventfd(int fd)
{
	char p[64], l[64];
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	n = readlink(p, l, sizeof(l) - 1);
	if (n <= 0)
		return false;
	l[n] = 0;
	return !strcmp(l, "anon_inode:[eventfd]");
}

/* Maps the regions of a SET_MEM_TABLE payload into *m (the fds are the
 * caller's to close). */
static int vmem_map(struct vw_vhost *dev, struct vw_vmem *m, const uint8_t *p, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		const uint8_t *q = p + 8 + 32 * i;
		struct vw_vmem_region *r = &m->r[i];
		uint64_t gpa = get64(q), size = get64(q + 8), ua = get64(q + 16), off = get64(q + 24);
		struct stat st;
		size_t len, blk;

		if (!size || gpa + size < gpa || ua + size < ua || off + size < off || off + size > SIZE_MAX / 2)
			return bad(dev, "region %d: size 0x%llx at guest 0x%llx, offset 0x%llx out of range", i,
				   (unsigned long long)size, (unsigned long long)gpa, (unsigned long long)off);
		if (fstat(dev->fds[i], &st) < 0)
			return bad(dev, "region %d: fd: %s", i, strerror(errno));
		/* touching a mapping past the end of its file would kill us
		 * with SIGBUS */
		if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < off + size)
			return bad(dev, "region %d: needs %llu bytes of its file, which has %lld", i,
				   (unsigned long long)(off + size), (long long)st.st_size);
		len = (size_t)(off + size);
		blk = st.st_blksize > 0 && !(st.st_blksize & (st.st_blksize - 1)) ? (size_t)st.st_blksize : 4096;
		len = (len + blk - 1) & ~(blk - 1);
		r->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fds[i], 0);
		if (r->map == MAP_FAILED)
			return bad(dev, "region %d: cannot map %zu bytes: %s", i, len, strerror(errno));
		r->maplen = len;
		r->gpa = gpa;
		r->size = size;
		r->uaddr = ua;
		r->host = (uint8_t *)r->map + off;
		m->n = i + 1;
	}
	return 0;
}

static int set_mem_table(struct vw_vhost *dev, const uint8_t *p, uint32_t size)
{
	struct vw_vmem m = { 0 };
	uint32_t n;

	if (size < 8)
		return bad(dev, "SET_MEM_TABLE: payload of %u bytes", size);
	n = get32(p);
	if (n < 1 || n > VW_VMEM_MAX || size != 8 + 32 * n)
		return bad(dev, "SET_MEM_TABLE: %u regions in %u bytes", n, size);
	if ((uint32_t)dev->nfds != n)
		return bad(dev, "SET_MEM_TABLE: %u regions, %d fds", n, dev->nfds);
	if (vmem_map(dev, &m, p, (int)n) < 0) {
		vmem_unmap(&m);
		return -1;
	}
	rings_stop(dev, ~0u);
	vmem_unmap(&dev->mem);
	dev->mem = m;
	return rings_start(dev);
}

/* The ring index of a state or fd payload; -1 (why) when out of range. */
static int ring_index(struct vw_vhost *dev, const char *what, uint32_t i)
{
	if (i >= VW_VHOST_NVQ)
		return bad(dev, "%s: ring %u (at most %d)", what, i, VW_VHOST_NVQ - 1);
	return (int)i;
}

/* SET_VRING_KICK, _CALL, _ERR: a u64 of ring index and NOFD flag. */
static int set_vring_fd(struct vw_vhost *dev, uint32_t req, uint64_t v)
{
	const char *what = req == VHOST_USER_SET_VRING_KICK ? "SET_VRING_KICK"
			   : req == VHOST_USER_SET_VRING_CALL ? "SET_VRING_CALL"
							      : "SET_VRING_ERR";
	bool nofd = v & VHOST_USER_VRING_NOFD;
	int i = ring_index(dev, what, (uint32_t)(v & 0xff)), fd;
	struct ring *r;

	if (i < 0)
		return -1;
	if (v & ~(0xffull | VHOST_USER_VRING_NOFD))
		return bad(dev, "%s: payload 0x%llx", what, (unsigned long long)v);
	if (dev->nfds != (nofd ? 0 : 1))
		return bad(dev, "%s: %d fds with%s the no-fd flag", what, dev->nfds, nofd ? "" : "out");
	if (nofd && req == VHOST_USER_SET_VRING_KICK)
		return bad(dev, "SET_VRING_KICK: ring %d without a kick fd (polling mode) is not supported", i);
	if (!nofd && !is_eventfd(dev->fds[0]))
		return bad(dev, "%s: ring %d: the fd is not an eventfd", what, i);
	fd = nofd ? -1 : dev->fds[0];
	dev->nfds = 0;
	r = &dev->ring[i];
	if (req == VHOST_USER_SET_VRING_ERR) {
		close_fd(&r->err);
		r->err = fd;
		return 0;
	}
	rings_stop(dev, 1u << i);
	if (req == VHOST_USER_SET_VRING_KICK) {
		close_fd(&r->kick);
		r->kick = fd;
		r->started = true;
	} else {
		close_fd(&r->call);
		r->call = fd;
	}
	return rings_start(dev);
}

static int set_vring_addr(struct vw_vhost *dev, const uint8_t *p)
{
	int i = ring_index(dev, "SET_VRING_ADDR", get32(p));
	struct ring *r, save;

	if (i < 0)
		return -1;
	r = &dev->ring[i];
	rings_stop(dev, 1u << i);
	save = *r;
	r->a_desc = get64(p + 8);
	r->a_used = get64(p + 16);
	r->a_avail = get64(p + 24);
	r->addr_set = true;
	/* checked now when it can be: an address outside memory is an error
	 * of this message */
	if (dev->mem.n && r->num && ring_translate(dev, i) < 0) {
		*r = save;
		return -1;
	}
	return rings_start(dev);
}

/* The messages with a vring state payload (index, num). */
static int vring_state(struct vw_vhost *dev, uint32_t req, const uint8_t *p)
{
	uint32_t num = get32(p + 4);
	int i = ring_index(dev, "vring state", get32(p));
	struct ring *r;

	if (i < 0)
		return -1;
	r = &dev->ring[i];
	switch (req) {
	case VHOST_USER_SET_VRING_NUM:
		if (!num || num > VW_VIRTQ_MAX || (num & (num - 1)))
			return bad(dev, "SET_VRING_NUM: ring %d: size %u (a power of 2 up to %u)", i, num,
				   VW_VIRTQ_MAX);
		rings_stop(dev, 1u << i);
		r->num = num;
		if (dev->mem.n && r->addr_set && ring_translate(dev, i) < 0)
			return -1;
		return rings_start(dev);
	case VHOST_USER_SET_VRING_BASE:
		if (num > 0xffff)
			return bad(dev, "SET_VRING_BASE: ring %d: base %u", i, num);
		rings_stop(dev, 1u << i);
		r->base = (uint16_t)num;
		return rings_start(dev);
	case VHOST_USER_SET_VRING_ENABLE:
		if (num > 1)
			return bad(dev, "SET_VRING_ENABLE: ring %d: %u", i, num);
		rings_stop(dev, 1u << i);
		r->enabled = num;
		return rings_start(dev);
	default: { /* GET_VRING_BASE: stops the ring until its next kick fd */
		uint32_t st[2];

		rings_stop(dev, 1u << i);
		r->started = false;
		close_fd(&r->kick);
		st[0] = htole32((uint32_t)i);
		st[1] = htole32(r->base);
		return reply(dev, req, st, sizeof(st));
	}
	}
}

/* The payload size each request must have (-1: unknown request). */
static int req_size(uint32_t req)
{
	switch (req) {
	case VHOST_USER_GET_FEATURES:
	case VHOST_USER_GET_PROTOCOL_FEATURES:
	case VHOST_USER_GET_QUEUE_NUM:
	case VHOST_USER_SET_OWNER:
	case VHOST_USER_RESET_OWNER:
		return 0;
	case VHOST_USER_SET_FEATURES:
	case VHOST_USER_SET_PROTOCOL_FEATURES:
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
	case VHOST_USER_SET_VRING_NUM:
	case VHOST_USER_SET_VRING_BASE:
	case VHOST_USER_GET_VRING_BASE:
	case VHOST_USER_SET_VRING_ENABLE:
		return 8;
	case VHOST_USER_SET_VRING_ADDR:
		return 40;
	case VHOST_USER_SET_MEM_TABLE:
		return -2; /* checked by its handler */
	}
	return -1;
}

static bool has_reply(uint32_t req)
{
	return req == VHOST_USER_GET_FEATURES || req == VHOST_USER_GET_PROTOCOL_FEATURES ||
	       req == VHOST_USER_GET_QUEUE_NUM || req == VHOST_USER_GET_VRING_BASE;
}

static int msg_dispatch(struct vw_vhost *dev, uint32_t req, const uint8_t *p, uint32_t size)
{
	int want = req_size(req), i;
	uint64_t v;

	if (want == -1)
		return bad(dev, "unknown request %u", req);
	if (want >= 0 && size != (uint32_t)want)
		return bad(dev, "request %u: payload of %u bytes, not %d", req, size, want);
	if (req != VHOST_USER_SET_MEM_TABLE && req != VHOST_USER_SET_VRING_KICK && req != VHOST_USER_SET_VRING_CALL &&
	    req != VHOST_USER_SET_VRING_ERR && dev->nfds)
		return bad(dev, "request %u: %d unexpected fds", req, dev->nfds);
	v = size == 8 ? get64(p) : 0;
	switch (req) {
	case VHOST_USER_GET_FEATURES:
		return reply64(dev, req, VW_VHOST_FEATURES);
	case VHOST_USER_SET_FEATURES:
		if (v & ~VW_VHOST_FEATURES)
			return bad(dev, "SET_FEATURES: 0x%llx were not offered", (unsigned long long)(v & ~VW_VHOST_FEATURES));
		rings_stop(dev, ~0u);
		dev->features = v;
		/* without protocol features a ring is enabled as it starts */
		if (!(v & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)))
			for (i = 0; i < VW_VHOST_NVQ; i++)
				dev->ring[i].enabled = true;
		return rings_start(dev);
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return reply64(dev, req, VW_VHOST_PROTOCOL_FEATURES);
	case VHOST_USER_SET_PROTOCOL_FEATURES:
		if (v & ~VW_VHOST_PROTOCOL_FEATURES)
			return bad(dev, "SET_PROTOCOL_FEATURES: 0x%llx were not offered",
				   (unsigned long long)(v & ~VW_VHOST_PROTOCOL_FEATURES));
		dev->proto = v;
		return 0;
	case VHOST_USER_SET_OWNER:
		return 0;
	case VHOST_USER_RESET_OWNER:
		device_reset(dev, false);
		state_update(dev);
		return 0;
	case VHOST_USER_GET_QUEUE_NUM:
		return reply64(dev, req, VW_VHOST_MAX_QP);
	case VHOST_USER_SET_MEM_TABLE:
		return set_mem_table(dev, p, size);
	case VHOST_USER_SET_VRING_ADDR:
		return set_vring_addr(dev, p);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		return set_vring_fd(dev, req, v);
	default:
		return vring_state(dev, req, p);
	}
}

/* Handles the whole message in dev->msg; -1 (why) drops the connection. */
static int msg_handle(struct vw_vhost *dev)
{
	uint32_t req = get32(dev->msg), flags = get32(dev->msg + 4), size = get32(dev->msg + 8);
	bool ack = (flags & VHOST_USER_FLAG_NEED_REPLY) && (dev->proto & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK)) &&
		   !has_reply(req);
	int rc;

	if ((flags & 3) != VHOST_USER_VERSION)
		rc = bad(dev, "request %u: version %u", req, flags & 3);
	else
		rc = msg_dispatch(dev, req, dev->msg + VHOST_USER_HDR_SIZE, size);
	fds_close(dev);
	dev->have = 0;
	if (ack && dev->cfd >= 0) {
		char why[sizeof(dev->why)];

		memcpy(why, dev->why, sizeof(why));
		if (reply64(dev, req, rc < 0) < 0)
			rc = -1;
		else
			memcpy(dev->why, why, sizeof(why));
	}
	return rc;
}

/* ---- connections ---- */

static void try_connect(struct vw_vhost *dev)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	dev->next_try = vw_mono_ns() + RETRY_NS;
	if (fd < 0)
		return;
	memcpy(sa.sun_path, dev->path, sizeof(dev->path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (!dev->retry_logged)
			vlog(dev, "cannot connect (%s); retrying every second", strerror(errno));
		dev->retry_logged = true;
		close(fd);
		return;
	}
	conn_set(dev, fd);
}

static void accept_all(struct vw_vhost *dev)
{
	int fd;

	while ((fd = accept4(dev->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (dev->cfd >= 0) {
			dev->cst.refused++;
			vlog(dev, "a second connection refused: one front-end at a time");
			close(fd);
			continue;
		}
		conn_set(dev, fd);
	}
}

void vw_vhost_run(struct vw_vhost *dev)
{
	int k;

	if (dev->lfd >= 0)
		accept_all(dev);
	if (dev->client && dev->cfd < 0 && dev->path[0] && vw_mono_ns() >= dev->next_try)
		try_connect(dev);
	for (k = 0; k < MSGS_PER_RUN && dev->cfd >= 0; k++) {
		int r = msg_read(dev);

		if (r == 0)
			break;
		if (r < 0 || msg_handle(dev) < 0) {
			conn_drop(dev, dev->why[0] != 0);
			break;
		}
		dev->heard = true;
	}
}

static struct vw_vhost *dev_new(int nworkers)
{
	struct vw_vhost *dev;
	int i;

	if (nworkers < 1 || nworkers > VW_MAX_WORKERS)
		return NULL;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->nworkers = nworkers;
	dev->lfd = dev->cfd = -1;
	dev->steer = -1;
	for (i = 0; i < VW_VHOST_NVQ; i++)
		dev->ring[i].kick = dev->ring[i].call = dev->ring[i].err = -1;
	for (i = 0; i < VW_MAX_WORKERS; i++)
		dev->kickset[i] = -1;
	for (i = 0; i < nworkers; i++)
		if ((dev->kickset[i] = epoll_create1(EPOLL_CLOEXEC)) < 0) {
			while (i--)
				close(dev->kickset[i]);
			free(dev);
			return NULL;
		}
	dev->next = devs;
	devs = dev;
	return dev;
}

struct vw_vhost *vw_vhost_open_fd(int fd, int nworkers)
{
	struct vw_vhost *dev = dev_new(nworkers);

	if (dev)
		conn_set(dev, fd);
	return dev;
}

struct vw_vhost *vw_vhost_open(const char *path, bool client, int nworkers, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vw_vhost *dev;
	struct stat st;

	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "vhost-user socket path '%s': empty or longer than %zu bytes", path ? path : "",
			 sizeof(sa.sun_path) - 1);
		return NULL;
	}
	if (!(dev = dev_new(nworkers))) {
		snprintf(err, errlen, "vhost-user %s: %s", path,
			 nworkers < 1 || nworkers > VW_MAX_WORKERS ? "bad number of workers" : strerror(ENOMEM));
		return NULL;
	}
	strcpy(dev->path, path);
	dev->client = client;
	if (client) {
		try_connect(dev);
		return dev;
	}
	strcpy(sa.sun_path, path);
	/* a socket left by an earlier daemon is replaced; anything else there
	 * is not ours to remove */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "vhost-user %s: exists and is not a socket", path);
			goto fail;
		}
		unlink(path);
	}
	dev->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (dev->lfd < 0 || bind(dev->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(dev->lfd, 4) < 0) {
		snprintf(err, errlen, "vhost-user %s: %s", path, strerror(errno));
		goto fail;
	}
	ctl_watch(dev, dev->lfd);
	return dev;
fail:
	dev->path[0] = 0; /* nothing of ours to unlink */
	vw_vhost_close(dev);
	return NULL;
}

void vw_vhost_close(struct vw_vhost *dev)
{
	struct vw_vhost **pp;
	int i;

	if (!dev)
		return;
	conn_drop(dev, false);
	device_reset(dev, true);
	if (dev->lfd >= 0) {
		ctl_unwatch(dev->lfd);
		close_fd(&dev->lfd);
		if (dev->path[0])
			unlink(dev->path);
	}
	for (i = 0; i < VW_MAX_WORKERS; i++)
		close_fd(&dev->kickset[i]);
	for (pp = &devs; *pp; pp = &(*pp)->next)
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	free(dev->h.map);
	free(dev);
}

void vw_vhost_set_notify(struct vw_vhost *dev, void (*fn)(void *arg, enum vw_vhost_state st), void *arg)
{
	dev->notify = fn;
	dev->notify_arg = arg;
}

enum vw_vhost_state vw_vhost_state(const struct vw_vhost *dev)
{
	return dev->state;
}

const char *vw_vhost_path(const struct vw_vhost *dev)
{
	return dev->path;
}

int vw_vhost_kickfd(const struct vw_vhost *dev, int w)
{
	return w >= 0 && w < dev->nworkers ? dev->kickset[w] : -1;
}

int vw_vhost_nworkers(const struct vw_vhost *dev)
{
	return dev->nworkers;
}

struct vw_virtq_stats *vw_vhost_wstats(struct vw_vhost *dev, int w)
{
	return &dev->wst[w >= 0 && w < dev->nworkers ? w : 0];
}

void vw_vhost_stats(const struct vw_vhost *dev, struct vw_virtq_stats *ring, struct vw_vhost_ctl_stats *ctl)
{
	int w;

	memset(ring, 0, sizeof(*ring));
	for (w = 0; w < dev->nworkers; w++) {
		const struct vw_virtq_stats *s = &dev->wst[w];

		ring->bad_chain += __atomic_load_n(&s->bad_chain, __ATOMIC_RELAXED);
		ring->too_long += __atomic_load_n(&s->too_long, __ATOMIC_RELAXED);
		ring->no_room += __atomic_load_n(&s->no_room, __ATOMIC_RELAXED);
		ring->broken += __atomic_load_n(&s->broken, __ATOMIC_RELAXED);
		ring->calls += __atomic_load_n(&s->calls, __ATOMIC_RELAXED);
	}
	*ctl = dev->cst;
}

int vw_vhost_steer(struct vw_vhost *dev, int w)
{
	if (w >= dev->nworkers)
		return -EINVAL;
	dev->steer = w < 0 ? -1 : w;
	/* transmit rings move between kick sets: stopped and started again */
	rings_stop(dev, 0xaaaau);
	if (rings_start(dev) < 0)
		conn_drop(dev, true);
	return 0;
}

int vw_vhost_ctl_fd(void)
{
	struct vw_vhost *d;

	if (ctl_epfd >= 0)
		return ctl_epfd;
	ctl_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ctl_epfd < 0)
		return -errno;
	for (d = devs; d; d = d->next) {
		ctl_watch(d, d->lfd);
		ctl_watch(d, d->cfd);
	}
	return ctl_epfd;
}

void vw_vhost_ctl_run(void)
{
	struct epoll_event ev[16];
	uint64_t now = vw_mono_ns();
	struct vw_vhost *d, *next;
	int n, i;

	n = ctl_epfd >= 0 ? epoll_wait(ctl_epfd, ev, 16, 0) : 0;
	for (i = 0; i < n; i++)
		vw_vhost_run(ev[i].data.ptr);
	for (d = devs; d; d = next) {
		next = d->next;
		if (d->client && d->cfd >= 0 && !d->heard && now >= d->silent_until) {
			vlog(d, "not a word from the front-end in %llu s since we connected; connecting again",
			     SILENT_NS / 1000000000ull);
			conn_drop(d, false);
			d->next_try = now;
		}
		if (d->client && d->cfd < 0 && now >= d->next_try)
			vw_vhost_run(d);
	}
}

int vw_vhost_ctl_timeout(void)
{
	uint64_t now = vw_mono_ns(), due = UINT64_MAX;
	struct vw_vhost *d;

	for (d = devs; d; d = d->next) {
		if (d->client && d->cfd < 0 && d->next_try < due)
			due = d->next_try;
		if (d->client && d->cfd >= 0 && !d->heard && d->silent_until < due)
			due = d->silent_until;
	}
	if (due == UINT64_MAX)
		return -1;
	return due <= now ? 0 : (int)((due - now) / 1000000u + 1);
}
