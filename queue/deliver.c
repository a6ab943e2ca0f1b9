/*
 * deliver.c - one destination's deliveries. See deliver.h.
 *
 * Which failures move on to the next host (RFC 5321 5.1): no connection, a timeout, a greeting or EHLO
 * that is not 2xx, a TLS handshake that fails or does not meet the policy, and a connection lost before
 * any recipient of the message got an answer. A 4xx or 5xx to MAIL, RCPT or DATA is the answer for that
 * message: 5xx fails the recipient, 4xx defers it. Every recipient is reported exactly once.
 */
#include "queue/deliver.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

/* fmt - snprintf for diagnostics, where cutting a long reason short is acceptable. */
static void fmt(char *dst, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *dst, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	(void)vsnprintf(dst, n, f, ap);
	va_end(ap);
}

void deliver_safe_text(char *dst, size_t dstsz, const char *src, size_t n)
{
	size_t i, k = 0;
	bool sp = false;

	if (dstsz == 0)
		return;
	for (i = 0; i < n && k + 1 < dstsz; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c < 32 || c >= 127) {
			sp = k > 0;
			continue;
		}
		if (sp && k + 2 < dstsz)
			dst[k++] = ' ';
		sp = false;
		dst[k++] = (char)c;
	}
	dst[k] = '\0';
}

/* outcome - what we say about recipients that are not answered individually. */
struct outcome {
	enum dlv_state state;
	char status[12];
	char relay[300];
	char tls[64];
	char diag[600];
};

static void set_outcome(struct outcome *o, enum dlv_state st, const char *status, const char *relay,
    const char *tls, const char *diag)
{
	o->state = st;
	fmt(o->status, sizeof o->status, "%s", status);
	fmt(o->relay, sizeof o->relay, "%s", relay);
	fmt(o->tls, sizeof o->tls, "%s", tls);
	deliver_safe_text(o->diag, sizeof o->diag, diag, strlen(diag));
}

/* from_reply - an outcome from a server reply: 5xx fails, else defers. */
static void from_reply(struct outcome *o, const struct smtp_reply *r, const char *relay, const char *tls,
    const char *what)
{
	char diag[600], status[12];

	fmt(diag, sizeof diag, "host %s said: %d %s%s%s", relay, r->code, r->text ? r->text : "",
	    what ? " (in reply to " : "", what ? what : "");
	if (what)
		fmt(diag + strlen(diag), sizeof diag - strlen(diag), ")");
	if (r->status[0] != '\0')
		fmt(status, sizeof status, "%s", r->status);
	else
		fmt(status, sizeof status, "%d.0.0", r->code / 100);
	set_outcome(o, r->code >= 500 ? DLV_FAIL : r->code >= 400 ? DLV_DEFER : DLV_SENT, status, relay, tls,
	    diag);
}

struct run {
	const struct dlv_env *env;
	const struct dlv_dest *d;
	bool **reported;	/* per message, per recipient */
	bool *done;		/* per message */
};

static void report(struct run *R, size_t m, size_t k, const struct outcome *o)
{
	struct dlv_result r;

	if (R->reported[m][k])
		return;
	R->reported[m][k] = true;
	memset(&r, 0, sizeof r);
	r.msg = m;
	r.rcpt = k;
	r.state = o->state;
	memcpy(r.status, o->status, sizeof r.status);
	memcpy(r.relay, o->relay, sizeof r.relay);
	memcpy(r.tls, o->tls, sizeof r.tls);
	memcpy(r.diag, o->diag, sizeof r.diag);
	R->env->report(R->env->report_ctx, &r);
}

static void report_rest(struct run *R, size_t m, const struct outcome *o)
{
	for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
		report(R, m, k, o);
	R->done[m] = true;
}

static bool any_reported(const struct run *R, size_t m)
{
	for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
		if (R->reported[m][k])
			return true;
	return false;
}

/* pipeline_next - while message m is in DATA, have the next pending message's envelope follow its
 * terminator (smtp_envelope_ahead), unless postern is stopping or that message cannot go here. */
static void pipeline_next(struct run *R, struct smtp *s, size_t m)
{
	const struct dlv_msg *next;
	struct err e;
	size_t n = m + 1;

	while (n < R->d->nmsg && R->done[n])
		n++;
	if (n == R->d->nmsg || (R->env->stop != NULL && *R->env->stop))
		return;
	next = &R->d->msg[n];
	if (next->smtputf8 && !smtp_ext(s)->smtputf8)
		return;
	err_clear(&e);
	(void)smtp_envelope_ahead(s, next->sender, next->size + (long long)next->prefixlen, next->body8bit,
	    next->smtputf8, next->rcpt, next->nrcpt, &e);	/* else it goes the normal way */
}

/* transaction - one message over an open session. 0: message done; -1: connection lost before any
 * recipient was answered (try the next host); -2: connection lost after (message done, rest deferred). */
static int transaction(struct run *R, struct smtp *s, size_t m, const char *relay, const char *tls)
{
	const struct dlv_msg *msg = &R->d->msg[m];
	const struct smtp_ext *ext = smtp_ext(s);
	struct smtp_reply *rep, mail;
	struct outcome o;
	struct err e;
	size_t accepted = 0, k;
	bool data_ok = false;
	int r;

	err_clear(&e);
	if (msg->smtputf8 && !ext->smtputf8) {
		set_outcome(&o, DLV_DEFER, "4.6.7", relay, tls, "the message needs SMTPUTF8, which the server "
		    "does not offer");
		report_rest(R, m, &o);
		return 0;
	}
	rep = xcalloc(msg->nrcpt, sizeof *rep);
	memset(&mail, 0, sizeof mail);
	r = smtp_envelope(s, msg->sender, msg->size + (long long)msg->prefixlen, msg->body8bit, msg->smtputf8,
	    msg->rcpt, msg->nrcpt, &mail, rep, &accepted, &data_ok, &e);
	if (r == SMTP_FAIL_LOCAL) {
		set_outcome(&o, DLV_DEFER, "4.3.0", relay, tls, e.msg);
		report_rest(R, m, &o);
		r = smtp_rset(s, &e) == SMTP_OK ? 0 : -2;
		goto out;
	}
	if (r == SMTP_FAIL_PROTO) {	/* a reply of the wrong class: nothing was sent, defer */
		set_outcome(&o, DLV_DEFER, "4.5.0", relay, tls, e.msg);
		report_rest(R, m, &o);
		r = -2;
		goto out;
	}
	if (r != SMTP_OK) {
		r = -1;	/* connection trouble before any answer was final */
		goto out;
	}
	if (mail.code >= 400) {
		from_reply(&o, &mail, relay, tls, "MAIL FROM");
		report_rest(R, m, &o);
		r = smtp_rset(s, &e) == SMTP_OK ? 0 : -2;
		goto out;
	}
	for (k = 0; k < msg->nrcpt; k++) {
		if (rep[k].code >= 400) {
			from_reply(&o, &rep[k], relay, tls, "RCPT TO");
			report(R, m, k, &o);
		}
	}
	if (accepted == 0 || !data_ok) {
		if (accepted > 0) {	/* DATA refused: the accepted recipients get that answer */
			from_reply(&o, smtp_last_reply(s), relay, tls, "DATA");
			report_rest(R, m, &o);
		}
		R->done[m] = true;
		r = smtp_rset(s, &e) == SMTP_OK ? 0 : -2;
		goto out;
	}
	pipeline_next(R, s, m);
	r = smtp_data_body(s, msg->prefix, msg->prefixlen, msg->datafd, msg->size, &e);
	if (r == SMTP_OK || r == SMTP_FAIL_RESP) {
		from_reply(&o, smtp_last_reply(s), relay, tls, r == SMTP_OK ? NULL : "end of DATA");
		if (r == SMTP_OK) {
			const struct smtp_reply *lr = smtp_last_reply(s);
			char diag[600];

			o.state = DLV_SENT;
			if (o.status[0] != '2')
				fmt(o.status, sizeof o.status, "2.0.0");
			fmt(diag, sizeof diag, "%d %s%s", lr->code, lr->text ? lr->text : "",
			    msg->body8bit && !ext->eightbitmime ? " (8-bit message; the server does not offer 8BITMIME: sent as is)" : "");
			deliver_safe_text(o.diag, sizeof o.diag, diag, strlen(diag));
		}
		for (k = 0; k < msg->nrcpt; k++)
			if (rep[k].code < 400)
				report(R, m, k, &o);
		r = 0;
	} else if (r == SMTP_FAIL_LOCAL) {
		set_outcome(&o, DLV_DEFER, "4.3.0", relay, tls, e.msg);
		report_rest(R, m, &o);
		r = -2;	/* the session is in an unknown state */
	} else if (r == SMTP_FAIL_PROTO) {	/* e.g. 354 after the dot: not a success, defer */
		set_outcome(&o, DLV_DEFER, "4.5.0", relay, tls, e.msg);
		report_rest(R, m, &o);
		r = -2;
	} else {
		r = any_reported(R, m) ? -2 : -1;
		if (r == -2) {	/* e.msg: "lost connection with RELAY while sending end of data (...)" */
			set_outcome(&o, DLV_DEFER, "4.4.2", relay, tls, e.msg);
			report_rest(R, m, &o);
		}
	}
out:
	for (k = 0; k < msg->nrcpt; k++)
		smtp_reply_free(&rep[k]);
	smtp_reply_free(&mail);
	free(rep);
	if (r == 0)
		R->done[m] = true;
	return r;
}

/* session - one host: connect, TLS per policy, AUTH, then the transactions of every pending message.
 * Returns true if the host was usable (even if messages were refused), false to try the next one. */
static bool session(struct run *R, const struct route_target *t, enum tls_level level, bool implicit,
    bool plaintext, struct outcome *last, bool *tls_failed)
{
	const struct dlv_env *env = R->env;
	const struct config *c = env->c;
	struct smtp_opts so;
	struct smtp *s;
	struct err e;
	char relay[300], ip[INET_ADDRSTRLEN], tls[64] = "none", diag[800];
	bool usable = false;
	int r;

	err_clear(&e);
	inet_ntop(AF_INET, &t->ip, ip, sizeof ip);
	fmt(relay, sizeof relay, "%s[%s]:%d", t->host, ip, t->port);
	memset(&so, 0, sizeof so);
	smtp_timeouts_from_config(c, &so.to);
	so.peer = relay;	/* the smtp layer's reasons name it */
	so.transcript = env->transcript;
	so.transcript_ctx = env->transcript_ctx;
	s = smtp_new(&so);
	*tls_failed = false;

	if ((r = smtp_connect(s, t->ip, t->port, &e)) != SMTP_OK) {
		fmt(diag, sizeof diag, "connect to %s: %s", relay, e.msg);
		set_outcome(last, DLV_DEFER, "4.4.1", relay, tls, diag);
		goto out;
	}
	if (implicit) {
		if (env->tls == NULL || smtp_tls_implicit(s, env->tls, t->host, &e) != SMTP_OK) {
			fmt(diag, sizeof diag, "TLS handshake with %s failed: %s", relay,
			    env->tls ? e.msg : "TLS is not available");
			set_outcome(last, DLV_DEFER, "4.7.5", relay, tls, diag);
			goto out;
		}
	}
	if ((r = smtp_greeting(s, &e)) != SMTP_OK || (r = smtp_ehlo(s, c->hostname, &e)) != SMTP_OK) {
		if (r == SMTP_FAIL_RESP)
			from_reply(last, smtp_last_reply(s), relay, tls, "the greeting or EHLO");
		else	/* e.msg names the relay and the step */
			set_outcome(last, DLV_DEFER, r == SMTP_FAIL_PROTO ? "4.5.0" : "4.4.2", relay, tls, e.msg);
		last->state = DLV_DEFER;	/* a refusing host is no verdict on the recipient */
		if (last->status[0] == '5')
			last->status[0] = '4';
		goto out;
	}
	if (!implicit && level != TLS_NONE && !plaintext) {
		if (smtp_ext(s)->starttls && env->tls != NULL) {
			if ((r = smtp_starttls(s, env->tls, t->host, &e)) != SMTP_OK) {
				fmt(diag, sizeof diag, "STARTTLS with %s failed: %s", relay, e.msg);
				set_outcome(last, DLV_DEFER, "4.7.5", relay, tls, diag);
				*tls_failed = r != SMTP_FAIL_RESP || level == TLS_MAY;
				goto out;
			}
		} else if (level >= TLS_ENCRYPT) {
			fmt(diag, sizeof diag, "TLS is required, but %s does not offer STARTTLS", relay);
			set_outcome(last, DLV_DEFER, "4.7.4", relay, tls, diag);
			goto quit;
		}
	}
	if (smtp_tls(s) != NULL)
		fmt(tls, sizeof tls, "%s", tls_summary(smtp_tls(s)));
	if (level == TLS_VERIFY && (smtp_tls(s) == NULL || !tls_verified(smtp_tls(s)))) {
		fmt(diag, sizeof diag, "certificate verification failed for %s: %s", relay,
		    smtp_tls(s) ? tls_verify_reason(smtp_tls(s)) : "no TLS");
		set_outcome(last, DLV_DEFER, "4.7.5", relay, tls, diag);
		goto quit;
	}
	if (c->smarthost != NULL && env->auth.user != NULL) {
		r = smtp_auth(s, env->auth.user, env->auth.pass, c->smarthost_tls == SMARTHOST_TLS_NONE, &e);
		if (r != SMTP_OK) {
			if (r == SMTP_FAIL_RESP)
				from_reply(last, smtp_last_reply(s), relay, tls, "AUTH");
			else
				set_outcome(last, DLV_DEFER, "4.7.0", relay, tls, e.msg);
			last->state = DLV_DEFER;	/* credentials are fixed by the admin, not by bouncing */
			if (last->status[0] == '5')
				last->status[0] = '4';
			goto quit;
		}
	}
	usable = true;
	for (size_t m = 0; m < R->d->nmsg; m++) {
		if (R->done[m])
			continue;
		if (env->stop != NULL && *env->stop && !smtp_ahead_pending(s)) {
			set_outcome(last, DLV_DEFER, "4.3.2", relay, tls, "postern is shutting down");
			break;
		}
		r = transaction(R, s, m, relay, tls);
		if (r < 0) {
			const char *status, *why = smtp_failure(s, &status);

			/* why: "lost connection with RELAY while reading the reply to RCPT TO (...)" */
			set_outcome(last, DLV_DEFER, status, relay, tls,
			    why[0] ? why : "connection closed after a local error in the previous message");
			usable = r == -2;	/* the message was answered: the host worked */
			goto out;	/* no QUIT on a dead connection */
		}
	}
quit:
	smtp_quit(s);
out:
	smtp_free(s);
	return usable;
}

void deliver_dest(const struct dlv_env *env, const struct dlv_dest *d)
{
	const struct config *c = env->c;
	struct route rt = { 0 };
	struct outcome last;
	struct run R;
	struct err e;
	enum route_result rr;
	enum tls_level level;
	bool implicit = false;
	size_t m, i;

	err_clear(&e);
	R.env = env;
	R.d = d;
	R.done = xcalloc(d->nmsg, sizeof *R.done);
	R.reported = xcalloc(d->nmsg, sizeof *R.reported);
	for (m = 0; m < d->nmsg; m++)
		R.reported[m] = xcalloc(d->msg[m].nrcpt ? d->msg[m].nrcpt : 1, sizeof **R.reported);

	if (c->smarthost != NULL) {
		rr = route_host(env->dns, c->smarthost, c->smarthost_port, &rt, &e);
		implicit = c->smarthost_tls == SMARTHOST_TLS_TLS ||
		    (c->smarthost_tls == SMARTHOST_TLS_AUTO && c->smarthost_port == 465);
		level = c->smarthost_tls == SMARTHOST_TLS_NONE ? TLS_NONE : TLS_VERIFY;
	} else {
		rr = route_mx(env->dns, d->domain, env->rnd, env->rndctx, &rt, &e);
		level = conf_tls_for(c, d->domain);
	}
	switch (rr) {
	case ROUTE_OK:
		set_outcome(&last, DLV_DEFER, "4.4.1", "none", "none", "no host could be reached");
		break;
	case ROUTE_NULLMX:
		set_outcome(&last, DLV_FAIL, "5.1.10", "none", "none", "domain does not accept mail (null MX)");
		break;
	case ROUTE_NXDOMAIN:
		set_outcome(&last, DLV_FAIL, "5.1.2", "none", "none", e.msg[0] ? e.msg : "domain not found");
		break;
	case ROUTE_PERMFAIL:
		set_outcome(&last, DLV_FAIL, "5.4.4", "none", "none", e.msg[0] ? e.msg : "unroutable domain");
		break;
	case ROUTE_TEMPFAIL:
	case ROUTE_NOHOSTS:
	default:
		set_outcome(&last, DLV_DEFER, rr == ROUTE_NOHOSTS ? "4.4.4" : "4.4.3", "none", "none",
		    e.msg[0] ? e.msg : "DNS lookup failed");
		break;
	}
	for (i = 0; rr == ROUTE_OK && i < rt.n; i++) {
		bool tls_failed = false, pending = false;

		for (m = 0; m < d->nmsg; m++)
			pending |= !R.done[m];
		if (!pending || (env->stop != NULL && *env->stop))
			break;
		if (!session(&R, &rt.t[i], level, implicit, false, &last, &tls_failed) && tls_failed &&
		    level == TLS_MAY)
			(void)session(&R, &rt.t[i], level, implicit, true, &last, &tls_failed);	/* plaintext */
	}
	for (m = 0; m < d->nmsg; m++)
		if (!R.done[m])
			report_rest(&R, m, &last);
	route_free(&rt);
	for (m = 0; m < d->nmsg; m++)
		free(R.reported[m]);
	free(R.reported);
	free(R.done);
}
