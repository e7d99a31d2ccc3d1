/*
 * Zones: network namespaces bound at /run/netns/NAME exactly as `ip netns
 * add` makes them, and how the control thread enters one and comes back
 * (objects/netns.h).  Compatible with `ip netns`; see objects/netlink.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>

#include "objects/netlink.h"
#include "objects/netns.h"

/* The daemon's own network namespace, where every call returns to. */
static int host_ns_fd = -1;

bool zone_is_host(const char *zone)
{
	return !zone || !*zone;
}

bool zone_name_ok(const char *zone)
{
	size_t len;

	if (!zone)
		return false;
	len = strlen(zone);
	if (!len || len > VW_ZONENAME_MAX)
		return false;
	if (strchr(zone, '/') || !strcmp(zone, ".") || !strcmp(zone, ".."))
		return false;
	return true;
}

bool ifname_ok(const char *ifname)
{
	return ifname && *ifname && strlen(ifname) < IFNAMSIZ;
}

static void zone_path(const char *zone, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", NETNS_RUN_DIR, zone);
}

int zone_open(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];
	int fd;

	if (!zone_name_ok(zone))
		return -EINVAL;
	zone_path(zone, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fd;
}

int zone_enter(const char *zone)
{
	int fd, ret = 0;

	if (zone_is_host(zone))
		return 0;
	if (host_ns_fd < 0)
		return -EBADF;
	fd = zone_open(zone);
	if (fd < 0)
		return fd;
	if (setns(fd, CLONE_NEWNET) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int zone_leave(const char *zone)
{
	if (zone_is_host(zone))
		return 0;
	if (setns(host_ns_fd, CLONE_NEWNET) < 0)
		return -errno;
	return 0;
}

int zone_host_fd(void)
{
	return host_ns_fd;
}

int zone_ns_init(void)
{
	if (host_ns_fd >= 0)
		return 0;
	host_ns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	return host_ns_fd < 0 ? -errno : 0;
}

void zone_ns_fini(void)
{
	if (host_ns_fd >= 0)
		close(host_ns_fd);
	host_ns_fd = -1;
}


bool zone_exists(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];
	struct stat st;

	if (!zone_name_ok(zone))
		return false;
	zone_path(zone, path, sizeof(path));
	return !stat(path, &st);
}

/* /run/netns as iproute2 leaves it: a shared mount point of its own. */
static int netns_dir_prepare(void)
{
	bool bound = false;

	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* Lets the namespace mounts propagate between mount namespaces. */
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		/* EINVAL: not a mount point yet; make it one and retry once. */
		if (errno != EINVAL || bound)
			return -errno;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		bound = true;
	}
	return 0;
}

/*
 * Runs on a thread of its own: unshare() moves only this thread into the new
 * namespace, which the bind mount then keeps alive after the thread is gone.
 */
static void *netns_bind_thread(void *arg)
{
	const char *path = arg;

	if (unshare(CLONE_NEWNET) < 0)
		return (void *)(intptr_t)-errno;
	if (mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return (void *)(intptr_t)-errno;
	return (void *)0;
}

int zone_create(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];
	pthread_t thread;
	void *res;
	int fd, ret;

	if (!zone_name_ok(zone))
		return -EINVAL;
	ret = netns_dir_prepare();
	if (ret < 0)
		return ret;

	zone_path(zone, path, sizeof(path));
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	close(fd);

	ret = -pthread_create(&thread, NULL, netns_bind_thread, path);
	if (ret < 0)
		goto err_unlink;
	ret = -pthread_join(thread, &res);
	if (ret < 0)
		goto err_unlink;
	ret = (int)(intptr_t)res;
	if (ret < 0)
		goto err_unlink;

	ret = nl_link_set_up(zone, "lo", true);
	if (ret < 0)
		goto err_umount;
	return 0;

err_umount:
	umount2(path, MNT_DETACH);
err_unlink:
	unlink(path);
	return ret;
}

int zone_delete(const char *zone)
{
	char path[sizeof(NETNS_RUN_DIR) + VW_ZONENAME_MAX + 2];

	if (!zone_name_ok(zone))
		return -EINVAL;
	zone_path(zone, path, sizeof(path));
	umount2(path, MNT_DETACH);
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int zone_list(char (*names)[VW_ZONENAME_MAX + 1], int max)
{
	char (*all)[VW_ZONENAME_MAX + 1] = NULL, (*tmp)[VW_ZONENAME_MAX + 1];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dir;
	int ret;

	if (max < 0 || (!names && max))
		return -EINVAL;
	dir = opendir(NETNS_RUN_DIR);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;

	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			break;
		if (!zone_name_ok(de->d_name) || de->d_type == DT_DIR)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			tmp = reallocarray(all, cap, sizeof(*all));
			if (!tmp) {
				ret = -ENOMEM;
				goto out;
			}
			all = tmp;
		}
		nl_copy_str(all[n++], sizeof(*all), de->d_name);
	}
	if (errno) {
		ret = -errno;
		goto out;
	}

	qsort(all, n, sizeof(*all), name_cmp);
	if (n > (size_t)max)
		n = max;
	if (n)
		memcpy(names, all, n * sizeof(*all));
	ret = n;
out:
	free(all);
	closedir(dir);
	return ret;
}
