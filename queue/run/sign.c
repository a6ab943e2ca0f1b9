/*
 * sign.c - DKIM signing on the queue side. See sign.h.
 *
 * SECURITY: the private keys are opened here, in the queue runner, never in the setgid front door.
 * The message bytes come from the spool, written by the unprivileged composer: they are parsed with
 * the same strict header parser the composer used, within a named ceiling, and the body is hashed as
 * it streams, so memory does not depend on the message.
 */
#include "queue/run/sign.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf/dkimkey.h"
#include "lib/addr.h"
#include "lib/hdr.h"
#include "lib/limits.h"

#define BODY_CANONS 2	/* body hashes made per message: [0] relaxed, [1] simple */

/* SIGN_CHUNK - how much of the body one read hashes. */
#define SIGN_CHUNK (64 * 1024)
/* SIGN_HEADER_STEP - how much of the header section one read takes (most fit in one). */
#define SIGN_HEADER_STEP 8192

struct sign_key {
	EVP_PKEY *pk;	/* loaded, or NULL */
	char *why;	/* why it cannot be used, or NULL */
	bool tried;
};

struct signer {
	const struct config *c;
	struct log *lg;
	struct sign_key *k;	/* one per c->dkim */
};

struct signer *signer_new(const struct config *c, struct log *lg)
{
	struct signer *s = xcalloc(1, sizeof *s);

	s->c = c;
	s->lg = lg;
	s->k = xcalloc(c->ndkim ? c->ndkim : 1, sizeof *s->k);
	return s;
}

void signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->c->ndkim; i++) {
		EVP_PKEY_free(s->k[i].pk);
		free(s->k[i].why);
	}
	free(s->k);
	free(s);
}

/* key - key i, loaded on first use; NULL with e set when it cannot be used (logged once). */
static EVP_PKEY *key(struct signer *s, size_t i, struct err *e)
{
	struct sign_key *k = &s->k[i];

	if (!k->tried) {
		struct buf warn;
		struct err le;

		k->tried = true;
		err_clear(&le);
		buf_init(&warn, 512);
		if (dkimkey_load(s->c->dkim[i].keyfile, &k->pk, &warn, &le) < 0) {
			k->why = xstrdup(le.msg);
			log_msg(s->lg, LOG_ERR, "DKIM key %s (mail From %s is held until it is fixed)", k->why,
			    s->c->dkim[i].domain);
		} else if (warn.len > 0) {
			log_msg(s->lg, LOG_WARNING, "%s", buf_str(&warn));
		}
		buf_free(&warn);
	}
	if (k->pk == NULL)
		err_set(e, EX_CONFIG, "DKIM key %s", k->why ? k->why : "unusable");
	return k->pk;
}

bool sign_needed(const struct config *c, const struct envelope *env)
{
	static const char field[] = "DKIM-Signature:";
	bool pending = false;

	if (c->ndkim == 0)
		return false;
	for (size_t i = 0; i < env->nprepend; i++)
		if (strncasecmp(env->prepend[i], field, sizeof field - 1) == 0)
			return false;
	for (size_t i = 0; i < env->nrcpt; i++)
		pending |= env->rcpt[i].state == RCPT_PENDING;
	return pending;
}

size_t sign_keys_for(const struct config *c, const char *domain, size_t *idx, size_t max)
{
	const char *d = domain;
	size_t i, n;

	while (d != NULL && *d != '\0') {
		n = 0;
		for (i = 0; i < c->ndkim && n < max; i++)
			if (strcasecmp(c->dkim[i].domain, d) == 0)
				idx[n++] = i;
		if (n > 0)
			return n;
		d = strchr(d, '.');
		if (d != NULL)
			d++;
		if (d != NULL && strchr(d, '.') == NULL)
			break;	/* never a top-level domain */
	}
	return 0;
}

/* from_domain - the domain of the From field, or NULL. */
static char *from_domain(const struct hdr_field *f, size_t nf)
{
	const struct hdr_field *h = hdr_find(f, nf, "From");
	struct addr_list l = { 0 };
	struct err e;
	struct buf v;
	char *d = NULL;

	if (h == NULL)
		return NULL;
	buf_init(&v, h->len + 1);
	if (hdr_unfold(hdr_value(h), &v) == 0 && addr_list_parse(buf_str(&v), v.len, &l, &e) == 0 && l.n > 0 &&
	    l.v[0].domain != NULL)
		d = xstrdup(l.v[0].domain);
	addr_list_free(&l);
	buf_free(&v);
	return d;
}

/* read_header - the stored header section (its fields, each with CRLF, without the empty line) into
 * h (initialised here); *body is where the body starts. Read in steps until the empty line. */
static int read_header(const struct config *c, int fd, long long size, struct buf *h, long long *body,
    struct err *e)
{
	size_t want = c->max_header_size + SIGN_HEADER_SLACK, seen = 0;
	char step[SIGN_HEADER_STEP];
	const char *p = NULL;

	buf_init(h, want);
	if (size < 0)
		return err_set(e, EX_DATAERR, "message size %lld", size);
	if ((long long)want > size)
		want = (size_t)size;
	while (h->len < want) {
		size_t n = want - h->len < sizeof step ? want - h->len : sizeof step;
		ssize_t r = pread(fd, step, n, (off_t)h->len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return err_set(e, EX_TEMPFAIL, "reading the stored message: %s",
			    r < 0 ? strerror(errno) : "shorter than its envelope says");
		if (buf_add(h, step, (size_t)r) < 0)
			return err_set(e, EX_SOFTWARE, "header section over %zu bytes", want);
		if (h->len >= 2 && memcmp(h->data, "\r\n", 2) == 0) {
			p = h->data;	/* no header fields at all */
			break;
		}
		if ((p = memmem(h->data + seen, h->len - seen, "\r\n\r\n", 4)) != NULL) {
			p += 2;
			break;
		}
		seen = h->len > 3 ? h->len - 3 : 0;
	}
	if (p == NULL)
		return err_set(e, EX_DATAERR, "the stored message has no header section within %zu bytes", want);
	*body = (long long)(p - h->data) + 2;
	h->len = (size_t)(p - h->data);
	h->data[h->len] = '\0';
	return 0;
}

/* hash_body - the body hashes (bh[0] relaxed, bh[1] simple) of those wanted. */
static int hash_body(int fd, long long from, long long size, const bool want[BODY_CANONS],
    unsigned char bh[BODY_CANONS][DKIM_HASH_LEN], struct err *e)
{
	struct dkim_body *b[BODY_CANONS] = { NULL, NULL };
	char *chunk = xcalloc(1, SIGN_CHUNK);
	int rc = -1;

	for (int i = 0; i < BODY_CANONS; i++)
		if (want[i])
			b[i] = dkim_body_new(i == 0 ? CANON_RELAXED : CANON_SIMPLE);
	while (from < size) {
		size_t n = size - from < SIGN_CHUNK ? (size_t)(size - from) : SIGN_CHUNK;
		ssize_t r = pread(fd, chunk, n, (off_t)from);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_set(e, EX_TEMPFAIL, "reading the stored message: %s",
			    r < 0 ? strerror(errno) : "shorter than its envelope says");
			goto out;
		}
		for (int i = 0; i < BODY_CANONS; i++)
			if (b[i] != NULL)
				dkim_body_update(b[i], chunk, (size_t)r);
		from += r;
	}
	for (int i = 0; i < BODY_CANONS; i++)
		if (b[i] != NULL)
			dkim_body_final(b[i], bh[i]);
	rc = 0;
out:
	for (int i = 0; i < BODY_CANONS; i++)
		dkim_body_free(b[i]);
	free(chunk);
	return rc;
}

/* add_field - the folded field sig as prepend lines (one per physical line) into lines. */
static void add_field(const struct buf *sig, char ***lines, size_t *n)
{
	const char *s = sig->data, *end = s + sig->len;

	while (s < end) {
		const char *cr = memchr(s, '\r', (size_t)(end - s));
		size_t len = cr ? (size_t)(cr - s) : (size_t)(end - s);

		*lines = xreallocarray(*lines, *n + 1, sizeof **lines);
		(*lines)[(*n)++] = xstrndup(s, len);
		s += len + (cr ? 2 : 0);
	}
}

/* sign_with - sign the message (fields f[0..nf), body from `body` on) with keys idx[0..n) into lines;
 * -1 with e when a key cannot be used or a field cannot be built. */
static int sign_with(struct signer *s, const size_t *idx, size_t n, int fd, long long size,
    const struct hdr_field *f, size_t nf, long long body, long long now, char ***lines, size_t *nlines,
    struct err *e)
{
	const struct config *c = s->c;
	struct buf sig, b64;
	unsigned char bh[BODY_CANONS][DKIM_HASH_LEN];
	bool want[BODY_CANONS] = { false, false };
	int rc = -1;

	buf_init(&sig, LIM_DKIM_SIGHDR);
	buf_init(&b64, DKIMKEY_B64_MAX);
	for (size_t i = 0; i < n; i++) {	/* every key first: a message is signed by all or held */
		const struct conf_dkim_key *k = &c->dkim[idx[i]];

		if (key(s, idx[i], e) == NULL)
			goto out;
		want[(k->canon_set ? k->bcanon : c->dkim_bcanon) == CANON_SIMPLE] = true;
	}
	if (hash_body(fd, body, size, want, bh, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct conf_dkim_key *k = &c->dkim[idx[i]];
		EVP_PKEY *pk = s->k[idx[i]].pk;
		struct dkim_sig_params p = { 0 };
		unsigned char digest[DKIM_HASH_LEN];

		p.domain = k->domain;
		p.selector = k->selector;
		p.alg = dkimkey_alg(pk);
		p.hcanon = k->canon_set ? k->hcanon : c->dkim_hcanon;
		p.bcanon = k->canon_set ? k->bcanon : c->dkim_bcanon;
		p.t = now;
		p.x = c->dkim_expire > 0 ? now + c->dkim_expire : 0;
		if (dkim_sig_prepare(&p, f, nf, bh[p.bcanon == CANON_SIMPLE], &sig, digest, e) < 0 ||
		    dkimkey_sign(pk, digest, &b64, e) < 0 || dkim_sig_finish(&sig, buf_str(&b64), e) < 0) {
			err_prefix(e, "DKIM signing for %s (selector %s)", k->domain, k->selector);
			goto out;
		}
		add_field(&sig, lines, nlines);
	}
	rc = 0;
out:
	buf_free(&sig);
	buf_free(&b64);
	return rc;
}

enum sign_result sign_message(struct signer *s, int fd, struct envelope *env, long long now, struct buf *note,
    struct err *e)
{
	const struct config *c = s->c;
	struct hdr_field *f = NULL;
	struct buf h;
	size_t idx[LIM_DKIM_SIGS], n = 0, nf = 0, nlines = 0;
	long long body = 0;
	char *fdom = NULL, **lines = NULL;
	enum sign_result r = SIGN_UNSIGNED;
	int bad;

	buf_reset(note);
	bad = read_header(c, fd, env->size, &h, &body, e) < 0 || hdr_parse(buf_str(&h), h.len, &f, &nf, e) < 0;
	if (!bad && (fdom = from_domain(f, nf)) != NULL)
		n = sign_keys_for(c, fdom, idx, LIM_DKIM_SIGS);
	if (!bad && n == 0) {
		if (buf_printf(note, "unsigned: no DKIM key for the From domain %s", fdom ? fdom : "(none)") < 0)
			buf_reset(note);
		goto out;
	}
	if (!bad && strcasecmp(c->dkim[idx[0]].domain, fdom) != 0 &&
	    buf_printf(note, "From domain %s signed with the parent domain's key (d=%s): strict DKIM alignment "
	    "would fail; add a dkim line for %s", fdom, c->dkim[idx[0]].domain, fdom) < 0)
		buf_reset(note);
	if (bad || sign_with(s, idx, n, fd, env->size, f, nf, body, now, &lines, &nlines, e) < 0) {
		for (size_t i = 0; i < nlines; i++)
			free(lines[i]);
		free(lines);
		if (c->dkim_required) {
			r = SIGN_HOLD;
		} else {
			buf_reset(note);
			if (buf_printf(note, "sent unsigned (dkim_required no): %s", e->msg) < 0)
				buf_reset(note);
		}
		goto out;
	}
	/* the signatures go first: they cover what follows */
	lines = xreallocarray(lines, nlines + env->nprepend, sizeof *lines);
	if (env->nprepend > 0)
		memcpy(lines + nlines, env->prepend, env->nprepend * sizeof *lines);
	free(env->prepend);
	env->prepend = lines;
	env->nprepend += nlines;
	r = SIGN_SIGNED;
out:
	free(f);
	free(fdom);
	buf_free(&h);
	return r;
}

enum sign_result sign_form(struct signer *s, int fd, long long size, long long now, struct buf *fields,
    struct err *e)
{
	struct hdr_field *f = NULL;
	struct buf h;
	size_t idx[LIM_DKIM_SIGS], n = 0, nf = 0, nlines = 0;
	long long body = 0;
	char *fdom = NULL, **lines = NULL;
	enum sign_result r = SIGN_HOLD;

	buf_reset(fields);
	if (read_header(s->c, fd, size, &h, &body, e) < 0 || hdr_parse(buf_str(&h), h.len, &f, &nf, e) < 0)
		goto out;
	if ((fdom = from_domain(f, nf)) != NULL)
		n = sign_keys_for(s->c, fdom, idx, LIM_DKIM_SIGS);
	if (n == 0) {
		r = SIGN_UNSIGNED;
		goto out;
	}
	if (sign_with(s, idx, n, fd, size, f, nf, body, now, &lines, &nlines, e) < 0)
		goto out;
	r = SIGN_SIGNED;
	for (size_t i = 0; i < nlines; i++)
		if (buf_adds(fields, lines[i]) < 0 || buf_adds(fields, "\r\n") < 0) {
			err_set(e, EX_SOFTWARE, "DKIM-Signature fields over %zu bytes", fields->max);
			r = SIGN_HOLD;
			break;
		}
out:
	for (size_t i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
	free(f);
	free(fdom);
	buf_free(&h);
	return r;
}
