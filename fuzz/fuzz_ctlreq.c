/*
 * The daemon's side of the control protocol: control/ctl.c's request
 * parser (ctl_parse_request), then, for a read-only command, the handler
 * that would answer it (ctl_handle) on a daemon with no objects.
 *
 * Input: the bytes of one request as a client would send them, up to its
 * end (the empty line), which the loop has already found.
 *
 * Checked: the parser takes any bytes (ASan); a request it accepts has at
 * most `max` words, none with a line break or a NUL, and the words
 * written back as "arg=WORD" lines parse to the same words; one it refuses
 * says why.  A read-only command (show-*, export, stats) gets a reply
 * made of "key=value" lines with a status, and an empty line at its end.
 * Changes are not run: they need root, netlink and the datapath.
 */
#include "control/ctl.h"
#include "fuzz/fuzz.h"
#include "lib/vwire.h"

#define MAXW 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAXW + 1], *again_argv[MAXW + 1], *again;
	const struct vw_cmddef *def;
	struct vw_buf out = { 0 }, req = { 0 };
	const char *why = NULL;
	int argc, again_argc, i;

	FUZZ_CHECK(buf, "out of memory");
	memcpy(buf, data, size);
	buf[size] = 0;
	if (ctl_parse_request(buf, size, &argc, argv, MAXW, &why) < 0) {
		FUZZ_CHECK(why && *why, "a refused request says why");
		free(buf);
		return 0;
	}
	FUZZ_CHECK(argc >= 0 && argc <= MAXW && !argv[argc], "argc %d", argc);
	for (i = 0; i < argc; i++) {
		FUZZ_CHECK(!strchr(argv[i], '\n'), "word %d has a line break", i);
		FUZZ_CHECK(argv[i] >= buf && argv[i] < buf + size + 1, "word %d outside the request", i);
		vw_buf_printf(&req, "arg=%s\n", argv[i]);
	}
	FUZZ_CHECK(!req.oom, "out of memory");
	again = req.p ? req.p : (char *)"";
	FUZZ_CHECK(ctl_parse_request(again, req.len, &again_argc, again_argv, MAXW, &why) == 0,
		   "the words written back are refused: %s", why);
	FUZZ_CHECK(again_argc == argc, "%d words, then %d", argc, again_argc);
	for (i = 0; i < argc; i++)
		FUZZ_CHECK(!strcmp(argv[i], again_argv[i]), "word %d: '%s', then '%s'", i, argv[i], again_argv[i]);

	def = argc ? vw_cmd_find(argv[0]) : NULL;
	if (def && def->priv == VW_PRIV_READ) {
		ctl_handle(argc, argv, &out, false);
		FUZZ_CHECK(!out.oom, "out of memory");
		FUZZ_CHECK(out.p && strstr(out.p, "status="), "a reply with no status");
		FUZZ_CHECK(out.len >= 2 && !memcmp(out.p + out.len - 2, "\n\n", 2), "a reply with no end");
	}
	vw_buf_free(&out);
	vw_buf_free(&req);
	free(buf);
	return 0;
}
