/*
 * Tunnels (objects/tunnel.c): create-tunnel, delete-tunnel and what
 * show-tunnel shows.  Control thread only; errors as objects/link.h says.
 */
#ifndef VW_TUNNEL_H
#define VW_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "objects/link.h"

#define TUNNEL_MAX_REMOTES 16

struct tunnel_spec {
	const char *name;
	uint32_t vni;
	bool has_vni, has_local;
	struct vw_prefix local;
	uint16_t port;
	unsigned nremotes;
	struct vw_prefix remotes[TUNNEL_MAX_REMOTES];
	bool temporary;
};

/* create-tunnel's -T, -a lists (local=IP, remote=IP, dstport=P) and -p
 * lists (vni=N, dstport=P) into s; 0 or -EINVAL with err. */
int tunnel_spec_parse(const char *name, const char *type, const char *const *attrs, int nattrs,
		      const char *const *props, int nprops, struct tunnel_spec *s, char *err, size_t errlen);
int tunnel_create(const struct tunnel_spec *s, char *err, size_t errlen);
int tunnel_delete(const char *name, char *err, size_t errlen);
bool tunnel_is(const struct vw_link *l);
/* After the replay: removes the devices of tunnels that an earlier run of
 * this daemon, killed, left and that are no longer configured. */
void tunnel_leftovers_del(void);
/* A host address as text, without a prefix length */
char *tunnel_addr_format(const struct vw_prefix *p, char buf[64]);

struct tunnel_info {
	uint32_t vni;
	struct vw_prefix local;
	uint16_t port;
	unsigned nremotes;
	struct vw_prefix remotes[TUNNEL_MAX_REMOTES];
	unsigned mtu;
	int ifindex;
	char underlay[16];
};
void tunnel_info(const struct vw_link *l, struct tunnel_info *ti);

#endif
