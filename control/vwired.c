/*
 * vwired: sets up and tears down; the work is elsewhere.  Start-up order:
 * netlink, datapath workers, control socket, then the persistent state is
 * replayed through the same command handlers clients use.  Without -f the
 * daemon forks and the parent returns only once the socket answers, so a
 * script can use vwadm straight after `vwired`; at that same moment a
 * service manager that asked (NOTIFY_SOCKET, systemd's Type=notify) is
 * told READY=1, and STOPPING=1 when a signal stops the daemon.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "control/ctl.h"
#include "control/persist.h"
#include "control/restore.h"
#include "control/sdnotify.h"
#include "observability/accounting.h"
#include "observability/capture.h"
#include "observability/loop.h"
#include "observability/api.h"
#include "observability/metrics.h"
#include "observability/mirror.h"
#include "datapath/fastpath.h"
#include "datapath/vswitch.h"
#include "datapath/worker.h"
#include "objects/link.h"
#include "objects/netlink.h"
#include "objects/tunnel.h"
#include "objects/vnm.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: vwired [-f] [--socket PATH] [--state-dir DIR] [--force-state] [--workers N]\n"
		   "              [--poll-us N] [--http|--metrics ADDRESS:PORT] [--http-write TOKENFILE]\n"
		   "              [--socket-group GROUP] [--client-timeout SECONDS[,IDLE_SECONDS]]\n"
		   "              [--fastpath=on|off]\n");
}

/* Every VNIC holds one descriptor per worker: take all the descriptors the
 * hard limit allows, so a few hundred VNICs do not hit a 1,024 soft limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "workers", required_argument, NULL, 'w' },
		{ "poll-us", required_argument, NULL, 'P' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "http", required_argument, NULL, 'm' }, /* the same listener, its clearer name */
		{ "http-write", required_argument, NULL, 'W' },
		{ "force-state", no_argument, NULL, 'F' },
		{ "socket-group", required_argument, NULL, 'g' },
		{ "client-timeout", required_argument, NULL, 'T' },
		{ "fastpath", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = NULL;
	bool foreground = false, force_state = false, fastpath = true;
	int c, rc, adopt, nworkers = 0, ready[2] = { -1, -1 };
	char err[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	sigset_t stop;

	while ((c = getopt_long(argc, argv, "fs:d:w:P:h", longopts, NULL)) != -1) {
		uint64_t v;

		switch (c) {
		case 'f':
			foreground = true;
			break;
		case 's':
			sock = optarg;
			break;
		case 'd':
			state_set_dir(optarg);
			accounting_set_dir(optarg);
			break;
		case 'w':
			if (!vw_uint_parse(optarg, 1, VW_MAX_WORKERS, &v)) {
				fprintf(stderr, "vwired: invalid number of workers '%s' (1-%d)\n", optarg, VW_MAX_WORKERS);
				return 2;
			}
			nworkers = (int)v;
			break;
		case 'P':
			if (!vw_uint_parse(optarg, 0, 1000000, &v)) {
				fprintf(stderr, "vwired: invalid polling window '%s' (0-1000000 microseconds)\n", optarg);
				return 2;
			}
			vw_workers_set_poll(v * 1000);
			break;
		case 'm': /* options whose parser says what is wrong */
		case 'g':
		case 'T':
		case 'W':
			if ((c == 'm'   ? metrics_parse
			     : c == 'g' ? ctl_set_group
			     : c == 'W' ? api_write_parse
					: ctl_set_timeouts)(optarg, err, sizeof(err))) {
				fprintf(stderr, "vwired: %s\n", err);
				return 2;
			}
			break;
		case 'F':
			force_state = true;
			break;
		case 'B':
			if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "vwired: invalid --fastpath '%s' (on or off)\n", optarg);
				return 2;
			}
			fastpath = !strcmp(optarg, "on");
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vwired: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!nworkers)
		nworkers = ncpu < 2 ? 1 : ncpu > 4 ? 4 : (int)ncpu;
	sock = vw_socket_path(sock);
	if (geteuid() != 0) {
		fprintf(stderr, "vwired: must run as root (it creates TAP devices and zones)\n");
		return 1;
	}
	raise_fd_limit();
	sdnotify_init();
	signal(SIGPIPE, SIG_IGN);
	/* SIGINT and SIGTERM are taken by the control loop's signalfd: block
	 * them now, so the worker threads started below inherit the mask and
	 * a signal never lands on one of them */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (!foreground) {
		pid_t pid;

		if (pipe2(ready, O_CLOEXEC) < 0) {
			perror("vwired: pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("vwired: fork");
			return 1;
		}
		if (pid > 0) {
			char ok = 0;

			close(ready[1]);
			/* the child writes one byte once it serves clients */
			return read(ready[0], &ok, 1) == 1 && ok == 'y' ? 0 : 1;
		}
		close(ready[0]);
		setsid();
	}
	/* the subsystems below reach the loop through it, from the replay on */
	loop_set(&ctl_loop);
	rc = ctl_listen(sock, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vwired: %s\n", err);
		return 1;
	}
	rc = metrics_start(err, sizeof(err));
	if (rc) {
		fprintf(stderr, "vwired: %s\n", err);
		ctl_close();
		return 1;
	}
	rc = nl_init();
	if (rc < 0) {
		fprintf(stderr, "vwired: netlink: %s\n", strerror(-rc));
		ctl_close();
		return 1;
	}
	/* the kernel fast path, unless told not to or the kernel cannot; it
	 * takes over what an earlier daemon left switching */
	vnic_set_owner(state_path());
	{ /* VMs' vhost-user sockets, by default beside the control socket */
		char dir[PATH_MAX];
		const char *slash = strrchr(sock, '/');

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - sock) : 1, slash ? sock : ".");
		vnic_vm_set_dir(*dir ? dir : "/");
	}
	adopt = vnic_adopt_scan();
	if (fastpath && vw_fast_start(adopt, err, sizeof(err)) < 0)
		fprintf(stderr, "vwired: kernel fast path off: %s; the userspace datapath switches every frame\n",
			err);
	if (!vw_fast_enabled())
		vnic_adopt_done(); /* TAP faces take over nothing */
	vw_switch_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vw_switch_event_fd < 0) {
		perror("vwired: eventfd");
		ctl_close();
		return 1;
	}
	rc = vw_workers_start(nworkers);
	if (rc) {
		fprintf(stderr, "vwired: cannot start workers: %s\n", strerror(-rc));
		ctl_close();
		return 1;
	}
	if (restore_state(force_state) < 0) {
		/* refused: undo what the replay made; the state file is untouched */
		accounting_shutdown();
		metrics_stop();
		ctl_close();
		mirrors_destroy_all();
		vnms_destroy_all();
		links_undo_all();
		vw_workers_stop();
		nl_fini();
		return 1;
	}
	vnic_adopt_done();
	tunnel_leftovers_del();
	/* serving (the socket listens, the loop below answers at once) and the
	 * saved configuration replayed: what systemd's Type=notify waits for */
	sdnotify("READY=1");
	if (!foreground) {
		int null = open("/dev/null", O_RDWR);

		if (write(ready[1], "y", 1) != 1)
			return 1;
		close(ready[1]);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
	}
	rc = ctl_run();
	sdnotify("STOPPING=1");
	accounting_shutdown();
	metrics_stop();
	capture_stop_all();
	ctl_close();
	mirrors_destroy_all(); /* before the links it watches */
	vw_fast_leave(); /* the fast path's faces and programs stay, switching */
	vnms_destroy_all(); /* their tables and routes stay in the zones */
	links_destroy_all();
	vw_workers_stop();
	vw_fast_stop();
	nl_fini();
	return rc ? 1 : 0;
}
