/*
 * The LACP engine (objects/lacp.c): lacp_rx() on any bytes a link delivers,
 * and the machines driven by any sequence of frames, carrier changes,
 * reconfigurations and time.
 *
 * Input: a configuration byte (mode % 3, timer bit 2), then operations,
 * each an opcode byte and its operands; member m is opcode bit 3:
 *   0 frame: a length byte, then that many bytes (fewer at the end)
 *   1 LACPDU: 30 bytes, the Actor and Partner information (15 each), and a
 *     version byte: a valid PDU with those values
 *   2 time: two bytes, milliseconds to add
 *   3 carrier: bit 4 of the opcode
 *   4 configuration: bits 4-7 of the opcode choose mode, timer, system,
 *     member removal or addition
 * Two members exist at first (0 and 1).  After every operation lacp_run()
 * runs at the current time.
 *
 * Checked: lacp_rx() returns a documented value, and what it refuses or
 * does not take for LACP (malformed, another Slow Protocol, a Marker)
 * changes no member's state; a Marker Response echoes the request's
 * fields from the member's MAC; a frame lacp_pdu_parse() takes is encoded
 * back to the same fields; every LACPDU sent parses, comes from the
 * member's MAC and keeps the rate limit; a deadline is after now; a member
 * that distributes has carrier and, unless LACP is off, is selected and in
 * sync with its partner; collecting and distributing agree.
 */
#include <errno.h>

#include "fuzz/fuzz.h"
#include "objects/lacp.h"

struct run {
	uint64_t now;
	uint64_t tx[LACP_MAX_PORTS][LACP_TX_MAX];
	unsigned ntx[LACP_MAX_PORTS];
};

static void member_mac(unsigned idx, uint8_t mac[6])
{
	const uint8_t m[6] = { 0x02, 0, 0, 0, 1, (uint8_t)idx };

	memcpy(mac, m, 6);
}

static void on_send(void *arg, unsigned idx, const uint8_t *f, size_t len)
{
	struct run *r = arg;
	struct lacp_pdu pdu;
	uint8_t mac[6];
	unsigned k;

	FUZZ_CHECK(idx < LACP_MAX_PORTS && len == LACP_FRAME_LEN, "sent %zu bytes on %u", len, idx);
	FUZZ_CHECK(lacp_pdu_parse(f, len, &pdu) == 0 && pdu.version == 1, "an LACPDU sent does not parse");
	member_mac(idx, mac);
	FUZZ_CHECK(!memcmp(f + 6, mac, 6), "member %u sends from another MAC", idx);
	k = r->ntx[idx]++;
	if (k >= LACP_TX_MAX)
		FUZZ_CHECK(r->now - r->tx[idx][k % LACP_TX_MAX] >= LACP_FAST_PERIODIC_MS,
			   "member %u: %d LACPDUs within a second", idx, LACP_TX_MAX + 1);
	r->tx[idx][k % LACP_TX_MAX] = r->now;
}

static void check_member(const struct lacp *l, unsigned idx, bool off)
{
	struct lacp_port_info pi;

	lacp_port_info(l, idx, &pi);
	FUZZ_CHECK(lacp_collecting(l, idx) == lacp_distributing(l, idx), "collecting != distributing");
	FUZZ_CHECK(pi.distributing == lacp_distributing(l, idx), "port info disagrees");
	if (!pi.member) {
		FUZZ_CHECK(!pi.distributing, "a non-member distributes");
		return;
	}
	FUZZ_CHECK(!pi.distributing || pi.carrier, "member %u distributes without carrier", idx);
	if (!off && pi.distributing)
		FUZZ_CHECK(pi.selected && (pi.partner.state & LACP_STATE_SYNC) &&
				   !strcmp(pi.mux_state, "COLLECTING_DISTRIBUTING"),
			   "member %u distributes: selected %d, partner state %#x, mux %s", idx, pi.selected,
			   pi.partner.state, pi.mux_state);
}

static bool peer_eq(const struct lacp_peer *a, const struct lacp_peer *b)
{
	return a->sys_prio == b->sys_prio && !memcmp(a->sys_mac, b->sys_mac, 6) && a->key == b->key &&
	       a->port_prio == b->port_prio && a->port_no == b->port_no && a->state == b->state;
}

/* A member's state without its counters. */
static bool same_state(const struct lacp_port_info *a, const struct lacp_port_info *b)
{
	return a->member == b->member && a->carrier == b->carrier && a->selected == b->selected &&
	       a->collecting == b->collecting && peer_eq(&a->actor, &b->actor) && peer_eq(&a->partner, &b->partner) &&
	       a->rx_state == b->rx_state && a->mux_state == b->mux_state && a->periodic_state == b->periodic_state;
}

static void check_codec(const uint8_t *f, size_t len)
{
	struct lacp_pdu pdu, back;
	uint8_t g[LACP_FRAME_LEN];

	if (lacp_pdu_parse(f, len, &pdu) < 0)
		return;
	FUZZ_CHECK(lacp_pdu_build(g, sizeof(g), f + 6, &pdu) == LACP_FRAME_LEN, "build refused");
	FUZZ_CHECK(lacp_pdu_parse(g, sizeof(g), &back) == 0, "a built LACPDU does not parse");
	FUZZ_CHECK(back.version == pdu.version && peer_eq(&back.actor, &pdu.actor) &&
			   peer_eq(&back.partner, &pdu.partner) && back.collector_max_delay == pdu.collector_max_delay,
		   "LACPDU fields changed through build and parse");
	/* the octets with a meaning: type, subtype and version, the three TLVs
	 * but their reserved octets */
	FUZZ_CHECK(!memcmp(g + 12, f + 12, 21) && !memcmp(g + 36, f + 36, 17) && !memcmp(g + 56, f + 56, 4),
		   "octets differ after a round trip");
}

static void rx(struct lacp *l, unsigned idx, const uint8_t *f, size_t len, uint64_t now)
{
	struct lacp_port_info before[LACP_MAX_PORTS], after;
	uint8_t out[LACP_FRAME_LEN + 1];
	bool lacpdu = len > 14 && f[12] == 0x88 && f[13] == 0x09 && f[14] == LACP_SUBTYPE_LACP;
	int rc;

	check_codec(f, len);
	for (unsigned i = 0; i < LACP_MAX_PORTS; i++)
		lacp_port_info(l, i, &before[i]);
	rc = lacp_rx(l, idx, f, len, now, out, (len & 1) ? sizeof(out) : LACP_FRAME_LEN - 1);
	FUZZ_CHECK(rc == 0 || rc == LACP_FRAME_LEN || rc == -EBADMSG || rc == -ENOENT || rc == -ENOSPC,
		   "lacp_rx returned %d", rc);
	FUZZ_CHECK(rc != -ENOENT || !before[idx].member, "-ENOENT for a member");
	if (rc == LACP_FRAME_LEN) {
		uint8_t mac[6];

		member_mac(idx, mac);
		FUZZ_CHECK(out[14] == LACP_SUBTYPE_MARKER && out[15] == 1 && out[16] == 2 && out[17] == 16,
			   "not a Marker Response");
		FUZZ_CHECK(!memcmp(out + 6, mac, 6) && !memcmp(out + 18, f + 18, 12), "Marker Response fields");
	}
	/* whatever lacp_rx() did not take as an LACPDU moved nothing (the
	 * caller ran the machines at now already) */
	if (rc == 0 && lacpdu)
		return;
	for (unsigned i = 0; i < LACP_MAX_PORTS; i++) {
		lacp_port_info(l, i, &after);
		FUZZ_CHECK(same_state(&before[i], &after), "member %u changed on a frame refused (%d)", i, rc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lacp_actor_cfg cfg = { .sys_mac = { 0x02, 0, 0, 0, 0, 1 }, .sys_prio = 0x8000, .key = 7 };
	struct run r = { .now = 1 };
	struct lacp *l;
	size_t i = 1;

	if (size < 1 || size > 8192)
		return 0;
	cfg.mode = (enum lacp_mode)(data[0] % 3);
	cfg.timer = data[0] & 4 ? LACP_LONG : LACP_SHORT;
	l = lacp_new(&cfg);
	FUZZ_CHECK(l, "lacp_new failed");
	for (unsigned m = 0; m < 2; m++) {
		uint8_t mac[6];

		member_mac(m, mac);
		FUZZ_CHECK(lacp_port_add(l, m, mac, (uint16_t)(m + 1), true, r.now) == 0, "port add");
	}
	while (i < size) {
		uint8_t op = data[i++];
		unsigned m = (op >> 3) & 1;
		uint64_t d;

		switch (op & 7) {
		case 0: {
			size_t n = i < size ? data[i++] : 0;

			if (n > size - i)
				n = size - i;
			/* an exact copy on the heap: ASan sees any overread */
			uint8_t *f = malloc(n ? n : 1);

			FUZZ_CHECK(f, "out of memory");
			memcpy(f, data + i, n);
			rx(l, m, f, n, r.now);
			free(f);
			i += n;
			break;
		}
		case 1: {
			struct lacp_pdu pdu = { .version = 1 };
			uint8_t f[LACP_FRAME_LEN], src[6] = { 0x02, 0, 0, 0, 9, 9 };
			const uint8_t *p = data + i;

			if (size - i < 31)
				goto out;
			pdu.actor = (struct lacp_peer){ (uint16_t)(p[0] << 8 | p[1]), { p[2], p[3], p[4], p[5], p[6], p[7] },
							(uint16_t)(p[8] << 8 | p[9]), (uint16_t)(p[10] << 8 | p[11]),
							(uint16_t)(p[12] << 8 | p[13]), p[14] };
			p += 15;
			pdu.partner = (struct lacp_peer){ (uint16_t)(p[0] << 8 | p[1]), { p[2], p[3], p[4], p[5], p[6], p[7] },
							  (uint16_t)(p[8] << 8 | p[9]), (uint16_t)(p[10] << 8 | p[11]),
							  (uint16_t)(p[12] << 8 | p[13]), p[14] };
			pdu.version = p[15] ? p[15] : 1;
			i += 31;
			FUZZ_CHECK(lacp_pdu_build(f, sizeof(f), src, &pdu) == LACP_FRAME_LEN, "build");
			rx(l, m, f, sizeof(f), r.now);
			break;
		}
		case 2:
			if (size - i < 2)
				goto out;
			r.now += (uint64_t)(data[i] << 8 | data[i + 1]);
			i += 2;
			break;
		case 3:
			lacp_carrier(l, m, op & 0x10, r.now);
			if (!(op & 0x10))
				FUZZ_CHECK(!lacp_distributing(l, m), "distributing after carrier loss");
			break;
		default:
			switch (op >> 4) {
			case 0: case 1: case 2:
				cfg.mode = (enum lacp_mode)(op >> 4);
				FUZZ_CHECK(lacp_set_mode(l, cfg.mode, r.now) == 0, "set mode");
				break;
			case 3: case 4:
				FUZZ_CHECK(lacp_set_timer(l, (enum lacp_timer)((op >> 4) - 3), r.now) == 0, "set timer");
				break;
			case 5:
				cfg.sys_mac[5] ^= 0x10;
				lacp_set_system(l, cfg.sys_mac, cfg.sys_prio, r.now);
				break;
			case 6:
				/* a member added again starts a new rate window */
				lacp_port_del(l, m, r.now);
				r.ntx[m] = 0;
				break;
			default: {
				uint8_t mac[6];

				member_mac(m, mac);
				lacp_port_add(l, m, mac, (uint16_t)(m + 1), op & 0x80, r.now);
				break;
			}
			}
			break;
		}
		d = lacp_run(l, r.now, on_send, &r);
		FUZZ_CHECK(d > r.now, "deadline %llu not after now %llu", (unsigned long long)d,
			   (unsigned long long)r.now);
		for (unsigned k = 0; k < LACP_MAX_PORTS; k++)
			check_member(l, k, cfg.mode == LACP_OFF);
	}
out:
	lacp_free(l);
	return 0;
}
