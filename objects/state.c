/*
 * Persistent state: the daemon's persistent objects, written as a vWire file
 * (SPEC §5) that `vwadm export` prints and the daemon replays at start-up.
 * Saved after every persistent change: write FILE.new, fsync, rename over
 * FILE, fsync the directory, so a crash leaves the old or the new file whole;
 * the file ends with the end line that proves it whole (objects/statefile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "objects/flow.h"
#include "objects/link.h"
#include "objects/statefile.h"
#include "observability/accounting.h"
#include "observability/mirror.h"
#include "observability/ipfix.h"

static char state_dir[PATH_MAX] = VW_DEFAULT_STATE_DIR;
static char state_file[PATH_MAX + 32];

void state_set_dir(const char *dir)
{
	snprintf(state_dir, sizeof(state_dir), "%s", dir);
}

const char *state_path(void)
{
	snprintf(state_file, sizeof(state_file), "%s/%s", state_dir, VW_STATE_FILE);
	return state_file;
}

void state_export(struct vw_buf *out)
{
	struct vw_physprop *p;
	struct vw_zone *z;
	struct vw_link *l;
	char mac[18], a[64];
	int i;

	/* first: replayed before any link, so every link's counters since
	 * its creation are accounted after a restart */
	accounting_export(out);
	for (z = vw_zones; z; z = z->next)
		vw_buf_printf(out, "create-zone %s\n", z->name);
	for (l = vw_links; l; l = l->next)
		if (l->cls == VW_CLASS_ETHERSTUB && !l->temporary)
			vw_buf_printf(out, "create-etherstub %s\n", l->name);
	/* phys links' properties, kept whether attached or not: before the
	 * VNICs, so their first VNIC attaches the phys shaped already */
	for (p = vw_physprops; p; p = p->next) {
		const char *sep = " -p ";
		char b[32], c[512];

		if (!p->maxbw_saved && vw_cpuset_empty(&p->cpus_saved))
			continue;
		vw_buf_printf(out, "set-linkprop");
		if (p->maxbw_saved) {
			vw_buf_printf(out, "%smaxbw=%s", sep, vw_bw_format(p->maxbw_saved, b));
			sep = ",";
		}
		/* last: its value has commas of its own */
		if (!vw_cpuset_empty(&p->cpus_saved) && vw_cpulist_format(&p->cpus_saved, c, sizeof(c)))
			vw_buf_printf(out, "%scpus=%s", sep, c);
		vw_buf_printf(out, " %s\n", p->name);
	}
	for (l = vw_links; l; l = l->next) {
		const char *sep = " -p ";

		if (l->cls != VW_CLASS_VNIC || l->temporary)
			continue;
		/* a random (or auto) address is kept as the whole-address prefix
		 * of a random one, so it stays random and stays the same */
		if (l->mactype == VW_MAC_FIXED)
			vw_buf_printf(out, "create-vnic -l %s -m %s", l->over->name, vw_mac_format(l->mac, mac));
		else
			vw_buf_printf(out, "create-vnic -l %s -m %s -r %s", l->over->name,
				      l->mactype == VW_MAC_AUTO ? "auto" : "random", vw_mac_format(l->mac, mac));
		if (l->vid)
			vw_buf_printf(out, " -v %u", l->vid);
		if (l->zone_saved[0]) {
			vw_buf_printf(out, "%szone=%s", sep, l->zone_saved);
			sep = ",";
		}
		if (l->mtu_saved) {
			vw_buf_printf(out, "%smtu=%u", sep, l->mtu_saved);
			sep = ",";
		}
		if (l->maxbw_saved) {
			char b[32];

			vw_buf_printf(out, "%smaxbw=%s", sep, vw_bw_format(l->maxbw_saved, b));
			sep = ",";
		}
		if (l->priority_saved) {
			vw_buf_printf(out, "%spriority=%s", sep, l->priority_saved == VW_PRIO_HIGH ? "high" : "low");
			sep = ",";
		}
		linkprop_protect_export(l, out, &sep);
		if (!vw_cpuset_empty(&l->cpus_saved)) {
			char c[512];

			/* last: its value has commas of its own */
			if (vw_cpulist_format(&l->cpus_saved, c, sizeof(c)))
				vw_buf_printf(out, "%scpus=%s", sep, c);
		}
		vw_buf_printf(out, " %s\n", l->name);
		for (i = 0; i < l->naddr; i++)
			vw_buf_printf(out, "create-addr -a %s %s\n", vw_prefix_format(&l->addrs[i].p, a), l->name);
	}
	flows_export(out);
	mirrors_export(out);
	exporters_export(out);
}

static int mkdir_p(const char *dir)
{
	char tmp[PATH_MAX], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* err gets "PATH: cannot save state: STEP: reason"; returns -e. */
static int save_error(char *err, size_t errlen, const char *path, const char *step, int e)
{
	snprintf(err, errlen, "%s: cannot save state: %s: %s", path, step, strerror(e));
	return -e;
}

/*
 * Every byte, or an error: a short write goes on from where it stopped (the
 * next call then says why it stopped); a write that makes no progress and
 * gives no reason is an error too, never a success.
 */
static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n;

		errno = 0;
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return errno ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Writes FILE.new, fsyncs it, renames it over FILE and fsyncs the directory.
 * On any failure before the rename FILE is left as it was and FILE.new is
 * removed; err names the step and its cause.
 */
int state_save(char *err, size_t errlen)
{
	struct vw_buf b = { 0 };
	char tmp[PATH_MAX + 48], step[PATH_MAX + 64];
	const char *path = state_path(), *tmpname;
	int fd, rc;

	vw_buf_printf(&b, "%s", STATEFILE_HEADER);
	state_export(&b);
	if (!statefile_seal(&b)) {
		vw_buf_free(&b);
		snprintf(err, errlen, "%s: cannot save state: out of memory", path);
		return -ENOMEM;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	tmpname = strrchr(tmp, '/') ? strrchr(tmp, '/') + 1 : tmp;
	rc = mkdir_p(state_dir);
	if (rc) {
		vw_buf_free(&b);
		snprintf(step, sizeof(step), "cannot create directory %s", state_dir);
		return save_error(err, errlen, path, step, -rc);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = errno;
		vw_buf_free(&b);
		snprintf(step, sizeof(step), "open %s", tmpname);
		return save_error(err, errlen, path, step, rc);
	}
	rc = write_all(fd, b.p, b.len);
	vw_buf_free(&b);
	if (rc)
		rc = save_error(err, errlen, path, "write", -rc);
	else if (fsync(fd) < 0)
		rc = save_error(err, errlen, path, "fsync", errno ? errno : EIO);
	if (close(fd) < 0 && !rc && errno != EINTR)
		rc = save_error(err, errlen, path, "close", errno ? errno : EIO);
	if (!rc && rename(tmp, path) < 0) {
		snprintf(step, sizeof(step), "rename %s", tmpname);
		rc = save_error(err, errlen, path, step, errno ? errno : EIO);
	}
	if (rc) {
		unlink(tmp);
		return rc;
	}
	/* renamed: the new file is in place, but not yet safe on disk until
	 * the directory is */
	fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		rc = errno ? errno : EIO;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: saved, but not yet safe on disk: %s directory %s: %s", path,
			 fd < 0 ? "open" : "fsync", state_dir, strerror(rc));
		return -rc;
	}
	close(fd);
	return 0;
}
