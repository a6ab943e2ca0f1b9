/*
 * deliver.c - one destination's deliveries. See deliver.h.
 *
 * Which failures move on to the next host (RFC 5321 5.1): no connection, a timeout, a greeting or EHLO
 * that is not 2xx, a TLS handshake that fails or does not meet the policy, and a connection lost before
 * any recipient of the message got an answer. A 4xx or 5xx to MAIL, RCPT or DATA is the answer for that
 * message: 5xx fails the recipient, 4xx defers it -- except a 4xx to RCPT while the destination has a
 * later MX: that recipient alone is carried to the next MX within the attempt (carry_on, as Exim
 * does). Every recipient is reported exactly once.
 */
#include "queue/wire/deliver.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/clock.h"
#include "lib/text.h"
#include "queue/wire/tls_policy.h"

#define DIRECT_FAIL_MAX 300	/* why direct delivery failed, quoted when the relay is used instead */
#define REPORT_WHY_MAX 400	/* a recipient's reason with "direct delivery failed (...)" put in front */

/* fmt - snprintf for diagnostics, where cutting a long reason short is acceptable. */
static void fmt(char *dst, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
static void fmt(char *dst, size_t n, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	(void)vsnprintf(dst, n, f, ap);
	va_end(ap);
}

/* outcome - what we say about recipients that are not answered individually. */
struct outcome {
	enum dlv_state state;
	char status[DLV_STATUS_MAX];
	char relay[DLV_RELAY_MAX];
	char tls[DLV_TLS_MAX];
	char diag[DLV_DIAG_MAX];
	enum dlv_refusal refusal;	/* a server's refusal of the sending host (dlv_refusal) */
};

static void set_outcome(struct outcome *o, struct dlv_fate f, const char *relay, const char *tls,
    const char *diag)
{
	o->refusal = DLV_R_NONE;
	o->state = f.state;
	fmt(o->status, sizeof o->status, "%s", f.status);
	fmt(o->relay, sizeof o->relay, "%s", relay);
	fmt(o->tls, sizeof o->tls, "%s", tls);
	(void)text_safe(o->diag, sizeof o->diag, diag, strlen(diag), TEXT_LINE);
}

/* cause - the fate of a local cause (dlv_fate.h). */
static struct dlv_fate cause(enum dlv_cause c)
{
	return dlv_fate(SMTP_STEP_CONNECT, 0, NULL, c);
}

/* from_reply - an outcome from the server's reply at `step` (dlv_fate: 5xx to the transaction fails,
 * to the session defers, 4xx defers). */
static void from_reply(struct outcome *o, const struct smtp_reply *r, const char *relay, const char *tls,
    enum smtp_step step, const char *what)
{
	char diag[DLV_DIAG_MAX];

	fmt(diag, sizeof diag, "host %s said: %d %s%s%s", relay, r->code, r->text ? r->text : "",
	    what ? " (in reply to " : "", what ? what : "");
	if (what)
		fmt(diag + strlen(diag), sizeof diag - strlen(diag), ")");
	set_outcome(o, dlv_fate(step, r->code, r->status, DLV_C_REPLY), relay, tls, diag);
	o->refusal = dlv_refusal(r->code, r->status, r->text, r->text ? strlen(r->text) : 0);
}

struct run {
	const struct dlv_env *env;
	const struct dlv_dest *d;
	bool **reported;	/* per message, per recipient */
	bool *done;		/* per message: every recipient reported */
	unsigned char *tries;	/* per message: connections lost while it was in its transaction */
	long hand[2];		/* taken and not done, in order (the second may be pipelined ahead) */
	size_t nhand;
	bool ended;		/* the source has no more */
	bool progress;		/* this connection: a message got its final answer from the server */
	bool any_progress;	/* any connection of this destination */
	/* next-MX retry of 4xx recipients, fallback_relay (carry_rcpt): */
	size_t nmx;		/* rt's targets before fallback_relay's (rt->n: none) */
	bool mx;		/* direct delivery: rt is the MX hosts (then the relay) */
	bool next_host;		/* a later target of this destination may take a 4xx recipient */
	bool relay_later;	/* on an MX host, with fallback_relay after the MX hosts */
	bool at_relay;		/* on fallback_relay */
	char direct_fail[DIRECT_FAIL_MAX];	/* why the relay was reached with no MX answer, or "" */
	bool **carried;		/* per message, per recipient: 4xx here, for the next MX */
	struct outcome **held;	/* per message (NULL until needed): each carried recipient's 4xx */
	bool *carry;		/* per message: has recipients carried to the next MX */
	const struct route *rt;	/* the destination's hosts, */
	size_t host;		/* the one the main session is on, */
	enum tls_level level;	/* and their TLS level */
	bool solo;		/* carry_on: the session takes no message but solo_m */
	size_t solo_m;
};

/* relay_why - on fallback_relay, why recipient k of m is there: "direct delivery refused for
 * reputation", "... deferred", "... failed (REASON)"; "" when not on the relay. */
static void relay_why(const struct run *R, size_t m, size_t k, char *dst, size_t n)
{
	const struct outcome *h = R->held[m] != NULL && R->held[m][k].status[0] ? &R->held[m][k] : NULL;

	dst[0] = '\0';
	if (!R->at_relay)
		return;
	if (h != NULL && h->refusal != DLV_R_NONE)
		fmt(dst, n, "direct delivery refused for %s", dlv_refusal_name(h->refusal));
	else if (h != NULL)
		fmt(dst, n, "direct delivery deferred (%s)", h->status);
	else
		fmt(dst, n, "direct delivery failed (%s)", R->direct_fail[0] ? R->direct_fail : "no MX host answered");
}

static void report(struct run *R, size_t m, size_t k, const struct outcome *o)
{
	struct dlv_result r;
	char why[REPORT_WHY_MAX];

	if (R->reported[m][k] || R->carried[m][k])
		return;	/* (a carried recipient waits for the next MX: carry_rcpt) */
	R->reported[m][k] = true;
	memset(&r, 0, sizeof r);
	r.msg = m;
	r.rcpt = k;
	r.state = o->state;
	memcpy(r.status, o->status, sizeof r.status);
	memcpy(r.relay, o->relay, sizeof r.relay);
	memcpy(r.tls, o->tls, sizeof r.tls);
	memcpy(r.diag, o->diag, sizeof r.diag);
	relay_why(R, m, k, why, sizeof why);
	if (why[0] != '\0')	/* the log and mailq say why it went to the relay */
		fmt(r.diag, sizeof r.diag, "%s: %s via relay %s (%s)", why, o->state == DLV_SENT ? "sent" : "tried",
		    o->relay, o->diag);
	R->env->report(R->env->report_ctx, &r);
}

/* hand_drop - m is off the worker's hands (done, or taken back). */
static void hand_drop(struct run *R, size_t m)
{
	for (size_t i = 0; i < R->nhand; i++)
		if (R->hand[i] == (long)m) {
			memmove(&R->hand[i], &R->hand[i + 1], (R->nhand - i - 1) * sizeof *R->hand);
			R->nhand--;
			return;
		}
}

static void report_rest(struct run *R, size_t m, const struct outcome *o)
{
	for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
		report(R, m, k, o);
	R->done[m] = true;
	hand_drop(R, m);
}

/* carry_rcpt - a 4xx to RCPT while a later MX of the destination is left (or, on an MX host with
 * fallback_relay set, any deferral or a refusal of the sending host: carries): the recipient is not
 * reported but carried to the next target within this attempt (as Exim does); its reply is kept, to
 * be its outcome if no later target answers for it (flush_held). Only that recipient goes again:
 * those accepted here are never resent. */
static void carry_rcpt(struct run *R, size_t m, size_t k, const struct outcome *o)
{
	if (R->held[m] == NULL)
		R->held[m] = xcalloc(R->d->msg[m].nrcpt, sizeof *R->held[m]);
	R->held[m][k] = *o;
	R->carried[m][k] = true;
	R->carry[m] = true;
}

/* carries - whether outcome o at `step` sends the recipient on to the next target (carry_rcpt). */
static bool carries(const struct run *R, const struct outcome *o, enum smtp_step step)
{
	if (!R->next_host || o->state == DLV_SENT)
		return false;
	if (o->state == DLV_DEFER && step == SMTP_STEP_RCPT)
		return true;	/* the next MX, as Exim does */
	if (!R->relay_later)
		return false;
	return o->state == DLV_DEFER || (o->state == DLV_FAIL && o->refusal != DLV_R_NONE);
}

/* settle - recipient k of m gets outcome o from `step`: reported, or carried on (carries). */
static void settle(struct run *R, size_t m, size_t k, const struct outcome *o, enum smtp_step step)
{
	if (!R->reported[m][k] && !R->carried[m][k] && carries(R, o, step))
		carry_rcpt(R, m, k, o);
	else
		report(R, m, k, o);
}

/* settle_rest - settle each recipient of m not answered yet, and m is done. */
static void settle_rest(struct run *R, size_t m, const struct outcome *o, enum smtp_step step)
{
	for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
		settle(R, m, k, o, step);
	report_rest(R, m, o);	/* (marks it done) */
}

/* flush_held - message m's recipients a 4xx carried on and no later MX answered get the last 4xx
 * they had. */
static void flush_held(struct run *R, size_t m)
{
	bool at_relay = R->at_relay;

	if (R->held[m] == NULL)
		return;
	R->at_relay = false;	/* (the reply is an MX host's, not the relay's: no "via relay") */
	for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
		if (R->held[m][k].status[0] != '\0') {
			struct outcome *h = &R->held[m][k];

			R->carried[m][k] = false;
			if (h->state == DLV_FAIL && R->mx && R->nmx < R->rt->n) {
				h->state = DLV_DEFER;	/* a refusal of us, and the relay could not be used: */
				h->status[0] = '4';	/* it may take the recipient next time */
			}
			report(R, m, k, h);
		}
	R->carry[m] = false;
	R->at_relay = at_relay;
}

/* take - from the source, into the hand: the message index, -1 (no more) or -2 (none yet). */
static long take(struct run *R, bool wait)
{
	long m;

	if (R->ended || R->nhand == 2 || R->solo)
		return -1;
	m = R->d->src.take(R->d->src.ctx, wait);
	if (m == -1)
		R->ended = true;
	if (m >= 0 && ((size_t)m >= R->d->nmsg || R->done[m]))
		m = -2;	/* (the runner does not hand out a message twice; never trust it blindly) */
	if (m >= 0)
		R->hand[R->nhand++] = m;
	return m;
}

/* current - the message to deliver next: the first in hand, else a new one (waiting for it). */
static long current(struct run *R)
{
	if (R->solo)
		return R->done[R->solo_m] ? -1 : (long)R->solo_m;
	return R->nhand > 0 ? R->hand[0] : take(R, true);
}

/* mail_params - what MAIL carries for msg: the size is what DATA sends, the prefix included. */
static struct smtp_mail_params mail_params(const struct dlv_msg *msg)
{
	return (struct smtp_mail_params){ .sender = msg->sender,
	    .size = msg->size + (long long)msg->prefixlen, .body8bit = msg->body8bit,
	    .smtputf8 = msg->smtputf8, .ret = msg->ret, .envid = msg->envid };
}

/* pipeline_next - while message m is in DATA, have the next message's envelope follow its terminator
 * (smtp_envelope_ahead), unless postern is stopping or that message cannot go here. */
static void pipeline_next(struct run *R, struct smtp *s)
{
	const struct dlv_msg *next;
	struct smtp_mail_params mp;
	struct err e;

	if (R->env->stop != NULL && *R->env->stop)
		return;
	if (R->env->c->destination_rate_delay > 0)
		return;	/* the next one waits for the delay, not behind this terminator */
	if (R->nhand < 2 && take(R, false) < 0)
		return;
	if (R->tries[R->hand[1]] > 0 || R->held[R->hand[1]] != NULL)
		return;	/* (one with recipients answered already goes the normal way, without them) */
	next = &R->d->msg[R->hand[1]];
	if (next->smtputf8 && !smtp_ext(s)->smtputf8)
		return;
	if (next->body8bit && !smtp_ext(s)->eightbitmime && R->env->form != NULL)
		return;	/* its SIZE and BODY are known once its 7-bit form is made (transaction) */
	err_clear(&e);
	mp = mail_params(next);
	(void)smtp_envelope_ahead(s, &mp, next->rcpt, next->nrcpt, &e);	/* else it goes the normal way */
}

/* rate_wait - destination_rate_delay: before the next message on this connection (there is one, or
 * the runner may still hand one out), the delay since the last, cut short by a stop. The source hears
 * that the connection is alive as it waits and as it ends, so the runner's stall clock (which would
 * take a silent second for a stalled transaction) starts with the next message. */
static void rate_wait(struct run *R)
{
	const struct dlv_source *src = &R->d->src;
	long long end, said;

	if (R->env->c->destination_rate_delay <= 0 || (R->nhand == 0 && take(R, false) == -1))
		return;
	said = now_ms();
	end = said + R->env->c->destination_rate_delay * 1000LL;
	while (!(R->env->stop != NULL && *R->env->stop) && now_ms() < end) {
		long long left = end - now_ms();

		(void)poll(NULL, 0, left > 100 ? 100 : (int)left);	/* a stop is seen within 0.1 s */
		if (src->alive != NULL && now_ms() - said >= DLV_ALIVE_MS) {
			src->alive(src->ctx);
			said = now_ms();
		}
	}
	if (src->alive != NULL)
		src->alive(src->ctx);
}

/* What a transaction leaves the connection in. */
enum txn { TXN_OK, TXN_LOST, TXN_REOPEN };

/* lost - the connection died in message m's transaction: the message tries again on the next one, or
 * after DLV_TRIES connections is deferred with the reason. */
static void lost(struct run *R, size_t m, const char *relay, const char *tls, const char *why)
{
	struct outcome o;

	if (++R->tries[m] < DLV_TRIES)
		return;
	/* why (smtp_failure's) names the relay and the step: "lost connection with RELAY while ..." */
	set_outcome(&o, cause(DLV_C_LOST), relay, tls, why[0] ? why : "connection closed");
	settle_rest(R, m, &o, SMTP_STEP_CONNECT);
}

/* to7bit - message m is 8-bit and the server does not offer 8BITMIME: its 7-bit form into f (RFC 6152
 * section 3), or, when there is none, its recipients answered (false). */
static bool to7bit(struct run *R, size_t m, struct dlv_form *f, struct outcome *o, const char *relay,
    const char *tls, struct err *e)
{
	switch (R->env->form(R->env->form_ctx, m, f, e)) {
	case DLV_FORM_ASIS:
	case DLV_FORM_MADE:
		return true;
	case DLV_FORM_IMPOSSIBLE:
		set_outcome(o, cause(DLV_C_8BIT), relay, tls, e->msg);
		break;
	case DLV_FORM_FAILED:
	default:
		set_outcome(o, cause(DLV_C_LOCAL), relay, tls, e->msg);
		break;
	}
	report_rest(R, m, o);
	return false;
}

/* transaction - message m over an open session; its recipients already answered (a lost connection
 * earlier) are left out. */
static enum txn transaction(struct run *R, struct smtp *s, size_t m, const char *relay, const char *tls,
    struct err *e)
{
	const struct dlv_msg *msg = &R->d->msg[m];
	const struct smtp_ext *ext = smtp_ext(s);
	struct smtp_mail_params mp;
	bool ahead = smtp_ahead_pending(s);	/* its envelope went out behind the last terminator */
	struct smtp_reply *rep, mail;
	struct smtp_rcpt_params *rc;
	size_t *idx, n = 0, accepted = 0, k;
	struct outcome o;
	struct dlv_form form = { .fd = -1 };
	bool data_ok = false;
	enum txn t = TXN_OK;
	int r;

	set_outcome(&o, cause(DLV_C_PROTO), relay, tls, "no reply");
	if (!R->d->src.start(R->d->src.ctx, m)) {
		hand_drop(R, m);	/* the runner took it back: another connection has it now */
		return ahead ? TXN_REOPEN : TXN_OK;	/* (the server holds its envelope: drop it) */
	}
	if (msg->smtputf8 && !ext->smtputf8 && !ahead) {
		set_outcome(&o, cause(DLV_C_SMTPUTF8), relay, tls, "the message needs SMTPUTF8, which the server "
		    "does not offer");
		report_rest(R, m, &o);
		return TXN_OK;
	}
	if (msg->body8bit && !ext->eightbitmime && !ahead && R->env->form != NULL &&
	    !to7bit(R, m, &form, &o, relay, tls, e))
		return TXN_OK;
	rc = xcalloc(msg->nrcpt, sizeof *rc);
	idx = xcalloc(msg->nrcpt, sizeof *idx);
	for (k = 0; k < msg->nrcpt; k++)
		if ((!R->reported[m][k] && !R->carried[m][k]) || ahead) {	/* (a pipelined envelope has them all) */
			rc[n] = msg->rcpt[k];
			idx[n++] = k;
		}
	if (n == 0) {	/* (every one left is carried to the next MX) */
		report_rest(R, m, &o);
		free(rc);
		free(idx);
		return TXN_OK;
	}
	rep = xcalloc(n, sizeof *rep);
	memset(&mail, 0, sizeof mail);
	mp = mail_params(msg);
	if (form.fd >= 0) {
		mp.size = form.size + (long long)form.prefixlen;
		mp.body8bit = false;
	}
	r = smtp_envelope(s, &mp, rc, n, &mail, rep, &accepted, &data_ok, e);
	if (r == SMTP_FAIL_LOCAL) {
		set_outcome(&o, cause(DLV_C_LOCAL), relay, tls, e->msg);
		report_rest(R, m, &o);
		t = smtp_rset(s, e) == SMTP_OK ? TXN_OK : TXN_LOST;
		goto out;
	}
	if (r == SMTP_FAIL_PROTO) {	/* a reply of the wrong class: nothing was sent, defer */
		set_outcome(&o, cause(DLV_C_PROTO), relay, tls, e->msg);
		report_rest(R, m, &o);
		t = TXN_LOST;
		goto out;
	}
	if (r != SMTP_OK) {
		lost(R, m, relay, tls, e->msg);
		t = TXN_LOST;
		goto out;
	}
	if (mail.code >= 400) {
		R->progress = true;	/* (an answer for the message: this connection works) */
		from_reply(&o, &mail, relay, tls, SMTP_STEP_MAIL, "MAIL FROM");
		settle_rest(R, m, &o, SMTP_STEP_MAIL);
		t = smtp_rset(s, e) == SMTP_OK ? TXN_OK : TXN_LOST;
		goto out;
	}
	for (k = 0; k < n; k++)
		if (rep[k].code >= 400) {
			from_reply(&o, &rep[k], relay, tls, SMTP_STEP_RCPT, "RCPT TO");
			settle(R, m, idx[k], &o, SMTP_STEP_RCPT);
		}
	if (accepted == 0 || !data_ok) {
		R->progress = true;
		if (accepted > 0) {	/* DATA refused: the accepted recipients get that answer */
			from_reply(&o, smtp_last_reply(s), relay, tls, SMTP_STEP_DATA, "DATA");
			settle_rest(R, m, &o, SMTP_STEP_DATA);
		}
		report_rest(R, m, &o);	/* (all answered already: this only marks it done) */
		t = smtp_rset(s, e) == SMTP_OK ? TXN_OK : TXN_LOST;
		goto out;
	}
	pipeline_next(R, s);
	if (form.fd >= 0)
		r = smtp_data_body(s, form.prefix, form.prefixlen, form.fd, form.size, e);
	else
		r = smtp_data_body(s, msg->prefix, msg->prefixlen, msg->datafd, msg->size, e);
	if (r == SMTP_OK || r == SMTP_FAIL_RESP) {
		R->progress = true;
		from_reply(&o, smtp_last_reply(s), relay, tls, SMTP_STEP_DOT,
		    r == SMTP_OK ? NULL : "end of DATA");
		if (r == SMTP_OK) {
			const struct smtp_reply *lr = smtp_last_reply(s);
			char diag[DLV_DIAG_MAX];

			fmt(diag, sizeof diag, "%d %s%s", lr->code, lr->text ? lr->text : "",
			    form.fd >= 0 ? " (8-bit message converted to 7-bit: the server does not offer 8BITMIME)" :
			    msg->body8bit && !ext->eightbitmime ? " (8-bit message; the server does not offer 8BITMIME: sent as is)" : "");
			(void)text_safe(o.diag, sizeof o.diag, diag, strlen(diag), TEXT_LINE);
		}
		for (k = 0; k < n; k++)
			if (rep[k].code < 400)
				settle(R, m, idx[k], &o, SMTP_STEP_DOT);
		report_rest(R, m, &o);	/* (marks it done) */
	} else if (r == SMTP_FAIL_LOCAL) {
		set_outcome(&o, cause(DLV_C_LOCAL), relay, tls, e->msg);
		report_rest(R, m, &o);
		t = TXN_LOST;	/* the session is in an unknown state */
	} else if (r == SMTP_FAIL_PROTO) {	/* e.g. 354 after the dot: not a success, defer */
		set_outcome(&o, cause(DLV_C_PROTO), relay, tls, e->msg);
		report_rest(R, m, &o);
		t = TXN_LOST;
	} else {
		lost(R, m, relay, tls, e->msg);
		t = TXN_LOST;
	}
out:
	for (k = 0; k < n; k++)
		smtp_reply_free(&rep[k]);
	smtp_reply_free(&mail);
	free(rep);
	free(rc);
	free(idx);
	dlv_form_free(&form);
	return t;
}

/* What a session with one host came to. */
enum sess { SESS_DONE, SESS_UNUSABLE, SESS_LOST, SESS_REOPEN };

static void carry_on(struct run *R, size_t m);

/* session - one host: connect, TLS per policy, AUTH, then the transactions of the messages the source
 * hands out until it has no more (SESS_DONE). SESS_UNUSABLE: try the next host (last says why);
 * SESS_LOST: the connection died in a transaction; SESS_REOPEN: it must be dropped (a message
 * pipelined on it was taken back). */
static enum sess session(struct run *R, const struct route_target *t, enum tls_level level, bool implicit,
    bool plaintext, struct outcome *last, bool *tls_failed)
{
	const struct dlv_env *env = R->env;
	const struct config *c = env->c;
	struct smtp_opts so;
	struct smtp *s;
	struct err e;
	char relay[DLV_RELAY_MAX], ip[INET_ADDRSTRLEN], tls[DLV_TLS_MAX] = "none", diag[DLV_DIAG_MAX];
	enum sess res = SESS_UNUSABLE;
	enum txn tr;
	int r;

	err_clear(&e);
	inet_ntop(AF_INET, &t->ip, ip, sizeof ip);
	fmt(relay, sizeof relay, "%s[%s]:%d", t->host, ip, t->port);
	memset(&so, 0, sizeof so);
	smtp_timeouts_from_config(c, &so.to);
	so.peer = relay;	/* the smtp layer's reasons name it */
	so.source = R->d->domain != NULL && !R->at_relay ? c->source_address : NULL;	/* not to a relay */
	so.transcript = env->transcript;
	so.transcript_ctx = env->transcript_ctx;
	s = smtp_new(&so);
	*tls_failed = false;

	if ((r = smtp_connect(s, t->ip, t->port, &e)) != SMTP_OK) {
		fmt(diag, sizeof diag, "connect to %s: %s", relay, e.msg);
		set_outcome(last, cause(DLV_C_CONNECT), relay, tls, diag);
		goto out;
	}
	if (implicit) {
		if (env->tls == NULL || smtp_tls_implicit(s, env->tls, t->host, &e) != SMTP_OK) {
			fmt(diag, sizeof diag, "TLS handshake with %s failed: %s", relay,
			    env->tls ? e.msg : "TLS is not available");
			set_outcome(last, cause(DLV_C_TLS_FAILED), relay, tls, diag);
			goto out;
		}
	}
	if ((r = smtp_greeting(s, &e)) != SMTP_OK || (r = smtp_ehlo(s, c->hostname, &e)) != SMTP_OK) {
		/* a refusing host is no verdict on the recipient: dlv_fate defers a 5xx to either step */
		if (r == SMTP_FAIL_RESP)
			from_reply(last, smtp_last_reply(s), relay, tls, SMTP_STEP_GREETING,
			    "the greeting or EHLO");
		else	/* e.msg names the relay and the step */
			set_outcome(last, cause(r == SMTP_FAIL_PROTO ? DLV_C_PROTO : DLV_C_LOST), relay, tls,
			    e.msg);
		goto out;
	}
	if (!implicit && level != TLS_NONE && !plaintext) {
		/* a failure of ours (no TLS context, memory, descriptors) is never a reason to send in clear:
		 * the mail waits; only the peer's failure lets `may` retry in plaintext (deliver_dest) */
		if (smtp_ext(s)->starttls && env->tls == NULL) {
			fmt(diag, sizeof diag, "TLS is unavailable on this host (see the log), not sending to %s "
			    "in clear", relay);
			set_outcome(last, cause(DLV_C_TLS_FAILED), relay, tls, diag);
			goto quit;
		} else if (smtp_ext(s)->starttls) {
			if ((r = smtp_starttls(s, env->tls, t->host, &e)) != SMTP_OK) {
				fmt(diag, sizeof diag, "STARTTLS with %s failed: %s%s", relay, e.msg,
				    r == SMTP_FAIL_LOCAL ? " (a failure on this host: not sending in clear)" : "");
				set_outcome(last, cause(r == SMTP_FAIL_LOCAL ? DLV_C_LOCAL : DLV_C_TLS_FAILED),
				    relay, tls, diag);
				*tls_failed = r != SMTP_FAIL_LOCAL && (r != SMTP_FAIL_RESP || level == TLS_MAY);
				goto out;
			}
		} else if (level >= TLS_ENCRYPT) {
			fmt(diag, sizeof diag, "TLS is required, but %s does not offer STARTTLS", relay);
			set_outcome(last, cause(DLV_C_TLS_MISSING), relay, tls, diag);
			goto quit;
		}
	}
	if (smtp_tls(s) != NULL)
		fmt(tls, sizeof tls, "%s", tls_summary(smtp_tls(s)));
	if (level == TLS_VERIFY && (smtp_tls(s) == NULL || !tls_verified(smtp_tls(s)))) {
		fmt(diag, sizeof diag, "certificate verification failed for %s: %s", relay,
		    smtp_tls(s) ? tls_verify_reason(smtp_tls(s)) : "no TLS");
		set_outcome(last, cause(DLV_C_TLS_FAILED), relay, tls, diag);
		goto quit;
	}
	int ai = R->d->domain == NULL ? conf_smarthost_auth_for(c, t->host, t->port) : -1;
	struct dlv_cred cred = ai >= 0 && ai < CONF_SMARTHOSTS ? env->auth.host[ai] :
	    (struct dlv_cred){ env->auth.user, env->auth.pass };

	if (R->d->domain == NULL && cred.user != NULL) {	/* a smarthost's (or a sender relay's), only */
		r = smtp_auth(s, cred.user, cred.pass, c->smarthost_tls == SMARTHOST_TLS_NONE, &e);
		if (r != SMTP_OK) {
			/* credentials are fixed by the admin, not by bouncing: dlv_fate defers a 5xx to AUTH */
			if (r == SMTP_FAIL_RESP)
				from_reply(last, smtp_last_reply(s), relay, tls, SMTP_STEP_AUTH, "AUTH");
			else
				set_outcome(last, cause(DLV_C_AUTH), relay, tls, e.msg);
			goto quit;
		}
	}
	R->progress = false;
	for (;;) {
		long m;

		if (env->stop != NULL && *env->stop && !smtp_ahead_pending(s)) {
			set_outcome(last, cause(DLV_C_SHUTDOWN), relay, tls, "postern is shutting down");
			res = SESS_DONE;
			break;
		}
		if ((m = current(R)) < 0) {
			res = SESS_DONE;
			break;
		}
		err_clear(&e);
		tr = transaction(R, s, (size_t)m, relay, tls, &e);
		R->any_progress |= R->progress;
		if (!R->solo && R->done[m] && R->carry[m])
			carry_on(R, (size_t)m);	/* (this connection waits meanwhile) */
		if (tr == TXN_OK)
			rate_wait(R);
		if (tr == TXN_REOPEN) {
			res = SESS_REOPEN;
			goto out;	/* no QUIT: the server waits for a body that will not come */
		}
		if (tr == TXN_LOST) {
			const char *status, *why = smtp_failure(s, &status);
			struct dlv_fate f = cause(DLV_C_LOST);

			/* why: "lost connection with RELAY while reading the reply to RCPT TO (...)"; none
			 * after a local error (e). The smtp layer's status says lost (4.4.2) or protocol error. */
			if (why[0])
				f = cause(strcmp(status, f.status) == 0 ? DLV_C_LOST : DLV_C_PROTO);
			set_outcome(last, f, relay, tls, why[0] ? why : e.msg[0] ? e.msg : "connection closed");
			res = SESS_LOST;
			goto out;	/* no QUIT on a dead connection */
		}
	}
quit:
	smtp_quit(s);
out:
	smtp_free(s);
	return res;
}

static bool stopping(const struct dlv_env *env)
{
	return env->stop != NULL && *env->stop;
}

/* on_target - the sessions to come are with target j of the destination. */
static void on_target(struct run *R, size_t j)
{
	R->next_host = R->mx && j + 1 < R->rt->n;
	R->relay_later = R->mx && j < R->nmx && R->nmx < R->rt->n;
	R->at_relay = R->mx && j >= R->nmx;
}

/* refused_only - every recipient of m carried on was refused for the sending host's sake (the other
 * MX hosts of the destination would say the same: straight to fallback_relay). */
static bool refused_only(const struct run *R, size_t m)
{
	for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
		if (R->carried[m][k] && R->held[m][k].refusal == DLV_R_NONE)
			return false;
	return true;
}

/* carry_on - message m is done at the MX the main session is on but for recipients carried on
 * (carry_rcpt): those recipients, and only they, go to the next targets in turn (the next MX hosts,
 * then fallback_relay), each on a connection of its own, until one answers for them or the targets
 * run out (then they keep their last reply). The main session's connection waits meanwhile; what it
 * knew of its progress and its target is kept. */
static void carry_on(struct run *R, size_t m)
{
	bool progress = R->progress, next_host = R->next_host, relay_later = R->relay_later;
	bool at_relay = R->at_relay;
	size_t j = R->host + 1;
	struct outcome last;

	if (refused_only(R, m) && j < R->nmx)
		j = R->nmx;
	R->solo = true;
	R->solo_m = m;
	for (; j < R->rt->n && R->carry[m] && !stopping(R->env); j++) {
		int noprogress = 0;

		R->carry[m] = false;
		R->done[m] = false;
		for (size_t k = 0; k < R->d->msg[m].nrcpt; k++)
			R->carried[m][k] = false;
		on_target(R, j);
		while (!stopping(R->env) && !R->done[m]) {
			bool tls_failed = false;
			enum sess res = session(R, &R->rt->t[j], R->level, false, false, &last, &tls_failed);

			if (res == SESS_UNUSABLE && tls_failed && R->level == TLS_MAY)
				res = session(R, &R->rt->t[j], R->level, false, true, &last, &tls_failed);
			if (res == SESS_UNUSABLE)
				break;
			if (res == SESS_LOST && (noprogress = R->progress ? 0 : noprogress + 1) >= DLV_NOPROGRESS)
				break;
		}
		if (!R->done[m])
			R->carry[m] = true;	/* this host did not answer for them: the next one */
	}
	flush_held(R, m);	/* (those still carried: no MX answered for them) */
	R->done[m] = true;
	R->solo = false;
	R->progress = progress;
	R->next_host = next_host;
	R->relay_later = relay_later;
	R->at_relay = at_relay;
}

/* smarthost_implicit - whether the smarthost at this port speaks TLS from the first byte. */
static bool smarthost_implicit(const struct config *c, int port)
{
	return c->smarthost_tls == SMARTHOST_TLS_TLS || (c->smarthost_tls == SMARTHOST_TLS_AUTO && port == 465);
}

/* smarthost_route - the targets of every host on the smarthost line, in its order (the addresses of
 * each in turn): the next is tried when one cannot be reached, greets with 4xx or fails TLS. A host
 * that does not resolve is skipped when another does; when none does, the first's verdict stands. */
static enum route_result smarthost_route(const struct dlv_env *env, struct route *rt, struct err *e)
{
	const struct config *c = env->c;
	enum route_result rr = route_host(env->dns, c->smarthost, c->smarthost_port, rt, e);

	for (size_t i = 0; i < c->nsmarthost_alt; i++) {
		struct route more = { 0 };
		struct err e2;

		err_clear(&e2);
		if (route_host(env->dns, c->smarthost_alt[i].host, c->smarthost_alt[i].port, &more, &e2) != ROUTE_OK)
			continue;
		rt->t = xreallocarray(rt->t, rt->n + more.n, sizeof *rt->t);
		memcpy(rt->t + rt->n, more.t, more.n * sizeof *more.t);
		rt->n += more.n;
		free(more.t);	/* the host names now belong to rt */
		rr = ROUTE_OK;
	}
	return rr;
}

/* add_fallback - fallback_relay's targets after the MX hosts, when the MX lookup came to hosts or to a
 * temporary failure (a domain that does not exist or takes no mail is no business of the relay's).
 * True when they were added. */
static bool add_fallback(const struct dlv_env *env, enum route_result rr, struct route *rt)
{
	const struct conf_relay *fr = &env->c->fallback_relay;
	struct route more = { 0 };
	struct err e2;

	if (rr != ROUTE_OK && rr != ROUTE_TEMPFAIL && rr != ROUTE_NOHOSTS)
		return false;
	err_clear(&e2);
	if (route_host(env->dns, fr->host, fr->port, &more, &e2) != ROUTE_OK)
		return false;	/* (the MX hosts' verdict stands) */
	rt->t = xreallocarray(rt->t, rt->n + more.n, sizeof *rt->t);
	memcpy(rt->t + rt->n, more.t, more.n * sizeof *more.t);
	rt->n += more.n;
	free(more.t);	/* the host names now belong to rt */
	return true;
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
	const struct conf_route *via;
	bool implicit = false, mx = false, relayed = false;
	size_t m, i;

	err_clear(&e);
	memset(&R, 0, sizeof R);
	R.env = env;
	R.d = d;
	R.done = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *R.done);
	R.tries = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *R.tries);
	R.reported = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *R.reported);
	R.carried = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *R.carried);
	R.held = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *R.held);
	R.carry = xcalloc(d->nmsg ? d->nmsg : 1, sizeof *R.carry);
	for (m = 0; m < d->nmsg; m++) {
		R.reported[m] = xcalloc(d->msg[m].nrcpt ? d->msg[m].nrcpt : 1, sizeof **R.reported);
		R.carried[m] = xcalloc(d->msg[m].nrcpt ? d->msg[m].nrcpt : 1, sizeof **R.carried);
	}

	if (d->domain == NULL && d->relay != NULL) {	/* a sender's relay (runq_group: conf_dest_for) */
		rr = route_host(env->dns, d->relay->host, d->relay->port, &rt, &e);
		level = tls_policy_for(c, NULL);	/* as the smarthost: it is the sender's */
	} else if (d->domain == NULL) {	/* the smarthost (runq_group: conf_dest_for) */
		rr = smarthost_route(env, &rt, &e);
		level = tls_policy_for(c, NULL);
	} else if ((via = conf_route_for(c, d->domain)) != NULL && via->kind == CONF_ROUTE_RELAY) {
		rr = route_host(env->dns, via->host, via->port, &rt, &e);	/* route DOMAIN HOST[:PORT] */
		level = tls_policy_for(c, d->domain);
	} else {
		rr = route_mx(env->dns, d->domain, c->allow_local_mx, env->rnd, env->rndctx, &rt, &e);
		level = tls_policy_for(c, d->domain);
		mx = true;
	}
	R.rt = &rt;
	R.level = level;
	R.mx = mx;
	R.nmx = rt.n;
	if (mx && c->fallback_relay.host != NULL)
		relayed = add_fallback(env, rr, &rt);
	switch (rr) {
	case ROUTE_OK:
		set_outcome(&last, cause(DLV_C_CONNECT), "none", "none", "no host could be reached");
		break;
	case ROUTE_NULLMX:
		set_outcome(&last, cause(DLV_C_NULLMX), "none", "none", "domain does not accept mail (null MX)");
		break;
	case ROUTE_NXDOMAIN:
		set_outcome(&last, cause(DLV_C_NXDOMAIN), "none", "none", e.msg[0] ? e.msg : "domain not found");
		break;
	case ROUTE_PERMFAIL:
		set_outcome(&last, cause(DLV_C_ROUTE_PERM), "none", "none", e.msg[0] ? e.msg : "unroutable domain");
		break;
	case ROUTE_TEMPFAIL:
	case ROUTE_NOHOSTS:
	default:
		set_outcome(&last, cause(rr == ROUTE_NOHOSTS ? DLV_C_NO_HOSTS : DLV_C_DNS_TEMP), "none", "none",
		    e.msg[0] ? e.msg : "DNS lookup failed");
		break;
	}
	if (relayed && rr != ROUTE_OK) {
		fmt(R.direct_fail, sizeof R.direct_fail, "%s", last.diag);	/* (no MX to try: the relay) */
		rr = ROUTE_OK;
	}
	for (i = 0; rr == ROUTE_OK && i < rt.n && !stopping(env); i++) {
		int noprogress = 0;

		implicit = d->domain == NULL && smarthost_implicit(c, rt.t[i].port);
		on_target(&R, i);
		R.host = i;
		if (R.at_relay && R.direct_fail[0] == '\0')	/* no MX host could be used: why */
			fmt(R.direct_fail, sizeof R.direct_fail, "%s", last.diag);

		while (!stopping(env) && current(&R) >= 0) {
			bool tls_failed = false;
			enum sess res = session(&R, &rt.t[i], level, implicit, false, &last, &tls_failed);

			if (res == SESS_UNUSABLE && tls_failed && level == TLS_MAY)
				res = session(&R, &rt.t[i], level, implicit, true, &last, &tls_failed);	/* plaintext */
			if (res == SESS_DONE)
				goto over;
			if (res == SESS_UNUSABLE)
				break;	/* the next host */
			if (res == SESS_LOST) {
				noprogress = R.progress ? 0 : noprogress + 1;
				if (noprogress >= DLV_NOPROGRESS)
					break;	/* this host keeps failing: the next one */
			}
		}
	}
	if (!R.any_progress && !stopping(env)) {
		/* nothing could be delivered here at all: the verdict (no route, no usable host) is every
		 * message's, so each is taken and answered with it */
		while (current(&R) >= 0)
			report_rest(&R, (size_t)R.hand[0], &last);
	}
over:
	for (m = 0; m < d->nmsg; m++)
		flush_held(&R, m);	/* (carried when postern was stopping) */
	/* what is still in hand: deferred if it was in a transaction, else given back untouched */
	while (R.nhand > 0) {
		size_t m0 = (size_t)R.hand[0];
		struct outcome o = last;

		if (R.tries[m0] == 0)
			o.state = DLV_UNTRIED;
		report_rest(&R, m0, &o);
	}
	route_free(&rt);
	for (m = 0; m < d->nmsg; m++) {
		free(R.reported[m]);
		free(R.carried[m]);
		free(R.held[m]);
	}
	free(R.reported);
	free(R.carried);
	free(R.held);
	free(R.carry);
	free(R.done);
	free(R.tries);
}
