/*
 * mimeconv.c - re-encode the text parts of a message as quoted-printable, streaming. See mimeconv.h.
 *
 * The body is cut into parts by delimiter lines (RFC 2046 5.1.1): "--" boundary, "--" for the last,
 * transport padding, CRLF. The CRLF before a delimiter belongs to it; it is fed to the part as the end
 * of its last line, which the quoted-printable encoder writes as a hard line break, so that the decoded
 * part is what it was. Only a line that may be a delimiter is held (MIMECONV_LINEHEAD octets at most);
 * every other octet goes straight to the part.
 */
#include "lib/mimeconv.h"

#include <stdlib.h>
#include <string.h>

#include "lib/hdr.h"
#include "lib/limits.h"
#include "lib/text.h"

enum { ST_HEAD, ST_BODY };
enum { K_TEXT, K_MESSAGE, K_OPAQUE, K_AROUND };	/* K_AROUND: a preamble or an epilogue */

/* Leaf facts of the scan pass. */
#define LEAF_REENC 1

void mimeconv_init(struct mimeconv *z, enum mimeconv_mode mode, size_t head_max)
{
	memset(z, 0, sizeof *z);
	z->mode = mode;
	z->head_max = head_max;
	buf_init(&z->head, head_max);
	z->st = ST_HEAD;
	z->top = true;
}

void mimeconv_free(struct mimeconv *z)
{
	buf_free(&z->head);
}

bool mimeconv_rewind(struct mimeconv *z)
{
	z->writing = true;
	z->err = MIMECONV_OK;
	buf_reset(&z->head);
	z->st = ST_HEAD;
	z->top = true;
	z->llen = 0;
	z->at_bol = false;
	z->depth = 0;
	z->digest_default = false;
	z->nleaf = 0;
	z->hls = 0;
	z->kind = K_AROUND;
	z->reenc = z->bit8 = z->longl = false;
	z->col = 0;
	return z->changes;
}

const char *mimeconv_why(enum mimeconv_err err)
{
	switch (err) {
	case MIMECONV_OK:
		return "no error";
	case MIMECONV_E_HEADER8:
		return "8-bit octets in a header field (the message needs SMTPUTF8)";
	case MIMECONV_E_MESSAGE8:
		return "8-bit octets in a message/rfc822 part, which cannot be re-encoded";
	case MIMECONV_E_OPAQUE8:
		return "8-bit octets in a non-text or already encoded part, which cannot be re-encoded";
	case MIMECONV_E_LONG:
		return "a line over 998 octets in a part that cannot be re-encoded";
	case MIMECONV_E_HEADBIG:
		return "a part's header section is too large";
	case MIMECONV_E_DEPTH:
		return "multipart parts nested too deep";
	case MIMECONV_E_LEAVES:
		return "too many MIME parts";
	case MIMECONV_E_OUT:
	default:
		return "the converted message does not fit its buffer";
	}
}

static int fail(struct mimeconv *z, enum mimeconv_err e)
{
	if (z->err == MIMECONV_OK)
		z->err = e;
	return -1;
}

static int emit(struct mimeconv *z, const char *p, size_t n, struct buf *out)
{
	if (!z->writing || n == 0)
		return 0;
	return buf_add(out, p, n) < 0 ? fail(z, MIMECONV_E_OUT) : 0;
}

/* content - octets of the current part's body. */
static int content(struct mimeconv *z, const char *p, size_t n, struct buf *out)
{
	if (z->writing) {
		if (z->reenc)
			return mime_enc_feed(&z->enc, p, n, out) < 0 ? fail(z, MIMECONV_E_OUT) : 0;
		return emit(z, p, n, out);
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r' || c == '\n') {
			z->col = 0;
			continue;
		}
		if (++z->col > LIM_LINE)
			z->longl = true;
		if (c >= 0x80)
			z->bit8 = true;
	}
	if (z->kind == K_TEXT)
		return 0;	/* decided at its end */
	if (z->mode == MIMECONV_7BIT && z->bit8)
		return fail(z, z->kind == K_MESSAGE ? MIMECONV_E_MESSAGE8 : MIMECONV_E_OPAQUE8);
	if (z->mode == MIMECONV_LINES && z->longl)
		return fail(z, MIMECONV_E_LONG);
	return 0;
}

/* leaf_end - the current part's body is over. */
static int leaf_end(struct mimeconv *z, struct buf *out)
{
	if (z->writing) {
		if (z->reenc && mime_enc_end(&z->enc, out) < 0)
			return fail(z, MIMECONV_E_OUT);
		z->reenc = false;
		return 0;
	}
	if (z->kind == K_TEXT && z->nleaf > 0 && ((z->mode == MIMECONV_7BIT && z->bit8) || z->longl)) {
		z->leaf[z->nleaf - 1] |= LEAF_REENC;
		z->changes = true;
	}
	z->bit8 = z->longl = false;
	z->col = 0;
	return 0;
}

/* delimiter - whether line[0..n) (with its line end, if any) is a delimiter of an open multipart:
 * its level in *lv, *close for the last one. */
static bool delimiter(const struct mimeconv *z, const char *line, size_t n, size_t *lv, bool *close)
{
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	if (n < 3 || line[0] != '-' || line[1] != '-')
		return false;
	for (size_t j = z->depth; j-- > 0;) {
		const struct mimeconv_level *l = &z->lv[j];
		size_t k = 2 + l->blen;

		if (n < k || memcmp(line + 2, l->boundary, l->blen) != 0)
			continue;
		*close = n >= k + 2 && line[k] == '-' && line[k + 1] == '-';
		if (*close)
			k += 2;
		while (k < n && (line[k] == ' ' || line[k] == '\t'))
			k++;
		if (k != n)
			continue;
		*lv = j;
		return true;
	}
	return false;
}

/* at_delimiter - a delimiter of level j: the part in progress ends, the next begins (or the
 * multipart's epilogue). */
static int at_delimiter(struct mimeconv *z, size_t j, bool close, const char *line, size_t n, struct buf *out)
{
	if (leaf_end(z, out) < 0 || emit(z, line, n, out) < 0)
		return -1;
	if (close) {
		z->depth = j;	/* the epilogue runs to a delimiter of an outer multipart, or the end */
		z->kind = K_AROUND;
		z->st = ST_BODY;
	} else {
		z->depth = j + 1;
		z->digest_default = z->lv[j].digest;
		z->st = ST_HEAD;
		buf_reset(&z->head);
		z->hls = 0;
	}
	z->at_bol = true;
	return 0;
}

/* ct_parse - type, subtype and the boundary parameter of an unfolded Content-Type value. */
static void ct_parse(const char *v, size_t n, struct span *type, struct span *sub, struct span *bnd)
{
	size_t i = 0, s;

	*type = *sub = *bnd = span_make(NULL, 0);
	while (i < n && (v[i] == ' ' || v[i] == '\t'))
		i++;
	for (s = i; i < n && strchr(" \t;/(", v[i]) == NULL; i++)
		;
	*type = span_make(v + s, i - s);
	if (i < n && v[i] == '/') {
		for (s = ++i; i < n && strchr(" \t;(", v[i]) == NULL; i++)
			;
		*sub = span_make(v + s, i - s);
	}
	while (i < n) {	/* "; name=value" pairs; a value may be a quoted-string */
		size_t ns, nn;

		while (i < n && v[i] != ';')
			i++;
		if (i >= n)
			break;
		i++;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		for (ns = i; i < n && v[i] != '=' && v[i] != ';'; i++)
			;
		nn = i - ns;
		while (nn > 0 && (v[ns + nn - 1] == ' ' || v[ns + nn - 1] == '\t'))
			nn--;
		if (i >= n || v[i] != '=')
			continue;
		i++;
		while (i < n && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i < n && v[i] == '"') {
			for (s = ++i; i < n && v[i] != '"'; i++)
				if (v[i] == '\\' && i + 1 < n)
					i++;	/* (a boundary has no backslash: one that needs it is not taken) */
			if (span_ieq(span_make(v + ns, nn), "boundary"))
				*bnd = span_make(v + s, i - s);
			if (i < n)
				i++;
		} else {
			for (s = i; i < n && strchr(" \t;(", v[i]) == NULL; i++)
				;
			if (span_ieq(span_make(v + ns, nn), "boundary"))
				*bnd = span_make(v + s, i - s);
		}
	}
}

/* boundary_ok - RFC 2046 5.1.1 bchars, 1 to 70 of them, not ending in a space. */
static bool boundary_ok(struct span b)
{
	if (b.n == 0 || b.n > MIMECONV_BOUNDARY_MAX || b.p[b.n - 1] == ' ')
		return false;
	for (size_t i = 0; i < b.n; i++) {
		unsigned char c = (unsigned char)b.p[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    strchr("'()+_,-./:=? ", c) != NULL) || c == 0)
			return false;
	}
	return true;
}

/* subject8 - f is a Subject field with 8-bit octets: unstructured text, which RFC 2047 encoded words
 * carry losslessly (the one 8-bit field a caller commonly writes: mail -s with a UTF-8 subject). */
static bool subject8(const struct hdr_field *f)
{
	return hdr_name_is(f, "Subject") && text_has_8bit(f->raw, f->len);
}

/* put_field - field f as it is, or an 8-bit Subject as encoded words, folded between them (the space
 * between two encoded words is not part of the text: RFC 2047 section 6.2). */
static int put_field(struct mimeconv *z, const struct hdr_field *f, struct buf *out)
{
	struct buf v, w;
	struct span s;
	int r;

	if (!z->recode || !subject8(f) || !z->writing)
		return emit(z, f->raw, f->len, out);
	buf_init(&v, f->len + 1);
	buf_init(&w, 4 * f->len + 64);
	s = hdr_value(f);
	while (s.n > 0 && (s.p[0] == ' ' || s.p[0] == '\t')) {	/* the space after the colon */
		s.p++;
		s.n--;
	}
	r = hdr_unfold(s, &v) < 0 || mime_phrase(&w, v.data ? v.data : "", v.len) < 0 ||
	    hdr_fold("Subject", buf_str(&w), w.len, out) < 0 ? fail(z, MIMECONV_E_OUT) : 0;
	buf_free(&v);
	buf_free(&w);
	return r;
}

/* put_head - the header section f[0..nf) and the empty line: as it was, unless a Subject is re-encoded. */
static int put_head(struct mimeconv *z, const struct hdr_field *f, size_t nf, struct buf *out)
{
	if (!z->recode)
		return emit(z, z->head.data, z->head.len, out);
	for (size_t i = 0; i < nf; i++)
		if (put_field(z, &f[i], out) < 0)
			return -1;
	return emit(z, "\r\n", 2, out);
}

/* write_head - the header section f[0..nf) (raw, ending in the empty line) with the caller's
 * Content-Transfer-Encoding replaced by cte (when not NULL), and MIME-Version added on top. */
static int write_head(struct mimeconv *z, const struct hdr_field *f, size_t nf, const char *cte,
    bool version, struct buf *out)
{
	for (size_t i = 0; i < nf; i++)
		if (!hdr_name_is(&f[i], "Content-Transfer-Encoding") && put_field(z, &f[i], out) < 0)
			return -1;
	if (version && buf_adds(out, "MIME-Version: 1.0\r\n") < 0)
		return fail(z, MIMECONV_E_OUT);
	if (buf_printf(out, "Content-Transfer-Encoding: %s\r\n", cte) < 0 || buf_adds(out, "\r\n") < 0)
		return fail(z, MIMECONV_E_OUT);
	return 0;
}

/* head_end - the header section in z->head is complete (it ends in the empty line, or not at all when
 * `bare`): decide what the part is and write the header. */
static int head_end(struct mimeconv *z, bool bare, struct buf *out)
{
	struct hdr_field *f = NULL;
	const struct hdr_field *ct;
	struct mime_head mh;
	struct span type = { NULL, 0 }, sub = { NULL, 0 }, bnd = { NULL, 0 };
	struct buf v;
	size_t nf = 0, flen = bare ? z->head.len : z->head.len - 2;
	bool top = z->top, parsed;
	struct err e;
	int r = -1;

	z->top = false;
	z->recode = false;
	buf_init(&v, z->head.len + 1);
	parsed = !bare && hdr_parse(z->head.data, flen, &f, &nf, &e) == 0;
	if (z->mode == MIMECONV_7BIT && text_has_8bit(z->head.data, z->head.len)) {
		/* only the message's own Subject can be re-encoded; other 8-bit fields need SMTPUTF8 */
		z->recode = top && parsed;
		for (size_t i = 0; i < nf && z->recode; i++)
			z->recode = !text_has_8bit(f[i].raw, f[i].len) || subject8(&f[i]);
		if (!z->recode) {
			r = fail(z, MIMECONV_E_HEADER8);
			goto out;
		}
		z->changes = true;
	}
	memset(&mh, 0, sizeof mh);
	if (parsed) {
		mime_head_get(f, nf, &mh);
		if ((ct = hdr_find(f, nf, "Content-Type")) != NULL && hdr_unfold(hdr_value(ct), &v) == 0)
			ct_parse(buf_str(&v), v.len, &type, &sub, &bnd);
	}
	z->st = ST_BODY;
	z->at_bol = true;
	if (!parsed) {	/* not a header section: an opaque part, as it is */
		z->kind = K_OPAQUE;
		r = emit(z, z->head.data, z->head.len, out);
		goto out;
	}
	if (span_ieq(type, "multipart") && boundary_ok(bnd)) {
		struct mimeconv_level *l;
		bool relabel = z->mode == MIMECONV_7BIT && (mh.cte == MIME_CTE_8BIT || mh.cte == MIME_CTE_BINARY);

		if (z->depth == MIMECONV_DEPTH) {
			r = fail(z, MIMECONV_E_DEPTH);
			goto out;
		}
		l = &z->lv[z->depth++];
		memcpy(l->boundary, bnd.p, bnd.n);
		l->boundary[bnd.n] = '\0';
		l->blen = bnd.n;
		l->digest = span_ieq(sub, "digest");
		z->kind = K_AROUND;
		z->changes |= relabel;
		r = relabel && z->writing ? write_head(z, f, nf, "7bit", false, out) : put_head(z, f, nf, out);
		goto out;
	}
	if (z->nleaf == MIMECONV_LEAVES) {
		r = fail(z, MIMECONV_E_LEAVES);
		goto out;
	}
	z->nleaf++;
	if (type.n == 0 ? !z->digest_default : span_ieq(type, "text"))
		z->kind = mh.cte <= MIME_CTE_BINARY ? K_TEXT : K_OPAQUE;	/* none, 7bit, 8bit, binary */
	else if (type.n == 0 || span_ieq(type, "message"))
		z->kind = K_MESSAGE;
	else
		z->kind = K_OPAQUE;
	z->reenc = z->writing && (z->leaf[z->nleaf - 1] & LEAF_REENC);
	if (z->reenc) {
		mime_enc_init(&z->enc, MIME_BODY_QP);
		r = write_head(z, f, nf, "quoted-printable", top && !mh.version, out);
	} else {
		r = put_head(z, f, nf, out);
	}
out:
	buf_free(&v);
	free(f);
	return r;
}

/* feed_head - octets of a header section, up to its empty line; returns how many were taken. */
static size_t feed_head(struct mimeconv *z, const char *p, size_t n, struct buf *out, int *rc)
{
	size_t i = 0;

	*rc = 0;
	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t k = nl ? (size_t)(nl - (p + i)) + 1 : n - i;
		const char *line;
		size_t ll, lv;
		bool close;

		if (buf_add(&z->head, p + i, k) < 0) {
			*rc = fail(z, MIMECONV_E_HEADBIG);
			return i;
		}
		i += k;
		if (nl == NULL)
			break;
		line = z->head.data + z->hls;
		ll = z->head.len - z->hls;
		if (ll == 2 && line[0] == '\r') {
			*rc = head_end(z, false, out);
			return i;
		}
		if (z->depth > 0 && delimiter(z, line, ll, &lv, &close)) {
			/* a part with a header and no body: the header as it is, then the delimiter */
			z->head.len = z->hls;
			if (head_end(z, true, out) < 0 || at_delimiter(z, lv, close, line, ll, out) < 0) {
				*rc = -1;
				return i;
			}
			return i;
		}
		z->hls = z->head.len;
	}
	return i;
}

/* line_done - the held line is complete (or may no longer be a delimiter): a delimiter, or content. */
static int line_done(struct mimeconv *z, bool complete, struct buf *out)
{
	size_t lv, n = z->llen;
	bool close;

	z->llen = 0;
	if (complete && delimiter(z, z->line, n, &lv, &close))
		return at_delimiter(z, lv, close, z->line, n, out);
	return content(z, z->line, n, out);
}

/* feed_body - octets of a body; returns how many were taken (fewer when a part's header begins). */
static size_t feed_body(struct mimeconv *z, const char *p, size_t n, struct buf *out, int *rc)
{
	size_t i = 0;

	*rc = 0;
	if (z->depth == 0 && z->llen == 0) {	/* no delimiter can come */
		*rc = content(z, p, n, out);
		z->at_bol = n > 0 ? p[n - 1] == '\n' : z->at_bol;
		return n;
	}
	while (i < n && z->st == ST_BODY) {
		char c;

		if (z->llen == 0 && !z->at_bol) {	/* inside a line that is no delimiter */
			const char *nl = memchr(p + i, '\n', n - i);
			size_t k = nl ? (size_t)(nl - (p + i)) + 1 : n - i;

			if ((*rc = content(z, p + i, k, out)) < 0)
				return i;
			i += k;
			z->at_bol = nl != NULL;
			continue;
		}
		c = p[i++];
		z->line[z->llen++] = c;
		z->at_bol = false;
		if (c == '\n') {
			if ((*rc = line_done(z, true, out)) < 0)
				return i;
			z->at_bol = true;
		} else if ((z->llen <= 2 && c != '-') || z->llen == sizeof z->line) {
			if ((*rc = line_done(z, false, out)) < 0)
				return i;
		}
	}
	return i;
}

int mimeconv_feed(struct mimeconv *z, const char *p, size_t n, struct buf *out)
{
	size_t i = 0;
	int rc = 0;

	if (z->err != MIMECONV_OK)
		return -1;
	while (i < n && rc == 0)
		i += z->st == ST_HEAD ? feed_head(z, p + i, n - i, out, &rc) : feed_body(z, p + i, n - i, out, &rc);
	return rc < 0 || z->err != MIMECONV_OK ? -1 : 0;
}

int mimeconv_end(struct mimeconv *z, struct buf *out)
{
	if (z->err != MIMECONV_OK)
		return -1;
	if (z->st == ST_HEAD) {	/* a header section that never ended: as it is */
		if (z->mode == MIMECONV_7BIT && text_has_8bit(z->head.data, z->head.len))
			return fail(z, MIMECONV_E_HEADER8);
		return emit(z, z->head.data, z->head.len, out);
	}
	if (z->llen > 0 && line_done(z, true, out) < 0)
		return -1;
	if (z->st == ST_HEAD)	/* the last line was a delimiter: an empty part */
		return 0;
	return leaf_end(z, out);
}
