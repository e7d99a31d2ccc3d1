/*
 * The web console's API (observability/api.c, json.c): the input's first
 * byte chooses what gets the rest.
 *   0: json_str         any bytes as a JSON string
 *   1: api_host_ok      Host and Origin headers (split at the first newline)
 *   2: api_command      a POST /api/command body (no control loop here: a
 *                       command that parses answers 500, "no answer")
 *   3: api_get          a path and query parameters (key=value lines)
 *
 * Checked: a JSON string is quoted, holds no raw control character and is
 * valid UTF-8 (so a strict parser takes it whatever a record holds); a
 * Host that passes names an address or localhost; a refused command or
 * path gets one line of text, never a partial JSON body; nothing leaks.
 */
#include "fuzz/fuzz.h"
#include "lib/vwire.h"
#include "observability/api.h"
#include "observability/json.h"

/* Valid UTF-8, no byte below 0x20 (JSON forbids them raw). */
static void check_json_string(const char *s, size_t len)
{
	size_t i = 1;

	FUZZ_CHECK(len >= 2 && s[0] == '"' && s[len - 1] == '"', "not quoted");
	while (i < len - 1) {
		unsigned char c = (unsigned char)s[i];
		int n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;

		FUZZ_CHECK(c >= 0x20, "raw control character 0x%02x at %zu", c, i);
		FUZZ_CHECK(n && i + (size_t)n <= len - 1, "bad UTF-8 lead 0x%02x at %zu", c, i);
		for (int k = 1; k < n; k++)
			FUZZ_CHECK(((unsigned char)s[i + k] & 0xc0) == 0x80, "bad UTF-8 continuation at %zu", i + k);
		if (c == '\\') {
			FUZZ_CHECK(i + 1 < len - 1 && strchr("\"\\u", s[i + 1]), "bad escape at %zu", i);
			i += s[i + 1] == 'u' ? 6 : 2;
			continue;
		}
		FUZZ_CHECK(c != '"', "raw quote at %zu", i);
		i += (size_t)n;
	}
}

static void check_one_line(const struct vw_buf *b)
{
	FUZZ_CHECK(b->p && b->len && b->p[b->len - 1] == '\n' && !memchr(b->p, '\n', b->len - 1),
		   "not one line: %.*s", (int)(b->len > 200 ? 200 : b->len), b->p ? b->p : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vw_buf b = { 0 };
	char *s;

	if (!size)
		return 0;
	s = fuzz_strndup(data + 1, size - 1);
	if (!s)
		return 0;
	switch (data[0] % 4) {
	case 0:
		json_str(&b, s);
		if (!b.oom)
			check_json_string(b.p, b.len);
		break;
	case 1: {
		char *origin = strchr(s, '\n');

		if (origin)
			*origin++ = 0;
		if (api_host_ok(s, origin)) {
			FUZZ_CHECK(*s, "an empty Host passed");
			FUZZ_CHECK(!origin || !strncasecmp(origin, "http://", 7), "Origin %s passed", origin);
		}
		break;
	}
	case 2: {
		unsigned code = api_command(s, size - 1, &b);

		FUZZ_CHECK(code == 400 || code == 500, "code %u without a daemon", code);
		check_one_line(&b);
		break;
	}
	case 3: {
		struct api_query q = { 0 };
		char *line = s, *path = strsep(&line, "\n");
		unsigned code;

		while (line && q.n < API_MAXARGS) {
			char *kv = strsep(&line, "\n"), *eq = strchr(kv, '=');

			if (eq)
				*eq++ = 0;
			q.key[q.n] = kv;
			q.val[q.n++] = eq ? eq : "";
		}
		code = api_get(path, &q, &b);
		FUZZ_CHECK(code == 400 || code == 404 || code == 503 || code == 200, "code %u", code);
		if (code != 200)
			check_one_line(&b);
		break;
	}
	}
	vw_buf_free(&b);
	free(s);
	return 0;
}
