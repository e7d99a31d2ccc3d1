/*
 * Table-driven output for vwadm and vwstat, after illumos ofmt: one field
 * table per kind of record serves the default columns, -o selection, -p
 * parsable output and JSON.
 *
 *   table     upper-case header, values padded to the field's width (a
 *             longer value pushes the rest of the line), empty as "--"
 *   parsable  no header, values joined by ':'; with more than one field a
 *             ':' or '\' in a value is escaped as "\:" or "\\" (as dladm
 *             does, a single field is printed as is); empty as ""
 *   json      one array of objects per out_begin/out_end, on one line; keys
 *             are the lower-case field names, numeric fields are numbers
 */
#ifndef VW_OUTPUT_H
#define VW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/vwire.h"

#define OUT_F_NUM     0x1 /* a number: right-justified, a JSON number */
#define OUT_F_DELTA   0x2 /* vwstat -i prints its change over the interval */
#define OUT_F_COUNTER (OUT_F_NUM | OUT_F_DELTA)

struct out_field {
	const char *name;  /* column header and -o name, upper case */
	const char *key;   /* record key */
	int width;
	unsigned flags;
	const char *none;  /* printed for an empty value; NULL: "--" / "" */
};

/* Field tables end with an entry whose name is NULL. */

#define OUT_MAXFIELDS 32

enum out_mode { OUT_TABLE, OUT_PARSABLE, OUT_JSON };

struct out {
	enum out_mode mode;
	FILE *fp;
	int n;
	const struct out_field *f[OUT_MAXFIELDS];
	int nrows; /* rows since out_begin */
};

/*
 * Selects the fields of tab named in list ("all", or names separated by
 * commas, case-insensitive), or those in deflt when list is NULL (deflt
 * NULL: every field).  -1 with "unknown field 'X'" in err.
 */
int out_init(struct out *o, const struct out_field *tab, const char *list, const char *deflt, enum out_mode mode,
	     FILE *fp, char *err, size_t errlen);
/* Starts a table or JSON array; the table header comes with the first row. */
void out_begin(struct out *o);
/* One row: vals[i] is the value of o->f[i] (NULL or "" when empty). */
void out_row(struct out *o, const char *const *vals);
/* One row from a reply record, looked up by the fields' keys. */
void out_record(struct out *o, const struct vw_record *r);
void out_end(struct out *o);

#endif
