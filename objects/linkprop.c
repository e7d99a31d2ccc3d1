/*
 * Link properties (SPEC §4): one table, each entry with its own parse,
 * set and format functions, as illumos libdladm's prop_table.  create-vnic
 * -p, set-linkprop, reset-linkprop, show-linkprop, the undo of a failed
 * change and the export all walk it.  The values live in a struct
 * vw_linkprops that the link's class keeps twice, current and persistent
 * (the class's props hook; a phys link's by name, attached or not).
 * Properties that later work will bring are listed so that setting one is
 * refused by name rather than accepted and ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "objects/linkclass.h"

struct vw_linkprop {
	const char *name;
	bool implemented;
	const char *possible; /* for show-linkprop */
	const char *def;      /* shown as the default, and when unset */
	const char *only;     /* who takes it, for a refusal */
	const char *why;      /* and why not, to a link VNICs go over by name (a
			       * phys); NULL: no more to say */
	bool last;            /* exported last: its value has commas of its own */
	/* value (NULL: the default) into its field of v; false with err */
	bool (*parse)(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen);
	/* whether a value parsed for create-vnic will do; may be NULL */
	bool (*check)(const char *link, const char *value, char *err, size_t errlen);
	/* makes v's value l's current one, live; 0 or -errno with err */
	int (*set)(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen);
	/* copies its field */
	void (*keep)(struct vw_linkprops *dst, const struct vw_linkprops *src);
	/* its value as text; "" when unset */
	void (*format)(const struct vw_linkprops *v, char *buf, size_t len);
};

static const char *const prio_names[] = { "medium", "high", "low" }; /* enum vw_priority */

/* ---- zone ---- */

static bool zone_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	const char *zone = value ? value : "";

	if (*zone && !vw_zonename_valid(zone)) {
		ERR("%s: invalid zone name '%s'", link, zone);
		return false;
	}
	snprintf(v->zone, sizeof(v->zone), "%s", zone);
	return true;
}

/* create-vnic takes no empty zone ("" is the host only to set-linkprop) */
static bool zone_check(const char *link, const char *value, char *err, size_t errlen)
{
	if (vw_zonename_valid(value))
		return true;
	ERR("%s: invalid zone name '%s'", link, value);
	return false;
}

static int zone_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return vnic_set_zone(l, v->zone, err, errlen);
}

static void zone_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	memcpy(dst->zone, src->zone, sizeof(dst->zone));
}

static void zone_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v->zone);
}

/* ---- mtu ---- */

static bool mtu_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	uint64_t n = 0;

	if (value && !vw_uint_parse(value, 68, 9000, &n)) {
		ERR("%s: invalid mtu '%s' (68-9000)", link, value);
		return false;
	}
	v->mtu = (unsigned)n;
	return true;
}

static int mtu_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return vnic_set_mtu(l, v->mtu, err, errlen);
}

static void mtu_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->mtu = src->mtu;
}

static void mtu_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	*buf = 0;
	if (v->mtu)
		snprintf(buf, len, "%u", v->mtu);
}

/* ---- maxbw: a VNIC's, or a phys link's uplink, both ways ---- */

bool linkprop_maxbw_parse(const char *name, const char *value, uint64_t *bps, char *err, size_t errlen)
{
	if (vw_bw_parse(value, bps) && *bps >= 10000 && *bps <= 100000000000ULL)
		return true;
	ERR("%s: invalid maxbw '%s' (10K to 100G; a bare number is Mb/s)", name, value);
	return false;
}

static bool maxbw_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	v->maxbw = 0;
	return !value || linkprop_maxbw_parse(link, value, &v->maxbw, err, errlen);
}

static int maxbw_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return link_set_maxbw(l, v->maxbw, err, errlen);
}

static void maxbw_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->maxbw = src->maxbw;
}

static void maxbw_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	char b[32];

	snprintf(buf, len, "%s", v->maxbw ? vw_bw_format(v->maxbw, b) : "");
}

/* ---- priority ---- */

static bool priority_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	int p = VW_PRIO_MEDIUM;

	if (value) {
		for (p = 0; p < 3 && strcmp(value, prio_names[p]); p++)
			;
		if (p == 3) {
			ERR("%s: invalid priority '%s' (high, medium or low)", link, value);
			return false;
		}
	}
	v->priority = (uint8_t)p;
	return true;
}

static int priority_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return vnic_set_priority(l, (enum vw_priority)v->priority, err, errlen);
}

static void priority_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->priority = src->priority;
}

static void priority_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v->priority ? prio_names[v->priority % 3] : "");
}

/* ---- cpus: the workers that read a VNIC, or a phys link's uplink ---- */

bool linkprop_cpus_parse(const char *name, const char *value, struct vw_cpuset *set, char *err, size_t errlen)
{
	if (vw_cpulist_parse(value, set))
		return true;
	ERR("%s: invalid cpus '%s' (a CPU list such as 0,2-3)", name, value);
	return false;
}

static bool cpus_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	memset(&v->cpus, 0, sizeof(v->cpus));
	return !value || linkprop_cpus_parse(link, value, &v->cpus, err, errlen);
}

static int cpus_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	struct vw_linkprops *cur;
	int rc = l->cls->set_cpus(l, &v->cpus, err, errlen);

	if (rc)
		return rc;
	if (!(cur = l->cls->props_of(l, false, true))) {
		ERR("%s: out of memory", l->name);
		return -ENOMEM;
	}
	cur->cpus = v->cpus;
	return 0;
}

static void cpus_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->cpus = src->cpus;
}

static void cpus_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	if (vw_cpuset_empty(&v->cpus) || !vw_cpulist_format(&v->cpus, buf, len))
		*buf = 0;
}

/* ---- protection and allowed-ips (objects/protect.c) ---- */

static bool protection_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	v->protect = 0;
	return !value || linkprop_protection_parse(link, value, &v->protect, err, errlen);
}

static bool allowed_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	v->nallowed = 0;
	return !value || linkprop_allowed_parse(link, value, v->allowed, &v->nallowed, err, errlen);
}

static void protection_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->protect = src->protect;
}

static void allowed_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->nallowed = src->nallowed;
	memcpy(dst->allowed, src->allowed, sizeof(dst->allowed));
}

/* Both publish the VNIC's protection anew; a failure puts the value back. */
static int protect_set(struct vw_link *l, const struct vw_linkprops *v,
		       void (*keep)(struct vw_linkprops *, const struct vw_linkprops *), char *err, size_t errlen)
{
	struct vw_linkprops old = l->prop;
	int rc;

	keep(&l->prop, v);
	rc = vnic_protect_apply(l, err, errlen);
	if (rc)
		keep(&l->prop, &old);
	return rc;
}

static int protection_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return protect_set(l, v, protection_keep, err, errlen);
}

static int allowed_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return protect_set(l, v, allowed_keep, err, errlen);
}

static void protection_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	linkprop_protection_format(v->protect, buf, len);
}

static void allowed_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	linkprop_allowed_format(v->allowed, v->nallowed, buf, len);
}

/* ---- the table: show-linkprop's order ---- */

/* ---- face, vhost-socket, vhost-mode: set at creation only ---- */

static const char *const face_names[] = { "netdev", "vhost-user" }; /* enum vw_face */

static int create_only(struct vw_link *l, const char *prop, char *err, size_t errlen)
{
	ERR("%s: property '%s' is set at creation only (delete the VNIC and create it again)", l->name, prop);
	return -EINVAL;
}

static bool face_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	if (!value || !strcmp(value, "netdev"))
		v->face = VW_FACE_NETDEV;
	else if (!strcmp(value, "vhost-user"))
		v->face = VW_FACE_VHOST;
	else {
		ERR("%s: invalid face '%s' (netdev or vhost-user)", link, value);
		return false;
	}
	return true;
}

static int face_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return v->face == l->prop.face ? 0 : create_only(l, "face", err, errlen);
}

static void face_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->face = src->face;
}

static void face_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v->face == VW_FACE_NETDEV ? "" : face_names[v->face]);
}

/* An absolute path that fits a Unix socket address, without the ',' that
 * would end the property's value. */
static bool vsock_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	if (value && (value[0] != '/' || strlen(value) > VW_VHOST_PATH_MAX || strpbrk(value, ",\n"))) {
		ERR("%s: invalid vhost-socket '%s' (an absolute path of at most %d bytes, no ',')", link, value,
		    VW_VHOST_PATH_MAX);
		return false;
	}
	snprintf(v->vhost_socket, sizeof(v->vhost_socket), "%s", value ? value : "");
	return true;
}

static int vsock_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return !strcmp(v->vhost_socket, l->prop.vhost_socket) ? 0 : create_only(l, "vhost-socket", err, errlen);
}

static void vsock_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	memcpy(dst->vhost_socket, src->vhost_socket, sizeof(dst->vhost_socket));
}

static void vsock_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v->vhost_socket);
}

static bool vmode_parse(const char *link, const char *value, struct vw_linkprops *v, char *err, size_t errlen)
{
	if (value && strcmp(value, "server") && strcmp(value, "client")) {
		ERR("%s: invalid vhost-mode '%s' (server or client)", link, value);
		return false;
	}
	v->vhost_client = value && !strcmp(value, "client");
	return true;
}

static int vmode_set(struct vw_link *l, const struct vw_linkprops *v, char *err, size_t errlen)
{
	return v->vhost_client == l->prop.vhost_client ? 0 : create_only(l, "vhost-mode", err, errlen);
}

static void vmode_keep(struct vw_linkprops *dst, const struct vw_linkprops *src)
{
	dst->vhost_client = src->vhost_client;
}

static void vmode_format(const struct vw_linkprops *v, char *buf, size_t len)
{
	snprintf(buf, len, "%s", v->vhost_client ? "client" : "");
}

#define FNS(fn) .parse = fn##_parse, .set = fn##_set, .keep = fn##_keep, .format = fn##_format

static const struct vw_linkprop props[] = {
	{ "zone", true, "--", "", "VNICs", FNS(zone), .check = zone_check },
	{ "mtu", true, "68-9000", "1500", "VNICs", FNS(mtu) },
	{ "maxbw", true, "--", "--", "VNICs and phys links", FNS(maxbw) },
	{ "priority", true, "high,medium,low", "medium", "VNICs", FNS(priority),
	  .why = " (a phys link's egress serves its VNICs by theirs)" },
	{ "cpus", true, "--", "--", "VNICs and phys links", FNS(cpus), .last = true },
	{ "protection", true, "mac-nospoof,ip-nospoof,dhcp-nospoof,restricted", "--", "VNICs", FNS(protection) },
	{ "allowed-ips", true, "--", "--", "VNICs", FNS(allowed) },
	{ "face", true, "netdev,vhost-user", "netdev", "VNICs", FNS(face) },
	{ "vhost-socket", true, "--", "--", "VNICs with face=vhost-user", FNS(vsock) },
	{ "vhost-mode", true, "server,client", "server", "VNICs with face=vhost-user", FNS(vmode) },
};
#define NPROPS (sizeof(props) / sizeof(props[0]))

/* The properties whose value is a list ("cpus=0,2"), for vw_proplist_split. */
const char *const linkprop_lists[] = { "cpus", "protection", "allowed-ips", NULL };

const struct vw_linkprop *linkprop_nth(int i)
{
	return i >= 0 && (size_t)i < NPROPS ? &props[i] : NULL;
}

const struct vw_linkprop *linkprop_find(const char *name)
{
	size_t i;

	for (i = 0; i < NPROPS; i++)
		if (!strcmp(props[i].name, name))
			return &props[i];
	return NULL;
}

const char *linkprop_name(const struct vw_linkprop *pd)
{
	return pd->name;
}

const char *linkprop_possible(const struct vw_linkprop *pd)
{
	return pd->possible;
}

bool linkprop_implemented(const struct vw_linkprop *pd)
{
	return pd->implemented;
}

static bool takes(const struct vw_link_class *c, const struct vw_linkprop *pd)
{
	const char *const *p;

	for (p = c->props; p && *p; p++)
		if (!strcmp(*p, pd->name))
			return true;
	return false;
}

bool linkprop_applies(const struct vw_link *l, const struct vw_linkprop *pd)
{
	return takes(l->cls, pd);
}

/* l's values (NULL: none kept, all defaults). */
static const struct vw_linkprops *values(struct vw_link *l, bool saved)
{
	static const struct vw_linkprops none;
	const struct vw_linkprops *v = l->cls->props_of ? l->cls->props_of(l, saved, false) : NULL;

	return v ? v : &none;
}

/* The unknown, unsupported or repeated names, and the values create-vnic
 * takes, in the order they are refused. */
int linkprop_parse(const char *link, const char *prop, const char *value, struct vw_linkprops *v, unsigned *given,
		   char *err, size_t errlen)
{
	const struct vw_linkprop *pd = linkprop_find(prop);
	unsigned bit = pd ? 1u << (pd - props) : 0;

	if (*given & bit) {
		ERR("%s: property '%s' given twice", link, prop);
		return -EINVAL;
	}
	if (!pd) {
		ERR("%s: unknown property '%s'", link, prop);
		return -EINVAL;
	}
	if (!pd->implemented) {
		ERR("%s: property '%s' is not supported yet", link, prop);
		return -EOPNOTSUPP;
	}
	if ((pd->check && !pd->check(link, value, err, errlen)) || !pd->parse(link, value, v, err, errlen))
		return -EINVAL;
	*given |= bit;
	return 0;
}

int linkprop_set(struct vw_link *l, const char *prop, const char *value, bool temporary, char *err, size_t errlen)
{
	const struct vw_linkprop *pd = linkprop_find(prop);
	struct vw_linkprops v, *saved;
	int rc;

	if (!pd) {
		ERR("%s: unknown property '%s'", l->name, prop);
		return -EINVAL;
	}
	if (!pd->implemented) {
		ERR("%s: property '%s' is not supported yet", l->name, prop);
		return -EOPNOTSUPP;
	}
	if (!takes(l->cls, pd)) {
		ERR("%s: property '%s' applies only to %s%s", l->name, prop, pd->only,
		    pd->why && l->cls->adopt ? pd->why : "");
		return -EINVAL;
	}
	/* a temporary link has nothing persistent to change */
	if (l->cls->configured && l->temporary)
		temporary = true;
	v = *values(l, false);
	if (!pd->parse(l->name, value, &v, err, errlen))
		return -EINVAL;
	rc = pd->set(l, &v, err, errlen);
	if (!rc && !temporary) {
		if ((saved = l->cls->props_of(l, true, true)))
			pd->keep(saved, &v);
		else {
			ERR("%s: out of memory", l->name);
			rc = -ENOMEM;
		}
	}
	if (l->cls->props_done)
		l->cls->props_done(l);
	return rc;
}

void linkprop_get(struct vw_link *l, const struct vw_linkprop *pd, char *cur, char *def, char *saved, size_t len)
{
	pd->format(values(l, false), cur, len);
	if (!*cur)
		snprintf(cur, len, "%s", pd->def);
	snprintf(def, len, "%s", pd->def);
	pd->format(values(l, true), saved, len);
}

void linkprop_save(struct vw_link *l, struct linkprop_undo *u)
{
	u->prop = *values(l, false);
	u->saved = *values(l, true);
}

void linkprop_undo(struct vw_link *l, const struct linkprop_undo *u)
{
	struct vw_linkprops *saved;
	char err[256];
	size_t i;

	for (i = 0; i < NPROPS; i++) {
		const struct vw_linkprops *cur = values(l, false);
		struct vw_linkprops t = *cur;

		if (!props[i].implemented || !takes(l->cls, &props[i]))
			continue;
		props[i].keep(&t, &u->prop);
		if (memcmp(&t, cur, sizeof(t)))
			props[i].set(l, &u->prop, err, sizeof(err));
	}
	if (memcmp(values(l, true), &u->saved, sizeof(u->saved)) && (saved = l->cls->props_of(l, true, true)))
		*saved = u->saved;
	if (l->cls->props_done)
		l->cls->props_done(l);
}

/* The canonical text of a value of prop (export's form; "" for the
 * default), or false with err when it does not parse. */
bool linkprop_canon(const char *link, const char *prop, const char *value, char *buf, size_t len, char *err,
		    size_t errlen)
{
	const struct vw_linkprop *pd = linkprop_find(prop);
	struct vw_linkprops v;

	if (!pd || !pd->implemented) {
		ERR("%s: %s property '%s'", link, pd ? "unsupported" : "unknown", prop);
		return false;
	}
	memset(&v, 0, sizeof(v));
	if (!pd->parse(link, value, &v, err, errlen))
		return false;
	pd->format(&v, buf, len);
	return true;
}

int linkprop_export(const struct vw_link_class *c, const struct vw_linkprops *v, struct vw_buf *out)
{
	const char *sep = " -p ";
	char buf[VW_MAX_ALLOWED * 48];
	int last, n = 0;
	size_t i;

	for (last = 0; last < 2; last++)
		for (i = 0; i < NPROPS; i++) {
			if (props[i].last != last || !props[i].implemented || !takes(c, &props[i]))
				continue;
			props[i].format(v, buf, sizeof(buf));
			if (!*buf)
				continue;
			vw_buf_printf(out, "%s%s=%s", sep, props[i].name, buf);
			sep = ",";
			n++;
		}
	return n;
}
