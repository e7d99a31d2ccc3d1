/*
 * Link protection (datapath/protect.c, vw_protect_check): the checks a
 * VNIC's frames pass on the worker's hot path, parsing ARP, IPv4, IPv6,
 * ICMPv6, DHCPv4 options and DHCPv6 options of any frame a tenant sends.
 *
 * Input: a byte of checks (VW_PROT_*), the VNIC's MAC (6 bytes), a byte
 * with the number of allowed networks (0-3), each as a family byte, 16
 * address bytes and a prefix length; then the frame.
 *
 * Checked: the frame is read within its length only (an exact copy on the
 * heap, ASan); the verdict is a known one and names a check that is on;
 * no checks pass everything; each check stands alone: the verdict of them
 * all is the first (in the order restricted, mac, ip, dhcp) of the checks
 * that refuse the frame alone, so turning a check off never refuses a frame
 * that passed.
 */
#include "datapath/protect.h"
#include "fuzz/fuzz.h"

static const uint32_t order[] = { VW_PROT_RESTRICTED, VW_PROT_MAC, VW_PROT_IP, VW_PROT_DHCP };
static const enum vw_prot_verdict drop_of[] = { VW_PROT_DROP_RESTRICTED, VW_PROT_DROP_MAC, VW_PROT_DROP_IP,
						 VW_PROT_DROP_DHCP };

static enum vw_prot_verdict verdict(uint32_t flags, const uint8_t mac[6], const uint8_t *nets, int nnets,
				    const uint8_t *frame, uint32_t len)
{
	struct vw_protect p;
	int i;

	vw_protect_init(&p, flags, mac);
	for (i = 0; i < nnets; i++) {
		const uint8_t *n = nets + i * 18;

		vw_protect_allow(&p, n[0] & 1 ? 6 : 4, n + 1, n[17] % 129);
	}
	return vw_protect_check(&p, frame, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *mac, *nets;
	enum vw_prot_verdict all, first = VW_PROT_PASS, one;
	uint32_t flags, len;
	uint8_t *frame;
	int nnets;
	size_t i;

	if (size < 8 || size > 70000)
		return 0;
	flags = data[0] & 0xf;
	mac = data + 1;
	nnets = data[7] % 4;
	nets = data + 8;
	if (size < 8 + (size_t)nnets * 18)
		return 0;
	len = (uint32_t)(size - 8 - (size_t)nnets * 18);
	frame = malloc(len ? len : 1);
	FUZZ_CHECK(frame, "out of memory");
	memcpy(frame, nets + nnets * 18, len);

	all = verdict(flags, mac, nets, nnets, frame, len);
	FUZZ_CHECK(all >= VW_PROT_PASS && all <= VW_PROT_DROP_DHCP, "verdict %d", all);
	FUZZ_CHECK(verdict(0, mac, nets, nnets, frame, len) == VW_PROT_PASS, "no checks, yet refused");
	for (i = 0; i < 4; i++) {
		if (!(flags & order[i]))
			continue;
		one = verdict(order[i], mac, nets, nnets, frame, len);
		FUZZ_CHECK(one == VW_PROT_PASS || one == drop_of[i], "check %#x alone gave verdict %d", order[i], one);
		if (first == VW_PROT_PASS)
			first = one;
	}
	FUZZ_CHECK(all == first, "checks %#x: verdict %d, but the first refusing alone gives %d", flags, all, first);
	free(frame);
	return 0;
}
