/*
 * Unit tests of link protection (datapath/protect.c) on hand-made frames,
 * and of the switch's use of it and of the MTU checks (datapath/vswitch.c)
 * with in-memory ports: which frames pass, which are dropped, and under
 * which counter.  Every truncation of every frame is checked too (run under
 * ASan: nothing past the frame's end is read).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "datapath/gso.h"
#include "datapath/pkt.h"
#include "datapath/port.h"
#include "datapath/protect.h"
#include "datapath/vnet.h"
#include "datapath/vswitch.h"
#include "lib/bytes.h"
#include "lib/vwire.h"
#include "objects/link.h"

static const uint8_t MAC[6] = { 0x02, 0x08, 0x20, 0x11, 0x22, 0x33 };
static const uint8_t OTHER[6] = { 0x02, 0x08, 0x20, 0x44, 0x55, 0x66 };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct fr {
	uint32_t len;
	uint8_t b[9100];
};

static void eth(struct fr *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	vw_put16(f->b + 12, type);
	f->len = 14;
}

static void v4(uint8_t *p, const char *s)
{
	assert_int_equal(inet_pton(AF_INET, s, p), 1);
}

static void v6(uint8_t *p, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, p), 1);
}

/* IPv4 + UDP from src to dst with paylen bytes of payload (zeros). */
static void udp4(struct fr *f, const uint8_t *smac, const char *src, const char *dst, uint16_t sp, uint16_t dp,
		 uint32_t paylen)
{
	uint8_t *ip = f->b + 14, *u = ip + 20;

	eth(f, BCAST, smac, 0x0800);
	ip[0] = 0x45;
	vw_put16(ip + 2, (uint16_t)(28 + paylen));
	ip[8] = 64;
	ip[9] = 17;
	v4(ip + 12, src);
	v4(ip + 16, dst);
	vw_put16(u, sp);
	vw_put16(u + 2, dp);
	vw_put16(u + 4, (uint16_t)(8 + paylen));
	f->len = 14 + 28 + paylen;
}

/* IPv6 with next header nh and paylen bytes of payload. */
static uint8_t *ip6(struct fr *f, const uint8_t *smac, const char *src, const char *dst, uint8_t nh, uint32_t paylen)
{
	uint8_t *ip = f->b + 14;

	eth(f, BCAST, smac, 0x86dd);
	ip[0] = 0x60;
	vw_put16(ip + 4, (uint16_t)paylen);
	ip[6] = nh;
	ip[7] = 255;
	v6(ip + 8, src);
	v6(ip + 24, dst);
	f->len = 14 + 40 + paylen;
	return ip + 40;
}

static void arp(struct fr *f, const uint8_t *smac, const uint8_t *sha, const char *spa, const char *tpa, uint16_t op)
{
	uint8_t *a = f->b + 14;

	eth(f, BCAST, smac, 0x0806);
	vw_put16(a, 1);
	vw_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	vw_put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	v4(a + 14, spa);
	v4(a + 24, tpa);
	f->len = 14 + 28;
}

/* A DHCPDISCOVER from chaddr, with client identifier cid (cidlen bytes, 0:
 * none). */
static void dhcp4(struct fr *f, const uint8_t *chaddr, const uint8_t *cid, unsigned cidlen)
{
	uint8_t *m;
	unsigned o = 240;

	udp4(f, MAC, "0.0.0.0", "255.255.255.255", 68, 67, 300);
	m = f->b + 14 + 28;
	m[0] = 1;
	m[1] = 1;
	m[2] = 6;
	memcpy(m + 28, chaddr, 6);
	vw_put32(m + 236, 0x63825363);
	m[o++] = 53, m[o++] = 1, m[o++] = 1;
	if (cidlen) {
		m[o++] = 61;
		m[o++] = (uint8_t)cidlen;
		memcpy(m + o, cid, cidlen);
		o += cidlen;
	}
	m[o] = 255;
}

static struct vw_protect prot;

static void setup_prot(uint32_t flags)
{
	uint8_t a[16];

	vw_protect_init(&prot, flags, MAC);
	v4(a, "10.88.0.3");
	assert_int_equal(vw_protect_allow(&prot, 4, a, 32), 0);
	v4(a, "10.1.0.0");
	assert_int_equal(vw_protect_allow(&prot, 4, a, 16), 0);
	v6(a, "fd00:88::3");
	assert_int_equal(vw_protect_allow(&prot, 6, a, 128), 0);
}

/* Every truncation of f is judged without reading past it (ASan). */
static void truncations(const struct fr *f)
{
	uint32_t n;

	for (n = 0; n < f->len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, f->b, n);
		(void)vw_protect_check(&prot, copy, n);
		free(copy);
	}
}

static int check(const struct fr *f)
{
	truncations(f);
	return vw_protect_check(&prot, f->b, f->len);
}

static void test_mac_nospoof(void **state)
{
	struct fr f;

	(void)state;
	setup_prot(VW_PROT_MAC);
	udp4(&f, MAC, "10.9.9.9", "10.88.0.2", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_PASS); /* any IP: not its business */
	udp4(&f, OTHER, "10.88.0.3", "10.88.0.2", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_DROP_MAC);
	arp(&f, MAC, OTHER, "10.88.0.3", "10.88.0.2", 2);
	assert_int_equal(check(&f), VW_PROT_DROP_MAC); /* sender hardware address */
	arp(&f, MAC, MAC, "10.88.0.2", "10.88.0.1", 2);
	assert_int_equal(check(&f), VW_PROT_PASS);
	eth(&f, BCAST, MAC, 0x88b5);
	assert_int_equal(check(&f), VW_PROT_PASS);
}

/* The attack of issue 11: "10.88.0.2 is at my MAC". */
static void test_ip_nospoof_arp(void **state)
{
	struct fr f;

	(void)state;
	setup_prot(VW_PROT_MAC | VW_PROT_IP);
	arp(&f, MAC, MAC, "10.88.0.2", "10.88.0.1", 2);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	arp(&f, MAC, MAC, "10.88.0.2", "10.88.0.2", 1); /* gratuitous */
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	arp(&f, MAC, MAC, "10.88.0.3", "10.88.0.1", 1);
	assert_int_equal(check(&f), VW_PROT_PASS);
	arp(&f, MAC, MAC, "0.0.0.0", "10.88.0.3", 1); /* a probe */
	assert_int_equal(check(&f), VW_PROT_PASS);
	arp(&f, MAC, MAC, "10.1.200.7", "10.1.0.1", 1); /* in a subnet allowed */
	assert_int_equal(check(&f), VW_PROT_PASS);
	arp(&f, MAC, MAC, "10.3.0.1", "10.1.0.1", 1);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	arp(&f, MAC, MAC, "10.88.0.3", "10.88.0.1", 1);
	f.b[14 + 5] = 16; /* not IPv4 over Ethernet */
	assert_int_equal(check(&f), VW_PROT_DROP_MAC);
	prot.flags = VW_PROT_IP;
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
}

static void test_ip_nospoof(void **state)
{
	struct fr f;
	uint8_t *icmp;

	(void)state;
	setup_prot(VW_PROT_IP);
	udp4(&f, MAC, "10.88.0.3", "10.88.0.2", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_PASS);
	udp4(&f, MAC, "10.88.0.2", "10.88.0.3", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	udp4(&f, MAC, "10.1.255.255", "10.88.0.3", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_PASS);
	udp4(&f, MAC, "10.0.255.255", "10.88.0.3", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	/* 0.0.0.0 only for DHCP */
	udp4(&f, MAC, "0.0.0.0", "255.255.255.255", 68, 67, 300);
	assert_int_equal(check(&f), VW_PROT_PASS);
	udp4(&f, MAC, "0.0.0.0", "255.255.255.255", 68, 53, 300);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	/* a malformed IPv4 header proves nothing */
	udp4(&f, MAC, "10.88.0.3", "10.88.0.2", 1000, 2000, 10);
	f.b[14] = 0x44;
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	/* IPv6: allowed, other, link-local from the MAC (EUI-64), another
	 * link-local, :: for ICMPv6 only */
	ip6(&f, MAC, "fd00:88::3", "fd00:88::2", 17, 8);
	assert_int_equal(check(&f), VW_PROT_PASS);
	ip6(&f, MAC, "fd00:88::2", "fd00:88::3", 17, 8);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	ip6(&f, MAC, "fe80::8:20ff:fe11:2233", "ff02::1", 17, 8);
	assert_int_equal(check(&f), VW_PROT_PASS);
	ip6(&f, MAC, "fe80::8:20ff:fe44:5566", "ff02::1", 17, 8);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	icmp = ip6(&f, MAC, "::", "ff02::1:ff11:2233", 58, 24);
	icmp[0] = 135; /* NS for duplicate address detection */
	assert_int_equal(check(&f), VW_PROT_PASS);
	ip6(&f, MAC, "::", "ff02::1", 17, 8);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	/* other ethertypes are not IP's business */
	eth(&f, BCAST, MAC, 0x88cc);
	assert_int_equal(check(&f), VW_PROT_PASS);
}

/* With nothing allowed, only link-local and unspecified sources pass. */
static void test_ip_nospoof_empty(void **state)
{
	struct fr f;

	(void)state;
	vw_protect_init(&prot, VW_PROT_IP, MAC);
	udp4(&f, MAC, "10.88.0.3", "10.88.0.2", 1000, 2000, 10);
	assert_int_equal(check(&f), VW_PROT_DROP_IP);
	ip6(&f, MAC, "fe80::8:20ff:fe11:2233", "ff02::1", 17, 8);
	assert_int_equal(check(&f), VW_PROT_PASS);
}

static void test_dhcp_nospoof(void **state)
{
	static const uint8_t cid_ok[7] = { 1, 0x02, 0x08, 0x20, 0x11, 0x22, 0x33 };
	static const uint8_t cid_bad[7] = { 1, 0x02, 0x08, 0x20, 0x44, 0x55, 0x66 };
	/* RFC 4361: 255, IAID, DUID-LL (type 3, hw 1, MAC) */
	static const uint8_t cid_duid[15] = { 255, 0, 0, 0, 1, 0, 3, 0, 1, 0x02, 0x08, 0x20, 0x11, 0x22, 0x33 };
	static const uint8_t cid_en[11] = { 255, 0, 0, 0, 1, 0, 2, 0, 0, 0x01, 0x02 };
	struct fr f;
	uint8_t *d;

	(void)state;
	setup_prot(VW_PROT_DHCP);
	dhcp4(&f, MAC, NULL, 0);
	assert_int_equal(check(&f), VW_PROT_PASS);
	dhcp4(&f, OTHER, NULL, 0);
	assert_int_equal(check(&f), VW_PROT_DROP_DHCP);
	dhcp4(&f, MAC, cid_ok, sizeof(cid_ok));
	assert_int_equal(check(&f), VW_PROT_PASS);
	dhcp4(&f, MAC, cid_bad, sizeof(cid_bad));
	assert_int_equal(check(&f), VW_PROT_DROP_DHCP);
	dhcp4(&f, MAC, cid_duid, sizeof(cid_duid));
	assert_int_equal(check(&f), VW_PROT_PASS);
	dhcp4(&f, MAC, cid_en, sizeof(cid_en));
	assert_int_equal(check(&f), VW_PROT_DROP_DHCP);
	/* an option running past the message */
	dhcp4(&f, MAC, cid_ok, sizeof(cid_ok));
	f.b[14 + 28 + 244] = 200;
	assert_int_equal(check(&f), VW_PROT_DROP_DHCP);
	/* with ip-nospoof too, the discover from 0.0.0.0 still passes */
	prot.flags |= VW_PROT_IP;
	dhcp4(&f, MAC, NULL, 0);
	assert_int_equal(check(&f), VW_PROT_PASS);
	/* DHCPv6 Solicit with a client identifier: DUID-LLT of the MAC, of
	 * another */
	prot.flags = VW_PROT_DHCP;
	d = ip6(&f, MAC, "fe80::8:20ff:fe11:2233", "ff02::1:2", 17, 8 + 4 + 18);
	vw_put16(d, 546);
	vw_put16(d + 2, 547);
	vw_put16(d + 4, 8 + 4 + 18);
	d[8] = 1; /* Solicit */
	vw_put16(d + 12, 1);
	vw_put16(d + 14, 14);
	vw_put16(d + 16, 1);
	vw_put16(d + 18, 1);
	memcpy(d + 24, MAC, 6);
	assert_int_equal(check(&f), VW_PROT_PASS);
	memcpy(d + 24, OTHER, 6);
	assert_int_equal(check(&f), VW_PROT_DROP_DHCP);
}

static void test_restricted(void **state)
{
	struct fr f;

	(void)state;
	setup_prot(VW_PROT_RESTRICTED);
	eth(&f, BCAST, MAC, 0x88b5);
	assert_int_equal(check(&f), VW_PROT_DROP_RESTRICTED);
	eth(&f, BCAST, OTHER, 0x8035); /* RARP */
	assert_int_equal(check(&f), VW_PROT_DROP_RESTRICTED);
	arp(&f, MAC, MAC, "10.88.0.2", "10.88.0.1", 2); /* not its business */
	assert_int_equal(check(&f), VW_PROT_PASS);
	udp4(&f, OTHER, "10.9.9.9", "10.88.0.2", 1, 2, 10);
	assert_int_equal(check(&f), VW_PROT_PASS);
	ip6(&f, MAC, "fd00::9", "fd00::1", 17, 8);
	assert_int_equal(check(&f), VW_PROT_PASS);
	/* first failed check counts: restricted before mac */
	prot.flags |= VW_PROT_MAC;
	eth(&f, BCAST, OTHER, 0x88b5);
	assert_int_equal(check(&f), VW_PROT_DROP_RESTRICTED);
}

static void test_allow_full(void **state)
{
	uint8_t a[16] = { 10, 0, 0, 0 };
	int i;

	(void)state;
	vw_protect_init(&prot, VW_PROT_IP, MAC);
	assert_int_equal(vw_protect_allow(&prot, 4, a, 33), -EINVAL);
	assert_int_equal(vw_protect_allow(&prot, 6, a, 129), -EINVAL);
	for (i = 0; i < VW_PROT_MAXNETS; i++)
		assert_int_equal(vw_protect_allow(&prot, 4, a, 8), 0);
	assert_int_equal(vw_protect_allow(&prot, 4, a, 8), -ENOSPC);
}

/* ---- the switch: protection and MTU on its ports ---- */

struct mport {
	struct vw_port port;
	unsigned got;
	uint32_t lastlen;
};

static int mport_tx(struct vw_port *p, struct vw_pkt **pkts, int n, bool tag)
{
	struct mport *m = (struct mport *)p;

	(void)tag;
	m->got += (unsigned)n;
	if (n)
		m->lastlen = pkts[n - 1]->len;
	return n;
}

static const struct vw_port_ops mops = { .kind = "mem", .write = mport_tx };

static struct vw_switch *sw;
static struct mport *pa, *pb, *pc;
static struct vw_fwd fwd;

static struct mport *mport_new(uint8_t last, uint32_t mtu)
{
	struct mport *m = calloc(1, sizeof(*m));

	m->port.ops = &mops;
	m->port.fd = -1;
	m->port.worker = 0;
	memcpy(m->port.mac, MAC, 6);
	m->port.mac[5] = last;
	m->port.mtu = mtu;
	assert_int_equal(vw_switch_attach(sw, &m->port), 0);
	return m;
}

static int sw_setup(void **state)
{
	(void)state;
	sw = vw_switch_new("test");
	assert_non_null(sw);
	assert_int_equal(vw_fwd_init(&fwd, 0, 256), 0);
	pa = mport_new(0xa, 1500);
	pb = mport_new(0xb, 1500);
	pc = mport_new(0xc, 9000);
	return 0;
}

static int sw_teardown(void **state)
{
	struct mport *m[3] = { pa, pb, pc };
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		vw_switch_detach(sw, &m[i]->port);
		vw_port_destroy(&m[i]->port); /* frees its protection; ops->close NULL, fd -1 */
	}
	vw_switch_free(sw);
	vw_fwd_fini(&fwd);
	return 0;
}

static void send1(struct mport *from, const struct fr *f, const struct virtio_net_hdr_v1 *vnet)
{
	struct vw_pkt *p = vw_pkt_alloc(&fwd.pool);

	assert_non_null(p);
	memcpy(p->data, f->b, f->len);
	p->len = f->len;
	memset(&p->vnet, 0, sizeof(p->vnet));
	if (vnet)
		p->vnet = *vnet;
	vw_switch_input(&fwd, &from->port, &p, 1);
}

static void sum(struct mport *m, struct vw_port_stats *s)
{
	vw_port_stats_sum(&m->port, s);
}

static void test_switch_mtu(void **state)
{
	struct vw_port_stats s;
	struct fr f;
	struct virtio_net_hdr_v1 gso = { 0 };
	uint8_t *tcp;

	(void)state;
	/* 1514 bytes from a (1500) to b (1500): delivered */
	udp4(&f, pa->port.mac, "10.0.0.1", "10.0.0.2", 1, 2, 1472);
	memcpy(f.b, pb->port.mac, 6);
	send1(pa, &f, NULL);
	assert_int_equal(pb->got, 1);
	/* 9014 bytes from c (9000) to b (1500): dropped, counted on c */
	udp4(&f, pc->port.mac, "10.0.0.3", "10.0.0.2", 1, 2, 8972);
	memcpy(f.b, pb->port.mac, 6);
	send1(pc, &f, NULL);
	assert_int_equal(pb->got, 1);
	sum(pc, &s);
	assert_int_equal(s.drop_mtu, 1);
	/* ... and broadcast: a and b refuse it, nobody else is there */
	memcpy(f.b, BCAST, 6);
	send1(pc, &f, NULL);
	assert_int_equal(pa->got + pb->got, 1);
	sum(pc, &s);
	assert_int_equal(s.drop_mtu, 3);
	assert_int_equal(s.drop_unknown, 0);
	/* to c (9000): delivered */
	udp4(&f, pa->port.mac, "10.0.0.1", "10.0.0.3", 1, 2, 8972);
	memcpy(f.b, pc->port.mac, 6);
	memcpy(f.b + 6, pb->port.mac, 6);
	send1(pb, &f, NULL); /* but b's own MTU is 1500: dropped at once */
	assert_int_equal(pc->got, 0);
	sum(pb, &s);
	assert_int_equal(s.drop_mtu, 1);
	/* a TCP super-frame from a to b, segments of 1448: delivered whole */
	udp4(&f, pa->port.mac, "10.0.0.1", "10.0.0.2", 1, 2, 8000);
	memcpy(f.b, pb->port.mac, 6);
	f.b[14 + 9] = 6;
	tcp = f.b + 34;
	memset(tcp, 0, 32);
	tcp[12] = 8 << 4; /* 32-byte header */
	vw_put16(f.b + 16, (uint16_t)(f.len - 14));
	gso.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	gso.gso_size = htole16(1448);
	assert_int_equal(vw_gso_seglen(&gso, f.b, f.len), 14 + 20 + 32 + 1448);
	send1(pa, &f, &gso);
	assert_int_equal(pb->got, 2);
	assert_int_equal(pb->lastlen, f.len);
	/* segments of 1449: one byte too many */
	gso.gso_size = htole16(1449);
	send1(pa, &f, &gso);
	assert_int_equal(pb->got, 2);
	sum(pa, &s);
	assert_int_equal(s.drop_mtu, 1);
	/* b's MTU raised: the same frame passes (minlen follows) */
	vw_switch_set_mtu(sw, &pb->port, 1501);
	send1(pa, &f, &gso);
	sum(pa, &s);
	assert_int_equal(s.drop_mtu, 2); /* a's own MTU is still 1500 */
	vw_switch_set_mtu(sw, &pa->port, 1501);
	send1(pa, &f, &gso);
	assert_int_equal(pb->got, 3);
}

static void test_switch_protect(void **state)
{
	struct vw_protect *p = malloc(sizeof(*p)), *old;
	struct vw_port_stats s;
	uint8_t a[4];
	struct fr f;

	(void)state;
	vw_protect_init(p, VW_PROT_MAC | VW_PROT_IP, pa->port.mac);
	v4(a, "10.88.0.3");
	vw_protect_allow(p, 4, a, 32);
	assert_null(vw_protect_publish(&pa->port, p));
	/* the forged ARP reply reaches nobody; an honest one reaches b */
	arp(&f, pa->port.mac, pa->port.mac, "10.88.0.2", "10.88.0.1", 2);
	memcpy(f.b, pb->port.mac, 6);
	send1(pa, &f, NULL);
	assert_int_equal(pb->got, 0);
	arp(&f, pa->port.mac, pa->port.mac, "10.88.0.3", "10.88.0.1", 2);
	memcpy(f.b, pb->port.mac, 6);
	send1(pa, &f, NULL);
	assert_int_equal(pb->got, 1);
	udp4(&f, OTHER, "10.88.0.3", "10.88.0.2", 1, 2, 10);
	send1(pa, &f, NULL);
	sum(pa, &s);
	assert_int_equal(s.drop_ipspoof, 1);
	assert_int_equal(s.drop_macspoof, 1);
	assert_int_equal(pb->got + pc->got, 1);
	/* b is not protected: it may say anything */
	arp(&f, pb->port.mac, pb->port.mac, "10.88.0.3", "10.88.0.1", 2);
	send1(pb, &f, NULL);
	assert_int_equal(pa->got, 1);
	old = vw_protect_publish(&pa->port, NULL);
	assert_ptr_equal(old, p);
	free(old);
	arp(&f, pa->port.mac, pa->port.mac, "10.88.0.2", "10.88.0.1", 2);
	send1(pa, &f, NULL);
	assert_int_equal(pb->got, 2);
}

/* ---- the properties' text (objects/protect.c) ---- */

static void test_prop_text(void **state)
{
	struct vw_prefix nets[VW_MAX_ALLOWED];
	char err[256], buf[VW_MAX_ALLOWED * 48], list[2048], *keys[8], *vals[8];
	uint32_t flags;
	int n, i;

	(void)state;
	assert_true(linkprop_protection_parse("v", "ip-nospoof,mac-nospoof", &flags, err, sizeof(err)));
	assert_int_equal(flags, VW_PROT_MAC | VW_PROT_IP);
	assert_string_equal(linkprop_protection_format(flags, buf, sizeof(buf)), "mac-nospoof,ip-nospoof");
	assert_true(linkprop_protection_parse("v", "restricted,dhcp-nospoof,restricted", &flags, err, sizeof(err)));
	assert_int_equal(flags, VW_PROT_RESTRICTED | VW_PROT_DHCP);
	assert_false(linkprop_protection_parse("v", "mac-nospoof,", &flags, err, sizeof(err)));
	assert_string_equal(err, "v: invalid protection 'mac-nospoof,' (a list of mac-nospoof, ip-nospoof, dhcp-nospoof, restricted)");
	assert_false(linkprop_protection_parse("v", "", &flags, err, sizeof(err)));
	assert_false(linkprop_protection_parse("v", "mac-nospoofx", &flags, err, sizeof(err)));
	assert_false(linkprop_protection_parse("v", "none", &flags, err, sizeof(err)));

	assert_true(linkprop_allowed_parse("v", "10.0.0.1,10.1.0.0/16,fd00::1,fd00:1::/64,10.0.0.1/32", nets, &n, err,
					   sizeof(err)));
	assert_int_equal(n, 4); /* 10.0.0.1 and 10.0.0.1/32 are one */
	assert_string_equal(linkprop_allowed_format(nets, n, buf, sizeof(buf)), "10.0.0.1,10.1.0.0/16,fd00::1,fd00:1::/64");
	assert_false(linkprop_allowed_parse("v", "10.0.0.1,,10.0.0.2", nets, &n, err, sizeof(err)));
	assert_false(linkprop_allowed_parse("v", "10.0.0.256", nets, &n, err, sizeof(err)));
	assert_string_equal(err, "v: invalid allowed-ips '10.0.0.256' (up to 32 addresses or subnets: 10.0.0.1,fd00::/64)");
	assert_false(linkprop_allowed_parse("v", "10.0.0.0/33", nets, &n, err, sizeof(err)));
	assert_false(linkprop_allowed_parse("v", "", nets, &n, err, sizeof(err)));
	/* 32 at most */
	for (i = 0, list[0] = 0; i < 33; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s10.9.0.%d", i ? "," : "", i + 1);
	assert_false(linkprop_allowed_parse("v", list, nets, &n, err, sizeof(err)));
	*strrchr(list, ',') = 0;
	assert_true(linkprop_allowed_parse("v", list, nets, &n, err, sizeof(err)));
	assert_int_equal(n, 32);
	/* a -p list as export writes it splits back into the same values */
	snprintf(list, sizeof(list), "zone=z,protection=mac-nospoof,ip-nospoof,allowed-ips=10.0.0.1,fd00::/64,cpus=0,2");
	assert_int_equal(vw_proplist_split(list, keys, vals, 8, linkprop_lists), 4);
	assert_string_equal(keys[1], "protection");
	assert_string_equal(vals[1], "mac-nospoof,ip-nospoof");
	assert_string_equal(keys[2], "allowed-ips");
	assert_string_equal(vals[2], "10.0.0.1,fd00::/64");
	assert_string_equal(vals[3], "0,2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mac_nospoof),
		cmocka_unit_test(test_ip_nospoof_arp),
		cmocka_unit_test(test_ip_nospoof),
		cmocka_unit_test(test_ip_nospoof_empty),
		cmocka_unit_test(test_dhcp_nospoof),
		cmocka_unit_test(test_restricted),
		cmocka_unit_test(test_allow_full),
		cmocka_unit_test(test_prop_text),
		cmocka_unit_test_setup_teardown(test_switch_mtu, sw_setup, sw_teardown),
		cmocka_unit_test_setup_teardown(test_switch_protect, sw_setup, sw_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
