/* libpcap filters for captures and mirrors (observability/filter.h). */
#include <errno.h>
#include <stdio.h>
#include "observability/filter.h"

int vw_filter_compile(const char *filter, struct bpf_program *prog, char *err, size_t errlen)
{
	/* the snap length only bounds what the filter may read: frames are
	 * up to 64 KiB super-frames */
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 262144);
	int rc = 0;

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
		snprintf(err, errlen, "bad filter '%s': %s", filter, pcap_geterr(p));
		rc = -EINVAL;
	}
	pcap_close(p);
	return rc;
}
