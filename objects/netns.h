/*
 * Entering zones' network namespaces: the part of objects/netns.c that the
 * other files working inside zones (objects/netlink.c, objects/mcast.c)
 * share.  Control thread only; see objects/netlink.h.
 */
#ifndef VW_NETNS_H
#define VW_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"

/* NULL or "": the daemon's own namespace. */
bool zone_is_host(const char *zone);
/* A zone name must be a plain file name in /run/netns. */
bool zone_name_ok(const char *zone);
bool ifname_ok(const char *ifname);
/* An fd of the zone's namespace, or -errno. */
int zone_open(const char *zone);
/* Moves the calling thread into the zone (nothing to do for the host). */
int zone_enter(const char *zone);
/* Brings the calling thread back after zone_enter(). */
int zone_leave(const char *zone);
/* The daemon's own namespace (-1 before zone_ns_init). */
int zone_host_fd(void);
int zone_ns_init(void);
void zone_ns_fini(void);
/* Copies src into dst (len bytes), cut and terminated. */
void nl_copy_str(char *dst, size_t len, const char *src);

#endif
