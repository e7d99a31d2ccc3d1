/*
 * libpcap filters for what the datapath observes (captures, mirrors):
 * compiled here on the control thread, run by the observers on the workers
 * with bpf_filter() on each frame as it is on the link.
 */
#ifndef VW_FILTER_H
#define VW_FILTER_H

#include <stddef.h>
#include <pcap/pcap.h>

/* Compiles filter (libpcap syntax) for Ethernet frames into prog, to be
 * freed with pcap_freecode().  0, or -EINVAL / -ENOMEM with "bad filter
 * 'F': why" in err. */
int vw_filter_compile(const char *filter, struct bpf_program *prog, char *err, size_t errlen);

#endif
