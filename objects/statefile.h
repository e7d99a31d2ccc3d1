/*
 * The state file's format: a vWire file (lib/vwfile.c) that begins with
 * STATEFILE_HEADER and ends with the end line
 *
 *	# end: N lines, crc32 XXXXXXXX
 *
 * where N is the number of lines before it and XXXXXXXX the CRC-32 of their
 * bytes, so a file cut short or damaged is told from a whole one.  Being a
 * comment, the end line leaves the file a valid vWire file.  A file without
 * an end line whose first line is not STATEFILE_HEADER was written by a
 * vwired that wrote none: it cannot be checked and is taken as it is.
 *
 * No global state; statefile_check() may be fed any bytes (fuzz/fuzz_state.c).
 */
#ifndef VW_STATEFILE_H
#define VW_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/vwire.h"

#define STATEFILE_HEADER "# vwire state, written by vwired; `vwadm export` prints it; the last line proves it whole\n"

/* One command of the file: argv[0..argc-1] and a NULL, in one allocation. */
struct statefile_cmd {
	int line;
	int argc;
	char **argv;
};

struct statefile {
	struct statefile_cmd *cmds; /* every command that parsed, in order */
	int ncmds;
	bool unsealed;              /* no end line and an earlier version's header */
};

/* Called with each problem, "PATH:LINE: reason". */
typedef void statefile_report_fn(void *arg, const char *msg);

/*
 * Checks the len bytes at buf as the state file named path: not empty, no
 * NUL byte, a newline at the end, the end line last and matching (unless
 * unsealed), every command parsing and known to the grammar.  Reports each
 * problem and returns their number; sf holds the commands that parsed
 * (statefile_free() it in any case).  -ENOMEM when memory ran out.
 */
int statefile_check(const void *buf, size_t len, const char *path, struct statefile *sf,
		    statefile_report_fn *report, void *arg);
void statefile_free(struct statefile *sf);

/* Appends the end line for the bytes b holds (false when b ran out of memory). */
bool statefile_seal(struct vw_buf *b);

#endif
