/*
 * faultfs: an LD_PRELOAD shim that makes the file system fail under one
 * directory, for tests/system/t_state.sh.
 *
 *   FAULTFS_DIR=/abs/dir   only paths under it (and the directory itself)
 *   FAULTFS_CTL=/abs/file  its first word, read at every call, is the fault:
 *     none        nothing fails
 *     open        open(O_CREAT) of a file fails: EROFS
 *     write       write fails: ENOSPC
 *     short       the first write to a file writes half and returns that
 *                 count, errno untouched; the next one fails: ENOSPC
 *     zero        write returns 0 with errno 0 (no progress, no reason)
 *     short-ok    every write writes at most half (at least one byte):
 *                 a writer that loops still gets everything written
 *     fsync       fsync/fdatasync of a file fails: EIO
 *     close       close of a file closes it, then fails: EIO
 *     rename      rename fails: EIO
 *     diropen     open(O_DIRECTORY) of the directory fails: EACCES
 *     dirfsync    fsync of the directory fails: EIO
 *
 * Each fault injected is logged on stderr as "faultfs: CALL PATH-OR-FD: ERR".
 * Descriptors are tracked from the open that made them; the control file is
 * read with raw system calls so the shim never calls itself.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXFD 65536

static atomic_uchar kind[MAXFD];   /* 0 untracked, 1 file, 2 directory */
static atomic_uint nwrites[MAXFD]; /* writes to the file since it was opened */

static const char *fault(void)
{
	static __thread char word[32];
	const char *ctl = getenv("FAULTFS_CTL");
	long fd, n;

	word[0] = '\0';
	if (!ctl)
		return word;
	fd = syscall(SYS_openat, AT_FDCWD, ctl, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return word;
	n = syscall(SYS_read, fd, word, sizeof(word) - 1);
	syscall(SYS_close, fd);
	word[n > 0 ? n : 0] = '\0';
	word[strcspn(word, " \t\n")] = '\0';
	return word;
}

static bool is(const char *f)
{
	return !strcmp(fault(), f);
}

/* 1: under FAULTFS_DIR, 2: FAULTFS_DIR itself, 0: elsewhere. */
static int under(const char *path)
{
	const char *dir = getenv("FAULTFS_DIR");
	size_t n;

	if (!dir || !*dir || !path)
		return 0;
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (strncmp(path, dir, n))
		return 0;
	if (!path[n] || !strcmp(path + n, "/"))
		return 2;
	return path[n] == '/' ? 1 : 0;
}

static int tracked(int fd)
{
	return fd >= 0 && fd < MAXFD ? atomic_load(&kind[fd]) : 0;
}

static void say(const char *call, const char *what, int fd, const char *err)
{
	char fds[16];

	snprintf(fds, sizeof(fds), "fd %d", fd);
	fprintf(stderr, "faultfs: %s %s: %s\n", call, what ? what : fds, err);
}

static int fail(int e)
{
	errno = e;
	return -1;
}

static int do_open(int (*real)(int, const char *, int, ...), int dirfd, const char *path, int flags, mode_t mode)
{
	int where = under(path), fd;

	if (where == 1 && (flags & O_CREAT) && is("open")) {
		say("open", path, -1, strerror(EROFS));
		return fail(EROFS);
	}
	if (where == 2 && is("diropen")) {
		say("open", path, -1, strerror(EACCES));
		return fail(EACCES);
	}
	fd = real(dirfd, path, flags, mode);
	if (fd >= 0 && fd < MAXFD) {
		atomic_store(&kind[fd], where == 1 ? 1 : where == 2 ? 2 : 0);
		atomic_store(&nwrites[fd], 0);
	}
	return fd;
}

/* real_NAME: the C library's NAME */
#define REAL(name)                                                                                             \
	static __typeof__(&name) real_##name;                                                                  \
	if (!real_##name)                                                                                      \
	real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

#define OPEN_MODE(flags, mode)                                                                                 \
	do {                                                                                                   \
		if ((flags) & (O_CREAT | O_TMPFILE)) {                                                         \
			va_list ap;                                                                            \
			va_start(ap, flags);                                                                   \
			mode = va_arg(ap, mode_t);                                                             \
			va_end(ap);                                                                            \
		}                                                                                              \
	} while (0)

int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	REAL(openat);
	OPEN_MODE(flags, mode);
	return do_open(real_openat, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	REAL(openat64);
	OPEN_MODE(flags, mode);
	return do_open(real_openat64, dirfd, path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	REAL(openat);
	OPEN_MODE(flags, mode);
	return do_open(real_openat, AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	REAL(openat64);
	OPEN_MODE(flags, mode);
	return do_open(real_openat64, AT_FDCWD, path, flags, mode);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	REAL(write);
	if (tracked(fd) == 1 && len) {
		const char *f = fault();
		unsigned n = atomic_fetch_add(&nwrites[fd], 1);

		if (!strcmp(f, "write") || (!strcmp(f, "short") && n > 0)) {
			say("write", NULL, fd, strerror(ENOSPC));
			return fail(ENOSPC);
		}
		if (!strcmp(f, "zero")) {
			say("write", NULL, fd, "returns 0, errno 0");
			errno = 0;
			return 0;
		}
		if (!strcmp(f, "short") || !strcmp(f, "short-ok")) {
			size_t half = len > 1 ? len / 2 : 1;

			say("write", NULL, fd, "short write, errno untouched");
			return real_write(fd, buf, half);
		}
	}
	return real_write(fd, buf, len);
}

static int fsync_fault(int fd)
{
	int k = tracked(fd);

	if ((k == 1 && is("fsync")) || (k == 2 && is("dirfsync"))) {
		say("fsync", NULL, fd, strerror(EIO));
		return 1;
	}
	return 0;
}

int fsync(int fd)
{
	REAL(fsync);
	return fsync_fault(fd) ? fail(EIO) : real_fsync(fd);
}

int fdatasync(int fd)
{
	REAL(fdatasync);
	return fsync_fault(fd) ? fail(EIO) : real_fdatasync(fd);
}

int close(int fd)
{
	int k = tracked(fd), rc;

	REAL(close);
	if (fd >= 0 && fd < MAXFD)
		atomic_store(&kind[fd], 0);
	rc = real_close(fd);
	if (rc == 0 && k == 1 && is("close")) {
		say("close", NULL, fd, strerror(EIO));
		return fail(EIO);
	}
	return rc;
}

int rename(const char *from, const char *to)
{
	REAL(rename);
	if ((under(from) || under(to)) && is("rename")) {
		say("rename", from, -1, strerror(EIO));
		return fail(EIO);
	}
	return real_rename(from, to);
}
