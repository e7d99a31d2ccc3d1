/*
 * Link aggregations (objects/aggr.c): create-aggr, add-aggr, remove-aggr,
 * modify-aggr, delete-aggr and what show-aggr shows.  Control thread only;
 * errors as objects/link.h says (one line naming the aggregation, nothing
 * changed).
 */
#ifndef VW_AGGR_H
#define VW_AGGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "datapath/port_aggr.h"
#include "objects/lacp.h"
#include "objects/link.h"

struct aggr_spec {
	const char *name;
	const char *members[VW_AGGR_MAX];
	unsigned nmembers;
	unsigned policy;        /* VW_AGGR_L2 | L3 | L4 */
	enum lacp_mode mode;
	enum lacp_timer timer;
	bool temporary;
};

int aggr_create(const struct aggr_spec *s, char *err, size_t errlen);
int aggr_add(const char *name, const char *const *links, unsigned n, bool temporary, char *err, size_t errlen);
int aggr_remove(const char *name, const char *const *links, unsigned n, bool temporary, char *err, size_t errlen);
/* policy 0, mode or timer -1: unchanged */
int aggr_modify(const char *name, int policy, int mode, int timer, bool temporary, char *err, size_t errlen);
int aggr_delete(const char *name, char *err, size_t errlen);
bool aggr_is(const struct vw_link *l);
/* The aggregation interface ifname is a member of, or NULL. */
const char *aggr_member_of(const char *ifname);

/* -P, -L and -T: 0 or -EINVAL */
int aggr_policy_parse(const char *s, unsigned *policy);
char *aggr_policy_format(unsigned policy, char *buf, size_t len);
int aggr_mode_parse(const char *s, int *mode);
int aggr_timer_parse(const char *s, int *timer);

struct aggr_port_info {
	char name[16];
	uint8_t mac[6];
	bool carrier, collecting, distributing;
	struct lacp_port_info lacp;
	struct vw_aggr_mstats st;
};

struct aggr_info {
	unsigned policy;
	const char *mode, *timer;
	bool up;                /* a member distributes */
	unsigned nports;
	struct aggr_port_info ports[VW_AGGR_MAX];
};
void aggr_info(const struct vw_link *l, struct aggr_info *ai);

/* The control loop: an epoll set to wait on (readable: call aggr_poll),
 * and the milliseconds until aggr_poll is due anyway (-1: never). */
int aggr_poll_fd(void);
void aggr_poll(void);
int aggr_timeout(void);

#endif
