/*
 * aliases.c - parse and expand the aliases table. See aliases.h.
 *
 * Untrusted input: the file's bytes. Every value is checked here (address syntax, no CR/LF/NUL, no
 * command, file or include targets), so an expansion result is safe to put in an envelope.
 * Expansion walks the alias graph once per call (each entry expanded at most once), so a hostile table
 * cannot make it exponential; results are capped at LIM_RCPTS.
 * Errors: "FILE:LINE: reason" with EX_CONFIG.
 */
#include "conf/aliases.h"

#include "lib/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/confval.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "lib/text.h"

#define AL_SHOW 96	/* how much of a bad value a message shows */
#define ALIAS_WHY_MAX 400	/* one complaint about an aliases entry */
#define ALIAS_FILE_SHOWN_MAX 128	/* the aliases file name as shown in complaints, escaped */

struct alias {
	char *name;	/* lower-case */
	char **vals;	/* addresses (domain lower-cased) or bare lower-case names */
	size_t nvals;
	size_t line;
};

struct aliases {
	char *file;	/* escaped, for messages */
	struct alias *v;	/* sorted by name */
	size_t n;
};

/* fail - "FILE:LINE: reason" with EX_CONFIG. Returns -1. */
__attribute__((format(printf, 4, 5))) static int fail(struct err *e, const char *file, size_t line,
	const char *fmt, ...)
{
	char why[ALIAS_WHY_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof why, fmt, ap);	/* a cut reason is still a reason */
	va_end(ap);
	return err_set(e, EX_CONFIG, "%s:%zu: %s", file, line, why);
}

/* show - escape untrusted bytes for a message. */
static const char *show(char dst[AL_SHOW], struct span s)
{
	(void)log_safe(dst, AL_SHOW, s.p, s.n);
	return dst;
}

/* lower - ASCII lower-case in place. */
static char *lower(char *s)
{
	for (char *p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* name_ok - an alias name: 1..64 of [A-Za-z0-9._+=-]. */
static bool name_ok(struct span s)
{
	if (s.n == 0 || s.n > LIM_LOCAL)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    strchr("._+=-", c) != NULL))
			return false;
	}
	return true;
}

/* dot_atom_ok - RFC 5322 dot-atom (unquoted local part), 1..64 octets. */
static bool dot_atom_ok(struct span s)
{
	if (s.n == 0 || s.n > LIM_LOCAL || s.p[0] == '.' || s.p[s.n - 1] == '.')
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (c == '.' ? s.p[i - 1] == '.'
			     : !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL)))
			return false;
	}
	return true;
}

/* value_parse - one comma-separated item into an owned, normalised string, or NULL with e set. */
static char *value_parse(struct span v, const char *file, size_t line, struct err *e)
{
	char s[AL_SHOW];
	const char *at;
	struct span q = v;
	char *r;

	if (q.n > 0 && q.p[0] == '"')
		q = span_make(q.p + 1, q.n - 1);
	if (q.n > 0 && q.p[0] == '|')
		return fail(e, file, line, "\"%s\": delivery to a command is not supported", show(s, v)), NULL;
	if (q.n > 0 && q.p[0] == '/')
		return fail(e, file, line, "\"%s\": delivery to a file is not supported", show(s, v)), NULL;
	if (q.n >= 9 && strncasecmp(q.p, ":include:", 9) == 0)
		return fail(e, file, line, "\"%s\": :include: is not supported", show(s, v)), NULL;
	if (q.p != v.p)
		return fail(e, file, line, "\"%s\": quoted addresses are not supported", show(s, v)), NULL;
	if (v.n >= 2 && v.p[0] == '<' && v.p[v.n - 1] == '>')
		q = span_trim(span_make(v.p + 1, v.n - 2));
	if (!text_printable(q.p, q.n, 0))
		return fail(e, file, line, "\"%s\": space or control character in an address", show(s, v)), NULL;
	if (q.n == 0 || q.n > LIM_PATH)
		return fail(e, file, line, "\"%s\": bad address", show(s, v)), NULL;
	if ((at = memchr(q.p, '@', q.n)) == NULL) {
		if (!dot_atom_ok(q))
			return fail(e, file, line, "\"%s\": bad local name", show(s, v)), NULL;
		return lower(xstrndup(q.p, q.n));
	}
	struct span lp = span_make(q.p, (size_t)(at - q.p));
	struct span dom = span_make(at + 1, q.n - lp.n - 1);
	if (!dot_atom_ok(lp) || !conf_host_ok(dom))
		return fail(e, file, line, "\"%s\": bad address (want local@domain)", show(s, v)), NULL;
	r = xstrndup(q.p, q.n);
	lower(r + lp.n + 1);
	return r;
}

/* entry_parse - one logical entry "name: v, v" starting on `line`, appended to a. */
static int entry_parse(struct aliases *a, struct span t, size_t line, struct err *e)
{
	const char *colon = memchr(t.p, ':', t.n);
	struct alias al = { .line = line };
	struct span name, rest;
	char s[AL_SHOW];

	if (colon == NULL)
		return fail(e, a->file, line, "\"%s\": want name: address, ...", show(s, t));
	name = span_trim(span_make(t.p, (size_t)(colon - t.p)));
	if (!name_ok(name))
		return fail(e, a->file, line, "bad alias name \"%s\"", show(s, name));
	rest = span_make(colon + 1, t.n - (size_t)(colon - t.p) - 1);
	while (rest.n > 0) {
		const char *comma = memchr(rest.p, ',', rest.n);
		size_t k = comma != NULL ? (size_t)(comma - rest.p) : rest.n;
		struct span item = span_trim(span_make(rest.p, k));
		char *v;

		rest = span_make(rest.p + k + (comma != NULL), rest.n - k - (comma != NULL));
		if (item.n == 0)
			continue;
		if ((v = value_parse(item, a->file, line, e)) == NULL) {
			for (size_t i = 0; i < al.nvals; i++)
				free(al.vals[i]);
			free(al.vals);
			return -1;
		}
		al.vals = xreallocarray(al.vals, al.nvals + 1, sizeof *al.vals);
		al.vals[al.nvals++] = v;
	}
	if (al.nvals == 0)
		return fail(e, a->file, line, "alias \"%s\" has no addresses", show(s, name));
	al.name = lower(xstrndup(name.p, name.n));
	a->v = xreallocarray(a->v, a->n + 1, sizeof *a->v);
	a->v[a->n++] = al;
	return 0;
}

/* by_name - qsort order: name, then line. */
static int by_name(const void *x, const void *y)
{
	const struct alias *p = x, *q = y;
	int c = strcmp(p->name, q->name);

	return c != 0 ? c : (p->line > q->line) - (p->line < q->line);
}

/* lookup - index of name (lower-case) in the sorted table, or -1. */
static long lookup(const struct aliases *a, const char *name)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, a->v[mid].name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* aliases_parse - see aliases.h */
int aliases_parse(const char *buf, size_t len, const char *name, struct aliases **out, struct err *e)
{
	struct aliases *a = xcalloc(1, sizeof *a);
	const char *p = buf, *end = buf + len, *nl;
	struct buf ent;
	size_t line = 0, start = 0;
	char fn[ALIAS_FILE_SHOWN_MAX];

	*out = NULL;
	(void)log_safe(fn, sizeof fn, name != NULL ? name : "aliases", strlen(name != NULL ? name : "aliases"));
	a->file = xstrdup(fn);
	buf_init(&ent, LIM_ALIASES_FILE);
	for (;;) {
		struct span l;
		bool eof = p >= end;

		if (!eof) {
			line++;
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			l = span_make(p, (size_t)(nl - p));
			p = nl + 1;
			if (memchr(l.p, '\0', l.n) != NULL) {
				fail(e, a->file, line, "NUL byte in the file");
				goto bad;
			}
			if (l.n > 0 && l.p[l.n - 1] == '\r')	/* CRLF files */
				l.n--;
			if (span_trim(l).n == 0 || span_trim(l).p[0] == '#')
				continue;
			if (l.p[0] == ' ' || l.p[0] == '\t') {	/* continuation */
				if (start == 0) {
					fail(e, a->file, line, "continuation line without an alias before it");
					goto bad;
				}
				if (buf_addc(&ent, ' ') < 0 || buf_add(&ent, l.p, l.n) < 0)
					goto big;
				continue;
			}
		}
		if (start != 0 && entry_parse(a, span_make(buf_str(&ent), ent.len), start, e) < 0)
			goto bad;
		if (eof)
			break;
		buf_reset(&ent);
		if (buf_add(&ent, l.p, l.n) < 0)
			goto big;
		start = line;
	}
	buf_free(&ent);
	if (a->n > 0)
		qsort(a->v, a->n, sizeof *a->v, by_name);
	for (size_t i = 1; i < a->n; i++)
		if (strcmp(a->v[i - 1].name, a->v[i].name) == 0) {
			fail(e, a->file, a->v[i].line, "alias \"%s\" given twice (first on line %zu)", a->v[i].name,
				a->v[i - 1].line);
			aliases_free(a);
			return -1;
		}
	*out = a;
	return 0;
big:
	fail(e, a->file, line, "file too large");
bad:
	buf_free(&ent);
	aliases_free(a);
	return -1;
}

/* aliases_load - see aliases.h */
int aliases_load(const char *path, struct aliases **out, struct err *e)
{
	struct buf b;
	int r;

	*out = NULL;
	if (fdio_read_file(path, LIM_ALIASES_FILE, &b, EX_CONFIG, e) < 0) {
		if (errno == ENOENT) {	/* no aliases file: no aliases */
			err_clear(e);
			return aliases_parse("", 0, path, out, e);
		}
		return -1;
	}
	r = aliases_parse(buf_str(&b), b.len, path, out, e);
	buf_free(&b);
	return r;
}

/* one expansion (or one check) in progress */
struct walk {
	const struct aliases *a;
	unsigned char *state;	/* per entry: 0 unseen, 1 on the current path, 2 done */
	unsigned char *height;	/* per done entry: longest alias chain below it, counting itself */
	size_t top;	/* the entry the walk started from, for messages */
	char **res;	/* NULL for a check */
	size_t nres;
	bool collect;
	struct err *e;
};

/* add - keep one result, once. */
static int add(struct walk *w, const char *v)
{
	if (!w->collect)
		return 0;
	for (size_t i = 0; i < w->nres; i++)
		if (strcmp(w->res[i], v) == 0)
			return 0;
	if (w->nres >= LIM_RCPTS)
		return fail(w->e, w->a->file, w->a->v[w->top].line, "alias \"%s\" expands to more than %d addresses",
			w->a->v[w->top].name, LIM_RCPTS);
	w->res = xreallocarray(w->res, w->nres + 1, sizeof *w->res);
	w->res[w->nres++] = xstrdup(v);
	return 0;
}

/* walk - expand entry i met at `depth` (1 for the start); returns its height or -1. */
static int walk(struct walk *w, size_t i, int depth)
{
	const struct alias *al = &w->a->v[i];
	const struct alias *top = &w->a->v[w->top];
	int h = 1;

	w->state[i] = 1;
	for (size_t k = 0; k < al->nvals; k++) {
		const char *v = al->vals[k];
		long j = strchr(v, '@') == NULL ? lookup(w->a, v) : -1;
		int hj;

		if (j < 0) {
			if (add(w, v) < 0)
				return -1;
			continue;
		}
		if (w->state[j] == 1)
			return fail(w->e, w->a->file, top->line, "alias \"%s\": loop through \"%s\"", top->name,
				w->a->v[j].name);
		if (w->state[j] == 2)
			hj = w->height[j];
		else if (depth + 1 > ALIASES_DEPTH)
			hj = ALIASES_DEPTH + 1;
		else if ((hj = walk(w, (size_t)j, depth + 1)) < 0)
			return -1;
		if (depth + hj > ALIASES_DEPTH)
			return fail(w->e, w->a->file, top->line, "alias \"%s\": more than %d aliases deep at \"%s\"",
				top->name, ALIASES_DEPTH, w->a->v[j].name);
		if (hj + 1 > h)
			h = hj + 1;
	}
	w->state[i] = 2;
	w->height[i] = (unsigned char)h;
	return h;
}

/* aliases_expand - see aliases.h */
int aliases_expand(const struct aliases *a, const char *name, char ***out, size_t *nout, struct err *e)
{
	struct walk w = { .a = a, .collect = true, .e = e };
	char key[LIM_LOCAL + 1];
	size_t n = strlen(name);
	long i;
	int r;

	*out = NULL;
	*nout = 0;
	if (a == NULL || a->n == 0 || n == 0 || n > LIM_LOCAL)
		return 0;
	memcpy(key, name, n + 1);
	if ((i = lookup(a, lower(key))) < 0)
		return 0;
	w.state = xcalloc(a->n, 1);
	w.height = xcalloc(a->n, 1);
	w.top = (size_t)i;
	r = walk(&w, (size_t)i, 1);
	free(w.state);
	free(w.height);
	if (r < 0) {
		for (size_t k = 0; k < w.nres; k++)
			free(w.res[k]);
		free(w.res);
		return -1;
	}
	*out = w.res;
	*nout = w.nres;
	return 0;
}

/* aliases_check - see aliases.h */
int aliases_check(const struct aliases *a, struct buf *report, struct err *e)
{
	struct walk w = { .a = a, .e = e };
	int r = 0;

	if (a != NULL && a->n > 0) {
		w.state = xcalloc(a->n, 1);
		w.height = xcalloc(a->n, 1);
		for (size_t i = 0; i < a->n && r == 0; i++)
			if (w.state[i] == 0) {
				w.top = i;
				r = walk(&w, i, 1) < 0 ? -1 : 0;
			}
		free(w.state);
		free(w.height);
	}
	if (r == 0 && buf_printf(report, "%zu aliases", aliases_count(a)) < 0)
		return err_set(e, 0, "report too long");
	return r;
}

/* aliases_count - see aliases.h */
size_t aliases_count(const struct aliases *a)
{
	return a != NULL ? a->n : 0;
}

/* aliases_free - see aliases.h */
void aliases_free(struct aliases *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++) {
		for (size_t k = 0; k < a->v[i].nvals; k++)
			free(a->v[i].vals[k]);
		free(a->v[i].vals);
		free(a->v[i].name);
	}
	free(a->v);
	free(a->file);
	free(a);
}
