/*
 * JSON encoding for the API (json.h).
 */
#include <string.h>

#include "observability/json.h"

/* Length of the valid UTF-8 sequence at s, or 0. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates, past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void json_str(struct vw_buf *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	vw_buf_printf(o, "\"");
	while (*p) {
		int n = utf8_len(p);

		if (!n) {
			vw_buf_printf(o, "\\ufffd");
			p++;
		} else if (*p == '"' || *p == '\\') {
			vw_buf_printf(o, "\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			vw_buf_printf(o, "\\u%04x", *p++);
		} else {
			vw_buf_append(o, p, (size_t)n);
			p += n;
		}
	}
	vw_buf_printf(o, "\"");
}

bool json_is_uint(const char *v)
{
	size_t n = strspn(v, "0123456789");

	return n && !v[n] && (v[0] != '0' || n == 1) && n <= 20;
}

void json_value(struct vw_buf *o, const char *v, bool num)
{
	if (num && json_is_uint(v))
		vw_buf_printf(o, "%s", v);
	else
		json_str(o, v);
}

bool json_name_key(const char *key)
{
	static const char *const names[] = { "link", "class", "over", "zone", "flow", "worker", "port",
					     "mirror", "exporter", "vnm", "name", NULL };
	int i;

	for (i = 0; names[i]; i++)
		if (!strcmp(key, names[i]))
			return true;
	return false;
}

void json_fields(struct vw_buf *o, const struct vw_record *r, bool counters, bool first)
{
	int i;

	for (i = 0; i < r->n; i++) {
		vw_buf_printf(o, "%s", first && !i ? "" : ",");
		json_str(o, r->keys[i]);
		vw_buf_printf(o, ":");
		json_value(o, r->vals[i], counters && !json_name_key(r->keys[i]));
	}
}
