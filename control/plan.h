/*
 * The plan of `vwadm apply` (control/plan.c): what to run, in order, to make
 * the daemon's persistent configuration (its export) equal to a vWire file
 * for every object the file names, and how to undo each command.
 */
#ifndef VW_PLAN_H
#define VW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/vwire.h"

struct plan_cmd {
	int argc;
	char **argv;
};

/* One command and the commands that undo it (run in order). */
struct plan_step {
	char *label;  /* the plan line this command starts ("create vnic v1"), or NULL: part of the one before */
	int line;     /* the file line it comes from; 0: from the daemon's own configuration */
	struct plan_cmd run;
	struct plan_cmd *undo;
	int nundo;
};

enum { PLAN_CREATE, PLAN_CHANGE, PLAN_REPLACE, PLAN_DELETE, PLAN_NCOUNTS };

struct plan {
	struct plan_step *steps;
	int n, cap;
	int count[PLAN_NCOUNTS]; /* objects created, changed, replaced, deleted */
	int same;                /* objects the file names that are as it says */
	bool oom;
};

/*
 * The plan from the file's text (len bytes, named file, ${VAR} from vars)
 * and the daemon's export (cur, a vWire text).  prune: also delete the
 * objects the file does not name, of the kinds it names.  0, or -errno with
 * err "FILE:LINE: reason".
 */
int plan_make(const char *file, const char *text, size_t len, const struct vw_vardef *vars, int nvars,
	      const char *cur, size_t curlen, bool prune, struct plan *p, char *err, size_t errlen);
void plan_free(struct plan *p);
/* A command as one line of words (quoted where needed), for messages. */
char *plan_cmd_text(const struct plan_cmd *c, char *buf, size_t len);

#endif
