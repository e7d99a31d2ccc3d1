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
	/* with option alt_opt[i] given, the reply is printed as alt[i] says
	 * (show-aggr -x, -L: other records, other columns) */
	char alt_opt[2];
	const struct cmd_out *alt[2];
};

/* What command id prints; NULL: nothing (only the verdict). */
const struct cmd_out *cmd_out(enum vw_cmd_id id);
/* co, or its alternative for the options of c */
const struct cmd_out *cmd_out_for(const struct cmd_out *co, const struct vw_cmd *c);

#endif
