/*
 * libFuzzer harness for the state loader's check (objects/statefile.c):
 * any bytes as a state file.  It must never crash, hang or leak; it must
 * count a problem for any NUL byte, and take a file whole (no problem, end
 * line matching) only if re-sealing its body gives the same bytes.  The
 * replay itself needs root and netlink and is not run here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "objects/statefile.h"

static void count(void *arg, const char *msg)
{
	(void)msg;
	++*(int *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct statefile sf;
	int reported = 0, problems = statefile_check(data, size, "fuzz", &sf, count, &reported);
	const char *end;

	if (problems >= 0 && problems != reported)
		abort();
	if (problems == 0 && memchr(data, '\0', size))
		abort(); /* a NUL byte slipped through */
	if (problems == 0 && !sf.unsealed) {
		/* whole: the end line is what sealing the rest gives */
		struct vw_buf b = { 0 };

		end = memmem(data, size, "\n# end: ", 8);
		while (end && memmem(end + 1, size - (end + 1 - (const char *)data), "\n# end: ", 8))
			end = memmem(end + 1, size - (end + 1 - (const char *)data), "\n# end: ", 8);
		if (!end && size >= 7 && !memcmp(data, "# end: ", 7))
			end = (const char *)data - 1;
		if (!end)
			abort();
		vw_buf_printf(&b, "%.*s", (int)(end + 1 - (const char *)data), (const char *)data);
		if (!b.oom && (!statefile_seal(&b) || b.len != size || memcmp(b.p, data, size)))
			abort();
		vw_buf_free(&b);
	}
	statefile_free(&sf);
	return 0;
}
