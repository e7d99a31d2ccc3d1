/*
 * Start-up: the state file is read as bytes and checked whole (no NUL byte,
 * its end line matching, every command in the grammar) before any of it is
 * replayed, so a damaged file makes nothing; then its commands are replayed
 * through the handlers clients use.  Any problem, found by the check or by a
 * command that fails, keeps the file as FILE.failed and stops the start-up,
 * unless --force-state says to go on with what applied (the file is then
 * rewritten from that at once, and FILE.failed stays).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control/ctl.h"
#include "control/persist.h"
#include "control/restore.h"
#include "objects/link.h"
#include "objects/statefile.h"

#define MAX_SHOWN 100 /* problems logged one by one; the rest are counted */

/* The whole file as bytes; 0, or -errno. */
static int read_all(const char *path, char **buf, size_t *len)
{
	struct vw_buf b = { 0 };
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	ssize_t n;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		vw_buf_append(&b, chunk, (size_t)n);
		if (b.oom) {
			rc = -ENOMEM;
			break;
		}
	}
	close(fd);
	if (rc) {
		free(b.p);
		return rc;
	}
	*buf = b.p;
	*len = b.len;
	return 0;
}

static void report(void *arg, const char *msg)
{
	int *shown = arg;

	if (++*shown <= MAX_SHOWN)
		fprintf(stderr, "vwired: %s\n", msg);
}

static bool same_file(const char *path, const char *buf, size_t len)
{
	char *other;
	size_t olen;
	bool same;

	if (read_all(path, &other, &olen))
		return false;
	same = olen == len && (!len || !memcmp(other, buf, len));
	free(other);
	return same;
}

/*
 * Keeps the file as it is as PATH.failed (a hard link: a later save renames
 * a new file over PATH and leaves it alone).  One kept earlier with other
 * contents is never replaced: the next free PATH.failed.N is used.  0 with
 * the name in keep, or -1 (said why on stderr).
 */
static int keep_failed(const char *path, const char *buf, size_t len, char *keep, size_t keeplen)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (i)
			snprintf(keep, keeplen, "%s.failed.%d", path, i);
		else
			snprintf(keep, keeplen, "%s.failed", path);
		if (link(path, keep) == 0)
			return 0;
		if (errno != EEXIST)
			break;
		if (buf && same_file(keep, buf, len))
			return 0;
	}
	fprintf(stderr, "vwired: cannot keep %s as %s: %s\n", path, keep, i == 100 ? "too many kept" : strerror(errno));
	return -1;
}

/* Replays one command: 0, or -1 with the reason on stderr. */
static int replay(const char *path, const struct statefile_cmd *cmd, int *shown)
{
	struct vw_buf out = { 0 };
	char msg[640];
	const char *m;
	int rc = 0;

	ctl_handle(cmd->argc, cmd->argv, &out, true);
	if (!out.p || !strstr(out.p, "status=0\n")) {
		m = out.p ? strstr(out.p, "message=") : NULL;
		snprintf(msg, sizeof(msg), "%s:%d: %.*s", path, cmd->line, m ? (int)strcspn(m + 8, "\n") : 13,
			 m ? m + 8 : "out of memory");
		report(shown, msg);
		rc = -1;
	}
	vw_buf_free(&out);
	return rc;
}

int restore_state(bool force)
{
	const char *path = state_path();
	struct statefile sf = { 0 };
	char keep[PATH_MAX + 32], err[512], *buf;
	int rc, i, problems, failed = 0, shown = 0;
	size_t len;

	rc = read_all(path, &buf, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc) {
		fprintf(stderr, "vwired: %s: cannot read: %s\n", path, strerror(-rc));
		problems = 1;
	} else {
		problems = statefile_check(buf, len, path, &sf, report, &shown);
		if (problems < 0) {
			fprintf(stderr, "vwired: %s: cannot check: %s\n", path, strerror(-problems));
			problems = 1;
		}
	}
	if (!problems && sf.unsealed)
		fprintf(stderr, "vwired: %s: no end line (written by an earlier vwired): cannot be proved whole; "
				"taken as it is and rewritten with one\n", path);
	/* nothing made yet: a file that failed its check makes nothing */
	if (problems && !force)
		goto refuse;
	for (i = 0; i < sf.ncmds; i++)
		if (replay(path, &sf.cmds[i], &shown))
			failed++;
	if (failed && !force)
		goto refuse;
	if (shown > MAX_SHOWN)
		fprintf(stderr, "vwired: %s: %d more problems not shown\n", path, shown - MAX_SHOWN);
	if (problems || failed) {
		if (keep_failed(path, buf, len, keep, sizeof(keep)) < 0) {
			fprintf(stderr, "vwired: %s: not starting even with --force-state: the file could not be kept\n",
				path);
			goto out_fail;
		}
		fprintf(stderr, "vwired: --force-state: going on with the %d of %d commands of %s that applied; "
				"the file as it was is kept in %s\n", sf.ncmds - failed, sf.ncmds, path, keep);
	}
	if (problems || failed || sf.unsealed) {
		/* the file now says what runs, and ends with its end line */
		if (state_save(err, sizeof(err)))
			fprintf(stderr, "vwired: %s\n", err);
	}
	statefile_free(&sf);
	free(buf);
	return 0;

refuse:
	if (shown > MAX_SHOWN)
		fprintf(stderr, "vwired: %s: %d more problems not shown\n", path, shown - MAX_SHOWN);
	if (rc == 0 && keep_failed(path, buf, len, keep, sizeof(keep)) == 0)
		fprintf(stderr, "vwired: %s: %d problem%s: not starting with part of the configuration; the file is "
				"left as it is and kept in %s (fix or remove it, or start with --force-state to go on "
				"with the lines that apply)\n", path, problems + failed, problems + failed == 1 ? "" : "s",
			keep);
	else
		fprintf(stderr, "vwired: %s: not starting with part of the configuration (fix or remove the file, "
				"or start with --force-state to go on without it)\n", path);
out_fail:
	statefile_free(&sf);
	free(buf);
	return -1;
}
