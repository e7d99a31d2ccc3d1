/*
 * Who may talk to the daemon, and what they may do (control/ctl.c's
 * helpers): the control socket created with its final mode and group, and
 * a client's rights from its credentials.  docs/protocol.md, "Permissions".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include "control/access.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

static const char *file_kind(mode_t m)
{
	return S_ISREG(m) ? "a regular file" : S_ISDIR(m) ? "a directory" : S_ISLNK(m) ? "a symbolic link" :
	       S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a socket";
}

/* The socket as bound: mode 0600 root, or 0660 with group gid.  bind
 * made it so (umask, group); a set-group-ID directory or a default ACL can
 * still change either, and nothing can connect before listen(), so it is
 * checked and put right here, on the socket itself, never through a
 * symbolic link. */
static int socket_perms(const char *path, bool group, gid_t gid, char *err, size_t errlen)
{
	mode_t want = group ? 0660 : 0600;
	struct stat st;
	int e;

	if (!group)
		gid = 0;
	if (lstat(path, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot check %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISSOCK(st.st_mode)) { /* replaced under us: not ours to remove */
		snprintf(err, errlen, "%s is %s, not the socket just bound", path, file_kind(st.st_mode));
		return -EEXIST;
	}
	if ((st.st_uid != 0 || st.st_gid != gid) && fchownat(AT_FDCWD, path, 0, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot give %s to root and group %u: %s", path, (unsigned)gid, strerror(e));
		return -e;
	}
	if ((st.st_mode & 07777) != want && fchmodat(AT_FDCWD, path, want, AT_SYMLINK_NOFOLLOW) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot make %s mode %04o: %s", path, (unsigned)want, strerror(e));
		return -e;
	}
	return 0;
}

int access_listen(const char *path, bool group, gid_t gid, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[sizeof(sun.sun_path)], *slash;
	gid_t egid = getegid();
	struct stat st;
	mode_t mask;
	int probe, rc, e, lfd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path too long: '%s'", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
			return -errno;
		}
	}
	/* only a socket is ever removed: a stale one left by a daemon that
	 * died; anything else at the path is someone's file */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is %s, not a socket; refusing to replace it", path,
				 file_kind(st.st_mode));
			return -EEXIST;
		}
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			close(probe);
			snprintf(err, errlen, "another vwired is running on %s", path);
			return -EADDRINUSE;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(path) < 0 && errno != ENOENT) {
			snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
			return -errno;
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "cannot use %s: %s", path, strerror(errno));
		return -errno;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		return -errno;
	}
	/* the socket is born with its final mode and group (no window in
	 * which the umask decides who may connect); still single-threaded
	 * here, so umask and the effective group are ours to change */
	if (group && setegid(gid) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create %s with group %u: %s", path, (unsigned)gid, strerror(e));
		goto fail;
	}
	mask = umask(group ? 0117 : 0177);
	rc = bind(lfd, (struct sockaddr *)&sun, sizeof(sun));
	e = errno;
	umask(mask);
	if (group && setegid(egid) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot restore the daemon's group: %s", strerror(e));
		if (rc == 0)
			unlink(path);
		goto fail;
	}
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		goto fail;
	}
	if ((rc = socket_perms(path, group, gid, err, errlen)) < 0 || listen(lfd, SOMAXCONN) < 0) {
		e = rc < 0 ? -rc : errno;
		if (rc == 0)
			snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(e));
		if (rc != -EEXIST)
			unlink(path);
		goto fail;
	}
	return lfd;
fail:
	close(lfd);
	return -e;
}

/*
 * The capabilities of the process that connected, as an effective set, if
 * they count here: the process is in the daemon's user namespace (elsewhere
 * they are only over that namespace) and is the one that connected, with
 * the uid it connected with.  A pid can be reused once its process is gone:
 * the pidfd the kernel gives for the peer (SO_PEERPIDFD, Linux 6.5) proves
 * the process still existed after /proc was read.  Without it (older
 * kernels) a process that connects and exits at once leaves its pid to a
 * later one, which would have to have the same uid to be taken for it.
 */
static int peer_caps(int fd, const struct ucred *uc, uint64_t *capeff)
{
	char path[64], buf[4096], *p;
	struct stat a, b;
	socklen_t len = sizeof(int);
	int pidfd = -1, sfd, rc = -1;
	unsigned ruid, euid;
	unsigned long long cap;
	ssize_t n = -1;

	if (uc->pid <= 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)uc->pid);
	sfd = open(path, O_RDONLY | O_CLOEXEC);
	if (sfd >= 0) {
		n = read(sfd, buf, sizeof(buf) - 1);
		close(sfd);
	}
	if (n > 0) {
		buf[n] = 0;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)uc->pid);
		if ((p = strstr(buf, "\nUid:")) && sscanf(p, "\nUid: %u %u", &ruid, &euid) == 2 && euid == uc->uid &&
		    (p = strstr(buf, "\nCapEff:")) && sscanf(p, "\nCapEff: %llx", &cap) == 1 && stat(path, &a) == 0 &&
		    stat("/proc/self/ns/user", &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			*capeff = cap;
			rc = 0;
		}
	}
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
		rc = -1; /* gone: what was read may be another process's */
#endif
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/* What the peer of fd may run (1 << VW_PRIV_x): uid 0 anything; anyone
 * else read-only commands (the socket's mode decides who gets that far),
 * changes with CAP_NET_ADMIN and captures with CAP_NET_RAW in its
 * effective set when it connected. */
unsigned access_peer(int fd, bool *root)
{
	unsigned privs = 1u << VW_PRIV_READ;
	socklen_t len = sizeof(struct ucred);
	struct ucred uc;
	uint64_t cap;

	*root = false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return privs;
	if (uc.uid == 0) {
		*root = true;
		return privs | 1u << VW_PRIV_ADMIN | 1u << VW_PRIV_CAPTURE;
	}
	if (peer_caps(fd, &uc, &cap) == 0) {
		if (cap >> CAP_NET_ADMIN & 1)
			privs |= 1u << VW_PRIV_ADMIN;
		if (cap >> CAP_NET_RAW & 1)
			privs |= 1u << VW_PRIV_CAPTURE;
	}
	return privs;
}

