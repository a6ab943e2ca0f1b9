/*
 * mime.c - MIME completion: body scan, decision, quoted-printable and RFC 2047 encoders (see mime.h).
 *
 * Untrusted input: the body and header octets the caller wrote, the -F/GECOS name. Every function is
 * pure; the encoders keep a few octets of state so that a body of any length streams through them in
 * constant memory, whatever chunks it comes in.
 */
#include "lib/mime.h"

#include <string.h>
#include <strings.h>

#include "lib/limits.h"
#include "lib/text.h"

#define B64_QUANTUM 4	/* base64 characters for three octets */
#define QP_ESCAPE_LEN 3	/* a quoted-printable escape, "=XX" */
#define MIME_TOKEN_MAX 32	/* a Content-Type or Content-Transfer-Encoding token */

static const char hexd[] = "0123456789ABCDEF";

/* trunc_to - undo appends to b back to length n (b stays NUL-terminated). */
static void trunc_to(struct buf *b, size_t n)
{
	b->len = n;
	if (b->data != NULL)
		b->data[n] = '\0';
}

/* utf8_lead - for a lead octet c: how many continuation octets follow and the range of the first one.
 * false when c cannot start a well-formed sequence (RFC 3629 section 4). */
static bool utf8_lead(unsigned char c, unsigned *need, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (c < 0x80)
		*need = 0;
	else if (c >= 0xC2 && c <= 0xDF)
		*need = 1;
	else if (c >= 0xE0 && c <= 0xEF) {
		*need = 2;
		if (c == 0xE0)
			*lo = 0xA0;
		if (c == 0xED)
			*hi = 0x9F;	/* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		*need = 3;
		if (c == 0xF0)
			*lo = 0x90;
		if (c == 0xF4)
			*hi = 0x8F;	/* nothing over U+10FFFF */
	} else
		return false;
	return true;
}

/* utf8_step - advance the validator in s by one octet. */
static void utf8_step(struct mime_scan *s, unsigned char c)
{
	if (s->need > 0) {
		if (c >= s->lo && c <= s->hi) {
			s->need--;
			s->lo = 0x80;
			s->hi = 0xBF;
			return;
		}
		s->utf8_bad = true;
		s->need = 0;	/* and c starts afresh */
	}
	if (!utf8_lead(c, &s->need, &s->lo, &s->hi))
		s->utf8_bad = true;
}

void mime_scan_init(struct mime_scan *s)
{
	memset(s, 0, sizeof *s);
}

void mime_scan_feed(struct mime_scan *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\n' || c == '\r') {
			if (s->col > s->longest)
				s->longest = s->col;
			s->col = 0;
		} else {
			s->col++;
		}
		if (c >= 0x80)
			s->bit8 = true;
		if (c >= 0x80 || s->need > 0)
			utf8_step(s, c);
	}
}

void mime_scan_end(struct mime_scan *s)
{
	if (s->col > s->longest)
		s->longest = s->col;
	if (s->need > 0)
		s->utf8_bad = true;
	s->need = 0;
}

bool mime_utf8_valid(const char *p, size_t n)
{
	struct mime_scan s;

	mime_scan_init(&s);
	mime_scan_feed(&s, p, n);
	mime_scan_end(&s);
	return !s.utf8_bad;
}

/* first_token - the first token of an unfolded field value (leading white space and comments skipped),
 * up to white space, ';', '/' or '('. */
static struct span first_token(const char *v, size_t n)
{
	size_t i = 0, depth = 0, start;

	while (i < n) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && v[i] != ' ' && v[i] != '\t')
			break;
		i++;
	}
	start = i;
	while (i < n && strchr(" \t;/(", v[i]) == NULL)
		i++;
	return span_make(v + start, i - start);
}

/* field_token - the first token of the first field called name; false when there is none. */
static bool field_token(const struct hdr_field *f, size_t nf, const char *name, char *tok, size_t toksz)
{
	const struct hdr_field *h = hdr_find(f, nf, name);
	struct buf v;
	struct span t;

	if (h == NULL)
		return false;
	buf_init(&v, h->len + 1);
	tok[0] = '\0';
	if (hdr_unfold(hdr_value(h), &v) == 0) {
		t = first_token(buf_str(&v), v.len);
		if (t.n < toksz) {
			memcpy(tok, t.p, t.n);
			tok[t.n] = '\0';
		}
	}
	buf_free(&v);
	return true;
}

void mime_head_get(const struct hdr_field *f, size_t nf, struct mime_head *h)
{
	static const struct {
		const char *name;
		enum mime_cte cte;
	} ctes[] = { { "7bit", MIME_CTE_7BIT }, { "8bit", MIME_CTE_8BIT }, { "binary", MIME_CTE_BINARY },
		{ "quoted-printable", MIME_CTE_QP }, { "base64", MIME_CTE_BASE64 } };
	char tok[MIME_TOKEN_MAX];

	memset(h, 0, sizeof *h);
	h->version = hdr_find(f, nf, "MIME-Version") != NULL;
	if (field_token(f, nf, "Content-Type", tok, sizeof tok)) {
		h->ctype = true;
		h->composite = strcasecmp(tok, "multipart") == 0 || strcasecmp(tok, "message") == 0;
	}
	if (field_token(f, nf, "Content-Transfer-Encoding", tok, sizeof tok)) {
		h->cte = MIME_CTE_OTHER;
		for (size_t i = 0; i < sizeof ctes / sizeof ctes[0]; i++)
			if (strcasecmp(tok, ctes[i].name) == 0)
				h->cte = ctes[i].cte;
	}
}

void mime_decide(const struct mime_head *h, const struct mime_scan *s, struct mime_plan *p)
{
	bool longl = s->longest > LIM_LINE;

	memset(p, 0, sizeof *p);
	p->body = MIME_BODY_KEEP;
	if (h->composite) {
		/* the parts are not parsed: a multipart body cannot be re-encoded as a whole */
		if (longl)
			p->body = MIME_BODY_FOLD;
		return;
	}
	if (longl) {
		switch (h->cte) {
		case MIME_CTE_NONE:
		case MIME_CTE_7BIT:
		case MIME_CTE_8BIT:
		case MIME_CTE_BINARY:
			p->body = MIME_BODY_QP;	/* RFC 2045 6.7: lossless, and lines of 76 */
			p->cte = "quoted-printable";
			break;
		case MIME_CTE_QP:
			p->body = MIME_BODY_FOLD_QP;
			break;
		default:
			p->body = MIME_BODY_FOLD;	/* base64 ignores line breaks; anything else: as before */
			break;
		}
	}
	/* 8-bit text without a declared charset (RFC 2045 5.2 would make it us-ascii) */
	if (!h->ctype && (s->bit8 || p->body == MIME_BODY_QP))
		p->charset = !s->bit8 ? "us-ascii" : s->utf8_bad ? "unknown-8bit" : "UTF-8";
	/* 8-bit octets need an encoding that says so; a "7bit" label on them is wrong */
	if (s->bit8 && p->body != MIME_BODY_QP && (h->cte == MIME_CTE_NONE || h->cte == MIME_CTE_7BIT))
		p->cte = "8bit";
	p->add_version = !h->version && (p->charset != NULL || p->cte != NULL);
}

bool mime_plan_header_changes(const struct mime_plan *p)
{
	return p->add_version || p->charset != NULL || p->cte != NULL;
}

int mime_plan_header(const struct mime_plan *p, const struct hdr_field *f, size_t nf, struct buf *out)
{
	size_t orig = out->len;

	for (size_t i = 0; i < nf; i++) {
		if (p->cte != NULL && hdr_name_is(&f[i], "Content-Transfer-Encoding"))
			continue;
		if (buf_add(out, f[i].raw, f[i].len) < 0)
			goto big;
	}
	if (p->add_version && buf_adds(out, "MIME-Version: 1.0\r\n") < 0)
		goto big;
	if (p->charset != NULL && buf_printf(out, "Content-Type: text/plain; charset=%s\r\n", p->charset) < 0)
		goto big;
	if (p->cte != NULL && buf_printf(out, "Content-Transfer-Encoding: %s\r\n", p->cte) < 0)
		goto big;
	if (buf_adds(out, "\r\n") < 0)
		goto big;
	return 0;
big:
	trunc_to(out, orig);
	return -1;
}

void mime_enc_init(struct mime_enc *z, enum mime_body mode)
{
	memset(z, 0, sizeof *z);
	z->mode = mode;
}

/* unit - one output unit of `len` octets that must not be broken, after a break when the line would
 * pass `width` octets; `brk` is the break ("=\r\n" or "\r\n"). */
static int unit(struct mime_enc *z, const char *u, size_t len, size_t width, const char *brk, struct buf *out)
{
	if (z->col > 0 && z->col + len > width) {
		if (buf_adds(out, brk) < 0)
			return -1;
		z->col = 0;
	}
	z->col += len;
	return buf_add(out, u, len);
}

/* qp_octet - c as quoted-printable: literal or "=XX"; a UTF-8 sequence's octets stay on one line. */
static int qp_octet(struct mime_enc *z, unsigned char c, bool literal, struct buf *out)
{
	char e[QP_ESCAPE_LEN] = { '=', hexd[c >> 4], hexd[c & 15] };
	size_t width = MIME_QP_LINE - 1, reserve = literal ? 1 : 3;
	unsigned need;
	unsigned char lo, hi;

	if (z->hold > 0 && c >= 0x80 && c <= 0xBF) {	/* inside a sequence: its room was reserved */
		z->hold--;
		z->col += 3;
		return buf_add(out, e, 3);
	}
	z->hold = 0;
	if (c >= 0xC2 && utf8_lead(c, &need, &lo, &hi)) {
		reserve = 3 * (1 + (size_t)need);
		if (z->col > 0 && z->col + reserve > width) {
			if (buf_adds(out, "=\r\n") < 0)
				return -1;
			z->col = 0;
		}
		z->hold = need;
		z->col += 3;
		return buf_add(out, e, 3);
	}
	if (literal)
		return unit(z, (const char *)&c, 1, width, "=\r\n", out);
	return unit(z, e, 3, width, "=\r\n", out);
}

/* qp_ws - write the held space or tab: literal, or encoded when a line end follows it. */
static int qp_ws(struct mime_enc *z, bool at_eol, struct buf *out)
{
	unsigned char c = (unsigned char)z->ws;

	if (c == 0)
		return 0;
	z->ws = 0;
	return qp_octet(z, c, !at_eol, out);
}

/* qp_feed - RFC 2045 6.7: CRLF is a line break; space and tab are literal except before a line end;
 * '=' and every other octet outside 33..126 are "=XX"; lines are broken with "=" CRLF. */
static int qp_feed(struct mime_enc *z, const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (z->cr) {
			z->cr = false;
			if (c == '\n') {
				if (qp_ws(z, true, out) < 0 || buf_adds(out, "\r\n") < 0)
					return -1;
				z->col = 0;
				z->hold = 0;
				continue;
			}
			if (qp_ws(z, false, out) < 0 || qp_octet(z, '\r', false, out) < 0)
				return -1;
		}
		if (c == '\r') {
			z->cr = true;
			continue;
		}
		if (c == ' ' || c == '\t') {
			if (qp_ws(z, false, out) < 0)
				return -1;
			z->ws = (char)c;
			continue;
		}
		if (qp_ws(z, false, out) < 0 ||
		    qp_octet(z, c, c >= 33 && c <= 126 && c != '=', out) < 0)
			return -1;
	}
	return 0;
}

/* fold_feed - copy, breaking lines before they pass LIM_LINE octets: with CRLF between whole UTF-8
 * sequences (FOLD), or with a soft break "=" CRLF outside any "=XX" (FOLD_QP). */
static int fold_feed(struct mime_enc *z, const char *p, size_t n, struct buf *out)
{
	bool qp = z->mode == MIME_BODY_FOLD_QP;
	size_t width = qp ? LIM_LINE - 1 : LIM_LINE;
	const char *brk = qp ? "=\r\n" : "\r\n";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		unsigned need = 0;
		unsigned char lo, hi;
		size_t reserve = 1;

		if (c == '\r' || c == '\n') {
			z->col = 0;
			z->hold = 0;
			if (buf_addc(out, (char)c) < 0)
				return -1;
			continue;
		}
		if (z->hold > 0 && (qp ? true : (c >= 0x80 && c <= 0xBF))) {
			z->hold--;
			z->col++;
			if (buf_addc(out, (char)c) < 0)
				return -1;
			continue;
		}
		z->hold = 0;
		if (qp && c == '=')
			need = 2;
		else if (!qp && c >= 0xC2 && !utf8_lead(c, &need, &lo, &hi))
			need = 0;
		reserve += need;
		if (z->col > 0 && z->col + reserve > width) {
			if (buf_adds(out, brk) < 0)
				return -1;
			z->col = 0;
		}
		z->hold = need;
		z->col++;
		if (buf_addc(out, (char)c) < 0)
			return -1;
	}
	return 0;
}

int mime_enc_feed(struct mime_enc *z, const char *p, size_t n, struct buf *out)
{
	switch (z->mode) {
	case MIME_BODY_QP:
		return qp_feed(z, p, n, out);
	case MIME_BODY_FOLD:
	case MIME_BODY_FOLD_QP:
		return fold_feed(z, p, n, out);
	default:
		return buf_add(out, p, n);
	}
}

int mime_enc_end(struct mime_enc *z, struct buf *out)
{
	if (z->mode != MIME_BODY_QP)
		return 0;
	if (z->cr) {
		z->cr = false;
		if (qp_ws(z, false, out) < 0 || qp_octet(z, '\r', false, out) < 0)
			return -1;
	}
	return qp_ws(z, true, out);	/* the last octet of the body: encoded, never trailing */
}

int mime_qp_decode(const char *p, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		const char *h1, *h2;

		if (p[i] != '=') {
			if (buf_addc(out, p[i]) < 0)
				return -1;
			continue;
		}
		if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') {
			i += 2;	/* soft break */
			continue;
		}
		if (i + 2 < n && (h1 = strchr(hexd, p[i + 1])) != NULL && (h2 = strchr(hexd, p[i + 2])) != NULL &&
		    p[i + 1] != '\0' && p[i + 2] != '\0') {
			if (buf_addc(out, (char)(((h1 - hexd) << 4) | (h2 - hexd))) < 0)
				return -1;
			i += 2;
			continue;
		}
		if (buf_addc(out, '=') < 0)
			return -1;
	}
	return 0;
}

/* is_atext - RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* is_encoded_word - w[0..n) is an RFC 2047 encoded word: =?charset?Q|B?text?= (at most MIME_EW_MAX). */
static bool is_encoded_word(const char *w, size_t n)
{
	size_t i = 2, cs;

	if (n < 8 || n > MIME_EW_MAX || memcmp(w, "=?", 2) != 0 || memcmp(w + n - 2, "?=", 2) != 0)
		return false;
	for (cs = i; i < n && w[i] != '?'; i++)
		if (!is_atext((unsigned char)w[i]))
			return false;
	if (i == cs || i + 3 > n - 2 || strchr("QqBb", w[i + 1]) == NULL || w[i + 2] != '?')
		return false;
	for (i += 3; i < n - 2; i++)
		if (w[i] == '?' || (unsigned char)w[i] <= ' ' || (unsigned char)w[i] > '~')
			return false;
	return true;
}

/* encoded_phrase - the name is words of atext, at least one an encoded word: it goes out as it is. */
static bool encoded_phrase(const char *s, size_t n)
{
	bool ew = false;
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && s[j] != ' ')
			j++;
		if (j == i)
			return false;	/* empty word: two spaces, or a leading or trailing one */
		for (size_t k = i; k < j; k++)
			if (!is_atext((unsigned char)s[k]))
				return false;
		ew = ew || is_encoded_word(s + i, j - i);
		i = j < n ? j + 1 : j;
		if (j < n && i == n)
			return false;
	}
	return ew;
}

/* quote - the name as an RFC 5322 quoted-string. */
static int quote(struct buf *b, const char *s, size_t n)
{
	if (buf_addc(b, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_addc(b, '\\') < 0)
			return -1;
		if (buf_addc(b, s[i]) < 0)
			return -1;
	}
	return buf_addc(b, '"');
}

/* count_8bit - the octets >= 0x80 in s[0..n). */
static size_t count_8bit(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += (unsigned char)s[i] >= 0x80;
	return k;
}

/* q_safe - RFC 2047 5(3): the octets a Q-encoded word in a phrase may carry as they are. */
static bool q_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != 0 && strchr("!*+-/", c) != NULL);
}

/* q_len - the Q encoding's length of s[0..n). */
static size_t q_len(const char *s, size_t n)
{
	size_t l = 0;

	for (size_t i = 0; i < n; i++)
		l += q_safe((unsigned char)s[i]) || s[i] == ' ' ? 1 : 3;
	return l;
}

/* char_len - the octets of the character at s[0..n): a whole UTF-8 sequence when utf8, else 1. */
static size_t char_len(const char *s, size_t n, bool utf8)
{
	unsigned need = 0;
	unsigned char lo, hi;

	if (utf8 && utf8_lead((unsigned char)s[0], &need, &lo, &hi) && 1 + (size_t)need <= n)
		return 1 + (size_t)need;
	return 1;
}

/* put_q - s[0..n) Q-encoded. */
static int put_q(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;

		if (c == ' ')
			r = buf_addc(b, '_');
		else if (q_safe(c))
			r = buf_addc(b, (char)c);
		else
			r = buf_printf(b, "=%c%c", hexd[c >> 4], hexd[c & 15]);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* put_b - s[0..n) base64-encoded. */
static int put_b(struct buf *b, const char *s, size_t n)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned long v = (unsigned long)(unsigned char)s[i] << 16;
		char q[B64_QUANTUM];

		if (i + 1 < n)
			v |= (unsigned long)(unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		if (buf_add(b, q, 4) < 0)
			return -1;
	}
	return 0;
}

int mime_phrase(struct buf *out, const char *s, size_t n)
{
	size_t orig = out->len, i = 0;
	bool utf8, useq;
	const char *cs;
	size_t room;

	if (!text_has_8bit(s, n))
		return encoded_phrase(s, n) ? buf_add(out, s, n) : quote(out, s, n);
	utf8 = mime_utf8_valid(s, n);
	cs = utf8 ? "UTF-8" : "unknown-8bit";
	useq = 2 * count_8bit(s, n) <= n;	/* mostly Latin: Q stays readable; mostly not: B is shorter */
	room = MIME_EW_MAX - strlen("=???X?=") - strlen(cs);	/* encoded text per word */
	while (i < n) {
		size_t j = i, k;

		/* as many whole characters as fit into one word */
		for (;;) {
			if (j >= n)
				break;
			k = char_len(s + j, n - j, utf8);
			if ((useq ? q_len(s + i, j + k - i) : (j + k - i + 2) / 3 * 4) > room)
				break;
			j += k;
		}
		if (j == i)
			goto fail;	/* cannot happen: one character is at most 12 octets of Q */
		if ((i > 0 && buf_addc(out, ' ') < 0) || buf_printf(out, "=?%s?%c?", cs, useq ? 'Q' : 'B') < 0 ||
		    (useq ? put_q(out, s + i, j - i) : put_b(out, s + i, j - i)) < 0 || buf_adds(out, "?=") < 0)
			goto fail;
		i = j;
	}
	return 0;
fail:
	trunc_to(out, orig);
	return -1;
}
