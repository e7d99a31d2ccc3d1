/*
 * Accounting (SPEC §4 start-accounting, stop-accounting, show-accounting;
 * the acctadm analogue): the daemon samples every link's and flow's
 * counters, as vwstat shows them, into an SQLite history file
 * (lib/history.h) every interval, on the control thread.
 */
#ifndef VW_ACCOUNTING_H
#define VW_ACCOUNTING_H

#include <stddef.h>

#include "lib/vwire.h"

#define ACCT_DEFAULT_INTERVAL 20              /* seconds, as acctadm's net default */
#define ACCT_DEFAULT_RETENTION (7 * 86400000LL) /* ms: a week */

/* Command handlers (control/handlers.c's table). */
int accounting_start_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int accounting_stop_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
int accounting_show_cmd(const struct vw_cmd *c, struct vw_buf *out, char *err, size_t errlen);
/* The start-accounting line of the saved state, when accounting is on. */
void accounting_export(struct vw_buf *out);
/* The state directory (vwired --state-dir), where the history file is
 * unless start-accounting -f says otherwise. */
void accounting_set_dir(const char *dir);
/* The history file start-accounting uses without -f. */
const char *accounting_default_file(char *buf, size_t len);
/* Daemon exit: a last sample, the file closed; accounting stays on in the
 * saved state, so the next daemon resumes into the same file. */
void accounting_shutdown(void);

#endif
