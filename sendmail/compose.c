/*
 * compose.c - the unprivileged half of submission. See compose.h.
 *
 * SECURITY: this code runs after privsep_drop_all(): it can neither read the spool nor any key (the
 * front door holds none: the queue side signs). Everything it produces that the privileged parent acts
 * on (the envelope) is re-validated there. Memory is bounded by the header section: the body streams
 * from infd to datafd in fixed chunks.
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
#include "lib/date.h"
#include "lib/fdio.h"
#include "lib/limits.h"
#include "lib/text.h"
#include "queue/store/envelope.h"
#include "lib/hdr.h"
#include "sendmail/body.h"
#include "sendmail/handoff.h"
#include "lib/mime.h"
#include "sendmail/msg.h"
#include "sendmail/rcpt.h"
#include "sendmail/rewrite.h"


/* write_all - write n bytes or fail with EX_TEMPFAIL (ENOSPC, EDQUOT, EIO, EFBIG ...). */
static int write_all(int fd, const char *p, size_t n, const char *what, struct err *e)
{
	if (fdio_write_all(fd, p, n) < 0)
		return err_set(e, EX_TEMPFAIL, "%s: %s", what, strerror(errno));
	return 0;
}

int compose_date(struct buf *out, time_t now)
{
	char d[DATE_MAX];

	if (date_format(d, (long long)now, DATE_RFC5322, false) < 0)
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

/* send_envelope - the one record for the parent (handoff.h). */
static int send_envelope(const struct compose_ctx *x, const struct envelope *env, struct err *e)
{
	struct buf text, rec;
	int r = -1;

	buf_init(&text, HANDOFF_ENV_MAX);
	buf_init(&rec, HANDOFF_MAX);
	if (env_format(env, &text, e) == 0 && handoff_format(HANDOFF_ENVELOPE, buf_str(&text), text.len, &rec, e) == 0)
		r = write_all(x->tofd, buf_str(&rec), rec.len, "envelope", e);
	buf_free(&text);
	buf_free(&rec);
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
	size_t nf = 0, ncf = 0, i;
	struct buf hdr, out;
	struct envelope env;
	char *sender = NULL, *sender_orig = NULL;
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
	sender_orig = xstrdup(sender);
	(void)rewrite_sender(c, &sender);	/* rewrite_sender rules (rewrite.h) */

	/* the completed header section */
	if (complete_header(x, f, nf, sender, &out, e) < 0)
		goto out;
	if (rewrite_header(c, sender_orig, sender, &out, e) < 0)	/* rewrite_from, from_policy */
		goto out;

	/* the header section and the body, MIME-completed (body.h); then parsed once more as the queue
	 * side will read it to sign it */
	if (body_write(rd, x->datafd, &out, NULL, &body8, e) < 0)
		goto out;
	if (hdr_parse(buf_str(&out), out.len - 2, &cf, &ncf, e) < 0)
		goto out;

	/* the envelope */
	memcpy(env.id, x->id, strnlen(x->id, ENV_ID_LEN));
	env.arrival = (long long)x->now;
	env.sender = sender;
	/* 8-bit octets in the header count too: the server must take 8BITMIME (RFC 6152) */
	env.body8bit = body8 || o->body == BODY_8BITMIME || text_has_8bit(buf_str(&out), out.len);
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
	if (send_envelope(x, &env, e) < 0)
		goto out;
	r = 0;
out:
	free(env.rcpt);	/* the strings belong to rc and sender */
	free(sender);
	free(sender_orig);
	free(f);
	free(cf);
	rcpt_free(&rc);
	rcpt_free(&drop);
	buf_free(&hdr);
	buf_free(&out);
	msg_reader_free(rd);
	return r;
}
