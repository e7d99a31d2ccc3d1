/*
 * Announcing a VNIC (objects/announce.h): what a hypervisor does for a
 * guest after a migration (QEMU's announce_self, the kernel's arp_notify
 * and ndisc_notify), done by vwired for a VNIC whose face comes up in its
 * zone (create-vnic, the replay at start, set-linkprop zone=) or gets an
 * address (create-addr).  A zone moved to another host keeps its VNICs'
 * MACs and addresses (docs/design.md, "Moving a zone between hosts"): the
 * bridges on the way must learn at once that the MAC is now behind another
 * port, and the neighbours that the address is there, or traffic to it
 * goes on to the old host until the zone happens to send something.
 *
 * What is sent, each round, for the VNIC's MAC and addresses as they are
 * then:
 *   - per IPv4 address, a gratuitous ARP request: sender and target IP the
 *     address, sender hardware address the MAC, to broadcast (RFC 5227's
 *     ARP announcement);
 *   - per IPv6 address, an unsolicited neighbour advertisement: ICMPv6 136,
 *     override flag, target the address with its link-layer address
 *     option, from the address to ff02::1, hop limit 255 (RFC 4861 7.2.6,
 *     as the kernel's ndisc_send_unsol_na);
 *   - with no address, one RARP request carrying the MAC (QEMU's frame).
 * Three rounds, at 0, 50 and 150 ms: the first at once, from the command
 * that brought the face up; the others for a frame lost on the way (a
 * bridge port not forwarding yet).  QEMU by default sends five, at 0, 50,
 * 200, 450 and 800 ms; past the first 150 ms the zone's own traffic has
 * taught the network anyway.  A new trigger starts the rounds again.
 *
 * Only a VNIC over a link with an uplink (phys, aggregation, tunnel) is
 * announced: over an etherstub nothing outside the box can learn, and the
 * switch knows its own ports.
 *
 * The frames leave by the VNIC's own face, as if it had sent them: a
 * packet socket opened inside its zone sends them on the face, so they
 * take exactly the path of its frames (a TAP read by a worker, or the veth
 * pair and the kernel fast path; the switch and its protection, the VLAN
 * tag, the uplink, a LAN, a tunnel) and nothing here knows which.  The
 * zone's stack does not receive what a packet socket sends.
 *
 * Lifetimes: the pending rounds are fields of the VNIC (announce_left,
 * announce_at) and go with it.  A round opens its socket, sends and closes
 * it, so nothing is held between rounds; the face is found by name, in its
 * zone, at each round.  The sockets are non-blocking: a round costs two
 * setns() and a few system calls on the control thread, never a wait.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "datapath/gso.h"
#include "datapath/protect.h"
#include "lib/bytes.h"
#include "objects/announce.h"
#include "objects/link.h"
#include "objects/netns.h"

/* The gaps between rounds: rounds at 0, 50 and 150 ms */
static const int gaps_ms[] = { 50, 100 };
#define ROUNDS (1 + sizeof(gaps_ms) / sizeof(gaps_ms[0]))
/* Rounds due this soon are sent with one that is due now. */
#define SLACK_MS 5

/* When the next round of any VNIC is due, or earlier (a VNIC deleted
 * since costs one scan); -1: none pending. */
static int64_t next_due = -1;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the frames ---- */

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t allnodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t allnodes[16] = { 0xff, 0x02, [15] = 1 };

static void eth_hdr(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	vw_put16(f + 12, type);
}

/* ARP (op 1, request) or RARP (op 3, reverse request) for Ethernet and
 * IPv4, padded to the 60 bytes of a minimal frame. */
static size_t arp_frame(uint8_t *f, uint16_t type, uint16_t op, const uint8_t mac[6], const uint8_t *sip,
			const uint8_t *tha, const uint8_t *tip)
{
	memset(f, 0, ETH_ZLEN);
	eth_hdr(f, bcast, mac, type);
	vw_put16(f + 14, 1);         /* hardware: Ethernet */
	vw_put16(f + 16, ETH_P_IP);  /* protocol: IPv4 */
	f[18] = 6;
	f[19] = 4;
	vw_put16(f + 20, op);
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, sip, 4);
	memcpy(f + 32, tha, 6);
	memcpy(f + 38, tip, 4);
	return ETH_ZLEN;
}

/* An unsolicited neighbour advertisement for addr (RFC 4861 4.4, 7.2.6). */
static size_t na_frame(uint8_t *f, const uint8_t mac[6], const uint8_t addr[16])
{
	uint8_t *ip = f + 14, *icmp = ip + 40;
	uint32_t sum;
	uint16_t csum;

	memset(f, 0, VW_ANNOUNCE_FRAME_MAX);
	eth_hdr(f, allnodes_mac, mac, ETH_P_IPV6);
	ip[0] = 0x60;
	vw_put16(ip + 4, 32); /* payload: NA 24, option 8 */
	ip[6] = 58;           /* ICMPv6 */
	ip[7] = 255;          /* hop limit: receivers insist */
	memcpy(ip + 8, addr, 16);
	memcpy(ip + 24, allnodes, 16);
	icmp[0] = 136;  /* neighbour advertisement */
	icmp[4] = 0x20; /* override; neither router nor solicited */
	memcpy(icmp + 8, addr, 16);
	icmp[24] = 2; /* target link-layer address */
	icmp[25] = 1; /* 8 bytes */
	memcpy(icmp + 26, mac, 6);
	sum = vw_csum_pseudo6(ip + 8, ip + 24, 58, 32);
	csum = vw_csum_fold(vw_csum_partial(icmp, 32, sum));
	memcpy(icmp + 2, &csum, 2);
	return VW_ANNOUNCE_FRAME_MAX;
}

size_t announce_frame(uint8_t *f, const uint8_t mac[6], const struct vw_prefix *p)
{
	static const uint8_t zero[6];

	if (!p) /* QEMU's announce_self: MAC as sender and target, no IP */
		return arp_frame(f, ETH_P_RARP, 3, mac, zero, mac, zero);
	if (p->family == AF_INET)
		return arp_frame(f, ETH_P_ARP, 1, mac, p->addr.bytes, zero, p->addr.bytes);
	return na_frame(f, mac, p->addr.bytes);
}

/* ---- sending ---- */

/* A packet socket in zone (it stays in the namespace it was made in),
 * sending on its interface name: fd, with to filled in; or -errno. */
static int face_socket(const char *zone, const char *name, struct sockaddr_ll *to)
{
	struct ifreq ifr = { 0 };
	int fd, rc = zone_enter(zone), rc2;

	if (rc < 0)
		return rc;
	/* protocol 0: it receives nothing */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	rc = fd < 0 ? -errno : 0;
	rc2 = zone_leave(zone);
	if (rc2 < 0 && fd >= 0) {
		close(fd);
		return rc2;
	}
	if (rc < 0)
		return rc;
	/* the socket's namespace answers, not the thread's */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	*to = (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_ifindex = ifr.ifr_ifindex, .sll_halen = 6 };
	return fd;
}

static int send_frame(int fd, struct sockaddr_ll *to, const uint8_t *f, size_t len)
{
	to->sll_protocol = htons(vw_get16(f + 12));
	memcpy(to->sll_addr, f, 6);
	if (sendto(fd, f, len, 0, (struct sockaddr *)to, sizeof(*to)) < 0)
		return -errno;
	return 0;
}

/* Whether net (a prefix) holds address a */
static bool covers(const struct vw_prefix *net, const struct vw_prefix *a)
{
	unsigned bits = net->plen, i;

	if (net->family != a->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (net->addr.bytes[i] != a->addr.bytes[i])
			return false;
	return !bits || !((net->addr.bytes[i] ^ a->addr.bytes[i]) & (0xff00 >> bits));
}

/* Whether the VNIC's own link protection lets it send an announcement of
 * address a (NULL: the RARP frame): nothing is announced that its switch
 * would drop, and count as spoofed, as if the zone had sent it. */
static bool may_announce(const struct vw_link *l, const struct vw_prefix *a)
{
	int i;

	if (!a)
		return !(l->prop.protect & VW_PROT_RESTRICTED);
	if (!(l->prop.protect & VW_PROT_IP) || !l->prop.nallowed)
		return true; /* ip-nospoof alone allows the VNIC's addresses */
	for (i = 0; i < l->prop.nallowed; i++)
		if (covers(&l->prop.allowed[i], a))
			return true;
	return false;
}

/* One round: every frame of l, the first failure returned. */
static int announce_send(const struct vw_link *l)
{
	uint8_t f[VW_ANNOUNCE_FRAME_MAX];
	struct sockaddr_ll to;
	int fd = face_socket(l->prop.zone, l->name, &to), i, rc = 0, rc2;

	if (fd < 0)
		return fd;
	if (!l->naddr && may_announce(l, NULL))
		rc = send_frame(fd, &to, f, announce_frame(f, l->mac, NULL));
	for (i = 0; i < l->naddr; i++) {
		if (!may_announce(l, &l->addrs[i].p))
			continue;
		rc2 = send_frame(fd, &to, f, announce_frame(f, l->mac, &l->addrs[i].p));
		rc = rc ? rc : rc2;
	}
	close(fd);
	return rc;
}

/* Sends l's round that is due and schedules the next. */
static void announce_round(struct vw_link *l)
{
	int rc = announce_send(l);

	if (rc < 0)
		fprintf(stderr, "vwired: %s: cannot announce it%s%s: %s\n", l->name, *l->prop.zone ? " in zone " : "",
			l->prop.zone, strerror(-rc));
	l->announce_left--;
	if (l->announce_left)
		l->announce_at += gaps_ms[ROUNDS - 1 - l->announce_left];
}

void announce_vnic(struct vw_link *l)
{
	/* Over an etherstub there is no one to teach: the switch learnt the
	 * MAC when the VNIC was attached, and nothing outside the box sees
	 * it; the broadcasts would only reach every other VNIC of the
	 * switch (a thousand VNICs made at once: a million frames) */
	if (link_on_portless(l))
		return;
	l->announce_left = ROUNDS;
	l->announce_at = now_ms();
	announce_round(l);
	if (next_due < 0 || l->announce_at < next_due)
		next_due = l->announce_at;
}

int announce_timeout(void)
{
	int64_t left;

	if (next_due < 0)
		return -1;
	left = next_due - now_ms();
	return left <= 0 ? 0 : (int)left;
}

void announce_run(void)
{
	int64_t now = now_ms(), next = -1;
	struct vw_link *l;

	if (next_due < 0 || next_due > now + SLACK_MS)
		return;
	for (l = vw_links; l; l = l->next) {
		if (!vnic_is(l) || !l->announce_left)
			continue;
		if (l->announce_at <= now + SLACK_MS)
			announce_round(l);
		if (l->announce_left && (next < 0 || l->announce_at < next))
			next = l->announce_at;
	}
	next_due = next;
}
