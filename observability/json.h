/*
 * JSON text for the web console's API (observability/api.c): strings,
 * numbers and the daemon's command records as objects.
 */
#ifndef VW_JSON_H
#define VW_JSON_H

#include <stdbool.h>
#include "lib/vwire.h"

/* s as a JSON string: quoted, '"' '\' and control characters escaped, a
 * byte that is not part of valid UTF-8 replaced by U+FFFD. */
void json_str(struct vw_buf *o, const char *s);
/* A whole number as vwstat -F json prints one: digits, no leading zero. */
bool json_is_uint(const char *v);
/* v as a number when num and it is one, else as a string. */
void json_value(struct vw_buf *o, const char *v, bool num);
/* "key":value for each field of r (its type is not one), each preceded by
 * ',' unless first; numeric keys (counters) as numbers: every key but the
 * names (link, class, over, zone, flow, worker...) when counters. */
void json_fields(struct vw_buf *o, const struct vw_record *r, bool counters, bool first);
/* A key that names something rather than counts it. */
bool json_name_key(const char *key);

#endif
