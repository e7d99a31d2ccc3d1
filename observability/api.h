/*
 * The web console's JSON API (GET /api/..., POST /api/command), served on
 * the --metrics/--http listener (observability/metrics.c).  Every answer is
 * made from the records of the commands a client would run (show-link,
 * show-vnic, stats, ...: loop_run_command), on the control thread.  Control
 * thread only.
 */
#ifndef VW_API_H
#define VW_API_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/vwire.h"

#define API_MAXARGS 16

/* A request's query parameters, in order. */
struct api_query {
	int n;
	const char *key[API_MAXARGS];
	const char *val[API_MAXARGS];
};

/*
 * GET path (it starts with "/api/"): the HTTP status; out gets the JSON
 * with 200, else one line of text saying what is wrong (404: no such path
 * or object, 400: a bad query parameter).
 */
unsigned api_get(const char *path, const struct api_query *q, struct vw_buf *out);

/* vwired --http-write FILE: reads the credential (a line of at least 16
 * printable characters, in a file no one but its owner may read). */
int api_write_parse(const char *file, char *err, size_t errlen);
bool api_write_enabled(void);
/* A write request's checks, before its body is read: 0 when it may go on,
 * else the HTTP status (403 writes off or a foreign Host/Origin, 401 no or
 * a wrong credential) with one line in out.  authorization, host and
 * origin are the request's headers (NULL: absent). */
unsigned api_write_check(const char *authorization, const char *host, const char *origin, struct vw_buf *out);
/* The Host header names this machine by an address or as localhost (not a
 * name a DNS-rebinding page chose), and Origin, if any, is that host. */
bool api_host_ok(const char *host, const char *origin);
/* POST /api/command: body is one vwadm command line (without "vwadm"),
 * run as the control socket runs it; out gets {"status":N,"message":...,
 * "records":[...]} and the HTTP status is returned. */
unsigned api_command(const char *body, size_t len, struct vw_buf *out);
/* The maximum body of a command request, in bytes. */
#define API_BODY_MAX 65536

#endif
