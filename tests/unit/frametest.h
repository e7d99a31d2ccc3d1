/*
 * Helpers shared by the unit tests that build and check frames
 * (test_gso.c, test_tcpops.c): a reference Internet checksum as plain as it
 * gets, big-endian field access, and an optional pcap file of the frames a
 * test made, for a system test to hand to tshark.  Include after cmocka.h.
 */
#ifndef VW_FRAMETEST_H
#define VW_FRAMETEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "lib/bytes.h"
#include "tests/unit/refsum.h"

/* ---- pcap output: only when the environment variable names a file ---- */

static FILE *pcap;

static void pcap_open(const char *env)
{
	const char *path = getenv(env);
	uint32_t hdr[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, 262144, 1 /* Ethernet */ };

	if (!path || pcap)
		return;
	pcap = fopen(path, "w");
	if (!pcap || fwrite(hdr, sizeof(hdr), 1, pcap) != 1) {
		fprintf(stderr, "cannot write %s (%s)\n", path, env);
		exit(1);
	}
}

static void pcap_write(const uint8_t *frame, uint32_t len)
{
	static uint32_t usec;
	uint32_t rec[4];

	if (!pcap)
		return;
	usec++;
	rec[0] = 1700000000 + usec / 1000000;
	rec[1] = usec % 1000000;
	rec[2] = rec[3] = len;
	assert_int_equal(fwrite(rec, sizeof(rec), 1, pcap), 1);
	assert_int_equal(fwrite(frame, len, 1, pcap), 1);
}

static int pcap_close(void)
{
	int rc = pcap && fclose(pcap) != 0 ? -1 : 0;

	pcap = NULL;
	return rc;
}

#endif
