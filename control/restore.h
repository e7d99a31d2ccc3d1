/*
 * Start-up replay of the persistent state (control/restore.c).
 */
#ifndef VW_RESTORE_H
#define VW_RESTORE_H

#include <stdbool.h>

/*
 * Checks the state file whole, then replays its commands.  0: the daemon
 * may serve.  -1: it must not start (the file failed its check, held a
 * NUL byte, or had a line that did not apply, and force is false; or the file
 * could not be kept as FILE.failed): the caller undoes what the replay made
 * (links_undo_all()) and exits.  Every problem is on stderr as
 * "vwired: FILE:LINE: reason".
 */
int restore_state(bool force);

#endif
