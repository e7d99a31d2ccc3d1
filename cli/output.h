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
 *
 * Counters (OUT_F_SCALE) are printed in the table in o->unit (vwstat -u):
 * raw, scaled to fit, or one fixed unit; parsable and JSON output always
 * carry the exact integer.
 */
#ifndef VW_OUTPUT_H
#define VW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/vwire.h"

#define OUT_F_NUM     0x1 /* a number: right-justified, a JSON number */
#define OUT_F_DELTA   0x2 /* vwstat -i prints its change over the interval */
#define OUT_F_SCALE   0x4 /* the table may print it in K/M/G/T/P units */
#define OUT_F_BYTES   0x8 /* bytes: units are powers of 1024, else of 1000 */
#define OUT_F_COUNTER (OUT_F_NUM | OUT_F_DELTA | OUT_F_SCALE)
#define OUT_F_BCOUNTER (OUT_F_COUNTER | OUT_F_BYTES)

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

/* Units of OUT_F_SCALE values in the table: 1..5 are K, M, G, T, P. */
#define OUT_UNIT_RAW  0  /* the exact integer (out_init's default) */
#define OUT_UNIT_AUTO -1 /* below 1000 (1024) raw, else the largest unit with a value >= 1 */
#define OUT_UNIT_MAX  5

struct out {
	enum out_mode mode;
	FILE *fp;
	int n;
	const struct out_field *f[OUT_MAXFIELDS];
	int nrows; /* rows since out_begin */
	int unit;  /* OUT_UNIT_* or 1..OUT_UNIT_MAX */
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

/* A unit letter R, K, M, G, T or P (either case) as OUT_UNIT_*; -2 if none. */
int out_unit_parse(const char *s);
/*
 * Formats v for the table in unit (base 1000 or 1024): raw as "%llu", else
 * with two decimals rounded half up and the unit's letter ("1.23M"); scaled
 * to fit, a value that rounds up to 1000 (1024) of a unit moves to the next.
 */
void out_human(char *buf, size_t len, uint64_t v, unsigned base, int unit);

struct option;
/* "PROG: " fmt (with arg), then usage, on stderr; returns 2, the exit
 * status of a usage error. */
int out_usage_error(const char *prog, const char *usage, const char *fmt, const char *arg);
/* The usage error for getopt's ':' (an option without its value) or '?'
 * (an unknown option), naming a long option of longopts (may be NULL) as
 * the user wrote it. */
int out_getopt_error(const char *prog, const char *usage, int ch, const struct option *longopts,
		     char **argv);

#endif
