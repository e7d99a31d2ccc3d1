/*
 * vwadm: the administration CLI.  It parses the command with the library's
 * grammar (lib/cmd.c), sends the words to vwired, and prints the records of
 * the reply through its output tables (cli/cmdout.c); the daemon does the
 * work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cmdout.h"
#include "cli/output.h"
#include "lib/vwire.h"

#define PROG "vwadm"

static int print_show(const struct cmd_out *co, const struct vw_cmd *c, const struct vw_reply *rep, struct out *o)
{
	int i;

	(void)c;
	out_begin(o);
	for (i = 0; i < rep->nrec; i++)
		if (!strcmp(rep->recs[i].type, co->rectype))
			out_record(o, &rep->recs[i]);
	out_end(o);
	return 0;
}

static int write_lines(FILE *fp, const struct cmd_out *co, const struct vw_reply *rep)
{
	int i;

	for (i = 0; i < rep->nrec; i++) {
		const char *text = vw_record_get(&rep->recs[i], "text");

		if (!strcmp(rep->recs[i].type, co->rectype) && text)
			fprintf(fp, "%s\n", text);
	}
	return fflush(fp) || ferror(fp) ? -1 : 0;
}

/* export -o FILE: written to FILE.new, then renamed over FILE. */
static int print_export(const struct cmd_out *co, const struct vw_cmd *c, const struct vw_reply *rep, struct out *o)
{
	const char *file = vw_cmd_opt(c, 'o');
	char tmp[4096];
	FILE *fp;
	int fd, err;

	(void)o;
	if (!file || !strcmp(file, "-"))
		return write_lines(stdout, co, rep);
	if (snprintf(tmp, sizeof(tmp), "%s.new", file) >= (int)sizeof(tmp)) {
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(ENAMETOOLONG));
		return 1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(fp = fdopen(fd, "w"))) {
		err = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(err));
		return 1;
	}
	if (write_lines(fp, co, rep) < 0 || fsync(fd) < 0) {
		err = errno;
		fclose(fp);
		unlink(tmp);
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(err));
		return 1;
	}
	if (fclose(fp) || rename(tmp, file) < 0) {
		err = errno;
		unlink(tmp);
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(err));
		return 1;
	}
	return 0;
}

static void print_usage(FILE *fp, const struct vw_cmddef *def)
{
	if (def)
		fprintf(fp, "usage: " PROG " %s%s%s\n", def->name, *def->usage ? " " : "", def->usage);
	else
		fprintf(fp, "usage: " PROG " [--socket PATH] SUBCOMMAND [ARGS] ('" PROG " help' lists them)\n");
}

static int usage_error(const struct vw_cmddef *def, const char *reason)
{
	fprintf(stderr, PROG ": %s\n", reason);
	print_usage(stderr, def);
	return 2;
}

/* A subcommand users may run: internal ones (usage NULL) are not. */
static const struct vw_cmddef *public_cmd(const char *name)
{
	const struct vw_cmddef *def = vw_cmd_find(name);

	return def && def->usage ? def : NULL;
}

/* A show-* command's fields, as -o takes them (and for its -x or -L view). */
static void print_fields(const struct cmd_out *co, char opt)
{
	const struct out_field *f;

	if (!co || !co->fields)
		return;
	if (opt)
		printf("fields with -%c:", opt);
	else
		printf("fields:");
	for (f = co->fields; f->name; f++)
		printf(" %s", f->name);
	printf("\n");
}

static int help(const char *name)
{
	const struct vw_cmddef *tab;
	char reason[128];
	int i, n;

	if (name) {
		const struct vw_cmddef *def = public_cmd(name);
		const struct cmd_out *co;

		if (!def) {
			snprintf(reason, sizeof(reason), "unknown subcommand '%s'", name);
			return usage_error(NULL, reason);
		}
		co = cmd_out(def->id);
		print_usage(stdout, def);
		print_fields(co, 0);
		for (i = 0; co && i < 2; i++)
			if (co->alt_opt[i])
				print_fields(co->alt[i], co->alt_opt[i]);
		return 0;
	}
	printf("usage: " PROG " [--socket PATH] SUBCOMMAND [ARGS]\n\nsubcommands:\n");
	tab = vw_cmd_table(&n);
	for (i = 0; i < n; i++)
		if (tab[i].usage)
			printf("    %s%s%s\n", tab[i].name, *tab[i].usage ? " " : "", tab[i].usage);
	printf("\nThe socket is --socket PATH, else $VWIRE_SOCKET, else " VW_DEFAULT_SOCKET ".\n");
	return 0;
}

/* Presentation options of a show-* command, checked before anything is sent. */
static int prepare_output(const struct cmd_out *co, const struct vw_cmd *c, struct out *o)
{
	const char *fields = vw_cmd_opt(c, 'o');
	bool parsable = vw_cmd_opt(c, co->parsable) != NULL;
	char err[256];

	if (parsable && !fields) {
		snprintf(err, sizeof(err), "-%c requires -o", co->parsable);
		return usage_error(c->def, err);
	}
	if (out_init(o, co->fields, fields, co->deflt, parsable ? OUT_PARSABLE : OUT_TABLE, stdout, err,
		     sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	return 0;
}

/* vw_call failed before the daemon gave a verdict. */
static int transport_error(const char *sock, vw_status_t st)
{
	const char *path = vw_socket_path(sock);

	switch (st) {
	case VW_E_INVAL:
		fprintf(stderr, PROG ": arguments must not contain line breaks\n");
		break;
	case VW_E_NOMEM:
		fprintf(stderr, PROG ": out of memory\n");
		break;
	case VW_E_USAGE:
		fprintf(stderr, PROG ": request too large (more than %d KiB)\n", VW_REQ_MAX >> 10);
		break;
	case VW_E_NODAEMON:
		fprintf(stderr, PROG ": lost the connection to the daemon at %s\n", path);
		break;
	default:
		fprintf(stderr, PROG ": malformed reply from the daemon at %s\n", path);
		break;
	}
	return 1;
}

/* start-accounting -f FILE: the daemon runs elsewhere, so a relative FILE
 * is made absolute here. */
static void absolute_file(int argc, char **argv)
{
	static char buf[8192];
	char cwd[4096];
	int i;

	for (i = 1; i < argc; i++) {
		const char *f = !strcmp(argv[i], "-f") && i + 1 < argc ? argv[++i] : !strncmp(argv[i], "-f", 2) ? argv[i] + 2 : NULL;

		if (!f || f[0] == '/' || !f[0] || !getcwd(cwd, sizeof(cwd)))
			continue;
		snprintf(buf, sizeof(buf), "%s%s/%s", f == argv[i] ? "" : "-f", cwd, f);
		argv[i] = buf;
		return;
	}
}

/*
 * apply FILE: the file ("-": standard input) is read here, as bytes, and its
 * text goes to the daemon as a second operand: the daemon plans and applies
 * it whole.  --prune is -P on the wire.
 */
static int apply_args(int *argc, char ***argv, const struct vw_cmd *c)
{
	static char *args[VW_CMD_MAXOPT * 2 + 8];
	const char *file = c->operand[0];
	struct vw_buf text = { 0 }, esc = { 0 };
	char chunk[65536];
	int fd = strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : 0, i;
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(errno));
		return 1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, PROG ": %s: %s\n", file, strerror(errno));
			if (fd)
				close(fd);
			vw_buf_free(&text);
			return 1;
		}
		vw_buf_append(&text, chunk, (size_t)n);
	}
	if (fd)
		close(fd);
	vw_text_escape(text.p ? text.p : "", text.len, &esc);
	vw_buf_append(&esc, "", 1);
	vw_buf_free(&text);
	if (esc.oom || *argc + 1 >= (int)(sizeof(args) / sizeof(args[0]))) {
		fprintf(stderr, PROG ": %s: out of memory\n", file);
		return 1;
	}
	for (i = 0; i < *argc; i++)
		args[i] = (*argv)[i];
	args[i++] = esc.p;
	args[i] = NULL;
	*argc = i;
	*argv = args;
	return 0;
}

static int run(const char *sock, int argc, char **argv)
{
	const struct vw_cmddef *def = public_cmd(argv[0]);
	const struct cmd_out *co;
	struct vw_handle *h;
	struct vw_reply rep;
	struct out o = { 0 };
	struct vw_cmd c;
	char err[512];
	vw_status_t st;
	int rc;

	if (!def) {
		snprintf(err, sizeof(err), "unknown subcommand '%s'", argv[0]);
		return usage_error(NULL, err);
	}
	if (def->id == VW_CMD_APPLY)
		for (rc = 1; rc < argc && strcmp(argv[rc], "--"); rc++)
			if (!strcmp(argv[rc], "--prune"))
				argv[rc] = "-P";
	if (vw_cmd_parse(argc, argv, &c, err, sizeof(err)) != VW_OK)
		return usage_error(def, err);
	if (def->id == VW_CMD_APPLY && c.noperand != 1)
		return usage_error(def, "apply: too many operands");
	if (!def->implemented) {
		fprintf(stderr, PROG ": %s: not implemented yet\n", def->name);
		return 1;
	}
	if (def->id == VW_CMD_START_ACCOUNTING)
		absolute_file(argc, argv);
	co = cmd_out_for(cmd_out(def->id), &c);
	if (co && co->fields && (rc = prepare_output(co, &c, &o)) != 0)
		return rc;

	st = vw_open(sock, &h, err, sizeof(err));
	if (st != VW_OK) {
		fprintf(stderr, PROG ": %s\n", err);
		return vw_status_exit(st);
	}
	if (def->id == VW_CMD_APPLY && (rc = apply_args(&argc, &argv, &c)) != 0) {
		vw_close(h);
		return rc;
	}
	st = vw_call(h, argc, argv, &rep);
	vw_close(h);
	if (st != VW_OK)
		return transport_error(sock, st);
	if (rep.status != VW_OK) {
		if (*rep.message)
			fprintf(stderr, PROG ": %s\n", rep.message);
		else
			fprintf(stderr, PROG ": %s: %s\n", def->name, vw_strstatus(rep.status));
		rc = vw_status_exit(rep.status);
	} else {
		rc = !co ? 0 : def->out == VW_OUT_LINES ? print_export(co, &c, &rep, &o) : print_show(co, &c, &rep, &o);
	}
	vw_reply_free(&rep);
	return rc;
}

static int vwadm(int argc, char **argv)
{
	const char *sock = NULL;
	char reason[128];
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		const char *a = argv[i];

		if (!strcmp(a, "--socket")) {
			if (i + 1 >= argc)
				return usage_error(NULL, "option '--socket' needs a value");
			sock = argv[i + 1];
			i += 2;
		} else if (!strncmp(a, "--socket=", 9)) {
			sock = a + 9;
			i++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			return help(NULL);
		} else {
			snprintf(reason, sizeof(reason), "unknown option '%s'", a);
			return usage_error(NULL, reason);
		}
	}
	if (i == argc)
		return usage_error(NULL, "missing subcommand");
	if (!strcmp(argv[i], "help")) {
		if (i + 2 < argc)
			return usage_error(NULL, "help takes at most one subcommand");
		return help(i + 1 < argc ? argv[i + 1] : NULL);
	}
	return run(sock, argc - i, argv + i);
}

int main(int argc, char **argv)
{
	int rc = vwadm(argc, argv);

	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, PROG ": standard output: %s\n", strerror(errno));
		return 1;
	}
	return rc;
}
