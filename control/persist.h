/*
 * The persistent state file (control/persist.c): what every subsystem
 * exports, in replay order, saved atomically after each persistent change.
 */
#ifndef VW_PERSIST_H
#define VW_PERSIST_H

#include <stddef.h>
#include "lib/vwire.h"

/* Writes the persistent configuration as vWire lines. */
void state_export(struct vw_buf *out);
/* Saves it to DIR/vwire.conf atomically (write .new, fsync, rename). */
int state_save(char *err, size_t errlen);
void state_set_dir(const char *dir);
const char *state_path(void);

#endif
