/*
 * Prometheus metrics over HTTP (vwired --metrics ADDR:PORT).  The server
 * runs on the control thread, driven by its epoll loop (loop_add_poll), so a
 * scrape reads the objects exactly as a vwstat client does.
 */
#ifndef VW_METRICS_H
#define VW_METRICS_H

#include <stddef.h>

/* Checks ADDR:PORT (IPv4, or [IPv6]:PORT) and keeps it for metrics_start. */
int metrics_parse(const char *spec, char *err, size_t errlen);
/* Binds the address metrics_parse kept, if any, and hooks the server into
 * the control loop. */
int metrics_start(char *err, size_t errlen);
void metrics_stop(void);

#endif
