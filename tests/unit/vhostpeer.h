/*
 * A scripted vhost-user front-end, as QEMU is one, for test_vhost.c and
 * fuzz/fuzz_vhost.c: guest memory from memfd_create, split rings laid out
 * in it, messages sent as QEMU sends them (fds by SCM_RIGHTS), and the
 * guest's side of the rings (posting frames to send, buffers to receive
 * into, reading what came back).  No cmocka here: callers check results.
 *
 * Layout of guest memory (guest-physical 0, front-end address PEER_UVA):
 * ring i at 0x10000 * i (descriptors, then the available ring at +0x1000,
 * the used ring at +0x2000; rings of up to 256 entries), buffers of ring i
 * from 0x100000 + 0x40000 * i.
 */
#ifndef VW_VHOSTPEER_H
#define VW_VHOSTPEER_H

#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "datapath/vhost.h"

#define PEER_UVA 0x7f1200000000ull
#define PEER_MEM (4u << 20)
#define PEER_RING(i) (0x10000ull * (i))
#define PEER_BUF(i) (0x100000ull + 0x40000ull * (i))

struct vpeer {
	int sock;
	int memfd;
	uint8_t *mem;
	uint64_t size;
	uint16_t num;
	int kick[VW_VHOST_NVQ], call[VW_VHOST_NVQ];
	uint16_t avail[VW_VHOST_NVQ]; /* the guest's next avail index */
	uint16_t desc[VW_VHOST_NVQ];  /* next free descriptor */
	uint64_t buf[VW_VHOST_NVQ];   /* next free buffer byte */
};

static inline int vpeer_send(struct vpeer *p, uint32_t req, uint32_t flags, const void *pl, uint32_t size,
			     const int *fds, int nfds)
{
	uint8_t m[VHOST_USER_HDR_SIZE + 512];
	uint32_t h[3] = { req, VHOST_USER_VERSION | flags, size };
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int) * 16)];
	} cb;
	struct iovec iov = { m, VHOST_USER_HDR_SIZE + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	if (size > 512)
		return -1;
	memcpy(m, h, sizeof(h));
	if (size)
		memcpy(m + VHOST_USER_HDR_SIZE, pl, size);
	if (nfds) {
		struct cmsghdr *c;

		memset(&cb, 0, sizeof(cb));
		mh.msg_control = cb.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(p->sock, &mh, MSG_NOSIGNAL) == (ssize_t)iov.iov_len ? 0 : -1;
}

static inline int vpeer_send64(struct vpeer *p, uint32_t req, uint32_t flags, uint64_t v)
{
	return vpeer_send(p, req, flags, &v, 8, NULL, 0);
}

static inline int vpeer_state(struct vpeer *p, uint32_t req, uint32_t flags, uint32_t idx, uint32_t num)
{
	uint32_t st[2] = { idx, num };

	return vpeer_send(p, req, flags, st, 8, NULL, 0);
}

/* A reply waiting on the socket (non-blocking): its payload size, or -1
 * when there is none (or the device closed). */
static inline int vpeer_recv(struct vpeer *p, uint32_t *req, void *pl, uint32_t max)
{
	uint32_t h[3];

	if (recv(p->sock, h, sizeof(h), MSG_DONTWAIT) != (ssize_t)sizeof(h))
		return -1;
	if (!(h[1] & VHOST_USER_FLAG_REPLY) || h[2] > max)
		return -1;
	if (req)
		*req = h[0];
	if (h[2] && recv(p->sock, pl, h[2], MSG_DONTWAIT) != (ssize_t)h[2])
		return -1;
	return (int)h[2];
}

/* Guest memory of size bytes; 0 or -1. */
static inline int vpeer_init(struct vpeer *p, int sock, uint64_t size)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->sock = sock;
	p->size = size;
	p->num = 256;
	for (i = 0; i < VW_VHOST_NVQ; i++)
		p->kick[i] = p->call[i] = -1;
	p->memfd = memfd_create("guest", MFD_CLOEXEC);
	if (p->memfd < 0 || ftruncate(p->memfd, (off_t)size) < 0)
		return -1;
	p->mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);
	return p->mem == MAP_FAILED ? -1 : 0;
}

static inline void vpeer_fini(struct vpeer *p)
{
	int i;

	for (i = 0; i < VW_VHOST_NVQ; i++) {
		if (p->kick[i] >= 0)
			close(p->kick[i]);
		if (p->call[i] >= 0)
			close(p->call[i]);
	}
	if (p->mem && p->mem != MAP_FAILED)
		munmap(p->mem, p->size);
	if (p->memfd >= 0)
		close(p->memfd);
	if (p->sock >= 0)
		close(p->sock);
}

static inline int vpeer_mem_table(struct vpeer *p, uint32_t flags)
{
	uint8_t pl[40] = { 0 };
	uint64_t r[4] = { 0, p->size, PEER_UVA, 0 };
	uint32_t one = 1;

	memcpy(pl, &one, 4);
	memcpy(pl + 8, r, sizeof(r));
	return vpeer_send(p, VHOST_USER_SET_MEM_TABLE, flags, pl, sizeof(pl), &p->memfd, 1);
}

static inline struct vring_desc *vpeer_desc(struct vpeer *p, int i)
{
	return (struct vring_desc *)(p->mem + PEER_RING(i));
}

static inline struct vring_avail *vpeer_avail(struct vpeer *p, int i)
{
	return (struct vring_avail *)(p->mem + PEER_RING(i) + 0x1000);
}

static inline struct vring_used *vpeer_used(struct vpeer *p, int i)
{
	return (struct vring_used *)(p->mem + PEER_RING(i) + 0x2000);
}

/* Sets ring i up as QEMU does (size, base, addresses, kick, call). */
static inline int vpeer_ring(struct vpeer *p, int i, uint16_t base)
{
	uint8_t addr[40] = { 0 };
	uint64_t a[4] = { PEER_UVA + PEER_RING(i), PEER_UVA + PEER_RING(i) + 0x2000,
			  PEER_UVA + PEER_RING(i) + 0x1000, 0 };
	uint32_t idx = (uint32_t)i;
	uint64_t v = (uint64_t)i;

	if (p->kick[i] < 0)
		p->kick[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->call[i] < 0)
		p->call[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	memcpy(addr, &idx, 4);
	memcpy(addr + 8, a, sizeof(a));
	p->avail[i] = base;
	vpeer_avail(p, i)->idx = base;
	vpeer_used(p, i)->idx = base;
	if (vpeer_state(p, VHOST_USER_SET_VRING_NUM, 0, idx, p->num) || vpeer_state(p, VHOST_USER_SET_VRING_BASE, 0, idx, base) ||
	    vpeer_send(p, VHOST_USER_SET_VRING_ADDR, 0, addr, sizeof(addr), NULL, 0) ||
	    vpeer_send(p, VHOST_USER_SET_VRING_KICK, 0, &v, 8, &p->kick[i], 1) ||
	    vpeer_send(p, VHOST_USER_SET_VRING_CALL, 0, &v, 8, &p->call[i], 1))
		return -1;
	return 0;
}

/* Puts bytes in a fresh buffer of ring i's area; its guest address. */
static inline uint64_t vpeer_buf(struct vpeer *p, int i, const void *src, uint32_t len, uint32_t room)
{
	uint64_t a = PEER_BUF(i) + p->buf[i];

	p->buf[i] = (p->buf[i] + room + 63) & ~63ull;
	if (p->buf[i] > 0x3f000)
		p->buf[i] = 0;
	if (src)
		memcpy(p->mem + a, src, len);
	return a;
}

/* Makes chain head..head+n-1 available (descriptors already written). */
static inline void vpeer_make_avail(struct vpeer *p, int i, uint16_t head)
{
	struct vring_avail *av = vpeer_avail(p, i);

	av->ring[p->avail[i] % p->num] = head;
	p->avail[i]++;
	__atomic_store_n(&av->idx, p->avail[i], __ATOMIC_RELEASE);
}

/* The guest sends: header and frame in ndesc descriptors (1: together,
 * 2: header apart, 3: header apart and the frame in two).  Its head. */
static inline uint16_t vpeer_tx(struct vpeer *p, int i, const void *hdr, uint32_t hlen, const void *frame, uint32_t len,
				int ndesc)
{
	struct vring_desc *d = vpeer_desc(p, i);
	uint8_t tmp[70000];
	uint16_t head = p->desc[i] % p->num, k;
	uint32_t parts[3], off = 0;
	int n = 0, j;

	memcpy(tmp, hdr, hlen);
	memcpy(tmp + hlen, frame, len);
	if (ndesc == 1)
		parts[n++] = hlen + len;
	else {
		parts[n++] = hlen;
		if (ndesc == 2)
			parts[n++] = len;
		else {
			parts[n++] = len / 2;
			parts[n++] = len - len / 2;
		}
	}
	for (j = 0; j < n; j++) {
		k = p->desc[i]++ % p->num;
		d[k].addr = vpeer_buf(p, i, tmp + off, parts[j], parts[j]);
		d[k].len = parts[j];
		d[k].flags = j + 1 < n ? VRING_DESC_F_NEXT : 0;
		d[k].next = (uint16_t)(p->desc[i] % p->num);
		off += parts[j];
	}
	vpeer_make_avail(p, i, head);
	return head;
}

/* The guest posts count receive buffers of room bytes each on ring i. */
static inline void vpeer_rx_post(struct vpeer *p, int i, uint32_t room, int count)
{
	struct vring_desc *d = vpeer_desc(p, i);

	while (count--) {
		uint16_t k = p->desc[i]++ % p->num;

		d[k].addr = vpeer_buf(p, i, NULL, 0, room);
		d[k].len = room;
		d[k].flags = VRING_DESC_F_WRITE;
		d[k].next = 0;
		vpeer_make_avail(p, i, k);
	}
}

/* How many times the eventfd was written since last asked (0: none). */
static inline uint64_t vpeer_count(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

#endif
