/*
 * runq.c - recording outcomes and finishing messages. See runq.h.
 *
 * An outcome is logged as it arrives (Postfix's line: "ID: to=<r>, relay=..., delay=..., tls=...,
 * dsn=..., status=sent (...)") and kept in memory; when all destinations of a message are done the
 * message is finished with one durable step: removed (nothing pending), or rewritten as deferred with
 * the next attempt time; what to do is runq_after_attempt's (runq_decide.h), runq_finish does it. Failed recipients produce one RFC 3464 report to the sender, submitted through
 * postern's own front door with the null sender so it is completed and signed like any message; a
 * report is never sent to the null sender, so a bounce never bounces.
 */
#include "queue/run/runq.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/limits.h"
#include "lib/rerun.h"
#include "queue/wire/auth.h"
#include "queue/wire/dlv_fate.h"
#include "queue/run/dsn.h"
#include "queue/run/runq_decide.h"
#include "queue/wire/tls_policy.h"

#define ORIG_HEADER_MAX (64 * 1024)	/* original headers quoted in a bounce */
#define ORIG_HEADER_CHUNK 4096	/* one read of them from the data file */
#define REPORT_BOUNDARY_MAX 64	/* a report's MIME boundary: "ID.RANDOM/hostname", cut to fit */
/* What one recipient can take in a report, twice over for folding: its address and diagnostic in the
 * text part and again in the delivery-status part, its ORCPT, its relay, the fixed fields. A report's
 * ceiling grows with its recipients, so one that lists thousands of them can always be composed (a
 * fixed ceiling made it fail every run, the message kept forever for a report never sent). */
#define REPORT_RCPT_MAX (2 * (2 * (LIM_PATH + ENV_MAX_DIAG) + ENV_MAX_ORCPT + ENV_MAX_RELAY) + 1024)

/* runq_become_postern - root leaves root before touching the network. */
int runq_become_postern(struct log *lg)
{
	struct passwd *pw;

	if (getuid() != 0 && geteuid() != 0)
		return 0;
	if ((pw = getpwnam("postern")) == NULL) {
		log_msg(lg, LOG_WARNING, "no postern user: the queue runs as root (make install creates the user)");
		return 0;
	}
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_msg(lg, LOG_ERR, "cannot become the postern user: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int runq_ctx_open(struct runq_ctx *x, const struct runner_opts *ro, const struct config *c, struct log *lg,
    struct err *e)
{
	char warn[SPOOL_WARNING_MAX];
	struct err te;

	warn[0] = '\0';
	memset(x, 0, sizeof *x);
	x->ro = ro;
	x->c = c;
	x->lg = lg;
	if ((x->sp = spool_open(c->spool, e)) == NULL)
		return -1;
	if ((x->dns = dns_new(c->resolver, e)) == NULL) {
		spool_close(x->sp);
		return -1;
	}
	/* (OpenSSL's context costs a millisecond of every run: none when nothing could use it) */
	err_clear(&te);
	if (tls_policy_any(c) && (x->tls = tls_ctx_new(c->tls_ca, c->tls_cert, c->tls_key, &te)) == NULL &&
	    c->tls_cert != NULL) {
		/* A missing or unusable client certificate (a renewal caught between its two renames, a
		 * deleted file) must not stop all mail: servers rarely ask for one. Deliver without it,
		 * and say so once per pass: in the log, in mailq's header (the spool's warning) and in
		 * `postern check`. */
		(void)snprintf(warn, sizeof warn, "TLS client certificate unusable, mail goes out without it: %s",
		    te.msg);
		log_msg(lg, LOG_WARNING, "%s", warn);
		err_clear(&te);
		x->tls = tls_ctx_new(c->tls_ca, NULL, NULL, &te);
	}
	if (tls_policy_any(c) && x->tls == NULL) {	/* not the certificate's fault, then (e.g. tls_ca) */
		log_msg(lg, LOG_WARNING, "TLS is unavailable for this run: %s", te.msg);
		(void)snprintf(warn, sizeof warn, "TLS is unavailable for queue runs: %s", te.msg);
	}
	if (spool_warning_set(x->sp, warn[0] != '\0' ? warn : NULL) < 0)
		log_msg(lg, LOG_DEBUG, "cannot update the spool's warning file: %s", strerror(errno));
	if (c->smarthost_auth != NULL && auth_load(c->smarthost_auth, &x->auth_user, &x->auth_pass, e) < 0) {
		runq_ctx_close(x);
		return -1;
	}
	for (size_t i = 0; i < c->nsmarthost_auth_host && i < CONF_SMARTHOSTS; i++)
		if (auth_load(c->smarthost_auth_host[i].path, &x->hauth_user[i], &x->hauth_pass[i], e) < 0) {
			runq_ctx_close(x);
			return -1;
		}
	return 0;
}

void runq_ctx_close(struct runq_ctx *x)
{
	if (x->auth_pass != NULL)
		explicit_bzero(x->auth_pass, strlen(x->auth_pass));
	free(x->auth_user);
	free(x->auth_pass);
	for (size_t i = 0; i < CONF_SMARTHOSTS; i++) {
		if (x->hauth_pass[i] != NULL)
			explicit_bzero(x->hauth_pass[i], strlen(x->hauth_pass[i]));
		free(x->hauth_user[i]);
		free(x->hauth_pass[i]);
	}
	tls_ctx_free(x->tls);
	dns_free(x->dns);
	spool_close(x->sp);
	memset(x, 0, sizeof *x);
}

static void replace(char **slot, const char *v)
{
	free(*slot);
	*slot = (v != NULL && *v != '\0') ? xstrdup(v) : NULL;
}

/* runq_mark_sent - see runq.h. Not synced: a process kill does not lose it, only power loss may
 * (DESIGN.md, exactly once). The envelope is rewritten only when the message is finished, and a run
 * killed before that (its other recipients still at the next MX, carry_on) would otherwise send the
 * message to r again. */
void runq_mark_sent(struct runq_ctx *x, const struct runq_msg *q, size_t rcpt)
{
	const struct env_rcpt *r = &q->env.rcpt[rcpt];
	struct env_rcpt mk = *r;
	struct err e;

	err_clear(&e);
	mk.state = RCPT_SENT;
	if (q->m != NULL && spool_msg_mark(q->m, &mk, 1, false, &e) < 0)
		log_msg(x->lg, LOG_WARNING, "%s: to=<%s> sent, not yet recorded (a kill now would send it again): %s",
		    q->env.id, r->addr, e.msg);
}

void runq_apply(struct runq_ctx *x, struct runq_msg *q, size_t k, char state, const char *status,
    const char *relay, const char *tls, const char *diag)
{
	struct env_rcpt *r = &q->env.rcpt[k];
	double delay = difftime(time(NULL), (time_t)q->env.arrival);
	const char *word = "deferred";

	r->attempts++;
	stats_count(&x->counts, state, tls);
	replace(&r->status, status);
	replace(&r->relay, relay);
	replace(&r->diag, strlen(diag) > ENV_MAX_DIAG ? "(reply too long)" : diag);
	if (env_hist_note(&q->env, q->hist_fresh, (long long)time(NULL), relay, tls, status, diag) == 1 &&
	    q->hist_fresh < ENV_MAX_HISTORY)
		q->hist_fresh++;
	if (state == 'S') {
		r->state = RCPT_SENT;
		word = "sent";
	} else if (state == 'F') {
		r->state = RCPT_FAILED;
		word = "bounced";
	}
	log_msg(x->lg, state == 'S' ? LOG_INFO : LOG_NOTICE,
	    "%s: to=<%s>, relay=%s, delay=%.1f, tls=%s, dsn=%s, status=%s (%s)", q->env.id, r->addr, relay,
	    delay < 0 ? 0.0 : delay, tls, status, word, diag);
}

void runq_stats_flush(struct runq_ctx *x)
{
	struct err e;

	err_clear(&e);
	if (spool_counters_add(x->sp, &x->counts, (long long)time(NULL), !x->ro->own_only, &e) < 0)
		log_msg(x->lg, LOG_WARNING, "the statistics' counters were not updated: %s", e.msg);
	memset(&x->counts, 0, sizeof x->counts);
}

void runq_stats_write(struct runq_ctx *x)
{
	struct stats_counters c;
	struct stats_queue sq;
	struct buf out;
	struct err e;
	long long now = (long long)time(NULL);

	if (x->c->stats_file == NULL || x->ro->own_only)
		return;	/* (a caller's own run may not write where node_exporter reads) */
	err_clear(&e);
	buf_init(&out, STATS_TEXT_MAX);
	if (spool_counters_get(x->sp, &c, &e) < 0 || stats_collect(x->sp, &sq, &e) < 0 ||
	    stats_format_prom(&c, &sq, now, &out, &e) < 0 || stats_write_textfile(x->c->stats_file, &out, &e) < 0)
		log_msg(x->lg, LOG_WARNING, "stats_file not written: %s", e.msg);
	buf_free(&out);
}

/* orig_headers - the header section as sent (prepended lines + the data file's), for the report. */
static void orig_headers(struct runq_msg *q, struct buf *h)
{
	char tmp[ORIG_HEADER_CHUNK];
	off_t off = 0;

	if (buf_add(h, q->prefix.data ? q->prefix.data : "", q->prefix.len) < 0)
		return;
	for (;;) {
		size_t want = q->env.size - off < (off_t)sizeof tmp ? (size_t)(q->env.size - off) : sizeof tmp;
		ssize_t n = want > 0 ? pread(spool_msg_data_fd(q->m), tmp, want, off) : 0;
		char *end;

		if (n <= 0)
			return;	/* (the message only: what follows it in the file is the envelope) */
		if (buf_add(h, tmp, (size_t)n) < 0)
			return;
		off += n;
		if ((end = memmem(h->data, h->len, "\r\n\r\n", 4)) != NULL) {
			h->len = (size_t)(end - h->data) + 2;
			h->data[h->len] = '\0';
			return;
		}
	}
}

/* submit_report - hand a report to the front door (SENDMAIL_PATH): sendmail -oi -f <> -- SENDER. */
static int submit_report(struct runq_ctx *x, const char *to, const struct buf *msg)
{
	const char *av[10];
	struct rerun_cmd cmd = { .prog = SENDMAIL_PATH, .argv = av, .err = RERUN_ERR_INHERIT };
	char nb[RERUN_NAME_MAX];
	struct err e;
	bool fed = false;
	int k = 0, code;

	av[k++] = "sendmail";
	av[k++] = "-oi";
	av[k++] = "-f";
	av[k++] = "<>";
	if (x->ro->config_path != NULL) {
		av[k++] = "-C";
		av[k++] = x->ro->config_path;
	}
	av[k++] = "--";
	av[k++] = to;
	av[k] = NULL;
	err_clear(&e);
	if ((code = rerun_submit(&cmd, msg->data, msg->len, &fed, &e)) < 0) {
		log_msg(x->lg, LOG_ERR, "report to <%s>: %s", to, e.msg);
		return -1;
	}
	if (code != 0 || !fed) {
		log_msg(x->lg, LOG_ERR, "report to <%s>: the front door exited %s%s", to, rerun_status_name(code, nb),
		    fed ? "" : " without reading all of it");
		return -1;
	}
	return 0;
}

/* report - compose and queue a report of `kind` for q. 0 if sent or nothing to send. */
static int report(struct runq_ctx *x, struct runq_msg *q, enum dsn_kind kind)
{
	struct buf h, out;
	struct err e;
	char boundary[REPORT_BOUNDARY_MAX];
	uint64_t rnd = 0;
	int r = 0;

	if (q->env.sender[0] == '\0' || q->env.is_bounce)
		return 0;
	if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
		rnd = (uint64_t)time(NULL);
	(void)snprintf(boundary, sizeof boundary, "%s.%016llx/%s", q->env.id, (unsigned long long)rnd,
	    x->c->hostname);
	buf_init(&h, ORIG_HEADER_MAX);
	buf_init(&out, ORIG_HEADER_MAX + 256 * 1024 + q->env.nrcpt * (size_t)REPORT_RCPT_MAX);
	err_clear(&e);
	orig_headers(q, &h);
	if (dsn_compose(&q->env, buf_str(&h), h.len, kind, conf_notice_domain(x->c), x->c->hostname,
	    (long long)time(NULL), boundary, &out, &e) < 0) {
		log_msg(x->lg, LOG_ERR, "%s: cannot compose the delivery status notification: %s", q->env.id, e.msg);
		r = -1;
	} else if (out.len > 0) {
		r = submit_report(x, q->env.sender, &out);
		log_msg(x->lg, r == 0 ? LOG_INFO : LOG_ERR, "%s: sender %s notification%s", q->env.id,
		    kind == DSN_FAILED ? "non-delivery" : "delay", r == 0 ? " queued" : " could not be queued");
	}
	buf_free(&h);
	buf_free(&out);
	return r;
}

/* pending_view - the deferral to write: *v shares env's values but lists only its pending recipients
 * (the sent and reported ones are done with). Free v->rcpt only. */
static void pending_view(const struct envelope *env, struct envelope *v)
{
	*v = *env;
	v->rcpt = xcalloc(env->nrcpt ? env->nrcpt : 1, sizeof *v->rcpt);
	v->nrcpt = 0;
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == RCPT_PENDING)
			v->rcpt[v->nrcpt++] = env->rcpt[i];
}

/* record_in_place - the deferral could not be written: write each recipient's state into the envelope
 * that was read instead (spool_msg_mark: no new block, works on a full disk), so that a recipient
 * that got its 2xx is never sent to again. Sent ones and failed ones whose report is queued become
 * done---, failed ones still owing a report failed-, pending ones delayed (which holds the message
 * for SPOOL_HOLD_SECONDS instead of retrying it at every pass). */
static void record_in_place(struct runq_ctx *x, struct runq_msg *q, bool reported)
{
	const struct envelope *env = &q->env;
	struct env_rcpt *mk = xcalloc(env->nrcpt ? env->nrcpt : 1, sizeof *mk);
	size_t n[3] = { 0, 0, 0 };
	struct err e;

	err_clear(&e);
	for (size_t i = 0; i < env->nrcpt; i++) {
		mk[i] = env->rcpt[i];
		if (mk[i].state == RCPT_FAILED && reported)
			mk[i].state = RCPT_SENT;
		n[mk[i].state]++;
	}
	if (spool_msg_mark(q->m, mk, env->nrcpt, true, &e) < 0)
		log_msg(x->lg, LOG_CRIT, "%s: cannot record the outcome in place either, the next run may send it "
		    "again: %s", env->id, e.msg);
	else
		log_msg(x->lg, LOG_WARNING, "%s: recorded in place instead: %zu done, %zu failed, %zu delayed "
		    "(held for %d s)", env->id, n[RCPT_SENT], n[RCPT_FAILED], n[RCPT_PENDING],
		    n[RCPT_PENDING] ? SPOOL_HOLD_SECONDS : 0);
	free(mk);
}

/* record - write w (env or a view of it) as the message's envelope; if that fails, in place. */
static void record(struct runq_ctx *x, struct runq_msg *q, const struct envelope *w, bool reported)
{
	struct err e;
	int r;

	err_clear(&e);
	if ((r = spool_msg_update(q->m, w, &e)) == 1)
		log_msg(x->lg, LOG_WARNING, "%s: deferral recorded but not synced: %s", q->env.id, e.msg);
	if (r >= 0)
		return;
	log_msg(x->lg, LOG_ERR, "%s: cannot record the deferral: %s", q->env.id, e.msg);
	record_in_place(x, q, reported);
}

void runq_finish(struct runq_ctx *x, struct runq_msg *q)
{
	const struct config *c = x->c;
	struct envelope *env = &q->env, view;
	long long now = (long long)time(NULL);
	struct runq_decision dec = runq_after_attempt(c, env, now);	/* (before this attempt counts) */
	size_t i;
	struct err e;

	err_clear(&e);
	if (dec.expire) {
		for (i = 0; i < env->nrcpt; i++) {
			struct env_rcpt *r = &env->rcpt[i];
			struct buf d;

			if (r->state != RCPT_PENDING)
				continue;
			buf_init(&d, ENV_MAX_DIAG);
			if (buf_printf(&d, "delivery time expired: %s", r->diag ? r->diag : "no attempt succeeded") < 0)
				buf_reset(&d);
			replace(&r->diag, buf_str(&d));
			buf_free(&d);
			replace(&r->status, dlv_fate(SMTP_STEP_CONNECT, 0, NULL, DLV_C_EXPIRED).status);
			r->state = RCPT_FAILED;
			stats_count(&x->counts, 'F', NULL);
			log_msg(x->lg, LOG_NOTICE, "%s: to=<%s>, status=expired, returned to sender (%s)", env->id,
			    r->addr, r->diag ? r->diag : "");
		}
	}
	env->attempts++;
	/* whatever a peer sent (a "3.0.0" status, a line break), what is written must be writable */
	if (env_make_writable(env) > 0)
		log_msg(x->lg, LOG_NOTICE, "%s: replies that cannot be stored as they are were normalised", env->id);
	if (dec.report_failed && report(x, q, DSN_FAILED) < 0) {
		/* keep the message, failed recipients as "report owed": the next run tries the report again */
		env->next_try = now + c->retry_min;
		record(x, q, env, false);
		return;
	}
	if (dec.remove) {
		/* at once, before the removal that may lag: whatever happens next, it is not sent again */
		if (spool_msg_settle(q->m, &e) < 0)
			log_msg(x->lg, LOG_CRIT, "%s: cannot record that it is done, the next run may send it again: %s",
			    env->id, e.msg);
		if (x->reaper != NULL)
			reaper_add(x->reaper, q->m);
		else
			reaper_remove(x->lg, q->m);
		q->m = NULL;
		return;
	}
	pending_view(env, &view);
	if (dec.warn && report(x, q, DSN_DELAYED) == 0)
		view.warned = env->warned = true;
	view.next_try = env->next_try = dec.next_try;
	record(x, q, &view, true);
	free(view.rcpt);
}
