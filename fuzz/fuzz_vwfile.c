/*
 * The vWire file reader (lib/vwfile.c): the input is a file's text, read
 * with three variables defined (LINK, EMPTY, SPACED); each command is also
 * given to the command grammar, as `vwadm apply` and the daemon's start-up
 * do.
 *
 * Checked: the reader ends (each call moves on, the line numbers never go
 * back and stay within the text); a command has at least one word; an
 * error names the file and a line; and every command, written back with
 * vw_word_quote() on one line, reads back as the same words.
 */
#include "fuzz/fuzz.h"
#include "lib/vwire.h"

static const struct vw_vardef vars[] = {
	{ "LINK", "net0" },
	{ "EMPTY", "" },
	{ "SPACED", "a b\t'c\" \\ #d ${LINK}" },
};

/* The reader on buf[0..len): bytes, a NUL among them an error of its line. */
static struct vw_vwfile *open_text(const char *buf, size_t len, const char *name, const struct vw_vardef *v, int nv)
{
	return vw_vwfile_open_mem(buf, len, name, v, nv);
}

/* Writes argv back as one line and reads it again. */
static void check_round_trip(int argc, char **argv)
{
	struct vw_vwfile *g;
	struct vw_buf line = { 0 };
	char q[4096], err[256], **av2;
	int i, argc2, ln;

	for (i = 0; i < argc; i++) {
		FUZZ_CHECK(!strchr(argv[i], '\n'), "word %d holds a newline", i);
		if (!vw_word_quote(argv[i], q, sizeof(q))) {
			vw_buf_free(&line);
			return; /* too long to quote here */
		}
		vw_buf_printf(&line, "%s%s", i ? " " : "", q);
	}
	if (line.oom) {
		vw_buf_free(&line);
		return;
	}
	g = open_text(line.p, line.len, "again", NULL, 0);
	if (g) {
		FUZZ_CHECK(vw_vwfile_next(g, &argc2, &av2, &ln, err, sizeof(err)) == 1, "'%s' does not read back: %s",
			   line.p, err);
		FUZZ_CHECK(argc2 == argc, "'%s' reads back as %d words, not %d", line.p, argc2, argc);
		for (i = 0; i < argc; i++)
			FUZZ_CHECK(!strcmp(argv[i], av2[i]), "word %d '%s' reads back as '%s'", i, argv[i], av2[i]);
		FUZZ_CHECK(vw_vwfile_next(g, &argc2, &av2, &ln, err, sizeof(err)) == 0, "more than one command");
		vw_vwfile_close(g);
	}
	vw_buf_free(&line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vw_vwfile *f;
	char *text, err[512], **argv;
	int argc, line, last = 0, lines = 1, rc, calls = 0, errors = 0;
	size_t i;

	if (size > 16384)
		return 0;
	text = fuzz_strndup(data, size);
	if (!text)
		return 0;
	for (i = 0; i < size; i++)
		lines += text[i] == '\n';
	f = open_text(text, size, "fuzz.vw", vars, (int)(sizeof(vars) / sizeof(vars[0])));
	if (!f) {
		free(text);
		return 0;
	}
	for (;;) {
		err[0] = 0;
		line = 0;
		rc = vw_vwfile_next(f, &argc, &argv, &line, err, sizeof(err));
		FUZZ_CHECK(rc >= -1 && rc <= 1, "vw_vwfile_next returned %d", rc);
		FUZZ_CHECK(++calls <= lines + 1, "%d calls for %d lines: the reader does not move on", calls, lines);
		if (rc == 0)
			break;
		if (rc < 0) {
			errors++;
			FUZZ_CHECK(!strncmp(err, "fuzz.vw:", 8) && strlen(err) > 9, "error without file and line: '%s'",
				   err);
			continue;
		}
		FUZZ_CHECK(argc >= 1 && argv[argc] == NULL, "command of %d words", argc);
		FUZZ_CHECK(line >= 1 && line <= lines && line >= last, "command on line %d (last %d, %d lines)", line,
			   last, lines);
		last = line;
		{
			struct vw_cmd c;
			char e[256];

			vw_cmd_parse(argc, argv, &c, e, sizeof(e));
		}
		check_round_trip(argc, argv);
	}
	/* bytes are bytes: a NUL is an error of its line, never an end */
	FUZZ_CHECK(!memchr(data, 0, size) || errors, "a NUL byte read without an error");
	vw_vwfile_close(f);
	free(text);
	return 0;
}
