/*
 * vWire files: a small shell-like line reader.
 *
 * Outside quotes, '\' takes the next character literally; '\' before a
 * newline joins the two physical lines everywhere, even inside quotes and
 * comments.  '#' at the start of a word comments out the rest of the logical
 * line.  Single quotes are literal; double quotes allow ${VAR} and the
 * escapes \" \\ \$.  A quote cannot span a newline.  ${VAR} outside quotes
 * is replaced as if quoted: no word splitting, and an empty value still
 * makes a (empty) word.  A '$' not followed by '{' is an ordinary character.
 *
 * After an error the rest of the logical line is skipped, so the caller may
 * go on to report further errors.
 *
 * The text is len bytes, not a C string: the end is pos == len, and a NUL
 * byte before it is an error of its line ("NUL byte in line"), never an end.
 * Every character is read through ch(), which gives -1 at the end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/vwire.h"

struct vw_vwfile {
	char *text;
	size_t len, pos;
	int line;
	char *name;
	struct vw_vardef *vars;
	int nvars;

	/* The words of the current command, NUL-separated. */
	char *buf;
	size_t blen, bcap;
	size_t *offs, wcap;
	int nwords;
	char **argv;
	bool inword;
	int cmdline;

	char *err;
	size_t errlen;
};

static void free_vars(struct vw_vardef *vars, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free((char *)vars[i].name);
		free((char *)vars[i].value);
	}
	free(vars);
}

static struct vw_vardef *copy_vars(const struct vw_vardef *vars, int n)
{
	struct vw_vardef *c = calloc(n ? n : 1, sizeof(*c));
	int i;

	if (!c)
		return NULL;
	for (i = 0; i < n; i++) {
		c[i].name = strdup(vars[i].name);
		c[i].value = strdup(vars[i].value ? vars[i].value : "");
		if (!c[i].name || !c[i].value) {
			free_vars(c, i + 1);
			return NULL;
		}
	}
	return c;
}

struct vw_vwfile *vw_vwfile_open_mem(const void *buf, size_t len, const char *filename,
				     const struct vw_vardef *vars, int nvars)
{
	struct vw_vwfile *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	if (nvars < 0 || (nvars && !vars))
		nvars = 0;
	if (!buf)
		len = 0;
	f->text = malloc(len + 1);
	if (f->text) {
		if (len)
			memcpy(f->text, buf, len);
		f->text[len] = '\0';
		f->len = len;
	}
	f->name = strdup(filename ? filename : "-");
	f->vars = copy_vars(vars, nvars);
	if (!f->text || !f->name || !f->vars) {
		vw_vwfile_close(f);
		return NULL;
	}
	f->nvars = nvars;
	f->line = 1;
	return f;
}

void vw_vwfile_close(struct vw_vwfile *f)
{
	if (!f)
		return;
	free(f->text);
	free(f->name);
	free_vars(f->vars, f->nvars);
	free(f->buf);
	free(f->offs);
	free(f->argv);
	free(f);
}

static int fail(struct vw_vwfile *f, int line, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!f->err || !f->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(f->err, f->errlen, "%s:%d: %s", f->name, line, msg);
	return -1;
}

/* p with room for need elements, or NULL (p is then still valid). */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	p = realloc(p, n * size);
	if (p)
		*cap = n;
	return p;
}

static int put(struct vw_vwfile *f, const char *s, size_t n)
{
	char *b = grow(f->buf, &f->bcap, f->blen + n + 1, 1);

	if (!b)
		return fail(f, f->line, "out of memory");
	f->buf = b;
	memcpy(f->buf + f->blen, s, n);
	f->blen += n;
	return 0;
}

static int put_char(struct vw_vwfile *f, char c)
{
	return put(f, &c, 1);
}

static int word_start(struct vw_vwfile *f)
{
	size_t *offs;

	if (f->inword)
		return 0;
	offs = grow(f->offs, &f->wcap, f->nwords + 1, sizeof(*offs));
	if (!offs)
		return fail(f, f->line, "out of memory");
	f->offs = offs;
	if (!f->nwords)
		f->cmdline = f->line;
	f->offs[f->nwords++] = f->blen;
	f->inword = true;
	return 0;
}

static int word_end(struct vw_vwfile *f)
{
	if (!f->inword)
		return 0;
	f->inword = false;
	return put_char(f, '\0');
}

/* The character off bytes ahead, as an unsigned char; -1 past the end. */
static int ch(const struct vw_vwfile *f, size_t off)
{
	return f->pos + off < f->len ? (unsigned char)f->text[f->pos + off] : -1;
}

static int nul_byte(struct vw_vwfile *f)
{
	return fail(f, f->line, "NUL byte in line");
}

/* At a '\': joins lines if a newline follows.  True if it did. */
static bool continuation(struct vw_vwfile *f)
{
	if (ch(f, 1) != '\n')
		return false;
	f->pos += 2;
	f->line++;
	return true;
}

static const char *var_lookup(struct vw_vwfile *f, const char *name, size_t n)
{
	int i;

	for (i = 0; i < f->nvars; i++)
		if (strlen(f->vars[i].name) == n &&
		    !memcmp(f->vars[i].name, name, n))
			return f->vars[i].value;
	return NULL;
}

static bool var_char(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	return !first && c >= '0' && c <= '9';
}

/* At "${": appends the variable's value. */
static int expand(struct vw_vwfile *f)
{
	const char *name = f->text + f->pos + 2, *val;
	size_t n = 0;

	while (ch(f, n + 2) > 0 && var_char(name[n], n == 0))
		n++;
	if (ch(f, n + 2) == 0)
		return nul_byte(f);
	if (!n || ch(f, n + 2) != '}')
		return fail(f, f->line, "bad variable reference");
	val = var_lookup(f, name, n);
	if (!val)
		return fail(f, f->line, "undefined variable '%.*s'", (int)n,
			    name);
	f->pos += n + 3;
	return put(f, val, strlen(val));
}

/* At a single quote: appends what it quotes. */
static int squote(struct vw_vwfile *f)
{
	int line = f->line;

	f->pos++;
	for (;;) {
		int c = ch(f, 0);

		if (c < 0 || c == '\n')
			return fail(f, line, "unterminated quote");
		if (!c)
			return nul_byte(f);
		if (c == '\'') {
			f->pos++;
			return 0;
		}
		if (c == '\\' && continuation(f))
			continue;
		if (put_char(f, c))
			return -1;
		f->pos++;
	}
}

/* At a double quote: appends what it quotes, expanding variables. */
static int dquote(struct vw_vwfile *f)
{
	int line = f->line;

	f->pos++;
	for (;;) {
		int c = ch(f, 0), next = ch(f, 1);

		if (c < 0 || c == '\n')
			return fail(f, line, "unterminated quote");
		if (!c)
			return nul_byte(f);
		if (c == '"') {
			f->pos++;
			return 0;
		}
		if (c == '\\' && continuation(f))
			continue;
		if (c == '\\' && next > 0 && strchr("\"\\$", next)) {
			if (put_char(f, next))
				return -1;
			f->pos += 2;
		} else if (c == '$' && next == '{') {
			if (expand(f))
				return -1;
		} else {
			if (put_char(f, c))
				return -1;
			f->pos++;
		}
	}
}

/* Up to the end of the logical line, honouring '\' escapes only; a NUL
 * byte is skipped like any other. */
static void skip_line(struct vw_vwfile *f)
{
	int c;

	while ((c = ch(f, 0)) >= 0 && c != '\n') {
		if (c == '\\' && ch(f, 1) >= 0) {
			if (ch(f, 1) == '\n')
				f->line++;
			f->pos++;
		}
		f->pos++;
	}
}

/* At a '#' starting a word: skips the rest of the logical line, which must
 * not hold a NUL byte either. */
static int comment(struct vw_vwfile *f)
{
	int c;

	while ((c = ch(f, 0)) >= 0 && c != '\n') {
		if (!c || (c == '\\' && !ch(f, 1)))
			return nul_byte(f);
		if (c == '\\' && ch(f, 1) > 0) {
			if (ch(f, 1) == '\n')
				f->line++;
			f->pos++;
		}
		f->pos++;
	}
	return 0;
}

/* One character (or escape, quote, variable) outside quotes. */
static int unquoted(struct vw_vwfile *f)
{
	int c = ch(f, 0), next = ch(f, 1);

	if (c == ' ' || c == '\t') {
		f->pos++;
		return word_end(f);
	}
	if (c == '#' && !f->inword)
		return comment(f);
	if (c == '\\' && (next < 0 || (next == '\n' && ch(f, 2) < 0))) {
		int line = f->line;

		f->pos = f->len; /* the line it would continue never comes */
		return fail(f, line, "'\\' at the end of the file continues a line that is not there");
	}
	if (c == '\\' && continuation(f))
		return 0;
	if (!c || (c == '\\' && !next))
		return nul_byte(f);
	if (word_start(f))
		return -1;
	if (c == '\'')
		return squote(f);
	if (c == '"')
		return dquote(f);
	if (c == '$' && next == '{')
		return expand(f);
	if (c == '\\') {
		f->pos += 2;
		return put_char(f, next);
	}
	f->pos++;
	return put_char(f, c);
}

/* Reads one logical line into the word buffer.  0 at end of text. */
static int read_line(struct vw_vwfile *f)
{
	f->blen = 0;
	f->nwords = 0;
	f->inword = false;
	for (;;) {
		int c = ch(f, 0);

		if (c < 0 || c == '\n') {
			if (word_end(f))
				return -1;
			if (c < 0)
				return f->nwords > 0;
			f->pos++;
			f->line++;
			return 1;
		}
		if (unquoted(f))
			return -1;
	}
}

static int fill_argv(struct vw_vwfile *f, int *argc, char ***argv)
{
	char **v = realloc(f->argv, (f->nwords + 1) * sizeof(*v));
	int i;

	if (!v)
		return fail(f, f->cmdline, "out of memory");
	f->argv = v;
	for (i = 0; i < f->nwords; i++)
		v[i] = f->buf + f->offs[i];
	v[f->nwords] = NULL;
	*argc = f->nwords;
	*argv = v;
	return 0;
}

int vw_vwfile_next(struct vw_vwfile *f, int *argc, char ***argv, int *lineno,
		   char *err, size_t errlen)
{
	int r;

	f->err = err;
	f->errlen = errlen;
	do {
		r = read_line(f);
		if (r < 0) {
			skip_line(f);
			return -1;
		}
	} while (r > 0 && !f->nwords);
	if (!r)
		return 0;
	if (fill_argv(f, argc, argv))
		return -1;
	if (lineno)
		*lineno = f->cmdline;
	return 1;
}

/* Blanks, quotes, '#', '$' and '\' need quoting; so does the empty word. */
static bool needs_quote(const char *w)
{
	return !*w || strpbrk(w, " \t'\"#$\\");
}

/*
 * Single quotes, with each "'" inside written as '\'' (end quote, escaped
 * quote, reopen).  A newline cannot be written at all: NULL, as when buf is
 * too small.
 */
char *vw_word_quote(const char *w, char *buf, size_t len)
{
	size_t n = 0;

	if (strchr(w, '\n'))
		return NULL;
	if (!needs_quote(w)) {
		if (strlen(w) >= len)
			return NULL;
		return strcpy(buf, w);
	}
	if (len < 3)
		return NULL;
	buf[n++] = '\'';
	for (; *w; w++) {
		const char *piece = *w == '\'' ? "'\\''" : w;
		size_t plen = *w == '\'' ? 4 : 1;

		if (n + plen + 2 > len)
			return NULL;
		memcpy(buf + n, piece, plen);
		n += plen;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

void vw_text_escape(const char *p, size_t len, struct vw_buf *out)
{
	size_t i, from = 0;

	for (i = 0; i < len; i++) {
		const char *e = p[i] == '\\' ? "\\\\" : p[i] == '\n' ? "\\n" : p[i] == '\r' ? "\\r" : !p[i] ? "\\0" : NULL;

		if (!e)
			continue;
		vw_buf_append(out, p + from, i - from);
		vw_buf_append(out, e, 2);
		from = i + 1;
	}
	vw_buf_append(out, p + from, len - from);
}

long vw_text_unescape(char *s)
{
	char *r = s, *w = s;

	while (*r) {
		if (*r != '\\') {
			*w++ = *r++;
			continue;
		}
		switch (r[1]) {
		case '\\': *w++ = '\\'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case '0': *w++ = '\0'; break;
		default: return -1;
		}
		r += 2;
	}
	return (long)(w - s);
}
