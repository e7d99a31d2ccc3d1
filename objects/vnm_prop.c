/*
 * VNM property values (objects/vnm.h): one table of properties, each with
 * the types that take it, its parser and its text.  Nothing here looks at
 * the model or the system: vnm_props_check gets the VNM's surroundings as a
 * vnm_env.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "objects/vnm.h"

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)
#define T(x) (1u << (x))
#define ALL (T(VNM_ROUTER) | T(VNM_NAT) | T(VNM_LB) | T(VNM_FIREWALL))

static const char *const type_names[VNM_TYPE_COUNT] = { "router", "nat", "lb", "firewall" };

static const struct vnm_propdef {
	const char *name;
	unsigned types;  /* T(type) of the types that take it */
	bool required;   /* for those types */
	bool repeats;    /* may be given several times (a list) */
} props[VNM_P_COUNT] = {
	[VNM_P_ROUTE] = { "route", ALL, false, false },
	[VNM_P_INSIDE] = { "inside", T(VNM_NAT), true, false },
	[VNM_P_OUTSIDE] = { "outside", T(VNM_NAT), true, false },
	[VNM_P_VIP] = { "vip", T(VNM_LB), true, false },
	[VNM_P_BACKENDS] = { "backends", T(VNM_LB), true, false },
	[VNM_P_ALGO] = { "algo", T(VNM_LB), false, false },
	[VNM_P_CHECK] = { "check", T(VNM_LB), false, false },
	[VNM_P_POLICY] = { "policy", T(VNM_FIREWALL), false, false },
	[VNM_P_ALLOW] = { "allow", T(VNM_FIREWALL), false, true },
	[VNM_P_DENY] = { "deny", T(VNM_FIREWALL), false, true },
};

const char *vnm_type_name(enum vnm_type t)
{
	return (unsigned)t < VNM_TYPE_COUNT ? type_names[t] : "?";
}

int vnm_type_parse(const char *s, enum vnm_type *t)
{
	int i;

	for (i = 0; i < VNM_TYPE_COUNT; i++)
		if (s && !strcmp(s, type_names[i])) {
			*t = i;
			return 0;
		}
	return -EINVAL;
}

/* An address with no prefix length, either family. */
static bool host_parse(const char *s, struct vw_prefix *p)
{
	return !strchr(s, '/') && vw_prefix_parse(s, true, p);
}

bool vnm_ep_parse(const char *s, struct vnm_ep *e)
{
	char a[INET6_ADDRSTRLEN + 2];
	const char *colon;
	uint64_t port;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		n = (size_t)(close - s - 1);
		colon = close + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return false; /* IPv6 needs its brackets */
		n = (size_t)(colon - s);
	}
	if (!n || n >= sizeof(a))
		return false;
	memcpy(a, s, n);
	a[n] = 0;
	if (!host_parse(a, &e->ip) || !vw_uint_parse(colon + 1, 1, 65535, &port))
		return false;
	e->port = (uint16_t)port;
	return true;
}

char *vnm_ep_format(const struct vnm_ep *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(e->ip.family, &e->ip.addr, a, sizeof(a));
	snprintf(buf, len, e->ip.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, e->port);
	return buf;
}

static void prefix_mask(struct vw_prefix *p)
{
	int bits = p->family == AF_INET6 ? 128 : 32, i;

	for (i = p->plen; i < bits; i++)
		p->addr.bytes[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

static int route_parse(const char *name, const char *v, struct vnm_props *p, char *err, size_t errlen)
{
	char buf[1024], *r, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", v);
	p->nroutes = 0;
	for (r = strtok_r(buf, "+", &save); r; r = strtok_r(NULL, "+", &save)) {
		struct vnm_route *rt = &p->routes[p->nroutes];
		char *at = strchr(r, '@');
		struct vw_prefix m;

		if (p->nroutes == VNM_MAX_ROUTES)
			return ERR("%s: more than %d routes", name, VNM_MAX_ROUTES);
		if (!at)
			return ERR("%s: invalid route '%s' (PREFIX@GATEWAY expected)", name, r);
		*at = 0;
		if (!host_parse(at + 1, &rt->gw))
			return ERR("%s: invalid gateway '%s' in route '%s@%s'", name, at + 1, r, at + 1);
		if (!strcmp(r, "default")) {
			memset(&rt->dst, 0, sizeof(rt->dst));
			rt->dst.family = rt->gw.family;
		} else if (!vw_prefix_parse(r, true, &rt->dst)) {
			return ERR("%s: invalid prefix '%s' in route '%s@%s'", name, r, r, at + 1);
		}
		m = rt->dst;
		prefix_mask(&m);
		if (!vw_prefix_equal(&m, &rt->dst))
			return ERR("%s: invalid prefix '%s': host bits set", name, r);
		if (rt->dst.family != rt->gw.family)
			return ERR("%s: route '%s@%s' mixes IPv4 and IPv6", name, r, at + 1);
		p->nroutes++;
	}
	if (!p->nroutes)
		return ERR("%s: invalid route '%s' (PREFIX@GATEWAY[+...] expected)", name, v);
	return 0;
}

static int backends_parse(const char *name, const char *v, struct vnm_props *p, char *err, size_t errlen)
{
	char buf[1024], *b, *save = NULL;
	int i;

	snprintf(buf, sizeof(buf), "%s", v);
	p->nbackends = 0;
	for (b = strtok_r(buf, "+", &save); b; b = strtok_r(NULL, "+", &save)) {
		if (p->nbackends == VNM_MAX_BACKENDS)
			return ERR("%s: more than %d backends", name, VNM_MAX_BACKENDS);
		if (!vnm_ep_parse(b, &p->backends[p->nbackends]))
			return ERR("%s: invalid backend '%s' (IP:PORT expected)", name, b);
		for (i = 0; i < p->nbackends; i++)
			if (vw_prefix_equal(&p->backends[i].ip, &p->backends[p->nbackends].ip) &&
			    p->backends[i].port == p->backends[p->nbackends].port)
				return ERR("%s: backend '%s' given twice", name, b);
		p->nbackends++;
	}
	if (!p->nbackends)
		return ERR("%s: invalid backends '%s' (IP:PORT[+IP:PORT...] expected)", name, v);
	return 0;
}

static int rule_parse(const char *name, bool deny, const char *v, struct vnm_props *p, char *err, size_t errlen)
{
	struct vnm_rule *r = &p->rules[p->nrules];
	char list[VNM_RULE_MAX], why[256], *c;

	if (p->nrules == VNM_MAX_RULES)
		return ERR("%s: more than %d rules", name, VNM_MAX_RULES);
	if (!*v || strlen(v) >= sizeof(list))
		return ERR("%s: invalid rule '%s'", name, v);
	snprintf(list, sizeof(list), "%s", v);
	for (c = list; *c; c++)
		if (*c == '+')
			*c = ',';
	memset(r, 0, sizeof(*r));
	if (!vw_flow_attrs_parse(list, &r->a, why, sizeof(why)))
		return ERR("%s: invalid rule '%s': %s", name, v, why);
	r->deny = deny;
	snprintf(r->text, sizeof(r->text), "%s", v);
	p->nrules++;
	return 0;
}

/* Drops every rule of one kind (the list is being given afresh). */
static void rules_drop(struct vnm_props *p, bool deny)
{
	int i, n = 0;

	for (i = 0; i < p->nrules; i++)
		if (p->rules[i].deny != deny)
			p->rules[n++] = p->rules[i];
	p->nrules = n;
}

static int prop_find(const char *name, enum vnm_type t, const char *k, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < VNM_P_COUNT; i++)
		if (!strcmp(props[i].name, k)) {
			if (!(props[i].types & T(t)))
				return ERR("%s: property '%s' is not one of a %s VNM", name, k, vnm_type_name(t));
			return i;
		}
	return ERR("%s: unknown property '%s'", name, k);
}

int vnm_props_parse(const char *name, enum vnm_type t, const char *list, struct vnm_props *p, unsigned *replaced,
		    char *err, size_t errlen)
{
	char buf[4096], *keys[VNM_MAX_RULES + 16], *vals[VNM_MAX_RULES + 16];
	int n, i, rc;

	if (strlen(list) >= sizeof(buf))
		return ERR("%s: property list too long", name);
	snprintf(buf, sizeof(buf), "%s", list);
	n = vw_kvlist_split(buf, keys, vals, (int)(sizeof(keys) / sizeof(keys[0])));
	if (n <= 0)
		return ERR("%s: invalid property list '%s' (PROP=VAL[,...] expected)", name, list);
	for (i = 0; i < n; i++) {
		int id = prop_find(name, t, keys[i], err, errlen);
		const char *v = vals[i];

		if (id < 0)
			return id;
		rc = 0;
		switch (id) {
		case VNM_P_ROUTE:
			rc = route_parse(name, v, p, err, errlen);
			break;
		case VNM_P_INSIDE:
		case VNM_P_OUTSIDE:
			if (!vw_linkname_valid(v))
				return ERR("%s: invalid %s '%s' (a VNIC name expected)", name, keys[i], v);
			snprintf(id == VNM_P_INSIDE ? p->inside : p->outside, sizeof(p->inside), "%s", v);
			break;
		case VNM_P_VIP:
			if (!vnm_ep_parse(v, &p->vip))
				return ERR("%s: invalid vip '%s' (IP:PORT expected)", name, v);
			break;
		case VNM_P_BACKENDS:
			rc = backends_parse(name, v, p, err, errlen);
			break;
		case VNM_P_ALGO:
			if (strcmp(v, "rr") && strcmp(v, "hash"))
				return ERR("%s: invalid algo '%s' (rr or hash)", name, v);
			p->algo = !strcmp(v, "hash") ? VNM_HASH : VNM_RR;
			break;
		case VNM_P_CHECK:
			if (strcmp(v, "tcp") && strcmp(v, "none"))
				return ERR("%s: invalid check '%s' (tcp or none)", name, v);
			p->check = !strcmp(v, "none") ? VNM_CHECK_NONE : VNM_CHECK_TCP;
			break;
		case VNM_P_POLICY:
			if (strcmp(v, "allow") && strcmp(v, "deny"))
				return ERR("%s: invalid policy '%s' (allow or deny)", name, v);
			p->policy_allow = !strcmp(v, "allow");
			break;
		case VNM_P_ALLOW:
		case VNM_P_DENY:
			if (!(*replaced & T(id))) {
				rules_drop(p, id == VNM_P_DENY);
				*replaced |= T(id);
			}
			rc = rule_parse(name, id == VNM_P_DENY, v, p, err, errlen);
			break;
		}
		if (rc)
			return rc;
		if ((p->set & T(id)) && !props[id].repeats && (*replaced & T(VNM_P_COUNT + id)))
			return ERR("%s: property '%s' given twice", name, keys[i]);
		p->set |= T(id);
		*replaced |= T(VNM_P_COUNT + id);
	}
	return 0;
}

int vnm_props_reset(const char *name, enum vnm_type t, const char *prop, struct vnm_props *p, char *err,
		    size_t errlen)
{
	int id = prop_find(name, t, prop, err, errlen);

	if (id < 0)
		return id;
	if (props[id].required)
		return ERR("%s: property '%s' is required and has no default", name, prop);
	p->set &= ~T(id);
	switch (id) {
	case VNM_P_ROUTE:
		p->nroutes = 0;
		break;
	case VNM_P_ALGO:
		p->algo = VNM_RR;
		break;
	case VNM_P_CHECK:
		p->check = VNM_CHECK_TCP;
		break;
	case VNM_P_POLICY:
		p->policy_allow = false;
		break;
	case VNM_P_ALLOW:
	case VNM_P_DENY:
		rules_drop(p, id == VNM_P_DENY);
		break;
	}
	return 0;
}

/* The VNIC whose subnet holds a, or NULL. */
static const char *connected(const struct vnm_env *env, const struct vw_prefix *a)
{
	int i;

	for (i = 0; i < env->naddrs; i++) {
		struct vw_prefix n = env->addrs[i], h = *a;

		if (n.family != a->family)
			continue;
		h.plen = n.plen;
		prefix_mask(&n);
		prefix_mask(&h);
		if (vw_prefix_equal(&n, &h))
			return env->link[i];
	}
	return NULL;
}

static bool in_prefix(const struct vw_prefix *net, const struct vw_prefix *a)
{
	struct vw_prefix h = *a;

	if (net->family != a->family)
		return false;
	h.plen = net->plen;
	prefix_mask(&h);
	return vw_prefix_equal(net, &h);
}

static bool among_links(const struct vnm_env *env, const char *l)
{
	int i;

	for (i = 0; i < env->nlinks; i++)
		if (!strcmp(env->links[i], l))
			return true;
	return false;
}

static bool is_address(const struct vnm_env *env, const struct vw_prefix *a)
{
	int i;

	for (i = 0; i < env->naddrs; i++)
		if (env->addrs[i].family == a->family &&
		    !memcmp(&env->addrs[i].addr, &a->addr, a->family == AF_INET6 ? 16 : 4))
			return true;
	return false;
}

int vnm_props_check(const char *name, enum vnm_type t, const struct vnm_props *p, const struct vnm_env *env,
		    char *err, size_t errlen)
{
	char b[80], a[INET6_ADDRSTRLEN];
	int i, j;

	for (i = 0; i < VNM_P_COUNT; i++)
		if ((props[i].types & T(t)) && props[i].required && !(p->set & T(i)))
			return ERR("%s: a %s VNM needs property '%s'", name, vnm_type_name(t), props[i].name);
	for (i = 0; i < p->nroutes; i++)
		if (!connected(env, &p->routes[i].gw))
			return ERR("%s: gateway '%s' is on no subnet of the VNM's VNICs (give one an address there)", name,
				   inet_ntop(p->routes[i].gw.family, &p->routes[i].gw.addr, a, sizeof(a)));
	if (t == VNM_NAT) {
		if (!among_links(env, p->inside))
			return ERR("%s: inside '%s' is not one of the VNM's VNICs (-l)", name, p->inside);
		if (!among_links(env, p->outside))
			return ERR("%s: outside '%s' is not one of the VNM's VNICs (-l)", name, p->outside);
		if (!strcmp(p->inside, p->outside))
			return ERR("%s: inside and outside are both '%s'", name, p->inside);
	}
	if (t == VNM_LB) {
		if (!is_address(env, &p->vip.ip))
			return ERR("%s: vip '%s' is not an address of the VNM's VNICs", name,
				   vnm_ep_format(&p->vip, b, sizeof(b)));
		for (i = 0; i < p->nbackends; i++) {
			const struct vnm_ep *e = &p->backends[i];
			bool ok = connected(env, &e->ip) != NULL;

			if (e->ip.family != p->vip.ip.family)
				return ERR("%s: backend '%s' is not of the vip's address family", name,
					   vnm_ep_format(e, b, sizeof(b)));
			for (j = 0; j < p->nroutes && !ok; j++)
				ok = in_prefix(&p->routes[j].dst, &e->ip);
			if (!ok)
				return ERR("%s: backend '%s' is not reachable from the VNM's VNICs (no subnet or route of "
					   "theirs holds it)", name, vnm_ep_format(e, b, sizeof(b)));
		}
	}
	return 0;
}

static void route_format(const struct vnm_route *r, char *buf, size_t len)
{
	char d[64], g[INET6_ADDRSTRLEN];

	inet_ntop(r->gw.family, &r->gw.addr, g, sizeof(g));
	snprintf(buf, len, "%s@%s", r->dst.plen ? vw_prefix_format(&r->dst, d) : "default", g);
}

bool vnm_props_format(const struct vnm_props *p, char *buf, size_t len)
{
	struct vw_buf b = { 0 };
	const char *sep = " -p ";
	char t[256];
	int i, k;
	bool ok;

	for (i = 0; i < VNM_P_COUNT; i++) {
		if (!(p->set & T(i)))
			continue;
		switch (i) {
		case VNM_P_ROUTE:
			vw_buf_printf(&b, "%sroute=", sep);
			for (k = 0; k < p->nroutes; k++) {
				route_format(&p->routes[k], t, sizeof(t));
				vw_buf_printf(&b, "%s%s", k ? "+" : "", t);
			}
			break;
		case VNM_P_INSIDE:
			vw_buf_printf(&b, "%sinside=%s", sep, p->inside);
			break;
		case VNM_P_OUTSIDE:
			vw_buf_printf(&b, "%soutside=%s", sep, p->outside);
			break;
		case VNM_P_VIP:
			vw_buf_printf(&b, "%svip=%s", sep, vnm_ep_format(&p->vip, t, sizeof(t)));
			break;
		case VNM_P_BACKENDS:
			vw_buf_printf(&b, "%sbackends=", sep);
			for (k = 0; k < p->nbackends; k++)
				vw_buf_printf(&b, "%s%s", k ? "+" : "", vnm_ep_format(&p->backends[k], t, sizeof(t)));
			break;
		case VNM_P_ALGO:
			vw_buf_printf(&b, "%salgo=%s", sep, p->algo == VNM_HASH ? "hash" : "rr");
			break;
		case VNM_P_CHECK:
			vw_buf_printf(&b, "%scheck=%s", sep, p->check == VNM_CHECK_NONE ? "none" : "tcp");
			break;
		case VNM_P_POLICY:
			vw_buf_printf(&b, "%spolicy=%s", sep, p->policy_allow ? "allow" : "deny");
			break;
		case VNM_P_ALLOW:
		case VNM_P_DENY:
			for (k = 0; k < p->nrules; k++)
				if (p->rules[k].deny == (i == VNM_P_DENY)) {
					vw_buf_printf(&b, "%s%s=%s", sep, props[i].name, p->rules[k].text);
					sep = ",";
				}
			break;
		}
		sep = ",";
	}
	ok = !b.oom && (b.len < len);
	snprintf(buf, len, "%s", ok && b.p ? b.p : "");
	vw_buf_free(&b);
	return ok;
}
