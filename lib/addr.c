/*
 * addr.c - RFC 5322 address-list parser (see addr.h for the contract).
 *
 * A recursive-descent parser over the raw bytes. A first pass refuses the bytes that may never
 * appear (NUL, control characters, CR or LF that is not folding), so that no later step has to think
 * about them: an address that reaches the envelope can never carry a line break (SMTP injection).
 * Comments and folding whitespace (CFWS) are skipped between tokens, as RFC 5322 allows.
 *
 * Errors: "bad address \"TEXT\": reason", where TEXT is the offending address with unsafe bytes
 * shown as \xNN, so the message is safe to print and log.
 */
#include "lib/addr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"

/* How much of the offending address an error message shows. */
#define ADDR_ERR_SHOW 100

struct ps {
	const char *p;
	size_t n, i;
	bool fold_ok;		/* CRLF + WSP is folding (header values); else CR/LF are refused */
	bool allow_null;	/* "<>" is accepted (command line -f) */
	bool no_groups;		/* a group is refused (exactly one address wanted) */
	size_t astart;		/* where the address being parsed starts, for the error message */
	const char *why;	/* reason of the failure */
	size_t cap;		/* allocated slots in the output list */
};

/* A run of words and dots: a display name, or a local part, until we know which. */
struct wrun {
	struct buf local;	/* word contents and dots, without CFWS */
	struct buf disp;	/* words separated by one space where CFWS separated them */
	size_t nwords, ndots;
	bool local_ok;		/* word *("." word) */
};

/* fail - remember why parsing stopped; returns -1. */
static int fail(struct ps *s, const char *why)
{
	s->why = why;
	return -1;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* is_atext - RFC 5322 atext, extended with UTF-8 octets (RFC 6532 3.2). */
static bool is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* utf8_valid - p[0..n) is well-formed UTF-8 (no overlong forms, surrogates or values > U+10FFFF). */
static bool utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0, k, j;
	uint32_t cp;

	while (i < n) {
		unsigned char c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			k = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			k = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (j = 1; j <= k; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + j] & 0x3F);
		}
		if (k == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
			return false;
		if (k == 3 && (cp < 0x10000 || cp > 0x10FFFF))
			return false;
		i += k + 1;
	}
	return true;
}

/* ipv4_ok - p[0..n) is a dotted quad, each part 0..255 without leading zeros. */
static bool ipv4_ok(const char *p, size_t n)
{
	size_t i = 0;
	int part;

	for (part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;
		if (part > 0) {
			if (i >= n || p[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && p[i] >= '0' && p[i] <= '9' && i - start < 3)
			v = v * 10 + (unsigned)(p[i++] - '0');
		if (i == start || v > 255 || (p[start] == '0' && i - start > 1))
			return false;
	}
	return i == n;
}

/* domain_ok - a host name of LDH labels (and UTF-8 labels when utf8_ok), or "[IPv4]". */
static bool domain_ok(const char *d, size_t n, bool utf8_ok)
{
	size_t i, lab = 0;

	if (n == 0 || n > LIM_DOMAIN)
		return false;
	if (d[0] == '[')
		return n >= 2 && d[n - 1] == ']' && ipv4_ok(d + 1, n - 2);
	for (i = 0; i <= n; i++) {
		unsigned char c = i < n ? (unsigned char)d[i] : '.';
		if (c == '.') {
			if (lab == 0 || lab > 63 || d[i - 1] == '-' || d[i - lab] == '-')
				return false;
			lab = 0;
			continue;
		}
		lab++;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-')
			continue;
		if (c >= 0x80 && utf8_ok)
			continue;
		return false;
	}
	return !utf8_ok || utf8_valid((const unsigned char *)d, n);
}

bool addr_domain_valid(const char *d, size_t n)
{
	return domain_ok(d, n, false);
}

/* bad_byte - fail at i, the offending address starting after the previous comma. */
static int bad_byte(struct ps *s, size_t i, const char *why)
{
	s->i = i;
	s->astart = i;
	while (s->astart > 0 && s->p[s->astart - 1] != ',')
		s->astart--;
	return fail(s, why);
}

/* check_bytes - refuse NUL, control characters, and CR/LF that are not folding. */
static int check_bytes(struct ps *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		unsigned char c = (unsigned char)s->p[i];
		if (c == '\r' || c == '\n') {
			if (c == '\r' && s->fold_ok && i + 2 < s->n && s->p[i + 1] == '\n' &&
			    is_wsp(s->p[i + 2])) {
				i += 2;
				continue;
			}
			return bad_byte(s, i, "contains a CR or LF that is not folding");
		}
		if (c == '\0') {
			return bad_byte(s, i, "contains a NUL byte");
		}
		if ((c < 0x20 && c != '\t') || c == 0x7F) {
			return bad_byte(s, i, "contains a control character");
		}
	}
	return 0;
}

/* skip_cfws - skip whitespace, folding and (nested) comments. Sets *any when something was skipped. */
static int skip_cfws(struct ps *s, bool *any)
{
	for (;;) {
		if (s->i < s->n && (is_wsp(s->p[s->i]) || s->p[s->i] == '\r' || s->p[s->i] == '\n')) {
			s->i++;	/* CR and LF here are folding: check_bytes let nothing else through */
		} else if (s->i < s->n && s->p[s->i] == '(') {
			size_t depth = 0;
			do {
				char c = s->p[s->i++];
				if (c == '\\' && s->i < s->n)
					s->i++;
				else if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
			} while (depth > 0 && s->i < s->n);
			if (depth > 0)
				return fail(s, "unterminated comment");
		} else {
			return 0;
		}
		if (any != NULL)
			*any = true;
	}
}

/* quoted - a quoted string at s->i; appends its content (quoted-pairs resolved, folding removed). */
static int quoted(struct ps *s, struct buf *b1, struct buf *b2)
{
	s->i++;
	while (s->i < s->n) {
		char c = s->p[s->i++];
		if (c == '"')
			return 0;
		if (c == '\r' || c == '\n')
			continue;	/* folding: the WSP that follows is kept */
		if (c == '\\') {
			if (s->i == s->n)
				break;
			c = s->p[s->i++];
			if (c == '\r' || c == '\n')
				return fail(s, "quoted-pair before a line break");
		}
		if (buf_addc(b1, c) < 0 || buf_addc(b2, c) < 0)
			return fail(s, "too long");
	}
	return fail(s, "unterminated quoted string");
}

/* words - a run of words (atoms, quoted strings) and dots, with CFWS between them. */
static int words(struct ps *s, struct wrun *w)
{
	bool want_word = true;

	w->local_ok = true;
	for (;;) {
		bool ws = false;
		int r = 0;
		if (skip_cfws(s, &ws) < 0)
			return -1;
		if (s->i == s->n)
			break;
		unsigned char c = (unsigned char)s->p[s->i];
		if (c != '"' && c != '.' && !is_atext(c))
			break;
		if (ws && w->disp.len > 0)
			r |= buf_addc(&w->disp, ' ');
		if (c == '.') {
			r |= buf_addc(&w->local, '.') | buf_addc(&w->disp, '.');
			s->i++;
			w->ndots++;
			w->local_ok = w->local_ok && !want_word;
			want_word = true;
		} else {
			if (c == '"') {
				if (quoted(s, &w->local, &w->disp) < 0)
					return -1;
			} else {
				size_t st = s->i;
				while (s->i < s->n && is_atext((unsigned char)s->p[s->i]))
					s->i++;
				r |= buf_add(&w->local, s->p + st, s->i - st);
				r |= buf_add(&w->disp, s->p + st, s->i - st);
			}
			w->nwords++;
			w->local_ok = w->local_ok && want_word;
			want_word = false;
		}
		if (r < 0)
			return fail(s, "too long");
	}
	w->local_ok = w->local_ok && !want_word;
	return 0;
}

/* domain - the part after '@': dot-atoms (CFWS allowed between them) or a domain literal. */
static int domain(struct ps *s, struct addr *a)
{
	struct buf d;

	buf_init(&d, s->n + 2);
	if (skip_cfws(s, NULL) < 0)
		return -1;
	if (s->i < s->n && s->p[s->i] == '[') {
		size_t st = ++s->i;
		while (s->i < s->n && s->p[s->i] != ']' && s->p[s->i] != '[' && s->p[s->i] != '\\')
			s->i++;
		if (s->i == s->n || s->p[s->i] != ']')
			return fail(s, "unterminated domain literal");
		struct span lit = span_trim(span_make(s->p + st, s->i - st));
		s->i++;
		if (!ipv4_ok(lit.p, lit.n))
			return fail(s, "domain literal is not an IPv4 address");
		if (buf_addc(&d, '[') < 0 || buf_add(&d, lit.p, lit.n) < 0 || buf_addc(&d, ']') < 0) {
			buf_free(&d);
			return fail(s, "too long");
		}
		a->domain = buf_take(&d);
		return 0;
	}
	for (;;) {
		size_t st = s->i;
		while (s->i < s->n && is_atext((unsigned char)s->p[s->i])) {
			char c = s->p[s->i++];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (buf_addc(&d, c) < 0) {
				buf_free(&d);
				return fail(s, "too long");
			}
		}
		if (s->i == st) {
			const char *why = d.len == 0 ? "missing domain" : "empty label in domain";
			buf_free(&d);
			return fail(s, why);
		}
		if (skip_cfws(s, NULL) < 0) {
			buf_free(&d);
			return -1;
		}
		if (s->i == s->n || s->p[s->i] != '.')
			break;
		s->i++;
		if (buf_addc(&d, '.') < 0 || skip_cfws(s, NULL) < 0) {
			buf_free(&d);
			return fail(s, "too long");
		}
	}
	if (!domain_ok(d.data, d.len, true)) {
		buf_free(&d);
		return fail(s, "invalid domain");
	}
	a->domain = buf_take(&d);
	return 0;
}

/* local_needs_quotes - the local part is not an RFC 5321 Dot-string. */
static bool local_needs_quotes(const char *l)
{
	size_t i, n = strlen(l);

	if (n == 0 || l[0] == '.' || l[n - 1] == '.')
		return true;
	for (i = 0; i < n; i++) {
		if (l[i] == '.' ? l[i + 1] == '.' : !is_atext((unsigned char)l[i]))
			return true;
	}
	return false;
}

char *addr_format(const struct addr *a)
{
	struct buf b;
	const char *l;
	int r = 0;

	if (a->null)
		return xstrdup("");
	buf_init(&b, (size_t)-1 / 2);
	if (local_needs_quotes(a->local)) {
		r |= buf_addc(&b, '"');
		for (l = a->local; *l != '\0'; l++) {
			if (*l == '"' || *l == '\\')
				r |= buf_addc(&b, '\\');
			r |= buf_addc(&b, *l);
		}
		r |= buf_addc(&b, '"');
	} else {
		r |= buf_adds(&b, a->local);
	}
	if (a->domain != NULL)
		r |= buf_addc(&b, '@') | buf_adds(&b, a->domain);
	if (r < 0)
		abort();	/* the ceiling is SIZE_MAX/2: cannot happen */
	return buf_take(&b);
}

/* addr_path_ok - see addr.h */
bool addr_path_ok(const char *s, size_t n)
{
	size_t i;

	if (n > LIM_PATH)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

/* check_addr - the limits and character rules that apply to a complete address. */
static int check_addr(struct ps *s, struct addr *a)
{
	char *f;
	size_t fl, dl = a->domain != NULL ? strlen(a->domain) : 0;
	const char *l;

	for (l = a->local; *l != '\0'; l++)
		if ((unsigned char)*l < 0x20)
			return fail(s, "local part contains a tab");
	if (!utf8_valid((const unsigned char *)a->local, strlen(a->local)))
		return fail(s, "local part is not valid UTF-8");
	for (l = a->local; *l != '\0' && (unsigned char)*l < 0x80; l++)
		;
	a->utf8 = *l != '\0';
	for (l = a->domain; l != NULL && *l != '\0'; l++)
		a->utf8 = a->utf8 || (unsigned char)*l >= 0x80;
	f = addr_format(a);
	fl = strlen(f);
	free(f);
	if (fl - (a->domain != NULL ? dl + 1 : 0) > LIM_LOCAL)
		return fail(s, "local part longer than 64 octets");
	if (dl > LIM_DOMAIN)
		return fail(s, "domain longer than 255 octets");
	if (fl + 2 > LIM_PATH)
		return fail(s, "address longer than 256 octets");
	return 0;
}

/* angle - "<" [local-part ["@" domain]] ">" at s->i. */
static int angle(struct ps *s, struct addr *a)
{
	struct wrun w = { 0 };
	int r = -1;

	s->i++;
	if (skip_cfws(s, NULL) < 0)
		return -1;
	if (s->i < s->n && s->p[s->i] == '@')
		return fail(s, "obsolete source route (<@host,...:user@domain>) is not supported");
	if (s->i < s->n && s->p[s->i] == '>') {
		s->i++;
		if (!s->allow_null)
			return fail(s, "empty address <>");
		a->null = true;
		a->local = xstrdup("");
		return 0;
	}
	buf_init(&w.local, s->n + 1);
	buf_init(&w.disp, s->n + 1);
	if (words(s, &w) < 0)
		goto out;
	if (w.nwords == 0 || !w.local_ok) {
		fail(s, w.nwords == 0 && w.ndots == 0 ? "empty address" : "invalid local part");
		goto out;
	}
	a->local = buf_take(&w.local);
	if (s->i < s->n && s->p[s->i] == '@') {
		s->i++;
		if (domain(s, a) < 0)
			goto out;
	}
	if (s->i == s->n || s->p[s->i] != '>') {
		fail(s, "expected '>'");
		goto out;
	}
	s->i++;
	r = 0;
out:
	buf_free(&w.local);
	buf_free(&w.disp);
	return r;
}

/* push - check a parsed address and append it to the list (taking ownership). */
static int push(struct ps *s, struct addr_list *out, struct addr *a)
{
	if (check_addr(s, a) < 0 || out->n >= LIM_RCPTS) {
		addr_free(a);
		return out->n >= LIM_RCPTS ? fail(s, "too many addresses") : -1;
	}
	if (out->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		out->v = xreallocarray(out->v, s->cap, sizeof *out->v);
	}
	out->v[out->n++] = *a;
	return 0;
}

static int address(struct ps *s, struct addr_list *out, bool in_group);

/* group - the members after "name:", up to ";" (a missing ";" at the end of input is tolerated). */
static int group(struct ps *s, struct addr_list *out)
{
	for (;;) {
		if (skip_cfws(s, NULL) < 0)
			return -1;
		if (s->i == s->n)
			return 0;
		if (s->p[s->i] == ';') {
			s->i++;
			return 0;
		}
		if (s->p[s->i] == ',') {
			s->i++;
			continue;
		}
		if (address(s, out, true) < 0)
			return -1;
		if (skip_cfws(s, NULL) < 0)
			return -1;
		if (s->i < s->n && s->p[s->i] != ';' && s->p[s->i] != ',')
			return fail(s, "expected ',' or ';' after a group member");
	}
}

/* address - one mailbox or group at s->i (CFWS already skipped); appends to out. */
static int address(struct ps *s, struct addr_list *out, bool in_group)
{
	struct addr a = { 0 };
	struct wrun w = { 0 };
	int r = -1;

	if (s->p[s->i] == '<') {
		if (angle(s, &a) < 0) {
			addr_free(&a);
			return -1;
		}
		return push(s, out, &a);
	}
	buf_init(&w.local, s->n + 1);
	buf_init(&w.disp, s->n + 1);
	if (words(s, &w) < 0)
		goto out;
	char c = s->i < s->n ? s->p[s->i] : '\0';
	if (c == '<') {
		if (w.nwords == 0) {
			fail(s, "display name without words");
			goto out;
		}
		a.display = buf_take(&w.disp);
		if (angle(s, &a) < 0)
			goto out;
		r = push(s, out, &a);
	} else if (c == ':') {
		if (in_group || s->no_groups || w.nwords == 0) {
			fail(s, in_group ? "group inside a group" : w.nwords == 0 ? "group without a name"
									   : "a group is not one address");
			goto out;
		}
		s->i++;
		r = group(s, out);
	} else if (w.nwords == 0) {
		fail(s, c == '\0' || c == ',' ? "empty address" : "unexpected character");
	} else if (!w.local_ok) {
		fail(s, c == '@' ? "invalid local part" : "expected '@' or '<'");
	} else {
		a.local = buf_take(&w.local);
		if (c == '@') {
			s->i++;
			if (domain(s, &a) < 0)
				goto out;
		}
		r = push(s, out, &a);
	}
out:
	if (r < 0)
		addr_free(&a);
	buf_free(&w.local);
	buf_free(&w.disp);
	return r;
}

/* report - "bad address "TEXT": why", TEXT running from the address start to the next comma. */
static int report(struct ps *s, struct err *e, int code)
{
	char show[ADDR_ERR_SHOW * 4 + 8];
	size_t i = s->astart, o = 0, end = s->i < s->n ? s->i : s->n;

	while (end < s->n && s->p[end] != ',')
		end++;
	while (i < end && is_wsp(s->p[i]))
		i++;
	while (end > i && is_wsp(s->p[end - 1]))
		end--;
	for (; i < end && o < ADDR_ERR_SHOW * 4; i++) {
		unsigned char c = (unsigned char)s->p[i];
		const char *hex = "0123456789abcdef";
		if (c == '"' || c == '\\') {
			show[o++] = '\\';
			show[o++] = (char)c;
		} else if (c >= 0x20 && c < 0x7F) {
			show[o++] = (char)c;
		} else {
			show[o++] = '\\';
			show[o++] = 'x';
			show[o++] = hex[c >> 4];
			show[o++] = hex[c & 15];
		}
	}
	if (i < end) {
		memcpy(show + o, "...", 3);
		o += 3;
	}
	show[o] = '\0';
	return err_set(e, code, "bad address \"%s\": %s", show, s->why != NULL ? s->why : "syntax error");
}

int addr_list_parse(const char *buf, size_t len, struct addr_list *out, struct err *e)
{
	struct ps s = { .p = buf, .n = len, .fold_ok = true };

	out->v = NULL;
	out->n = 0;
	if (check_bytes(&s) < 0)
		goto bad;
	for (;;) {
		if (skip_cfws(&s, NULL) < 0)
			goto bad;
		if (s.i == s.n)
			return 0;
		if (s.p[s.i] == ',') {	/* obs-addr-list: empty elements */
			s.i++;
			continue;
		}
		s.astart = s.i;
		if (address(&s, out, false) < 0 || skip_cfws(&s, NULL) < 0)
			goto bad;
		if (s.i < s.n && s.p[s.i] != ',') {
			fail(&s, "unexpected text after the address");
			goto bad;
		}
	}
bad:
	addr_list_free(out);
	return report(&s, e, EX_DATAERR);
}

int addr_parse_one(const char *buf, size_t len, struct addr *out, struct err *e)
{
	struct ps s = { .p = buf, .n = len, .allow_null = true, .no_groups = true };
	struct addr_list l = { 0 };

	memset(out, 0, sizeof *out);
	if (check_bytes(&s) < 0 || skip_cfws(&s, NULL) < 0)
		goto bad;
	s.astart = s.i;
	if (s.i == s.n) {
		fail(&s, "empty address");
		goto bad;
	}
	if (address(&s, &l, false) < 0 || skip_cfws(&s, NULL) < 0)
		goto bad;
	if (s.i < s.n || l.n != 1) {
		fail(&s, s.i < s.n ? "unexpected text after the address" : "not exactly one address");
		goto bad;
	}
	*out = l.v[0];
	free(l.v);
	return 0;
bad:
	addr_list_free(&l);
	return report(&s, e, EX_USAGE);
}

void addr_free(struct addr *a)
{
	if (a == NULL)
		return;
	free(a->local);
	free(a->domain);
	free(a->display);
	memset(a, 0, sizeof *a);
}

void addr_list_free(struct addr_list *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		addr_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
