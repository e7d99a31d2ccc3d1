/*
 * Persistent state: the daemon's persistent objects, written as a vWire file
 * (SPEC §5) that `vwadm export` prints and the daemon replays at start-up.
 * Each subsystem exports its own lines; the table below puts them in the
 * order they are replayed.  Saved after every persistent change: write
 * FILE.new, fsync, rename over FILE, fsync the directory, so a crash leaves
 * the old or the new file whole; the file ends with the end line that
 * proves it whole (objects/statefile.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/persist.h"
#include "objects/flow.h"
#include "objects/link.h"
#include "objects/statefile.h"
#include "objects/vnm.h"
#include "observability/accounting.h"
#include "observability/mirror.h"
#include "observability/ipfix.h"

/* The exports, in replay order: what a line names is made before it. */
static void (*const exports[])(struct vw_buf *out) = {
	/* first: replayed before any link, so every link's counters since
	 * its creation are accounted after a restart */
	accounting_export,
	links_export,     /* zones, etherstubs, phys properties, VNICs, addresses */
	flows_export,
	vnms_export,      /* after the zones, VNICs and addresses they use */
	mirrors_export,
	exporters_export,
};

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
	size_t i;

	for (i = 0; i < sizeof(exports) / sizeof(exports[0]); i++)
		exports[i](out);
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
