/*
 * A mirror as observability/mirror.c (mirrors as objects: their commands,
 * following links) and observability/mirror_send.c (the copies: the
 * observer on the workers, the rings, the sender thread) share it; no other
 * file includes this.
 */
#ifndef VW_MIRROR_IMPL_H
#define VW_MIRROR_IMPL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <pcap/pcap.h>

#include "datapath/observe.h"
#include "datapath/vnet.h"
#include "observability/mirror.h"

#define MAX_SOURCES 16
#define FILTER_MAX 1024
#define REC_PAD 0xffffffffu
#define DRAIN_MAX 256 /* records per ring per pass */
/* A record in a ring: this header, then the frame as on the link; 8-byte
 * aligned.  A record that would not fit before the ring's end is preceded
 * by a pad record (len REC_PAD) up to the end. */
struct rec {
	uint32_t len;  /* the frame's length, or REC_PAD */
	uint32_t size; /* the record's bytes, header included */
	struct virtio_net_hdr_v1 vnet; /* offsets as in the copy */
	uint8_t pad[4];
};

/* One worker's ring: the producer's line, the consumer's line, counters. */
struct ring {
	uint64_t head;       /* bytes written (worker) */
	uint64_t tail_cache; /* the worker's last view of tail */
	uint64_t copied, drops;
	char pad1[32];
	uint64_t tail;       /* bytes consumed (sender) */
	char pad2[56];
	uint8_t *buf;
} __attribute__((aligned(64)));

struct mirror_obs {
	struct vw_obs obs;
	struct vw_mirror *m;
};

struct vw_mirror {
	struct vw_mirror *next;
	char name[32];
	int nsrc;
	char src[MAX_SOURCES][VW_LINKNAME_MAX + 1];
	unsigned dir;
	char filter[FILTER_MAX];
	struct bpf_program prog;
	bool has_prog;
	/* destination */
	enum vw_mirror_kind kind;
	char dlink[VW_LINKNAME_MAX + 1];
	struct vw_port *dport; /* guarded by mirrors_lock for the sender; NULL: down */
	struct sockaddr_in daddr;
	bool has_key;
	uint32_t key;
	uint16_t session;
	uint32_t seq;
	char dest[64]; /* as given, for show and export */
	/* explicit sources' ports (m->dir) and etherstub members' (OUT) */
	struct mirror_obs obs_link, obs_stub;
	struct ring *rings; /* VW_MAX_WORKERS */
	/* the sender's counters */
	uint64_t sent_pkts, sent_bytes, send_drops;
	uint32_t cur_len; /* the sender's record at hand */
};

/* Every mirror (the control thread's list; the sender walks it under
 * mirrors_lock), the mirrors_lock, the sender's wake-up eventfd and the raw GRE socket
 * (mirror_send.c). */
extern struct vw_mirror *mirrors;
extern pthread_mutex_t mirrors_lock;
extern int mirror_wake_fd, mirror_raw_fd;

/* opens the raw GRE socket once */
int mirror_raw_open(char *err, size_t errlen);
/* starts the sender thread, once */
int mirror_sender_start(char *err, size_t errlen);
/* stops it */
void mirror_sender_end(void);
/* the sender's scratch (also for the tests) */
int mirror_sender_alloc(char *err, size_t errlen);
/* sends what one ring holds (the sender; the tests) */
int mirror_drain(struct vw_mirror *m, struct ring *r);

/* frees the sender's scratch (daemon exit) */
void mirror_sender_free(void);
/* the observer on a source port: copies into the worker's ring */
void mirror_obs_fn(struct vw_obs *obs, int w, struct vw_port *port, unsigned dir, struct vw_pkt **pkts,
			  int n, bool tagged);

#endif
