/*
 * Link properties protection and allowed-ips of a VNIC (Crossbow's
 * mac_protect): their text, and the checks they make the datapath apply to
 * the VNIC's frames (datapath/protect.h).
 *
 * Both take a comma list, dladm's way: in "-p protection=mac-nospoof,
 * ip-nospoof,allowed-ips=10.0.0.1,10.0.0.0/24,mtu=1400" a piece with no
 * '=' continues the list property before it (vw_proplist_split), so the
 * saved configuration writes them like any other property.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "datapath/protect.h"
#include "objects/link.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

static const struct {
	const char *name;
	uint32_t flag;
} prot_names[] = {
	{ "mac-nospoof", VW_PROT_MAC },
	{ "ip-nospoof", VW_PROT_IP },
	{ "dhcp-nospoof", VW_PROT_DHCP },
	{ "restricted", VW_PROT_RESTRICTED },
};
#define NPROT (sizeof(prot_names) / sizeof(prot_names[0]))

bool linkprop_protection_parse(const char *name, const char *value, uint32_t *flags, char *err, size_t errlen)
{
	const char *p = value, *end;
	uint32_t f = 0;
	size_t i, n;

	do {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < NPROT; i++)
			if (strlen(prot_names[i].name) == n && !strncmp(p, prot_names[i].name, n))
				break;
		if (i == NPROT) {
			ERR("%s: invalid protection '%s' (a list of mac-nospoof, ip-nospoof, dhcp-nospoof, restricted)",
			    name, value);
			return false;
		}
		f |= prot_names[i].flag;
		p = end ? end + 1 : p;
	} while (end);
	*flags = f;
	return true;
}

bool linkprop_allowed_parse(const char *name, const char *value, struct vw_prefix *nets, int *n, char *err,
			    size_t errlen)
{
	const char *p = value, *end;
	char one[INET6_ADDRSTRLEN + 8];
	int k = 0, j;

	do {
		struct vw_prefix pf;
		size_t len;

		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		if (len < sizeof(one)) {
			memcpy(one, p, len);
			one[len] = 0;
		}
		if (len >= sizeof(one) || !vw_prefix_parse(one, true, &pf)) {
			ERR("%s: invalid allowed-ips '%s' (up to %d addresses or subnets: 10.0.0.1,fd00::/64)", name,
			    value, VW_PROT_MAXNETS);
			return false;
		}
		for (j = 0; j < k && !vw_prefix_equal(&nets[j], &pf); j++)
			;
		if (j == k) {
			if (k == VW_PROT_MAXNETS) {
				ERR("%s: invalid allowed-ips '%s' (at most %d addresses or subnets)", name, value,
				    VW_PROT_MAXNETS);
				return false;
			}
			nets[k++] = pf;
		}
		p = end ? end + 1 : p;
	} while (end);
	*n = k;
	return true;
}

char *linkprop_protection_format(uint32_t flags, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = 0;
	for (i = 0; i < NPROT; i++)
		if (flags & prot_names[i].flag)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s", used ? "," : "",
						 prot_names[i].name);
	return buf;
}

char *linkprop_allowed_format(const struct vw_prefix *nets, int n, char *buf, size_t len)
{
	char a[64];
	size_t used = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < n; i++) {
		const struct vw_prefix *p = &nets[i];
		bool host = p->plen == (p->family == AF_INET ? 32 : 128);

		vw_prefix_format(p, a);
		if (host)
			*strchr(a, '/') = 0;
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s", i ? "," : "", a);
	}
	return buf;
}

static int allow(struct vw_protect *p, const struct vw_prefix *pf, bool host)
{
	return vw_protect_allow(p, pf->family == AF_INET ? 4 : 6, pf->addr.bytes,
				host ? (pf->family == AF_INET ? 32u : 128u) : pf->plen);
}

int vnic_protect_apply(struct vw_link *l, char *err, size_t errlen)
{
	struct vw_protect *p = NULL, *old;
	int i;

	if (!l->port)
		return 0;
	if (l->prop.protect) {
		p = malloc(sizeof(*p));
		if (!p) {
			ERR("%s: out of memory", l->name);
			return -ENOMEM;
		}
		vw_protect_init(p, l->prop.protect, l->mac);
		/* allowed-ips, or else the VNIC's own addresses (hosts, not
		 * their subnets) */
		for (i = 0; i < l->prop.nallowed; i++)
			allow(p, &l->prop.allowed[i], false);
		for (i = 0; !l->prop.nallowed && i < l->naddr; i++)
			allow(p, &l->addrs[i].p, true);
	}
	old = vw_protect_publish(l->port, p);
	free(old);
	return 0;
}
