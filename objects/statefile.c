/*
 * The state file's format: header, end line, and the check a file must pass
 * before the daemon replays any of it (objects/statefile.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects/statefile.h"

#define END_PREFIX "# end: "

bool statefile_seal(struct vw_buf *b)
{
	size_t i, n = 0;

	if (b->oom)
		return false;
	for (i = 0; i < b->len; i++)
		n += b->p[i] == '\n';
	vw_buf_printf(b, END_PREFIX "%zu lines, crc32 %08x\n", n, vw_crc32(0, b->p, b->len));
	return !b->oom;
}

struct check {
	const char *path;
	statefile_report_fn *report;
	void *arg;
	int problems;
};

static void problem(struct check *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct check *c, int line, const char *fmt, ...)
{
	char msg[384], full[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "%s:%d: %s", c->path, line, msg);
	c->problems++;
	if (c->report)
		c->report(c->arg, full);
}

/* "# end: N lines, crc32 XXXXXXXX\n" exactly; false when it is not that. */
static bool end_parse(const char *s, size_t len, unsigned long *n, unsigned long *crc)
{
	char line[80], *p;

	if (len >= sizeof(line) || len < sizeof(END_PREFIX) || memchr(s, '\0', len))
		return false;
	memcpy(line, s, len);
	line[len] = '\0';
	p = line + strlen(END_PREFIX);
	/* digits as the daemon writes them: no sign, no leading zero */
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	*n = strtoul(p, &p, 10);
	if (strncmp(p, " lines, crc32 ", 14))
		return false;
	p += 14;
	if (strspn(p, "0123456789abcdef") != 8 || strcmp(p + 8, "\n"))
		return false;
	*crc = strtoul(p, NULL, 16);
	return true;
}

/* The end line, the newline at the end, the header: is the file whole? */
static void check_whole(struct check *c, const char *buf, size_t len, struct statefile *sf)
{
	size_t i, last = 0, nl = 0;
	unsigned long n, crc;

	if (!len) {
		problem(c, 1, "empty file: cut short (vwired never writes an empty one)");
		return;
	}
	for (i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		nl++;
		if (i + 1 < len)
			last = i + 1;
	}
	if (buf[len - 1] != '\n') {
		problem(c, (int)nl + 1, "the last line has no newline: the file is cut short");
		return;
	}
	if (len - last >= strlen(END_PREFIX) && !memcmp(buf + last, END_PREFIX, strlen(END_PREFIX))) {
		uint32_t sum = vw_crc32(0, buf, last);

		if (!end_parse(buf + last, len - last, &n, &crc))
			problem(c, (int)nl, "malformed end line (expected '# end: N lines, crc32 XXXXXXXX')");
		else if (n != nl - 1 || crc != sum)
			problem(c, (int)nl,
				"the end line says %lu lines, crc32 %08lx, but the %zu lines before it have crc32 "
				"%08x: the file is damaged (edited by hand? check it, then start with --force-state)",
				n, crc, nl - 1, sum);
		return;
	}
	if (len >= strlen(STATEFILE_HEADER) && !memcmp(buf, STATEFILE_HEADER, strlen(STATEFILE_HEADER))) {
		problem(c, (int)nl, "no end line after this one: the file is cut short");
		return;
	}
	sf->unsealed = true;
}

static int cmd_add(struct statefile *sf, int line, int argc, char **argv)
{
	struct statefile_cmd *cmds;
	size_t size = (argc + 1) * sizeof(char *);
	char **v, *s;
	int i;

	for (i = 0; i < argc; i++)
		size += strlen(argv[i]) + 1;
	cmds = realloc(sf->cmds, (sf->ncmds + 1) * sizeof(*cmds));
	if (!cmds)
		return -ENOMEM;
	sf->cmds = cmds;
	v = malloc(size);
	if (!v)
		return -ENOMEM;
	s = (char *)(v + argc + 1);
	for (i = 0; i < argc; i++) {
		v[i] = strcpy(s, argv[i]);
		s += strlen(s) + 1;
	}
	v[argc] = NULL;
	cmds[sf->ncmds++] = (struct statefile_cmd){ .line = line, .argc = argc, .argv = v };
	return 0;
}

int statefile_check(const void *buf, size_t len, const char *path, struct statefile *sf,
		    statefile_report_fn *report, void *arg)
{
	struct check c = { .path = path, .report = report, .arg = arg };
	struct vw_vwfile *f;
	char err[512], **argv;
	int rc, argc, line;

	memset(sf, 0, sizeof(*sf));
	f = vw_vwfile_open_mem(buf, len, path, NULL, 0);
	if (!f)
		return -ENOMEM;
	while ((rc = vw_vwfile_next(f, &argc, &argv, &line, err, sizeof(err))) != 0) {
		struct vw_cmd cmd;
		char why[256];

		if (rc < 0) {
			c.problems++;
			if (report)
				report(arg, err);
			continue;
		}
		if (vw_cmd_parse(argc, argv, &cmd, why, sizeof(why)) != VW_OK) {
			problem(&c, line, "%s", why);
			continue;
		}
		if (cmd_add(sf, line, argc, argv)) {
			vw_vwfile_close(f);
			return -ENOMEM;
		}
	}
	vw_vwfile_close(f);
	/* last, so that the problems come in the order of their lines */
	check_whole(&c, buf, len, sf);
	return c.problems;
}

void statefile_free(struct statefile *sf)
{
	int i;

	for (i = 0; i < sf->ncmds; i++)
		free(sf->cmds[i].argv);
	free(sf->cmds);
	memset(sf, 0, sizeof(*sf));
}
