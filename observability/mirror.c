/*
 * Port mirroring (observability/mirror.h), mirrors as objects: the
 * create/delete/show-mirror commands, their export, and following their
 * source and destination links as they come and go.  The copies themselves
 * are observability/mirror_send.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <pcap/pcap.h>

#include "datapath/observe.h"
#include "datapath/port.h"
#include "objects/link.h"
#include "observability/filter.h"
#include "observability/mirror.h"

#include "observability/mirror_impl.h"

#define ERR(...) snprintf(err, errlen, __VA_ARGS__)

static bool watching;

/* ---- mirrors: making and freeing ---- */

static struct vw_mirror *mirror_alloc(void)
{
	struct vw_mirror *m = calloc(1, sizeof(*m));
	void *mem;

	if (!m)
		return NULL;
	m->rings = aligned_alloc(64, sizeof(struct ring) * VW_MAX_WORKERS);
	mem = mmap(NULL, (size_t)VW_MIRROR_RING * VW_MAX_WORKERS, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!m->rings || mem == MAP_FAILED) {
		free(m->rings);
		if (mem != MAP_FAILED)
			munmap(mem, (size_t)VW_MIRROR_RING * VW_MAX_WORKERS);
		free(m);
		return NULL;
	}
	memset(m->rings, 0, sizeof(struct ring) * VW_MAX_WORKERS);
	for (int w = 0; w < VW_MAX_WORKERS; w++)
		m->rings[w].buf = (uint8_t *)mem + (size_t)w * VW_MIRROR_RING;
	m->obs_link = (struct mirror_obs){ { mirror_obs_fn, 0 }, m };
	m->obs_stub = (struct mirror_obs){ { mirror_obs_fn, VW_OBS_OUT }, m };
	return m;
}

static void mirror_free(struct vw_mirror *m)
{
	if (m->has_prog)
		pcap_freecode(&m->prog);
	munmap(m->rings[0].buf, (size_t)VW_MIRROR_RING * VW_MAX_WORKERS);
	free(m->rings);
	free(m);
}

static int filter_compile(struct vw_mirror *m, const char *filter, char *err, size_t errlen)
{
	char why[512];
	int rc;

	if (!filter || !*filter)
		return 0;
	if (strlen(filter) >= sizeof(m->filter) || strchr(filter, '\n')) {
		ERR("%s: filter too long", m->name);
		return -EINVAL;
	}
	rc = vw_filter_compile(filter, &m->prog, why, sizeof(why));
	if (rc) {
		ERR("%s: %s", m->name, why);
		return rc;
	}
	m->has_prog = true;
	snprintf(m->filter, sizeof(m->filter), "%s", filter);
	return 0;
}

static bool is_source(const struct vw_mirror *m, const char *name)
{
	for (int i = 0; i < m->nsrc; i++)
		if (!strcmp(m->src[i], name))
			return true;
	return false;
}

/* The observers a VNIC's or uplink's port gets from mirror m. */
static void attach_port(struct vw_mirror *m, struct vw_link *l, struct vw_port *port)
{
	bool explicit = is_source(m, l->name);

	if (!port || (m->kind == VW_MIRROR_LINK && !strcmp(l->name, m->dlink)))
		return;
	if (explicit)
		vw_obs_add(port, &m->obs_link.obs);
	/* an etherstub's member: what it sends, unless its own -d has it */
	if (link_on_portless(l) && is_source(m, l->over->name) &&
	    !(explicit && (m->dir & VW_OBS_OUT)))
		vw_obs_add(port, &m->obs_stub.obs);
}

static void detach_port(struct vw_mirror *m, struct vw_port *port)
{
	if (!port)
		return;
	vw_obs_del(port, &m->obs_link.obs);
	vw_obs_del(port, &m->obs_stub.obs);
}

static void attach_all(struct vw_mirror *m)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		attach_port(m, l, link_port(l));
}

static void detach_all(struct vw_mirror *m)
{
	struct vw_link *l;

	for (l = vw_links; l; l = l->next)
		detach_port(m, link_port(l));
}

static void set_dport(struct vw_mirror *m, struct vw_port *p)
{
	pthread_mutex_lock(&mirrors_lock);
	m->dport = p;
	pthread_mutex_unlock(&mirrors_lock);
}

static void unlink_mirror(struct vw_mirror *m)
{
	struct vw_mirror **pp;

	detach_all(m); /* after this no worker writes its rings */
	pthread_mutex_lock(&mirrors_lock);
	for (pp = &mirrors; *pp && *pp != m; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = m->next;
	pthread_mutex_unlock(&mirrors_lock);
}

static void mirror_watch(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg);

static void maybe_stop(void)
{
	if (mirrors)
		return;
	mirror_sender_end();
	if (watching) {
		link_unwatch(mirror_watch, NULL);
		watching = false;
	}
}

/* Links come and go: sources follow their ports; a destination link that
 * goes leaves the mirror counting drops until a link of its name is back. */
static void mirror_watch(struct vw_link *l, struct vw_port *port, enum vw_link_event ev, void *arg)
{
	struct vw_mirror *m, *next;

	(void)arg;
	for (m = mirrors; m; m = next) {
		next = m->next;
		switch (ev) {
		case VW_LINK_PORT_UP:
			attach_port(m, l, port);
			if (m->kind == VW_MIRROR_LINK && !strcmp(l->name, m->dlink))
				set_dport(m, port);
			break;
		case VW_LINK_PORT_DOWN:
			detach_port(m, port);
			if (m->kind == VW_MIRROR_LINK && m->dport == port)
				set_dport(m, NULL);
			break;
		case VW_LINK_DELETED:
			/* a deleted VNIC or etherstub is no source any more */
			for (int i = 0; i < m->nsrc; i++)
				if (!strcmp(m->src[i], l->name)) {
					memmove(m->src[i], m->src[i + 1], sizeof(m->src[0]) * (size_t)(m->nsrc - i - 1));
					m->nsrc--;
					break;
				}
			if (!m->nsrc) {
				/* nothing left to mirror: it goes, as a VNIC's flows do */
				unlink_mirror(m);
				mirror_free(m);
			}
			break;
		}
	}
	maybe_stop();
}

static struct vw_mirror *mirror_find(const char *name)
{
	struct vw_mirror *m;

	for (m = mirrors; m && strcmp(m->name, name); m = m->next)
		;
	return m;
}

static int parse_dest(struct vw_mirror *m, const char *dest, char *err, size_t errlen)
{
	char buf[64], *opt, *ip;
	uint64_t v;

	if (strlen(dest) >= sizeof(buf)) {
		ERR("%s: bad destination '%.40s...'", m->name, dest);
		return -EINVAL;
	}
	snprintf(m->dest, sizeof(m->dest), "%s", dest);
	if (strncmp(dest, "gre:", 4) && strncmp(dest, "erspan:", 7)) {
		struct vw_link *l = link_find(dest);

		if (!l || l->cls->portless) {
			ERR("%s: %s '%s' (a VNIC, an attached phys link, gre:IP[,key=N] or erspan:IP[,session=N])",
			    m->name, l ? "cannot send to etherstub" : "bad destination: no such link", dest);
			return l ? -EINVAL : -ENOENT;
		}
		m->kind = VW_MIRROR_LINK;
		snprintf(m->dlink, sizeof(m->dlink), "%s", dest);
		return 0;
	}
	m->kind = dest[0] == 'g' ? VW_MIRROR_GRE : VW_MIRROR_ERSPAN;
	snprintf(buf, sizeof(buf), "%s", strchr(dest, ':') + 1);
	ip = buf;
	opt = strchr(buf, ',');
	if (opt)
		*opt++ = 0;
	m->daddr.sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &m->daddr.sin_addr) != 1 || !m->daddr.sin_addr.s_addr ||
	    IN_MULTICAST(ntohl(m->daddr.sin_addr.s_addr)) || m->daddr.sin_addr.s_addr == INADDR_BROADCAST) {
		ERR("%s: bad destination address '%s' (a unicast IPv4 address)", m->name, ip);
		return -EINVAL;
	}
	if (!opt)
		return 0;
	if (m->kind == VW_MIRROR_GRE && !strncmp(opt, "key=", 4) && vw_uint_parse(opt + 4, 0, UINT32_MAX, &v)) {
		m->has_key = true;
		m->key = (uint32_t)v;
	} else if (m->kind == VW_MIRROR_ERSPAN && !strncmp(opt, "session=", 8) && vw_uint_parse(opt + 8, 0, 1023, &v)) {
		m->session = (uint16_t)v;
	} else {
		ERR("%s: bad destination option '%s' (%s)", m->name, opt,
		    m->kind == VW_MIRROR_GRE ? "key=0..4294967295" : "session=0..1023");
		return -EINVAL;
	}
	return 0;
}

static int parse_sources(struct vw_mirror *m, const char *links, char *err, size_t errlen)
{
	char buf[MAX_SOURCES * (VW_LINKNAME_MAX + 2)], *p, *save = NULL;

	if (strlen(links) >= sizeof(buf)) {
		ERR("%s: too many links (at most %d)", m->name, MAX_SOURCES);
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", links);
	for (p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (!link_find(p)) {
			ERR("%s: no such link '%s'", m->name, p);
			return -ENOENT;
		}
		if (is_source(m, p)) {
			ERR("%s: link '%s' given twice", m->name, p);
			return -EINVAL;
		}
		if (m->nsrc == MAX_SOURCES) {
			ERR("%s: too many links (at most %d)", m->name, MAX_SOURCES);
			return -EINVAL;
		}
		snprintf(m->src[m->nsrc++], sizeof(m->src[0]), "%s", p);
	}
	if (!m->nsrc) {
		ERR("%s: no link to mirror", m->name);
		return -EINVAL;
	}
	return 0;
}

int mirror_create(const char *name, const char *links, const char *dir, const char *filter, const char *dest,
		  char *err, size_t errlen)
{
	struct vw_mirror *m, **pp;
	struct vw_link *dl;
	int rc;

	if (!vw_flowname_valid(name)) {
		ERR("%s: invalid mirror name (1-31 characters of A-Z a-z 0-9 _ . -, starting with a letter)", name);
		return -EINVAL;
	}
	if (mirror_find(name)) {
		ERR("%s: mirror already exists", name);
		return -EEXIST;
	}
	m = mirror_alloc();
	if (!m) {
		ERR("%s: out of memory", name);
		return -ENOMEM;
	}
	snprintf(m->name, sizeof(m->name), "%s", name);
	if (!dir || !strcmp(dir, "both")) {
		m->dir = VW_OBS_IN | VW_OBS_OUT;
	} else if (!strcmp(dir, "in")) {
		m->dir = VW_OBS_IN;
	} else if (!strcmp(dir, "out")) {
		m->dir = VW_OBS_OUT;
	} else {
		ERR("%s: bad direction '%s' (in, out or both)", name, dir);
		rc = -EINVAL;
		goto fail;
	}
	m->obs_link.obs.dir = m->dir;
	if ((rc = parse_sources(m, links, err, errlen)) || (rc = parse_dest(m, dest, err, errlen)) ||
	    (rc = filter_compile(m, filter, err, errlen)))
		goto fail;
	if (m->kind == VW_MIRROR_LINK && is_source(m, m->dlink)) {
		ERR("%s: link '%s' is a source of the mirror; it cannot be its destination too", name, m->dlink);
		rc = -EINVAL;
		goto fail;
	}
	if (m->kind != VW_MIRROR_LINK && (rc = mirror_raw_open(err, errlen)))
		goto fail;
	if ((rc = mirror_sender_start(err, errlen)))
		goto fail;
	if (!watching && link_watch(mirror_watch, NULL) == 0)
		watching = true;
	if (!watching) {
		ERR("%s: cannot watch links", name);
		rc = -ENOSPC;
		goto fail;
	}
	if (m->kind == VW_MIRROR_LINK && (dl = link_find(m->dlink)))
		m->dport = link_port(dl);
	/* at the end: show and export list them in the order made */
	for (pp = &mirrors; *pp; pp = &(*pp)->next)
		;
	pthread_mutex_lock(&mirrors_lock);
	*pp = m;
	pthread_mutex_unlock(&mirrors_lock);
	attach_all(m);
	return 0;
fail:
	mirror_free(m);
	maybe_stop();
	return rc;
}

int mirror_delete(const char *name, char *err, size_t errlen)
{
	struct vw_mirror *m = mirror_find(name);

	if (!m) {
		ERR("%s: no such mirror", name);
		return -ENOENT;
	}
	unlink_mirror(m);
	mirror_free(m);
	maybe_stop();
	return 0;
}

int mirror_check_delete(const char *link, char *err, size_t errlen)
{
	struct vw_mirror *m;

	for (m = mirrors; m; m = m->next)
		if (m->kind == VW_MIRROR_LINK && !strcmp(m->dlink, link)) {
			ERR("%s: destination of mirror %s; delete the mirror first", link, m->name);
			return -EBUSY;
		}
	return 0;
}

static const char *dir_name(unsigned dir)
{
	return dir == VW_OBS_IN ? "in" : dir == VW_OBS_OUT ? "out" : "both";
}

static void links_text(const struct vw_mirror *m, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (int i = 0; i < m->nsrc && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", m->src[i]);
}

int mirror_show(const char *const *names, int n, struct vw_buf *out, char *err, size_t errlen)
{
	struct vw_mirror *m;
	int i;

	for (i = 0; i < n; i++)
		if (!mirror_find(names[i])) {
			ERR("%s: no such mirror", names[i]);
			return -ENOENT;
		}
	for (m = mirrors; m; m = m->next) {
		uint64_t drops = __atomic_load_n(&m->send_drops, __ATOMIC_RELAXED);
		char links[MAX_SOURCES * (VW_LINKNAME_MAX + 1)];
		bool want = !n;

		for (i = 0; i < n && !want; i++)
			want = !strcmp(names[i], m->name);
		if (!want)
			continue;
		for (i = 0; i < VW_MAX_WORKERS; i++)
			drops += __atomic_load_n(&m->rings[i].drops, __ATOMIC_RELAXED);
		links_text(m, links, sizeof(links));
		vw_buf_kv(out, "record", "mirror");
		vw_buf_kv(out, "mirror", "%s", m->name);
		vw_buf_kv(out, "links", "%s", links);
		vw_buf_kv(out, "dir", "%s", dir_name(m->dir));
		vw_buf_kv(out, "filter", "%s", m->filter);
		vw_buf_kv(out, "dest", "%s", m->dest);
		vw_buf_kv(out, "pkts", "%lu", __atomic_load_n(&m->sent_pkts, __ATOMIC_RELAXED));
		vw_buf_kv(out, "bytes", "%lu", __atomic_load_n(&m->sent_bytes, __ATOMIC_RELAXED));
		vw_buf_kv(out, "drops", "%lu", drops);
	}
	return 0;
}

void mirrors_export(struct vw_buf *out)
{
	struct vw_mirror *m;
	char links[MAX_SOURCES * (VW_LINKNAME_MAX + 1)], q[2 * FILTER_MAX + 8];

	for (m = mirrors; m; m = m->next) {
		links_text(m, links, sizeof(links));
		vw_buf_printf(out, "create-mirror -l %s", links);
		if (m->dir != (VW_OBS_IN | VW_OBS_OUT))
			vw_buf_printf(out, " -d %s", dir_name(m->dir));
		if (m->filter[0] && vw_word_quote(m->filter, q, sizeof(q)))
			vw_buf_printf(out, " -f %s", q);
		vw_buf_printf(out, " -t %s %s\n", m->dest, m->name);
	}
}

void mirrors_destroy_all(void)
{
	while (mirrors) {
		struct vw_mirror *m = mirrors;

		unlink_mirror(m);
		mirror_free(m);
	}
	maybe_stop();
	if (mirror_raw_fd >= 0)
		close(mirror_raw_fd);
	mirror_raw_fd = -1;
	if (mirror_wake_fd >= 0)
		close(mirror_wake_fd);
	mirror_wake_fd = -1;
	mirror_sender_free();
}

/* ---- for the unit tests ---- */

struct vw_mirror *vw_mirror_test_new(struct vw_port *port, unsigned dir, const char *filter, char *err,
				     size_t errlen)
{
	struct vw_mirror *m = mirror_alloc();

	if (!m) {
		ERR("out of memory");
		return NULL;
	}
	snprintf(m->name, sizeof(m->name), "test");
	m->dir = dir;
	m->obs_link.obs.dir = dir;
	if (filter_compile(m, filter, err, errlen) || vw_obs_add(port, &m->obs_link.obs)) {
		mirror_free(m);
		return NULL;
	}
	m->dport = port; /* remembered for the free */
	return m;
}

bool vw_mirror_test_next(struct vw_mirror *m, int w, const uint8_t **frame, uint32_t *len)
{
	struct ring *r = &m->rings[w];
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	while (r->tail != head) {
		struct rec *rec = (struct rec *)(r->buf + (r->tail & (VW_MIRROR_RING - 1)));

		r->tail += rec->size;
		if (rec->len != REC_PAD) {
			*frame = (const uint8_t *)(rec + 1);
			*len = rec->len;
			return true;
		}
	}
	return false;
}

int vw_mirror_test_send(struct vw_mirror *m, struct vw_port *to, char *err, size_t errlen)
{
	struct vw_port *watched = m->dport; /* a test mirror's source */
	int rc = mirror_sender_alloc(err, errlen), w;

	if (rc)
		return rc;
	m->kind = VW_MIRROR_LINK;
	m->dport = to;
	for (w = 0; w < VW_MAX_WORKERS; w++)
		while (mirror_drain(m, &m->rings[w]) > 0)
			;
	m->dport = watched;
	return 0;
}

void vw_mirror_test_counts(struct vw_mirror *m, uint64_t *copied, uint64_t *drops)
{
	*copied = *drops = 0;
	for (int w = 0; w < VW_MAX_WORKERS; w++) {
		*copied += m->rings[w].copied;
		*drops += m->rings[w].drops;
	}
}

void vw_mirror_test_free(struct vw_mirror *m)
{
	vw_obs_del(m->dport, &m->obs_link.obs);
	mirror_free(m);
}
