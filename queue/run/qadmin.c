/*
 * qadmin.c - postern queue: what it does to the spool (see qadmin.h). Every change is made under the
 * message's lock, as a runner makes its own: a message a runner holds is reported busy, not changed.
 */
#include "queue/run/qadmin.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/date.h"
#include "queue/run/runner.h"
#include "queue/run/runq.h"

/* How much of a message show copies at a time. */
#define QA_CHUNK 65536

struct qa {
	const struct qa_cmd *c;
	struct spool *sp;
	struct log *lg;
	FILE *out, *err;
	int rc;			/* the worst status so far */
};

static const char *const op_done[] = { "shown", "deleted", "held", "released", "requeued", "listed" };

/* worse - keep the first failure's status (usage and permission end the command before any). */
static void worse(struct qa *q, int rc)
{
	if (q->rc == 0)
		q->rc = rc;
}

/* change - the envelope after op; 0 when it is already so (nothing to write). */
static int change(enum qa_op op, struct envelope *env)
{
	switch (op) {
	case QA_HOLD:
		if (env->held)
			return 0;
		env->held = true;
		return 1;
	case QA_RELEASE:
		if (!env->held)
			return 0;
		env->held = false;
		return 1;
	case QA_REQUEUE:
		env->next_try = 0;	/* attempts kept */
		(void)env_make_writable(env);	/* no in-place "delayed" left to hold it back */
		return 1;
	default:
		return 0;
	}
}

/* act - one message: lock, change or delete, log, unlock. */
static void act(struct qa *q, const char *id)
{
	struct spool_msg *m;
	struct envelope env;
	struct err e;
	int r;

	err_clear(&e);
	if ((r = spool_lock(q->sp, id, &m, &e)) <= 0) {
		struct envelope peek;

		if (r == 0 && spool_read_env(q->sp, id, &peek, &e) == 1) {
			env_free(&peek);
			fprintf(q->err, "postern: %s: busy (a queue runner holds it): not %s\n", id, op_done[q->c->op]);
			log_msg(q->lg, LOG_NOTICE, "%s: busy, not %s by uid=%lu", id, op_done[q->c->op],
				(unsigned long)getuid());
			worse(q, EX_TEMPFAIL);
			return;
		}
		fprintf(q->err, "postern: %s: %s\n", id, r == 0 ? "no such message in the queue" : e.msg);
		worse(q, r == 0 ? EX_NOINPUT : EX_TEMPFAIL);
		return;
	}
	if (spool_msg_env(m, &env, &e) < 0) {
		fprintf(q->err, "postern: %s: %s\n", id, e.msg);
		spool_msg_unlock(m);
		worse(q, EX_TEMPFAIL);
		return;
	}
	if (q->c->op == QA_DELETE)
		r = spool_msg_done(m, &e) < 0 ? -1 : 1;
	else if ((r = change(q->c->op, &env)) == 1)
		r = spool_msg_update(m, &env, &e) < 0 ? -1 : 1;
	if (r < 0) {
		fprintf(q->err, "postern: %s: not %s: %s\n", id, op_done[q->c->op], e.msg);
		log_msg(q->lg, LOG_ERR, "%s: not %s: %s", id, op_done[q->c->op], e.msg);
		worse(q, e.code ? e.code : EX_TEMPFAIL);
	} else {
		fprintf(q->out, "%s: %s%s\n", id, r == 0 ? "already " : "", op_done[q->c->op]);
		if (r == 1)
			log_msg(q->lg, LOG_INFO, "%s: %s by uid=%lu", id, op_done[q->c->op], (unsigned long)getuid());
	}
	env_free(&env);
	spool_msg_unlock(m);
}

/* select_all - delete --all/--sender/--recipient: every message that matches, read without a lock. */
static void select_all(struct qa *q)
{
	struct spool_entry *v;
	struct envelope env;
	struct err e;
	size_t n, i;

	err_clear(&e);
	if (spool_scan(q->sp, &v, &n, &e) < 0) {
		fprintf(q->err, "postern: %s\n", e.msg);
		worse(q, EX_TEMPFAIL);
		return;
	}
	for (i = 0; i < n; i++) {
		if (spool_read_env(q->sp, v[i].id, &env, &e) != 1)
			continue;	/* gone meanwhile, or unreadable (mailq reports those) */
		if (qadmin_matches(q->c, &env))
			act(q, v[i].id);
		env_free(&env);
	}
	free(v);
}

/* show_text - the message from its data file: the header section, and with -b the body, escaped. */
static void show_text(struct qa *q, const char *id, long long size)
{
	static char chunk[QA_CHUNK], safe[TEXT_VIS_SIZE(QA_CHUNK)];
	long long off = 0;
	bool headers = true, midline = false;	/* midline: the last chunk ended inside a line */
	struct err e;
	int fd;

	err_clear(&e);
	if ((fd = spool_data_open(q->sp, id, &e)) < 0) {
		fprintf(q->err, "postern: %s: %s\n", id, e.msg);
		worse(q, EX_TEMPFAIL);
		return;
	}
	fputs("-- header section --\n", q->out);
	while (off < size) {
		size_t want = size - off < QA_CHUNK ? (size_t)(size - off) : QA_CHUNK;
		ssize_t got = pread(fd, chunk, want, (off_t)off);
		size_t at = 0, i;

		if (got <= 0)
			break;
		/* one line at a time, each escaped (log_safe) so no byte of it can drive the terminal */
		for (i = 0; i < (size_t)got; i++) {
			if (chunk[i] != '\n' && i + 1 < (size_t)got)
				continue;
			size_t len = i + 1 - at - (chunk[i] == '\n');
			if (len > 0 && chunk[at + len - 1] == '\r')
				len--;
			if (headers && len == 0 && chunk[i] == '\n' && !midline) {
				headers = false;
				if (!q->c->body)
					goto done;
				fputs("-- body --\n", q->out);
			} else {
				(void)log_safe(safe, sizeof safe, chunk + at, len);
				fprintf(q->out, "%s%s", safe, chunk[i] == '\n' ? "\n" : "");
			}
			midline = chunk[i] != '\n';
			at = i + 1;
		}
		off += got;
	}
done:
	close(fd);
}

/* show_history - the attempts the envelope keeps, oldest first, one line each, escaped. */
static void show_history(struct qa *q, const struct envelope *env)
{
	char host[TEXT_VIS_SIZE(LIM_DOMAIN)], addr[TEXT_VIS_SIZE(ENV_MAX_HIST_ADDR)];
	char tls[TEXT_VIS_SIZE(ENV_MAX_HIST_TLS)], reply[TEXT_VIS_SIZE(ENV_MAX_HIST_REPLY)];
	char when[DATE_MAX];

	if (env->nhist == 0) {
		fputs("history: none\n", q->out);
		return;
	}
	fprintf(q->out, "history: %zu (oldest first, the newest %d kept)\n", env->nhist, ENV_MAX_HISTORY);
	for (size_t i = 0; i < env->nhist; i++) {
		const struct env_hist *h = &env->hist[i];

		if (date_format(when, h->time, DATE_ISO, true) < 0)
			(void)snprintf(when, sizeof when, "%lld", h->time);
		(void)log_safe(host, sizeof host, h->host, strlen(h->host));
		(void)log_safe(addr, sizeof addr, h->addr, strlen(h->addr));
		(void)log_safe(tls, sizeof tls, h->tls, strlen(h->tls));
		(void)log_safe(reply, sizeof reply, h->reply, strlen(h->reply));
		fprintf(q->out, "  %s host=%s address=%s tls=%s status=%s\n    reply: %s\n", when, host, addr, tls,
			h->status, reply);
	}
}

/* show_env - the envelope, every untrusted value escaped. */
static void show_env(struct qa *q, const struct envelope *env, bool locked)
{
	static char safe[TEXT_VIS_SIZE(ENV_MAX_DIAG)];
	static const char *const state[] = { "pending", "sent", "failed" };
	size_t i;

	fprintf(q->out, "queue_id: %s\nstate: %s\narrival: %lld\nsize: %lld\n", env->id,
		env->held ? "held" : locked ? "active (a queue runner holds it)" : env->attempts ? "deferred" : "incoming",
		env->arrival, env->size);
	(void)log_safe(safe, sizeof safe, env->sender, strlen(env->sender));
	fprintf(q->out, "sender: <%s>\nattempts: %d\n", safe, env->attempts);
	if (env->next_try == 0)
		fputs("next_try: now\n", q->out);
	else
		fprintf(q->out, "next_try: %lld\n", env->next_try);
	for (i = 0; i < env->nrcpt; i++) {
		const struct env_rcpt *r = &env->rcpt[i];

		(void)log_safe(safe, sizeof safe, r->addr, strlen(r->addr));
		fprintf(q->out, "recipient: <%s> state=%s attempts=%d", safe, env->held && r->state == RCPT_PENDING ?
			"pending (held)" : state[r->state], r->attempts);
		if (r->status != NULL)
			fprintf(q->out, " status=%s", r->status);
		if (r->relay != NULL) {
			(void)log_safe(safe, sizeof safe, r->relay, strlen(r->relay));
			fprintf(q->out, " relay=%s", safe);
		}
		fputc('\n', q->out);
		if (r->diag != NULL) {
			(void)log_safe(safe, sizeof safe, r->diag, strlen(r->diag));
			fprintf(q->out, "  last reply: %s\n", safe);
		}
	}
	show_history(q, env);
}

/* show - postern queue show [-b] ID...: read without a lock (a message being delivered can be read). */
static void show(struct qa *q, const char *id)
{
	struct envelope env;
	struct err e;
	int r;

	err_clear(&e);
	if ((r = spool_read_env(q->sp, id, &env, &e)) <= 0) {
		fprintf(q->err, "postern: %s: %s\n", id, r == 0 ? "no such message in the queue" : e.msg);
		worse(q, r == 0 ? EX_NOINPUT : EX_TEMPFAIL);
		return;
	}
	show_env(q, &env, spool_is_locked(q->sp, id) == 1);
	for (size_t k = 0; k < env.nprepend; k++) {
		static char safe[TEXT_VIS_SIZE(LIM_LINE)];

		if (k == 0)
			fputs("-- header lines postern added --\n", q->out);
		(void)log_safe(safe, sizeof safe, env.prepend[k], strlen(env.prepend[k]));
		fprintf(q->out, "%s\n", safe);
	}
	show_text(q, id, env.size);
	env_free(&env);
}

/* qadmin_main - see qadmin.h */
int qadmin_main(const struct config *conf, struct log *lg, int argc, char *const *argv, FILE *out, FILE *err)
{
	struct passwd *pw = getpwnam("postern");
	struct qa_cmd c;
	struct qa q = { .c = &c, .lg = lg, .out = out, .err = err };
	struct err e;
	size_t i;

	err_clear(&e);
	if (!runner_privileged(getuid(), pw != NULL ? pw->pw_uid : (uid_t)-1)) {
		fprintf(err, "postern: queue: permission denied: only root and the postern user administer the queue\n");
		log_msg(lg, LOG_NOTICE, "postern queue refused to uid=%lu", (unsigned long)getuid());
		return EX_NOPERM;
	}
	if (qadmin_parse(argc, argv, &c, &e) < 0) {
		fprintf(err, "postern: %s\n", e.msg);
		return EX_USAGE;
	}
	if (runq_become_postern(lg) < 0)	/* what we write, the runner (postern) must own */
		return EX_NOPERM;
	if ((q.sp = spool_open(conf->spool, &e)) == NULL) {
		fprintf(err, "postern: %s\n", e.msg);
		return e.code ? e.code : EX_TEMPFAIL;
	}
	if (c.op == QA_LIST) {
		if (qadmin_list_json(q.sp, out, &e) < 0) {
			fprintf(err, "postern: %s\n", e.msg);
			worse(&q, e.code ? e.code : EX_TEMPFAIL);
		}
	} else if (c.op == QA_DELETE && c.nids == 0) {
		select_all(&q);
	} else {
		for (i = 0; i < c.nids; i++)
			(c.op == QA_SHOW ? show : act)(&q, c.ids[i]);
	}
	if (c.op == QA_DELETE && spool_sync(q.sp, &e) < 0)
		fprintf(err, "postern: %s\n", e.msg);
	spool_close(q.sp);
	if (fflush(out) != 0 && errno != EPIPE)
		worse(&q, EX_IOERR);
	return q.rc;
}
