/*
 * Virtual network machines (objects/vnm.h): the objects, and the rules that
 * tie them to zones and VNICs.  A VNM is named after its zone, one per zone;
 * its VNICs must be in that zone and stay there while it exists.  Every
 * change is checked whole against the model before the zone is touched;
 * if the zone then refuses it (nftables, a route), what was there is put
 * back.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/link.h"
#include "objects/vnm.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

struct vnm *vw_vnms;

struct vnm *vnm_find(const char *name)
{
	struct vnm *v;

	for (v = vw_vnms; v; v = v->next)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

struct vnm *vnm_of_link(const char *link)
{
	struct vnm *v;
	int i;

	for (v = vw_vnms; v; v = v->next)
		for (i = 0; i < v->nlinks; i++)
			if (!strcmp(v->links[i], link))
				return v;
	return NULL;
}

int vnm_check_link(const char *link, const char *to, char *err, size_t errlen)
{
	struct vnm *v = vnm_of_link(link);

	if (!v || (to && !strcmp(to, v->name)))
		return 0;
	ERR("%s: VNIC is used by VNM '%s' (delete-vnm %s first)", link, v->name, v->name);
	return -EBUSY;
}

int vnm_check_zone(const char *zone, char *err, size_t errlen)
{
	if (!vnm_find(zone))
		return 0;
	ERR("%s: zone is VNM '%s' (delete-vnm %s first)", zone, zone, zone);
	return -EBUSY;
}

/* The addresses of the VNM's VNICs, from the model. */
static void env_of(const struct vnm *v, struct vnm_env *env)
{
	int i, k;

	memset(env, 0, sizeof(*env));
	for (i = 0; i < v->nlinks; i++) {
		struct vw_link *l = link_find(v->links[i]);

		env->links[env->nlinks++] = v->links[i];
		for (k = 0; l && k < l->naddr && env->naddrs < (int)(sizeof(env->addrs) / sizeof(env->addrs[0])); k++) {
			env->addrs[env->naddrs] = l->addrs[k].p;
			env->link[env->naddrs++] = v->links[i];
		}
	}
}

/* -l VNIC[,VNIC...]: each a VNIC in zone name, none twice */
static int links_parse(struct vnm *v, const char *list, char *err, size_t errlen)
{
	char buf[512], *n, *save = NULL;
	int i;

	if (strlen(list) >= sizeof(buf)) {
		ERR("%s: VNIC list too long", v->name);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", list);
	for (n = strtok_r(buf, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
		struct vw_link *l = link_find(n);
		struct vnm *o;

		if (v->nlinks == VNM_MAX_LINKS) {
			ERR("%s: more than %d VNICs", v->name, VNM_MAX_LINKS);
			return -EINVAL;
		}
		if (!l || !vnic_is(l)) {
			ERR("%s: no such VNIC '%s' (create-vnic -p zone=%s %s first)", v->name, n, v->name, n);
			return -ENOENT;
		}
		if (strcmp(l->prop.zone, v->name)) {
			ERR("%s: VNIC '%s' is not in zone %s (set-linkprop -p zone=%s %s)", v->name, n, v->name, v->name,
			    n);
			return -EINVAL;
		}
		if ((o = vnm_of_link(n))) {
			ERR("%s: VNIC '%s' is used by VNM '%s'", v->name, n, o->name);
			return -EBUSY;
		}
		for (i = 0; i < v->nlinks; i++)
			if (!strcmp(v->links[i], n)) {
				ERR("%s: VNIC '%s' given twice", v->name, n);
				return -EINVAL;
			}
		snprintf(v->links[v->nlinks++], sizeof(v->links[0]), "%s", n);
	}
	if (!v->nlinks) {
		ERR("%s: no VNIC given (-l VNIC[,VNIC...])", v->name);
		return -EINVAL;
	}
	return 0;
}

static int props_apply(struct vnm *v, struct vnm_props *p, const char *const *props, int nprops, char *err,
		       size_t errlen)
{
	unsigned replaced = 0;
	struct vnm_env env;
	int i, rc;

	for (i = 0; i < nprops; i++)
		if ((rc = vnm_props_parse(v->name, v->type, props[i], p, &replaced, err, errlen)))
			return rc;
	env_of(v, &env);
	return vnm_props_check(v->name, v->type, p, &env, err, errlen);
}

int vnm_create(const char *name, const char *type, const char *links, const char *const *props, int nprops,
	       bool temporary, char *err, size_t errlen)
{
	struct vnm *v, **pp;
	char e[256];
	int rc;

	if (!vw_zonename_valid(name)) {
		ERR("%s: invalid VNM name (a zone name)", name);
		return -EINVAL;
	}
	if (!zone_find(name)) {
		ERR("%s: no such zone (create-zone %s first)", name, name);
		return -ENOENT;
	}
	if (vnm_find(name)) {
		ERR("%s: VNM already exists (one per zone)", name);
		return -EEXIST;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->temporary = temporary;
	vnm_hc_reset(v);
	if (vnm_type_parse(type, &v->type)) {
		ERR("%s: invalid type '%s' (router, nat, lb or firewall)", name, type);
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = links_parse(v, links, err, errlen)) || (rc = props_apply(v, &v->p, props, nprops, err, errlen)))
		goto fail;
	rc = vnm_install(v, NULL, e, sizeof(e));
	if (rc) {
		char e2[256];

		vnm_uninstall(v, e2, sizeof(e2));
		ERR("%s: %s", name, e);
		goto fail;
	}
	snprintf(v->state, sizeof(v->state), "ok");
	for (pp = &vw_vnms; *pp; pp = &(*pp)->next)
		; /* listed and saved in the order made */
	*pp = v;
	return 0;
fail:
	free(v);
	return rc;
}

int vnm_delete(const char *name, char *err, size_t errlen)
{
	struct vnm **pp, *v;
	char e2[256];

	for (pp = &vw_vnms; *pp && strcmp((*pp)->name, name); pp = &(*pp)->next)
		;
	if (!(v = *pp)) {
		ERR("%s: no such VNM", name);
		return -ENOENT;
	}
	vnm_uninstall(v, e2, sizeof(e2)); /* the zone may be gone already */
	vnm_hc_close(v);
	*pp = v->next;
	free(v);
	return 0;
}

int vnm_setprop(const char *name, const char *const *props, int nprops, bool reset, char *err, size_t errlen)
{
	struct vnm *v = vnm_find(name);
	struct vnm_props old;
	struct vnm_env env;
	char e[256];
	int i, rc;

	if (!v) {
		ERR("%s: no such VNM", name);
		return -ENOENT;
	}
	old = v->p;
	if (reset) {
		struct vnm_props p = v->p;

		for (i = 0; i < nprops; i++) {
			char buf[512], *k, *save = NULL;

			snprintf(buf, sizeof(buf), "%s", props[i]);
			for (k = strtok_r(buf, ",", &save); k; k = strtok_r(NULL, ",", &save))
				if ((rc = vnm_props_reset(name, v->type, k, &p, err, errlen)))
					return rc;
		}
		env_of(v, &env);
		if ((rc = vnm_props_check(name, v->type, &p, &env, err, errlen)))
			return rc;
		v->p = p;
	} else {
		struct vnm_props p = v->p;

		if ((rc = props_apply(v, &p, props, nprops, err, errlen)))
			return rc;
		v->p = p;
	}
	/* a backend list changed: every backend starts up again */
	if (old.nbackends != v->p.nbackends || memcmp(old.backends, v->p.backends, sizeof(old.backends))) {
		vnm_hc_close(v);
		vnm_hc_reset(v);
	}
	rc = vnm_install(v, &old, e, sizeof(e));
	if (rc) {
		struct vnm_props now = v->p;

		ERR("%s: %s", name, e);
		v->p = old;
		vnm_install(v, &now, e, sizeof(e));
		return rc;
	}
	v->nbase = 0; /* the counters start again with the new rules */
	snprintf(v->state, sizeof(v->state), "ok");
	return 0;
}

struct count_arg {
	const char *key;
	uint64_t p, b;
};

static void count_one(const char *k, uint64_t p, uint64_t b, void *arg)
{
	struct count_arg *a = arg;

	if (!strcmp(k, a->key)) {
		a->p += p;
		a->b += b;
	}
}

void vnm_counts(struct vnm *v, const char *listing, const char *key, uint64_t *pkts, uint64_t *bytes)
{
	struct count_arg a = { key, 0, 0 };
	int i;

	if (listing)
		vnm_nft_counters_parse(listing, count_one, &a);
	for (i = 0; i < v->nbase; i++)
		if (!strcmp(v->base[i].key, key)) {
			a.p += v->base[i].pkts;
			a.b += v->base[i].bytes;
		}
	*pkts = a.p;
	*bytes = a.b;
}

static void fold_one(const char *k, uint64_t p, uint64_t b, void *arg)
{
	struct vnm *v = arg;
	int i;

	for (i = 0; i < v->nbase && strcmp(v->base[i].key, k); i++)
		;
	if (i == v->nbase) {
		if (v->nbase == (int)(sizeof(v->base) / sizeof(v->base[0])))
			return;
		snprintf(v->base[v->nbase++].key, sizeof(v->base[0].key), "%s", k);
	}
	v->base[i].pkts += p;
	v->base[i].bytes += b;
}

void vnm_counts_fold(struct vnm *v)
{
	char *l = vnm_table_list(v);

	if (l)
		vnm_nft_counters_parse(l, fold_one, v);
	free(l);
}

void vnms_export(struct vw_buf *out)
{
	struct vnm *v;
	int i;

	for (v = vw_vnms; v; v = v->next) {
		char props[8192];

		if (v->temporary)
			continue;
		vnm_props_format(&v->p, props, sizeof(props));
		vw_buf_printf(out, "create-vnm -T %s -l ", vnm_type_name(v->type));
		for (i = 0; i < v->nlinks; i++)
			vw_buf_printf(out, "%s%s", i ? "," : "", v->links[i]);
		vw_buf_printf(out, "%s %s\n", props, v->name);
	}
}

void vnms_destroy_all(void)
{
	while (vw_vnms) {
		struct vnm *v = vw_vnms;

		vw_vnms = v->next;
		vnm_hc_close(v);
		free(v);
	}
}
