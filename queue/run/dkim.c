/*
 * dkim.c - DKIM canonicalisation, header selection and DKIM-Signature assembly (no keys here).
 *
 * Untrusted input: the caller's body and header fields. Every function works on (pointer, length),
 * copes with any byte (NUL, bare CR, 8-bit), never logs or exits. The body canonicaliser is a state
 * machine that keeps counts, not data, so its memory does not depend on the body.
 */
#include "queue/run/dkim.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "lib/limits.h"

#define DKIM_OUT_CHUNK 4096	/* canonicalised body staged before it goes to the hash */
#define DKIM_BH64_MAX 48	/* the bh= value: a SHA-256 digest in base64 (44 characters) */


/* Body canonicalisation state (RFC 6376 3.4.3, 3.4.4). Output is staged in `out` and flushed to the
 * hash or to a struct buf. */
struct dkim_body {
	enum dkim_canon canon;
	EVP_MD_CTX *md;		/* NULL when sinking into `sink` */
	struct buf *sink;
	bool sink_failed;
	bool cr;		/* a CR was the last byte seen; its LF may come in the next chunk */
	bool wsp;		/* relaxed: a run of WSP is pending inside the line */
	bool any;		/* something other than line ends has been emitted */
	unsigned long long crlfs;	/* line ends not emitted yet: they may be trailing empty lines */
	size_t olen;
	char out[DKIM_OUT_CHUNK];
};

/* flush - hand the staged output to the hash or the sink. */
static void flush(struct dkim_body *b)
{
	if (b->olen == 0)
		return;
	if (b->md != NULL) {
		if (EVP_DigestUpdate(b->md, b->out, b->olen) != 1)
			abort();
	} else if (!b->sink_failed && buf_add(b->sink, b->out, b->olen) < 0) {
		b->sink_failed = true;
	}
	b->olen = 0;
}

/* emit - stage one output byte. */
static void emit(struct dkim_body *b, char c)
{
	if (b->olen == sizeof b->out)
		flush(b);
	b->out[b->olen++] = c;
}

/* content - a byte that is neither CR, LF-after-CR nor (relaxed) WSP: the pending line ends are real
 * lines after all, and a pending WSP run becomes one SP. */
static void content(struct dkim_body *b, char c)
{
	for (; b->crlfs > 0; b->crlfs--) {
		emit(b, '\r');
		emit(b, '\n');
	}
	if (b->wsp)
		emit(b, ' ');
	b->wsp = false;
	emit(b, c);
	b->any = true;
}

static void body_init(struct dkim_body *b, enum dkim_canon c)
{
	memset(b, 0, offsetof(struct dkim_body, out));
	b->canon = c;
}

static void body_feed(struct dkim_body *b, const char *p, size_t n)
{
	size_t i;
	char c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (b->cr) {
			b->cr = false;
			if (c == '\n') {
				b->crlfs++;
				b->wsp = false; /* relaxed: WSP at the end of a line is dropped */
				continue;
			}
			content(b, '\r'); /* a bare CR is an ordinary octet */
		}
		if (c == '\r')
			b->cr = true;
		else if (b->canon == CANON_RELAXED && (c == ' ' || c == '\t'))
			b->wsp = true;
		else
			content(b, c);
	}
}

/* body_end - the end of the body: one CRLF closes the last line; trailing empty lines are gone.
 * Simple: an empty body is CRLF. Relaxed: an empty body is empty (RFC 6376 errata 1384). */
static void body_end(struct dkim_body *b)
{
	if (b->cr) {
		b->cr = false;
		content(b, '\r');
	}
	if (b->any || b->canon == CANON_SIMPLE) {
		emit(b, '\r');
		emit(b, '\n');
	}
	b->crlfs = 0;
	b->wsp = false;
	flush(b);
}

struct dkim_body *dkim_body_new(enum dkim_canon c)
{
	struct dkim_body *b = xcalloc(1, sizeof *b);

	body_init(b, c);
	if ((b->md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(b->md, EVP_sha256(), NULL) != 1)
		abort();
	return b;
}

void dkim_body_update(struct dkim_body *b, const char *p, size_t n)
{
	body_feed(b, p, n);
}

void dkim_body_final(struct dkim_body *b, unsigned char bh[DKIM_HASH_LEN])
{
	unsigned int len = 32;

	body_end(b);
	if (EVP_DigestFinal_ex(b->md, bh, &len) != 1 || len != 32)
		abort();
}

void dkim_body_free(struct dkim_body *b)
{
	if (b == NULL)
		return;
	EVP_MD_CTX_free(b->md);
	free(b);
}

int dkim_canon_body(enum dkim_canon c, const char *p, size_t n, struct buf *out)
{
	struct dkim_body *b = xcalloc(1, sizeof *b);
	int r;

	body_init(b, c);
	b->sink = out;
	body_feed(b, p, n);
	body_end(b);
	r = b->sink_failed ? -1 : 0;
	free(b);
	return r;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* canon_raw - the canonical form of one field's bytes WITHOUT the final CRLF. */
static int canon_raw(enum dkim_canon c, const char *raw, size_t len, struct buf *out)
{
	const char *colon = memchr(raw, ':', len);
	size_t i, nlen;
	bool wsp = false, started = false;

	if (colon == NULL)
		return -1;
	if (c == CANON_SIMPLE) {
		if (len >= 2 && raw[len - 2] == '\r' && raw[len - 1] == '\n')
			len -= 2;
		return buf_add(out, raw, len);
	}
	/* relaxed: lower-case name, no WSP around the colon */
	for (nlen = (size_t)(colon - raw); nlen > 0 && is_wsp(raw[nlen - 1]); nlen--)
		;
	for (i = 0; i < nlen; i++)
		if (buf_addc(out, (raw[i] >= 'A' && raw[i] <= 'Z') ? (char)(raw[i] - 'A' + 'a') : raw[i]) < 0)
			return -1;
	if (buf_addc(out, ':') < 0)
		return -1;
	/* unfold (drop CRLF), WSP runs to one SP, none at the start or the end of the value */
	for (i = (size_t)(colon - raw) + 1; i < len; i++) {
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n') {
			i++;
			continue;
		}
		if (is_wsp(raw[i])) {
			wsp = true;
			continue;
		}
		if (wsp && started && buf_addc(out, ' ') < 0)
			return -1;
		if (buf_addc(out, raw[i]) < 0)
			return -1;
		wsp = false;
		started = true;
	}
	return 0;
}

int dkim_canon_header(enum dkim_canon c, const struct hdr_field *f, struct buf *out)
{
	if (canon_raw(c, f->raw, f->len, out) < 0)
		return -1;
	return buf_add(out, "\r\n", 2);
}

/* field_name - the name of a field, without WSP before the colon; n = 0 when there is no colon. */
static struct span field_name(const struct hdr_field *f)
{
	const char *colon = memchr(f->raw, ':', f->len);
	struct span s = span_make(f->raw, colon != NULL ? (size_t)(colon - f->raw) : 0);

	return span_trim(s);
}

/* What RFC 6376 5.4.1 recommends signing, plus Message-ID, Sender, the MIME fields and RFC 8058's
 * List-Unsubscribe-Post; `over` marks the ones signed once more than present. */
static const struct {
	const char *name;
	bool over;
} sign_list[] = {
	{ "from", true }, { "reply-to", true }, { "subject", true }, { "date", true }, { "to", true },
	{ "cc", true }, { "message-id", true }, { "in-reply-to", true }, { "references", true },
	{ "mime-version", true }, { "content-type", true }, { "content-transfer-encoding", true },
	{ "sender", false }, { "resent-date", false }, { "resent-from", false },
	{ "resent-sender", false }, { "resent-to", false }, { "resent-cc", false },
	{ "list-id", false }, { "list-help", false }, { "list-unsubscribe", false },
	{ "list-unsubscribe-post", false }, { "list-subscribe", false }, { "list-post", false },
	{ "list-owner", false }, { "list-archive", false },
};

int dkim_select_headers(const struct hdr_field *f, size_t n, struct buf *out, struct err *e)
{
	size_t i, j, k, count;
	bool first = true;

	for (i = 0; i < sizeof sign_list / sizeof sign_list[0]; i++) {
		for (count = 0, j = 0; j < n; j++)
			if (span_ieq(field_name(&f[j]), sign_list[i].name))
				count++;
		if (i == 0 && count == 0)
			return err_set(e, EX_DATAERR, "no From field to sign");
		if (sign_list[i].over)
			count++;
		for (k = 0; k < count; k++) {
			if ((!first && buf_addc(out, ':') < 0) || buf_adds(out, sign_list[i].name) < 0)
				return err_set(e, EX_SOFTWARE, "DKIM h= list too long");
			first = false;
		}
	}
	return 0;
}

/* next_name - the next name of an h= list (skipping ':' and whitespace); false at the end. */
static bool next_name(const char **pp, struct span *name)
{
	const char *p = *pp, *q;

	while (*p == ':' || *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p == '\0')
		return false;
	for (q = p; *q != '\0' && *q != ':' && *q != ' ' && *q != '\t' && *q != '\r' && *q != '\n'; q++)
		;
	*name = span_make(p, (size_t)(q - p));
	*pp = q;
	return true;
}

int dkim_sig_digest(enum dkim_canon hcanon, const struct hdr_field *f, size_t n, const char *hlist,
	const char *sig, size_t siglen, unsigned char digest[DKIM_HASH_LEN], struct err *e)
{
	struct buf c;
	struct span name, fn;
	bool *used = xcalloc(n ? n : 1, sizeof *used);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int dlen = 32;
	const char *p = hlist;
	size_t j;
	int r = -1;

	/* the canonical form of a field is never longer than the field plus a CRLF */
	size_t most = siglen;
	for (j = 0; j < n; j++)
		most = f[j].len > most ? f[j].len : most;
	buf_init(&c, most + 2);
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	while (next_name(&p, &name)) {
		/* RFC 6376 5.4.2: several instances are signed from the bottom up */
		for (j = n; j-- > 0;) {
			fn = field_name(&f[j]);
			if (!used[j] && fn.n == name.n && strncasecmp(fn.p, name.p, name.n) == 0)
				break;
		}
		if (j == (size_t)-1)
			continue; /* none (left): an over-signed name contributes nothing */
		used[j] = true;
		buf_reset(&c);
		if (dkim_canon_header(hcanon, &f[j], &c) < 0) {
			err_set(e, EX_DATAERR, "header field %zu cannot be canonicalised", j + 1);
			goto out;
		}
		if (EVP_DigestUpdate(md, c.data, c.len) != 1)
			abort();
	}
	buf_reset(&c);
	if (canon_raw(hcanon, sig, siglen, &c) < 0) {
		err_set(e, EX_SOFTWARE, "DKIM-Signature field cannot be canonicalised");
		goto out;
	}
	if (EVP_DigestUpdate(md, c.data, c.len) != 1 || EVP_DigestFinal_ex(md, digest, &dlen) != 1)
		abort();
	r = 0;
out:
	buf_free(&c);
	EVP_MD_CTX_free(md);
	free(used);
	return r;
}

/* Header line folding: lines of at most 78 octets (RFC 5322 2.1.1 "SHOULD"), where a fold is
 * CRLF TAB. */
#define FOLD_AT 78
#define B64_LINE 72

struct folder {
	struct buf *b;
	size_t col;	/* octets on the current line */
	bool fail;
};

/* put - append a piece that may not be broken, folding before it if the line would get too long;
 * `sep` is the separator used when no fold is needed (" " between tags, "" inside h=). */
static void put(struct folder *fo, const char *sep, const char *s)
{
	size_t n = strlen(s);

	if (fo->col + strlen(sep) + n > FOLD_AT && fo->col > 1) {
		fo->fail |= buf_adds(fo->b, "\r\n\t") < 0;
		fo->col = 1; /* the TAB; a TAB counts as one octet in RFC 5322 line length */
	} else {
		fo->fail |= buf_adds(fo->b, sep) < 0;
		fo->col += strlen(sep);
	}
	fo->fail |= buf_adds(fo->b, s) < 0;
	fo->col += n;
}

/* valid_label_text - domain and selector: letters, digits, '-', '.', '_' only (no header injection). */
static bool valid_label_text(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > LIM_DOMAIN)
		return false;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
			    *s == '-' || *s == '.' || *s == '_'))
			return false;
	return true;
}

/* valid_hlist - an explicit h= value: field-name characters (RFC 5322 ftext) and ':' only. */
static bool valid_hlist(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 33 || (unsigned char)*s > 126)
			return false;
	return true;
}

int dkim_sig_prepare(const struct dkim_sig_params *p, const struct hdr_field *f, size_t n,
	const unsigned char bh[DKIM_HASH_LEN], struct buf *sighdr, unsigned char digest[DKIM_HASH_LEN],
	struct err *e)
{
	struct folder fo = { sighdr, 0, false };
	struct buf h, tag;
	char bh64[DKIM_BH64_MAX];
	struct span name;
	const char *q;
	bool first = true;
	int r = -1;

	buf_reset(sighdr);
	if (!valid_label_text(p->domain) || !valid_label_text(p->selector))
		return err_set(e, EX_CONFIG, "DKIM domain or selector has characters that do not belong");
	if (p->x != 0 && p->x <= p->t)
		return err_set(e, EX_CONFIG, "DKIM expiry x=%lld is not after t=%lld", p->x, p->t);
	buf_init(&h, LIM_DKIM_SIGHDR);
	buf_init(&tag, LIM_DKIM_SIGHDR);
	if (p->hlist != NULL) {
		if (!valid_hlist(p->hlist)) {
			err_set(e, EX_CONFIG, "DKIM h= list has characters that do not belong");
			goto out;
		}
		if (buf_adds(&h, p->hlist) < 0) {
			err_set(e, EX_CONFIG, "DKIM h= list too long");
			goto out;
		}
	} else if (dkim_select_headers(f, n, &h, e) < 0) {
		goto out;
	}
	if (EVP_EncodeBlock((unsigned char *)bh64, bh, 32) != 44)
		abort();

	fo.fail |= buf_adds(sighdr, "DKIM-Signature:") < 0;
	fo.col = strlen("DKIM-Signature:");
#define TAG(...) (buf_reset(&tag), fo.fail |= buf_printf(&tag, __VA_ARGS__) < 0, put(&fo, " ", buf_str(&tag)))
	TAG("v=1;");
	TAG("a=%s;", p->alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256");
	TAG("c=%s/%s;", p->hcanon == CANON_SIMPLE ? "simple" : "relaxed",
		p->bcanon == CANON_SIMPLE ? "simple" : "relaxed");
	TAG("d=%s;", p->domain);
	TAG("s=%s;", p->selector);
	TAG("t=%lld;", p->t);
	if (p->x != 0)
		TAG("x=%lld;", p->x);
	/* h= may fold after any colon (RFC 6376 3.5: FWS is allowed around the colons) */
	for (q = buf_str(&h); next_name(&q, &name);) {
		const char *peek = q;
		struct span more;
		bool last = !next_name(&peek, &more);

		buf_reset(&tag);
		fo.fail |= buf_printf(&tag, "%s%.*s%s", first ? "h=" : "", (int)name.n, name.p,
				   last ? ";" : ":") < 0;
		put(&fo, first ? " " : "", buf_str(&tag));
		first = false;
	}
	TAG("bh=%s;", bh64);
#undef TAG
	/* b= starts a line of its own so its value can fill whole lines in dkim_sig_finish */
	fo.fail |= buf_adds(sighdr, "\r\n\tb=") < 0;
	if (fo.fail) {
		err_set(e, EX_SOFTWARE, "DKIM-Signature field too long");
		goto out;
	}
	r = dkim_sig_digest(p->hcanon, f, n, buf_str(&h), sighdr->data, sighdr->len, digest, e);
out:
	buf_free(&h);
	buf_free(&tag);
	return r;
}

int dkim_sig_finish(struct buf *sighdr, const char *b64, struct err *e)
{
	size_t n = strlen(b64), i, col = 3; /* "\tb=" */
	bool fail = false;

	if (n == 0)
		return err_set(e, EX_SOFTWARE, "empty DKIM signature");
	for (i = 0; i < n; i++) {
		char c = b64[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			    c == '/' || c == '='))
			return err_set(e, EX_SOFTWARE, "DKIM signature is not base64");
	}
	for (i = 0; i < n; i++) {
		if (col >= B64_LINE) {
			fail |= buf_adds(sighdr, "\r\n\t") < 0;
			col = 1;
		}
		fail |= buf_addc(sighdr, b64[i]) < 0;
		col++;
	}
	fail |= buf_adds(sighdr, "\r\n") < 0;
	if (fail)
		return err_set(e, EX_SOFTWARE, "DKIM-Signature field too long");
	return 0;
}
