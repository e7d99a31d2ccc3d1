/*
 * IPFIX (RFC 7011) flow export over UDP: `create-exporter -T ipfix`.
 *
 * A meter is an observer (datapath/observe.h) on each metered port.  Each
 * worker keeps its own flow cache (a preallocated table of 8-entry buckets:
 * no lock, no allocation per packet) keyed by the observation point (the
 * link's port), the 5-tuple and the direction: a flow follows its VNIC, not
 * its MAC or IP.  Finished flows (idle or active timeout, TCP FIN/RST, a
 * full bucket, the exporter or link going away) become records pushed into
 * a per-worker single-producer ring; the exporter's thread drains the rings,
 * encodes IPFIX messages (templates 256 for IPv4, 257 for IPv6, resent every
 * template= seconds) and sends them with sendmmsg.  A full ring is a counted
 * drop.  The timeouts are served by a task on each worker (vw_task), so
 * flows end when traffic stops too.
 *
 * The cache, ring and encoder are exposed for the unit tests and the bench;
 * the daemon uses the command functions at the end (observability/exporter.c).
 */
#ifndef VW_IPFIX_H
#define VW_IPFIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "datapath/observe.h"
#include "lib/vwire.h"

#define IPFIX_VERSION 10
#define IPFIX_TID_V4 256
#define IPFIX_TID_V6 257
#define IPFIX_MSG_MAX 1472 /* one UDP datagram in a 1500-byte MTU */
#define IPFIX_HDR_LEN 16

/* flowEndReason (IANA IE 136) */
enum {
	IPFIX_END_IDLE = 1,
	IPFIX_END_ACTIVE = 2,
	IPFIX_END_FIN = 3,   /* end of flow detected: TCP FIN or RST */
	IPFIX_END_FORCED = 4, /* exporter or link deleted */
	IPFIX_END_LACK = 5,  /* cache bucket full: the oldest flow was ended */
};

/* A finished flow, as the worker hands it to the exporter thread. */
struct ipfix_rec {
	uint8_t src[16], dst[16]; /* IPv4: the first 4 bytes */
	uint64_t pkts, octets;
	uint64_t first_ms, last_ms; /* CLOCK_MONOTONIC */
	uint8_t smac[6], dmac[6];
	uint16_t sport, dport; /* ICMP: dport is type << 8 | code */
	uint16_t vlan;
	uint8_t proto, ipver, dir, reason; /* dir: VW_OBS_IN / VW_OBS_OUT */
	uint32_t ifindex;
	char name[VW_LINKNAME_MAX + 1];
};

/* One metered port of an exporter (the observer). */
struct ipfix_tap {
	struct vw_obs obs;
	struct ipfix_exp *e;
	struct vw_port *port;
	struct ipfix_tap *next;
	uint32_t ifindex; /* ingressInterface/egressInterface */
	uint16_t vid;     /* the link's VLAN, for frames without a tag */
	char name[VW_LINKNAME_MAX + 1];
};

/* ---- encoding ---- */

struct ipfix_enc {
	uint8_t buf[IPFIX_MSG_MAX];
	size_t len;
	size_t set;    /* offset of the open set's header (0: none open) */
	uint16_t tid;  /* its set id */
	uint32_t nrec; /* data records in the message */
};

void ipfix_enc_begin(struct ipfix_enc *m);
/* Appends the template set (both templates). */
void ipfix_enc_templates(struct ipfix_enc *m);
/* Appends r (times in epoch ms: monotonic + wall_ofs); false: no room. */
bool ipfix_enc_record(struct ipfix_enc *m, const struct ipfix_rec *r, int64_t wall_ofs);
/* Closes the message: header with its length; returns the length. */
size_t ipfix_enc_finish(struct ipfix_enc *m, uint32_t export_time, uint32_t seq, uint32_t domain);

/* ---- the exporter ---- */

struct ipfix_conf {
	struct sockaddr_storage collector;
	socklen_t collen;
	unsigned active_s, idle_s, template_s;
	uint32_t domain;
	unsigned nbuckets; /* per worker cache: buckets of 8 flows (power of 2) */
	unsigned ringsize; /* per worker ring of records (power of 2) */
};

struct ipfix_stats {
	uint64_t flows;     /* in the caches now */
	uint64_t records;   /* data records sent */
	uint64_t messages;  /* messages sent (templates included) */
	uint64_t drops;     /* records lost: ring full or send failure */
	uint64_t evicted;   /* flows ended early for room (reason 5) */
};

struct ipfix_exp;

/* Starts the exporter's thread and socket for nworkers workers. */
struct ipfix_exp *ipfix_new(const struct ipfix_conf *conf, int nworkers, char *err, size_t errlen);
/* Worker w meters n frames of tap's port (the observer's work). */
void ipfix_meter(struct ipfix_tap *t, int w, unsigned dir, struct vw_pkt **pkts, int n, bool tagged,
		 uint64_t now_ms);
/* Worker w ends the flows whose timeouts passed, in nb of its buckets
 * (from where the last sweep stopped).  Returns how many ended. */
unsigned ipfix_sweep(struct ipfix_exp *e, int w, uint64_t now_ms, unsigned nb);
/* Worker w ends its flows of tap t (NULL: all) with reason 4, waiting for
 * ring room if need be (an administrative path). */
unsigned ipfix_flush(struct ipfix_exp *e, int w, const struct ipfix_tap *t, uint64_t now_ms);
/* Sends what the rings hold and stops the thread; frees e. */
void ipfix_free(struct ipfix_exp *e);
void ipfix_get_stats(struct ipfix_exp *e, struct ipfix_stats *st);
/* Binds an observer struct to e (the bench and tests use it directly). */
void ipfix_tap_init(struct ipfix_tap *t, struct ipfix_exp *e, struct vw_port *port, const char *name,
		    uint32_t ifindex, uint16_t vid);

/* ---- the commands (control thread; observability/exporter.c) ---- */

struct vw_cmd;
int exporter_create_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int exporter_delete_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int exporter_show_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
/* create-exporter lines for the saved state. */
void exporters_export(struct vw_buf *out);

#endif
