/*
 * Link protection checks.  Read datapath/protect.h first for what each
 * check allows.
 */
#include <errno.h>
#include <string.h>

#include "datapath/fastpath.h"
#include "datapath/pktparse.h"
#include "datapath/port.h"
#include "datapath/protect.h"
#include "datapath/rcu.h"
#include "lib/bytes.h"

#define ETHERTYPE_ARP 0x0806
#define DHCP4_CHADDR 28   /* BOOTP: client hardware address */
#define DHCP4_OPTIONS 240 /* after the magic cookie */
#define DHCP6_OPT_CLIENTID 1

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

void vw_protect_init(struct vw_protect *p, uint32_t flags, const uint8_t mac[6])
{
	memset(p, 0, sizeof(*p));
	p->flags = flags;
	memcpy(p->mac, mac, 6);
	p->ll6[0] = 0xfe;
	p->ll6[1] = 0x80;
	p->ll6[8] = mac[0] ^ 0x02;
	p->ll6[9] = mac[1];
	p->ll6[10] = mac[2];
	p->ll6[11] = 0xff;
	p->ll6[12] = 0xfe;
	p->ll6[13] = mac[3];
	p->ll6[14] = mac[4];
	p->ll6[15] = mac[5];
}

int vw_protect_allow(struct vw_protect *p, int family, const uint8_t *addr, unsigned plen)
{
	struct vw_protect_net *n;

	if ((family != 4 || plen > 32) && (family != 6 || plen > 128))
		return -EINVAL;
	if (p->nnets == VW_PROT_MAXNETS)
		return -ENOSPC;
	n = &p->nets[p->nnets++];
	if (family == 4) {
		memcpy(n->addr, v4mapped, 12);
		memcpy(n->addr + 12, addr, 4);
		n->plen = (uint8_t)(96 + plen);
	} else {
		memcpy(n->addr, addr, 16);
		n->plen = (uint8_t)plen;
	}
	return 0;
}

static bool net_has(const struct vw_protect_net *n, const uint8_t a[16])
{
	unsigned full = n->plen / 8, rest = n->plen % 8;

	if (memcmp(n->addr, a, full))
		return false;
	return !rest || !((n->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest)));
}

static bool src_allowed(const struct vw_protect *p, const uint8_t a[16])
{
	unsigned i;

	for (i = 0; i < p->nnets; i++)
		if (net_has(&p->nets[i], a))
			return true;
	return !memcmp(a, p->ll6, 16);
}

static bool is_zero(const uint8_t *a, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

/* ARP for IPv4 over Ethernet; anything else is not what it claims. */
static enum vw_prot_verdict check_arp(const struct vw_protect *p, const uint8_t *f, uint32_t len)
{
	const uint8_t *arp = f + VW_ETH_HLEN;
	uint8_t spa[16];

	if (len < VW_ETH_HLEN + 28u || vw_get16(arp) != 1 || vw_get16(arp + 2) != VW_ETHERTYPE_IPV4 || arp[4] != 6 ||
	    arp[5] != 4)
		return p->flags & VW_PROT_MAC ? VW_PROT_DROP_MAC : VW_PROT_DROP_IP;
	if ((p->flags & VW_PROT_MAC) && memcmp(arp + 8, p->mac, 6))
		return VW_PROT_DROP_MAC;
	if (!(p->flags & VW_PROT_IP) || is_zero(arp + 14, 4)) /* a probe (RFC 5227) */
		return VW_PROT_PASS;
	memcpy(spa, v4mapped, 12);
	memcpy(spa + 12, arp + 14, 4);
	return src_allowed(p, spa) ? VW_PROT_PASS : VW_PROT_DROP_IP;
}

/* The unspecified source is allowed where a host with no address yet must
 * use it. */
static bool unspec_ok(const struct vw_pktinfo *pi)
{
	if (pi->ipver == 4)
		return pi->proto == VW_IPPROTO_UDP && pi->sport == 68 && pi->dport == 67;
	return pi->proto == VW_IPPROTO_ICMPV6 && pi->frag == VW_FRAG_NONE;
}

/* A DUID (RFC 8415) that names mac: DUID-LLT or DUID-LL of an Ethernet
 * address. */
static bool duid_is_mac(const uint8_t *d, uint32_t n, const uint8_t mac[6])
{
	if (n == 14 && vw_get16(d) == 1 && vw_get16(d + 2) == 1)
		return !memcmp(d + 8, mac, 6);
	if (n == 10 && vw_get16(d) == 3 && vw_get16(d + 2) == 1)
		return !memcmp(d + 4, mac, 6);
	return false;
}

/* DHCPv4 (BOOTP) message m of n bytes from a client. */
static bool dhcp4_ok(const struct vw_protect *p, const uint8_t *m, uint32_t n)
{
	uint32_t o;

	if (n < DHCP4_CHADDR + 16 || m[0] != 1 /* BOOTREQUEST */)
		return n >= 1 && m[0] != 1; /* a reply from a client is odd, not a spoof */
	if (m[1] != 1 || m[2] != 6 || memcmp(m + DHCP4_CHADDR, p->mac, 6))
		return false;
	if (n < DHCP4_OPTIONS || vw_get32(m + 236) != 0x63825363)
		return true; /* plain BOOTP: no options */
	for (o = DHCP4_OPTIONS; o < n;) {
		uint8_t code = m[o], olen;

		if (code == 255)
			break;
		if (code == 0) {
			o++;
			continue;
		}
		if (o + 2 > n || o + 2u + m[o + 1] > n)
			return false;
		olen = m[o + 1];
		if (code == 61) {
			const uint8_t *cid = m + o + 2;

			if (olen == 7 && cid[0] == 1)
				return !memcmp(cid + 1, p->mac, 6);
			/* RFC 4361: type 255, IAID, DUID */
			return olen > 5 && cid[0] == 255 && duid_is_mac(cid + 5, olen - 5u, p->mac);
		}
		o += 2u + olen;
	}
	return true;
}

/* DHCPv6 message m of n bytes from a client: its client identifier. */
static bool dhcp6_ok(const struct vw_protect *p, const uint8_t *m, uint32_t n)
{
	uint32_t o;

	if (n < 4)
		return false;
	for (o = 4; o + 4 <= n;) {
		uint16_t code = vw_get16(m + o), olen = vw_get16(m + o + 2);

		if (o + 4u + olen > n)
			return false;
		if (code == DHCP6_OPT_CLIENTID)
			return duid_is_mac(m + o + 4, olen, p->mac);
		o += 4u + olen;
	}
	return true;
}

static bool dhcp_ok(const struct vw_protect *p, const uint8_t *f, const struct vw_pktinfo *pi)
{
	const uint8_t *m;
	uint32_t n;

	if (pi->proto != VW_IPPROTO_UDP || pi->frag == VW_FRAG_LATER || !pi->l4 ||
	    !((pi->ipver == 4 && pi->sport == 68 && pi->dport == 67) ||
	      (pi->ipver == 6 && pi->sport == 546 && pi->dport == 547)))
		return true;
	m = f + pi->l4 + 8;
	n = pi->ip_end > pi->l4 + 8u ? pi->ip_end - pi->l4 - 8u : 0;
	return pi->ipver == 4 ? dhcp4_ok(p, m, n) : dhcp6_ok(p, m, n);
}

enum vw_prot_verdict vw_protect_check(const struct vw_protect *p, const uint8_t *f, uint32_t len)
{
	struct vw_pktinfo pi;
	uint16_t type;

	if (len < VW_ETH_HLEN)
		return p->flags & VW_PROT_RESTRICTED ? VW_PROT_DROP_RESTRICTED : VW_PROT_PASS;
	type = vw_get16(f + 12);
	if ((p->flags & VW_PROT_RESTRICTED) && type != VW_ETHERTYPE_IPV4 && type != VW_ETHERTYPE_IPV6 &&
	    type != ETHERTYPE_ARP)
		return VW_PROT_DROP_RESTRICTED;
	if ((p->flags & VW_PROT_MAC) && memcmp(f + 6, p->mac, 6))
		return VW_PROT_DROP_MAC;
	if (type == ETHERTYPE_ARP)
		return p->flags & (VW_PROT_MAC | VW_PROT_IP) ? check_arp(p, f, len) : VW_PROT_PASS;
	if ((type != VW_ETHERTYPE_IPV4 && type != VW_ETHERTYPE_IPV6) || !(p->flags & (VW_PROT_IP | VW_PROT_DHCP)))
		return VW_PROT_PASS;
	if (vw_pkt_parse(f, len, &pi) != VW_PP_OK || !pi.ipver)
		return p->flags & VW_PROT_IP ? VW_PROT_DROP_IP : VW_PROT_PASS;
	if ((p->flags & VW_PROT_IP) && !src_allowed(p, pi.src) &&
	    !((pi.ipver == 4 ? is_zero(pi.src + 12, 4) : is_zero(pi.src, 16)) && unspec_ok(&pi)))
		return VW_PROT_DROP_IP;
	if ((p->flags & VW_PROT_DHCP) && !dhcp_ok(p, f, &pi))
		return VW_PROT_DROP_DHCP;
	return VW_PROT_PASS;
}

struct vw_protect *vw_protect_publish(struct vw_port *port, struct vw_protect *p)
{
	struct vw_protect *old = port->prot;

	vw_rcu_publish(&port->prot, p);
	vw_fast_port_sync(port); /* protection is checked in userspace */
	if (old)
		vw_rcu_synchronize();
	return old;
}
