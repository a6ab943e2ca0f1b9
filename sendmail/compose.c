/*
 * compose.c - the unprivileged half of submission. See compose.h.
 *
 * SECURITY: this code runs after privsep_drop_all(): it can neither read the spool nor the DKIM keys.
 * Everything it produces that the privileged parent acts on (the envelope) is re-validated there.
 * Memory is bounded by the header section: the body streams from infd to datafd in fixed chunks while
 * the DKIM body hashes are updated.
 */
#include "sendmail/compose.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/buf.h"
#include "lib/fdio.h"
#include "lib/limits.h"
#include "queue/envelope.h"
#include "sendmail/body.h"
#include "sendmail/dkim.h"
#include "sendmail/hdr.h"
#include "sendmail/mime.h"
#include "sendmail/msg.h"
#include "sendmail/rcpt.h"

#define MAX_SIGS 8
#define MAX_KEYS 64	/* dkim lines in the configuration that one submission may use */

/* write_all - write n bytes or fail with EX_TEMPFAIL (ENOSPC, EDQUOT, EIO, EFBIG ...). */
static int write_all(int fd, const char *p, size_t n, const char *what, struct err *e)
{
	if (fdio_write_all(fd, p, n) < 0)
		return err_set(e, EX_TEMPFAIL, "%s: %s", what, strerror(errno));
	return 0;
}

/* read_line - one line from the parent. */
static int read_line(int fd, struct buf *b, struct err *e)
{
	if (fdio_read_line(fd, b) <= 0)
		return err_set(e, EX_SOFTWARE, errno == EMSGSIZE ? "signing process sent an overlong line" :
		    "signing process went away");
	return 0;
}

int compose_date(struct buf *out, time_t now)
{
	char d[64];
	struct tm tm;

	if (localtime_r(&now, &tm) == NULL || strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		return -1;
	return buf_adds(out, d);
}

int compose_received(struct buf *out, const char *hostname, unsigned long uid, const char *id, time_t now)
{
	if (buf_printf(out, "Received: by %s (postern, from userid %lu)\r\n\tid %s; ", hostname, uid, id) < 0 ||
	    compose_date(out, now) < 0 || buf_adds(out, "\r\n") < 0)
		return -1;
	return 0;
}

size_t compose_signing_keys(const struct config *c, const char *domain, size_t *idx, size_t max)
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

/* parent_key_note - the log line (once per message) for a From domain signed with its parent's key:
 * relaxed DMARC alignment passes, strict does not. */
static void parent_key_note(int tofd, const char *fdom, const char *kdom)
{
	struct buf note;
	struct err e;

	buf_init(&note, 200 + 3 * LIM_DOMAIN);
	if (buf_printf(&note, "L From domain %s signed with the parent domain's key (d=%s): strict DKIM "
	    "alignment would fail; add a dkim line for %s\n", fdom, kdom, fdom) == 0)
		(void)write_all(tofd, buf_str(&note), note.len, "note", &e);
	buf_free(&note);
}

/* has_8bit - any octet with the high bit set. */
static bool has_8bit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] >= 0x80)
			return true;
	return false;
}

/* qualify_field - a From/To/Cc/... field naming a bare local name ("root (Cron Daemon)") is rewritten
 * with the configured domain ("root@example.com (Cron Daemon)"), as Postfix appends @myorigin, so that
 * receivers and DKIM see a real address. Returns 1 when it appended a rewritten field to out, 0 when the
 * field needs nothing, -1 when out is full. A field that does not parse is left as written. */
static int qualify_field(const struct compose_ctx *x, const struct hdr_field *f, struct buf *out)
{
	static const char *const names[] = { "From", "Sender", "Reply-To", "To", "Cc", "Resent-From",
		"Resent-Sender", "Resent-To", "Resent-Cc" };
	struct addr_list l = { 0 };
	struct buf v, list;
	struct err e;
	size_t i, k;
	bool bare = false;
	int r = 0;

	for (k = 0; k < sizeof names / sizeof names[0]; k++)
		if (hdr_name_is(f, names[k]))
			break;
	if (k == sizeof names / sizeof names[0])
		return 0;
	buf_init(&v, f->len + 1);
	buf_init(&list, f->len + 64 * 1024);
	if (hdr_unfold(hdr_value(f), &v) < 0 || addr_list_parse(buf_str(&v), v.len, &l, &e) < 0)
		goto out;
	for (i = 0; i < l.n; i++)
		bare |= l.v[i].domain == NULL && !l.v[i].null;
	if (!bare)
		goto out;
	for (i = 0; i < l.n && r == 0; i++) {
		const struct addr *a = &l.v[i];

		if (i > 0 && buf_adds(&list, ", ") < 0)
			r = -1;
		else if (a->display != NULL && (mime_phrase(&list, a->display, strlen(a->display)) < 0 || buf_adds(&list, " <") < 0))
			r = -1;
		else if (buf_printf(&list, "%s@%s", a->local, a->domain ? a->domain : x->c->domain) < 0)
			r = -1;
		else if (a->display != NULL && buf_addc(&list, '>') < 0)
			r = -1;
	}
	/* keep the comment of a lone bare name: root (Cron Daemon) */
	const char *lp = strchr(buf_str(&v), '('), *rp = strrchr(buf_str(&v), ')');
	if (r == 0 && l.n == 1 && l.v[0].display == NULL && lp != NULL && rp != NULL && rp > lp &&
	    (buf_addc(&list, ' ') < 0 || buf_add(&list, lp, (size_t)(rp - lp) + 1) < 0))
		r = -1;
	if (r == 0)
		r = hdr_fold(names[k], buf_str(&list), list.len, out) < 0 ? -1 : 1;
out:
	addr_list_free(&l);
	buf_free(&v);
	buf_free(&list);
	return r;
}

/* complete_header - the header section as it goes to the spool: the Received line, the caller's fields
 * without Bcc, then Date, Message-ID and From where missing; and the blank line. */
static int complete_header(const struct compose_ctx *x, const struct hdr_field *f, size_t nf,
    const char *sender, struct buf *out, struct err *e)
{
	const char *name = x->o->fullname ? x->o->fullname : x->gecos;
	size_t i;

	if (compose_received(out, x->c->hostname, (unsigned long)x->uid, x->id, x->now) < 0)
		goto big;
	for (i = 0; i < nf; i++) {
		int q;

		if (hdr_name_is(&f[i], "Bcc") || hdr_name_is(&f[i], "Resent-Bcc"))
			continue;
		if ((q = qualify_field(x, &f[i], out)) < 0)
			goto big;
		if (q == 0 && buf_add(out, f[i].raw, f[i].len) < 0)
			goto big;
	}
	if (hdr_find(f, nf, "Date") == NULL &&
	    (buf_adds(out, "Date: ") < 0 || compose_date(out, x->now) < 0 || buf_adds(out, "\r\n") < 0))
		goto big;
	if (hdr_find(f, nf, "Message-ID") == NULL &&
	    buf_printf(out, "Message-ID: <%s@%s>\r\n", x->id, x->c->hostname) < 0)
		goto big;
	if (hdr_find(f, nf, "From") == NULL) {
		char *fallback = NULL;
		const char *addr = sender;

		if (*sender == '\0') {	/* null sender: From is still a real address */
			struct buf b;

			buf_init(&b, LIM_PATH + 1);
			if (buf_printf(&b, "%s@%s", x->user, x->c->domain) < 0) {
				buf_free(&b);
				goto big;
			}
			addr = fallback = buf_take(&b);
		}
		/* a non-ASCII name becomes RFC 2047 encoded words, which the folder may put on lines of their own */
		struct buf v;
		int r = 0;

		buf_init(&v, x->c->max_header_size);
		if (name != NULL && *name != '\0')
			r = (mime_phrase(&v, name, strlen(name)) < 0 || buf_adds(&v, " ") < 0) ? -1 : 0;
		if (r == 0)
			r = buf_printf(&v, "<%s>", addr);
		if (r == 0)
			r = hdr_fold("From", buf_str(&v), v.len, out);
		buf_free(&v);
		free(fallback);
		if (r < 0)
			goto big;
	}
	if (buf_adds(out, "\r\n") < 0)
		goto big;
	return 0;
big:
	return err_set(e, EX_DATAERR, "header section too large (max %zu bytes)", x->c->max_header_size);
}

/* from_domain - the domain of the (completed) From header, for DKIM. NULL if none. */
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

/* hash_feed, hash_restart - the DKIM body hashes as body.h's sink: [0] relaxed, [1] simple */
static void hash_feed(void *arg, const char *p, size_t n)
{
	struct dkim_body **b = arg;

	for (int i = 0; i < 2; i++)
		if (b[i] != NULL)
			dkim_body_update(b[i], p, n);
}

static void hash_restart(void *arg)
{
	struct dkim_body **b = arg;

	for (int i = 0; i < 2; i++)
		if (b[i] != NULL) {
			dkim_body_free(b[i]);
			b[i] = dkim_body_new(i ? CANON_SIMPLE : CANON_RELAXED);
		}
}

struct signer {
	size_t key;		/* index into c->dkim */
	enum dkim_canon hc, bc;
	const unsigned char *bh;	/* the body hash for bc */
};

/* sign_all - finish the body hashes, have the parent sign each digest, collect the header lines. */
static int sign_all(const struct compose_ctx *x, struct signer *sg, size_t ns, const struct hdr_field *f,
    size_t nf, struct envelope *env, struct err *e)
{
	static const char hex[] = "0123456789abcdef";
	struct buf sig, line;
	size_t i, k;
	int r = -1;

	int alg[MAX_KEYS];
	size_t nalg = 0;

	buf_init(&sig, 16 * 1024);
	buf_init(&line, 16 * 1024);
	/* the parent loaded the keys after we were forked; it says which algorithm each one is */
	if (read_line(x->fromfd, &line, e) < 0)
		goto out;
	if (line.len < 1 || line.data[0] != 'A') {
		err_set(e, EX_SOFTWARE, "signing process sent no key list");
		goto out;
	}
	for (const char *q = line.data + 1; *q == ' ' && nalg < MAX_KEYS; q += 2) {
		if (q[1] != '0' && q[1] != '1')
			break;
		alg[nalg++] = q[1] - '0';
	}
	for (i = 0; i < ns; i++) {
		const struct conf_dkim_key *key = &x->c->dkim[sg[i].key];
		unsigned char digest[32];
		struct dkim_sig_params p;
		char req[128];
		int n;

		memset(&p, 0, sizeof p);
		p.domain = key->domain;
		p.selector = key->selector;
		if (sg[i].key >= nalg) {
			err_set(e, EX_SOFTWARE, "signing process sent a short key list");
			goto out;
		}
		p.alg = alg[sg[i].key] ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256;
		p.hcanon = sg[i].hc;
		p.bcanon = sg[i].bc;
		p.t = (long long)x->now;
		p.x = x->c->dkim_expire > 0 ? (long long)x->now + x->c->dkim_expire : 0;
		buf_reset(&sig);
		if (dkim_sig_prepare(&p, f, nf, sg[i].bh, &sig, digest, e) < 0)
			goto out;
		n = snprintf(req, sizeof req, "S %zu ", sg[i].key);
		if (n < 0 || (size_t)n + 66 > sizeof req)
			goto out;
		for (k = 0; k < 32; k++) {
			req[n++] = hex[digest[k] >> 4];
			req[n++] = hex[digest[k] & 15];
		}
		req[n++] = '\n';
		if (write_all(x->tofd, req, (size_t)n, "signing request", e) < 0 || read_line(x->fromfd, &line, e) < 0)
			goto out;
		if (line.len < 2 || line.data[0] != 'B' || line.data[1] != ' ') {
			err_set(e, EX_CONFIG, "DKIM signing failed for %s (selector %s): %s", key->domain, key->selector,
			    line.len > 2 ? line.data + 2 : "no reason");
			goto out;
		}
		if (dkim_sig_finish(&sig, line.data + 2, e) < 0)
			goto out;
		/* the folded header goes into the envelope, one record per physical line */
		const char *s = buf_str(&sig), *end = s + sig.len;
		while (s < end) {
			const char *nl = memchr(s, '\r', (size_t)(end - s));
			size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

			env->prepend = xreallocarray(env->prepend, env->nprepend + 1, sizeof *env->prepend);
			env->prepend[env->nprepend++] = xstrndup(s, len);
			s += len + (nl ? 2 : 0);
		}
	}
	r = 0;
out:
	buf_free(&sig);
	buf_free(&line);
	return r;
}

/* send_envelope - the last message to the parent. */
static int send_envelope(const struct compose_ctx *x, const struct envelope *env, struct err *e)
{
	struct buf b;
	char head[32];
	int n, r;

	buf_init(&b, LIM_ENVELOPE_FILE);
	if (env_format(env, &b, e) < 0) {
		buf_free(&b);
		return -1;
	}
	n = snprintf(head, sizeof head, "V %zu\n", b.len);
	r = (n > 0 && (size_t)n < sizeof head && write_all(x->tofd, head, (size_t)n, "envelope", e) == 0 &&
	    write_all(x->tofd, buf_str(&b), b.len, "envelope", e) == 0) ? 0 : -1;
	buf_free(&b);
	return r;
}

int compose_run(const struct compose_ctx *x, struct err *e)
{
	const struct config *c = x->c;
	const struct opts *o = x->o;
	struct rcpt_src src = { x->al, c->domain, o->no_alias };
	struct rcpt_set rc = { 0 }, drop = { 0 };
	struct msg_opts mo = { o->dot_ends, c->max_header_size, c->max_size, true };
	struct msg_reader *rd = NULL;
	struct hdr_field *f = NULL, *cf = NULL;
	size_t nf = 0, ncf = 0, i, ns = 0;
	struct buf hdr, out;
	struct envelope env;
	struct signer sg[MAX_SIGS];
	struct dkim_body *bodies[2] = { NULL, NULL };	/* relaxed, simple */
	unsigned char bh[2][32];
	char *sender = NULL, *fdom = NULL;
	bool utf8 = false, body8 = false;
	int r = -1;

	memset(&env, 0, sizeof env);
	buf_init(&hdr, c->max_header_size);
	buf_init(&out, c->max_header_size + 4096);

	if ((rd = msg_reader_new(x->infd, &mo)) == NULL) {
		err_set(e, EX_OSERR, "out of memory");
		goto out;
	}
	if (msg_read_header(rd, &hdr, e) < 0)
		goto out;
	if (hdr.len > 0 && hdr_parse(buf_str(&hdr), hdr.len, &f, &nf, e) < 0)
		goto out;
	if (hdr_count(f, nf, "From") > 1) {
		/* RFC 5322 3.6: one From. Two are how a forged author hides behind a signed one (RFC 6376
		 * 8.15), and receivers that check DMARC refuse such a message anyway. */
		err_set(e, EX_DATAERR, "the message has %zu From fields (one is allowed)", hdr_count(f, nf, "From"));
		goto out;
	}

	/* recipients */
	for (i = 0; i < o->nrcpt; i++) {
		struct rcpt_set *s = o->extract ? &drop : &rc;
		if (rcpt_add_list(s, &src, o->rcpt[i], strlen(o->rcpt[i]), EX_USAGE, e) < 0)
			goto out;
	}
	if (o->extract) {
		if (rcpt_from_headers(&rc, &src, f, nf, e) < 0)
			goto out;
		rcpt_remove(&rc, &drop);	/* sendmail 8: argv addresses are suppressed with -t */
	}
	if (rc.n == 0) {
		err_set(e, EX_DATAERR, "no recipients");
		goto out;
	}
	if (rcpt_sender(&src, o->sender, x->user, &sender, &utf8, e) < 0)
		goto out;

	/* the completed header section, and the fields DKIM will sign */
	if (complete_header(x, f, nf, sender, &out, e) < 0)
		goto out;
	if (hdr_parse(buf_str(&out), out.len - 2, &cf, &ncf, e) < 0)
		goto out;

	/* which keys sign, and the body hashers they need */
	if ((fdom = from_domain(cf, ncf)) != NULL) {
		size_t idx[MAX_SIGS], n = compose_signing_keys(c, fdom, idx, MAX_SIGS);

		if (n > 0 && strcasecmp(c->dkim[idx[0]].domain, fdom) != 0)
			parent_key_note(x->tofd, fdom, c->dkim[idx[0]].domain);
		for (i = 0; i < n; i++) {
			const struct conf_dkim_key *k = &c->dkim[idx[i]];
			sg[ns].key = idx[i];
			sg[ns].hc = k->canon_set ? k->hcanon : c->dkim_hcanon;
			sg[ns].bc = k->canon_set ? k->bcanon : c->dkim_bcanon;
			int b = sg[ns].bc == CANON_SIMPLE;
			if (bodies[b] == NULL)
				bodies[b] = dkim_body_new(sg[ns].bc);
			sg[ns].bh = bh[b];
			ns++;
		}
	}
	if (ns == 0 && c->ndkim > 0 && !c->dkim_required) {
		struct buf note;

		buf_init(&note, 600);
		if (buf_printf(&note, "L unsigned: no DKIM key for the From domain %s\n", fdom ? fdom : "(none)") == 0)
			(void)write_all(x->tofd, buf_str(&note), note.len, "note", e);
		buf_free(&note);
	}
	if (ns == 0 && c->dkim_required) {
		err_set(e, EX_CONFIG, "no DKIM key for the From domain %s and dkim_required is set", fdom ? fdom : "(none)");
		goto out;
	}

	/* the header section and the body, MIME-completed (body.h): the fields DKIM signs are parsed again */
	struct body_sink sink = { hash_feed, hash_restart, bodies };
	if (body_write(rd, x->datafd, &out, &sink, &body8, e) < 0)
		goto out;
	free(cf);
	cf = NULL;
	if (hdr_parse(buf_str(&out), out.len - 2, &cf, &ncf, e) < 0)
		goto out;
	for (i = 0; i < 2; i++)
		if (bodies[i] != NULL)
			dkim_body_final(bodies[i], bh[i]);

	/* the envelope */
	memcpy(env.id, x->id, strnlen(x->id, LIM_QUEUE_ID));
	env.arrival = (long long)x->now;
	env.sender = sender;
	/* 8-bit octets in the header count too: the server must take 8BITMIME (RFC 6152) */
	env.body8bit = body8 || o->body == BODY_8BITMIME || has_8bit(buf_str(&out), out.len);
	env.smtputf8 = utf8 || rc.utf8;
	env.envid = (char *)(uintptr_t)o->envid;
	env.ret = o->ret == RET_FULL ? 1 : o->ret == RET_HDRS ? 2 : 0;
	env.uid = x->uid;
	env.rcpt = xcalloc(rc.n, sizeof *env.rcpt);
	env.nrcpt = rc.n;
	for (i = 0; i < rc.n; i++) {
		env.rcpt[i].addr = rc.v[i];
		env.rcpt[i].state = RCPT_PENDING;
		env.rcpt[i].notify = o->notify;
	}
	if (ns > 0 && sign_all(x, sg, ns, cf, ncf, &env, e) < 0)
		goto out;
	if (send_envelope(x, &env, e) < 0)
		goto out;
	r = 0;
out:
	for (i = 0; i < env.nprepend; i++)
		free(env.prepend[i]);
	free(env.prepend);
	free(env.rcpt);	/* the strings belong to rc and sender */
	for (i = 0; i < 2; i++)
		dkim_body_free(bodies[i]);
	free(fdom);
	free(sender);
	free(f);
	free(cf);
	rcpt_free(&rc);
	rcpt_free(&drop);
	buf_free(&hdr);
	buf_free(&out);
	msg_reader_free(rd);
	return r;
}
