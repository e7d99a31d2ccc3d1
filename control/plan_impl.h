/*
 * The plan of `vwadm apply`, inside: the objects both sides are read into
 * (control/plan_model.c reads them; control/plan.c compares them and makes
 * the steps).  Control thread only; nothing here is kept between plans.
 */
#ifndef VW_PLAN_IMPL_H
#define VW_PLAN_IMPL_H

#include <stdbool.h>
#include "control/plan.h"
#include "objects/vnm.h"

/* In replay order: what a kind refers to comes before it. */
enum kind { K_ACCT, K_ZONE, K_STUB, K_PHYS, K_AGGR, K_TUNNEL, K_VNIC, K_ADDR, K_FLOW, K_VNM, K_MIRROR, K_EXPORTER, NKINDS };

#define MAXPROPS 64
#define MAXREFS 64

struct prop {
	char cls; /* L link, F flow, V vnm, A aggr option (-P -L -T), M aggr members,
		   * C a link property set at creation only (part of the identity) */
	char *k, *v;
};

struct ent {
	enum kind kind;
	char *name;
	char *ident;
	char mactype[8], macpfx[24]; /* a VNIC's -m: random/auto/fixed, and the prefix (or address) */
	int line;
	struct prop props[MAXPROPS];
	int nprops;
	char *refs[MAXREFS]; /* "l:LINK", "z:ZONE" */
	int nrefs;
	struct vnm_props *vnm; /* a VNM's properties as parsed (its V properties are their text) */
	enum vnm_type vnmtype;
	struct plan_cmd *cmds; /* the commands that make it, in order */
	int ncmds, ccap;
	struct ent *peer;
	enum { ST_SAME, ST_CREATE, ST_CHANGE, ST_REPLACE } st; /* the file's objects */
	bool partial;                                          /* set-linkprop of a link made elsewhere */
	bool gone, pruned, recreate;                           /* the daemon's */
	char why[96];
};

struct model {
	struct ent **e;
	int n, cap;
	const char *file;
	bool desired;
};

extern const char *const plan_kind_name[NKINDS];

/* Allocation that cannot fail (the daemon stops when memory is out). */
char *plan_strdup(const char *s);
void *plan_realloc(void *p, size_t n);
char *plan_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A command made of copies of argv's words (NULL-terminated), or of the
 * words given (up to a NULL). */
struct plan_cmd plan_cmd_make(int argc, char *const argv[]);
struct plan_cmd plan_cmd_words(const char *w0, ...);
void plan_cmd_free(struct plan_cmd *c);

/* Reads a vWire text (file's name for messages; vars for ${VAR}) into m:
 * 0, or -EINVAL with err "FILE:LINE: reason". */
int plan_model_read(struct model *m, const char *file, const char *text, size_t len, const struct vw_vardef *vars,
		    int nvars, char *err, size_t errlen);
void plan_model_free(struct model *m);
/* The object of kind k (links: of any link kind) called name, or NULL. */
struct ent *plan_find(const struct model *m, enum kind k, const char *name);
/* The values of property k of class cls, joined with ',' ("" when unset). */
void plan_prop_get(const struct ent *e, char cls, const char *k, char *buf, size_t len);
/* Whether e refers to key, and what others call e by ("l:NAME",
 * "z:NAME"; NULL: nothing refers to it). */
bool plan_refers(const struct ent *e, const char *key);
const char *plan_ent_key(const struct ent *e, char *buf, size_t len);

#endif
