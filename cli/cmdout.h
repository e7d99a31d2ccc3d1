/*
 * How vwadm prints each command's reply (cli/cmdout.c), by command id.
 */
#ifndef VW_CMDOUT_H
#define VW_CMDOUT_H

#include "cli/output.h"
#include "lib/vwire.h"

struct cmd_out {
	const char *rectype;                /* the records it prints */
	const struct out_field *fields;     /* VW_OUT_TABLE: its columns */
	const char *deflt;                  /* default columns; NULL: every field */
	char parsable;                      /* the option for parsable output */
};

/* What command id prints; NULL: nothing (only the verdict). */
const struct cmd_out *cmd_out(enum vw_cmd_id id);

#endif
