/*
 * vwadm apply (control/apply.c): makes the persistent configuration equal to
 * a vWire file's, for every object the file names, atomically.
 */
#ifndef VW_APPLY_H
#define VW_APPLY_H

#include <stddef.h>
#include "lib/vwire.h"

/* The handler of `apply [-n] [-P] [-D VAR=VALUE]… FILE TEXT`: TEXT is the
 * file's bytes as the client read them, escaped (vw_text_escape). */
int do_apply(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);

#endif
