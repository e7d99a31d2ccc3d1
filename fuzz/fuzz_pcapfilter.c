/*
 * The pcap-filter path of captures (observability/filter.c, capture.c):
 * a libpcap expression compiled on the control side by vw_filter_compile()
 * and by vw_cap_new(), then a frame given to the capture engine as a
 * worker gives it (vw_obs_run() on a port the capture observes, with or
 * without an 802.1Q tag still to insert), and read back with vw_cap_read().
 *
 * Input: the filter up to the first NUL (at most 256 bytes: libpcap's
 * optimiser is slow on long expressions, which is not ours to fuzz), a mode
 * byte (bit 1: the frame is delivered with a tag for VID, bit 2: direction
 * out), the VID (2 bytes), the frame.
 *
 * Checked: a filter either compiles for both, or is refused by both with
 * "bad filter '...': why"; the engine keeps a frame exactly when bpf_filter()
 * of the compiled program accepts the frame as it is on the link (the tag
 * inserted), and keeps it whole and unchanged, with caplen = len.
 *
 * Host names in filters would make libpcap ask DNS: getaddrinfo() and
 * gethostbyname() are replaced here by versions that know no host, so a
 * run never leaves the machine and gives the same answer every time.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>

#include "fuzz/fuzz.h"
#include "datapath/observe.h"
#include "observability/capture.h"
#include "observability/filter.h"

#define M_TAGGED 1
#define M_OUT 2
#define FILTER_MAX 256

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res)
{
	static int (*real)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

	if (node)
		return EAI_NONAME;
	/* a service name alone ("port http") is looked up in files */
	if (!real)
		real = (int (*)(const char *, const char *, const struct addrinfo *, struct addrinfo **))dlsym(
			RTLD_NEXT, "getaddrinfo");
	return real ? real(node, service, hints, res) : EAI_NONAME;
}

struct hostent *gethostbyname(const char *name)
{
	(void)name;
	h_errno = HOST_NOT_FOUND;
	return NULL;
}

/* Every capture maps a 256 KiB ring per worker: with ASan's default 256 MB
 * quarantine of freed memory, most of a run would go to mapping and
 * unmapping them. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

static struct vw_pkt pkt;
static struct vw_port port;
static uint8_t out[VW_PKT_DATA_MAX + 64];
static uint8_t wire[VW_PKT_DATA_MAX + 4];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size < FILTER_MAX + 1 ? size : FILTER_MAX + 1), *frame;
	struct vw_pkt *pkts[1] = { &pkt };
	char err[512], err2[512], *filter;
	struct bpf_program prog;
	uint32_t len, wlen;
	struct vw_cap *c;
	uint64_t nrec;
	size_t got;
	uint8_t mode;
	uint16_t vid;
	int rc, want;

	if (!nul || size - (size_t)(nul - data) < 4)
		return 0;
	mode = nul[1];
	vid = (uint16_t)((nul[2] << 8 | nul[3]) & 0xfff);
	frame = nul + 4;
	len = (uint32_t)(size - (size_t)(frame - data));
	if (len > VW_PKT_DATA_MAX)
		return 0;
	filter = fuzz_strndup(data, (size_t)(nul - data));
	if (!filter)
		return 0;

	err[0] = err2[0] = 0;
	rc = vw_filter_compile(filter, &prog, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || (rc == -EINVAL && !strncmp(err, "bad filter '", 12)), "compile: %d '%s'", rc, err);
	c = vw_cap_new(filter, 256u << 10, err2, sizeof(err2));
	FUZZ_CHECK(!c == (rc != 0), "vw_filter_compile %d, vw_cap_new %s ('%s')", rc, c ? "took it" : "refused", err2);
	if (!c) {
		FUZZ_CHECK(!strcmp(err, err2), "two reasons: '%s', '%s'", err, err2);
		free(filter);
		return 0;
	}

	/* a port's frames are at least an Ethernet header */
	if (len >= 14) {
		bool tagged = mode & M_TAGGED;
		unsigned dir = mode & M_OUT ? VW_OBS_OUT : VW_OBS_IN;

		memset(&port, 0, sizeof(port));
		FUZZ_CHECK(vw_cap_add_port(c, &port, VW_OBS_IN | VW_OBS_OUT) == 0, "vw_cap_add_port");
		pkt.data = pkt.buf;
		pkt.len = len;
		pkt.vid = vid;
		memcpy(pkt.buf, frame, len);
		vw_obs_run(&port, (int)(vid % VW_MAX_WORKERS), dir, pkts, 1, tagged);
		FUZZ_CHECK(pkt.len == len && !memcmp(pkt.buf, frame, len), "the capture changed the frame");
		wlen = vw_obs_copy(&pkt, tagged, wire, sizeof(wire));
		FUZZ_CHECK(wlen == len + (tagged && vid ? 4u : 0u), "length on the link %u", wlen);
		want = bpf_filter(prog.bf_insns, wire, wlen, wlen) != 0;
		got = vw_cap_read(c, out, sizeof(out), 0, &nrec);
		FUZZ_CHECK(nrec == (uint64_t)want, "filter says %d, capture kept %llu", want, (unsigned long long)nrec);
		if (want) {
			uint32_t hdr[4];

			memcpy(hdr, out, sizeof(hdr));
			FUZZ_CHECK(got == 16 + wlen && hdr[2] == wlen && hdr[3] == wlen, "record of %zu bytes, caplen %u len %u",
				   got, hdr[2], hdr[3]);
			FUZZ_CHECK(!memcmp(out + 16, wire, wlen), "captured bytes differ from the frame on the link");
		}
		FUZZ_CHECK(vw_cap_drops(c) == 0, "drops");
		FUZZ_CHECK(vw_cap_del_port(c, &port) == 0 && !port.obs, "vw_cap_del_port");
	}
	pcap_freecode(&prog);
	vw_cap_free(c);
	free(filter);
	return 0;
}
