/*
 * submit.c - the privileged half of submission. See submit.h and compose.h.
 *
 * SECURITY: this is the part of postern that runs with the postern group while a caller's message is
 * being read. It is kept small on purpose. What the caller controls: argv (already parsed, pure), stdin
 * (never read here: only the unprivileged child reads it), the child's behaviour (it may be subverted by a
 * parser bug). What is done about it: this process opens no key and signs nothing (the queue side signs,
 * queue/run/sign.h), so there is nothing to ask of it; the child gives up the group for good before reading a
 * byte; it can only (a) write into the one temp file it was handed and (b) hand back one record
 * (handoff.h), read here to its end within HANDOFF_MAX bytes: an envelope, parsed by the strict
 * envelope parser, whose id, uid, arrival time and size are overwritten with values this process
 * knows; or, when it refused the message under -oem, the reason (one line, no control character),
 * which this process mails back to the caller's own address with the null sender and nothing else. Nothing is
 * committed unless the child exited 0 and the envelope is valid; the commit is the spool's single rename.
 */
#include "sendmail/submit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conf/aliases.h"
#include "lib/buf.h"
#include "lib/fdio.h"
#include "lib/limits.h"
#include "lib/rerun.h"
#include "queue/store/envelope.h"
#include "queue/store/spool.h"
#include "sendmail/compose.h"
#include "sendmail/handoff.h"
#include "sendmail/privsep.h"
#include "sendmail/pwnss.h"

#define RECORD_CHUNK 4096	/* what one read() of the child's record takes */

/* report - the caller's one line, and the log's. */
static int report(struct log *lg, const struct err *e, int dflt)
{
	int code = e->code ? e->code : dflt;

	fprintf(stderr, "sendmail: %s\n", e->msg);
	log_msg(lg, code == EX_TEMPFAIL ? LOG_WARNING : LOG_ERR, "reject: %s", e->msg);
	return code;
}

/* MAIL_BACK_MAX - the -oem notice: its fixed text, the host name twice, the address and the reason */
#define MAIL_BACK_MAX (512 + 2 * LIM_DOMAIN + LIM_PATH + sizeof ((struct err *)0)->msg)

/* mail_back - -oem: the caller's error as a short notice to the sender, through the front door with the
 * null sender, as sendmail mails back errors in the message. Best effort: the exit status still says
 * what went wrong. */
static void mail_back(const struct opts *o, const struct config *c, const char *user, struct span reason)
{
	char to[LIM_PATH + 1];
	/* root's -C names the spool this submission was for; anyone else's was not honoured (main.c) */
	bool own_conf = o->config != NULL && getuid() == 0;
	const char *av[] = { "sendmail", "-oi", "-f", "<>", own_conf ? "-C" : "--", own_conf ? o->config : to,
		own_conf ? "--" : NULL, own_conf ? to : NULL, NULL };
	struct rerun_cmd cmd = { .prog = RERUN_SELF, .argv = av, .err = RERUN_ERR_INHERIT };
	struct buf note;
	struct err e;
	int n;

	if (o->sender != NULL && strchr(o->sender, '@') != NULL && strpbrk(o->sender, " <>\"\r\n") == NULL)
		n = snprintf(to, sizeof to, "%s", o->sender);
	else if (o->sender != NULL && strcmp(o->sender, "<>") == 0)
		return;	/* never to the null sender */
	else
		n = snprintf(to, sizeof to, "%s@%s", user, c->domain);
	if (n < 0 || (size_t)n >= sizeof to)
		return;
	buf_init(&note, MAIL_BACK_MAX);
	if (buf_printf(&note, "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: %s\n"
	    "Subject: Returned mail: your message could not be sent\nAuto-Submitted: auto-replied\n\n"
	    "postern on %s could not accept a message you submitted with sendmail:\n\n    %.*s\n\n"
	    "Nothing was sent.\n", conf_notice_domain(c), to, c->hostname, (int)reason.n, reason.p) == 0) {
		err_clear(&e);
		(void)rerun_submit(&cmd, note.data, note.len, NULL, &e);
	}
	buf_free(&note);
}

/* USER_MAX, GECOS_MAX - the submitter's login name and full name as the composer uses them. */
#define USER_MAX PWNSS_USER_MAX
#define GECOS_MAX PWNSS_GECOS_MAX

/* caller_user - the submitter's login name (uidN when it has none fit for an address); *pw_out (may
 * be NULL): its passwd entry, or NULL. */
static void caller_user(char user[USER_MAX], struct passwd **pw_out)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL && pwnss_name_ok(pw->pw_name))
		memcpy(user, pw->pw_name, strlen(pw->pw_name) + 1);
	else
		(void)snprintf(user, USER_MAX, "uid%lu", (unsigned long)getuid());
	if (pw_out != NULL)
		*pw_out = pw;
}

/* send_reason - -oem: the composer's refusal, as the one record for the parent (handoff.h), which
 * mails it back. Best effort: the exit status says what went wrong anyway. */
static void send_reason(int tofd, const struct err *e)
{
	char line[HANDOFF_REASON_MAX + 1];
	struct buf rec;
	struct err e2;
	size_t n = 0;

	for (const char *p = e->msg; *p != '\0' && n < HANDOFF_REASON_MAX; p++)
		line[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;	/* (err_set's are one line) */
	buf_init(&rec, HANDOFF_HEAD_MAX + HANDOFF_REASON_MAX);
	err_clear(&e2);
	if (n > 0 && handoff_format(HANDOFF_REASON, line, n, &rec, &e2) == 0)
		(void)fdio_write_all(tofd, rec.data, rec.len);
	buf_free(&rec);
}

/* child - the unprivileged composer; never returns. */
static void child(const struct opts *o, const struct config *c, const char *id, int datafd, int tofd)
{
	struct compose_ctx x;
	struct aliases *al = NULL;
	struct passwd *pw;
	char user[USER_MAX], gecos[GECOS_MAX] = "";
	struct err e;
	uid_t uid;

	err_clear(&e);
	uid = getuid();	/* the submitter, before the child may become nobody */
	caller_user(user, &pw);
	if (pw != NULL && pw->pw_gecos != NULL) {
		size_t n = strcspn(pw->pw_gecos, ",");

		if (n < sizeof gecos && strpbrk(pw->pw_gecos, "\r\n") == NULL) {
			memcpy(gecos, pw->pw_gecos, n);
			gecos[n] = '\0';
		}
	}
	if (privsep_drop_all(&e) < 0)
		goto fail;
#ifndef __GLIBC__
	/* a libc that loads no NSS module (musl) found no entry: ask glibc's getent, as the caller now */
	if (pw == NULL)
		(void)pwnss_lookup(PWNSS_GETENT, uid, PWNSS_TIMEOUT_MS, user, gecos);
#endif
	if (aliases_load(c->aliases, &al, &e) < 0) {
		e.code = EX_CONFIG;
		goto fail;
	}
	memset(&x, 0, sizeof x);
	x.o = o;
	x.c = c;
	x.al = al;
	x.id = id;
	x.infd = 0;
	x.datafd = datafd;
	x.tofd = tofd;
	x.now = time(NULL);
	x.uid = uid;
	x.user = user;
	x.gecos = gecos;
	if (compose_run(&x, &e) < 0)
		goto fail;
	aliases_free(al);
	_exit(0);
fail:
	fprintf(stderr, "sendmail: %s\n", e.msg);
	if (o->errmode == 'm' && (e.code == EX_DATAERR || e.code == EX_USAGE))
		send_reason(tofd, &e);	/* the parent mails it back: it can reach the spool, we cannot */
	_exit(e.code ? e.code : EX_SOFTWARE);
}

/* read_record - the child's whole output, up to its end (it exits after the one record), bounded. */
static int read_record(int fd, struct buf *b, struct err *e)
{
	char tmp[RECORD_CHUNK];

	for (;;) {
		ssize_t r = read(fd, tmp, sizeof tmp);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, EX_SOFTWARE, "reading from the composer: %s", strerror(errno));
		if (r == 0)
			return 0;
		if (buf_add(b, tmp, (size_t)r) < 0)
			return err_set(e, EX_SOFTWARE, "the composer sent more than %zu bytes", (size_t)HANDOFF_MAX);
	}
}

/* wait_child - its sysexits code; 70 if it died of a signal. */
static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return EX_SOFTWARE;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return EX_SOFTWARE;
}

/* accept_envelope - parse what the child sent and overwrite what only we may decide. */
static int accept_envelope(const struct buf *rec, struct spool_tx *tx, struct envelope *env, struct err *e)
{
	enum handoff_kind k;
	struct span text;
	struct stat st;

	if (handoff_parse(rec->data ? rec->data : "", rec->len, &k, &text, e) < 0 ||
	    (k != HANDOFF_ENVELOPE && err_set(e, EX_SOFTWARE, "a reason from a composer that exited 0") < 0) ||
	    env_parse(text.p, text.n, env, e) < 0)
		return err_prefix(e, "internal error: envelope from the composer");
	if (env->nrcpt == 0)
		return err_set(e, EX_DATAERR, "no recipients");
	if (fstat(spool_tx_data_fd(tx), &st) < 0)
		return err_set(e, EX_TEMPFAIL, "spool: %s", strerror(errno));
	memset(env->id, 0, sizeof env->id);
	memcpy(env->id, spool_tx_id(tx), strnlen(spool_tx_id(tx), ENV_ID_LEN));
	env->uid = getuid();
	env->arrival = (long long)time(NULL);
	env->size = (long long)st.st_size;
	env->next_try = 0;
	env->attempts = 0;
	env->warned = false;
	env->held = false;	/* holding is an administrator's act (postern queue hold), not a caller's */
	env->is_bounce = env->sender[0] == '\0';
	env_hist_clear(env);	/* (a history is the runner's to write; it also keeps ENV_MAX_FILE's sum true) */
	for (size_t i = 0; i < env->nrcpt; i++) {
		env->rcpt[i].state = RCPT_PENDING;
		env->rcpt[i].attempts = 0;
	}
	return 0;
}

/* mail_back_reason - -oem: what a refusing composer handed us, if it is a reason record, mailed back
 * from here: this process keeps the group and root's -C, so the notice reaches the spool the caller's
 * configuration names (the composer, as nobody, could reach none). */
static void mail_back_reason(const struct opts *o, const struct config *c, const struct buf *rec)
{
	char user[USER_MAX];
	enum handoff_kind k;
	struct span reason;
	struct err e;

	err_clear(&e);
	if (rec->len == 0 || handoff_parse(rec->data, rec->len, &k, &reason, &e) < 0 || k != HANDOFF_REASON)
		return;
	caller_user(user, NULL);
	mail_back(o, c, user, reason);
}

int submit_main(const struct opts *o, const struct config *c, struct log *lg)
{
	struct spool *sp = NULL;
	struct spool_tx *tx = NULL;
	struct envelope env;
	struct buf rec;
	struct err e;
	int from_child[2] = { -1, -1 };
	int rc = EX_SOFTWARE, code, committed = 0;
	pid_t pid = -1;
	size_t i;

	err_clear(&e);
	memset(&env, 0, sizeof env);
	buf_init(&rec, HANDOFF_MAX);
	if ((sp = spool_open(c->spool, &e)) == NULL) {
		rc = report(lg, &e, EX_TEMPFAIL);
		goto out;
	}
	if ((tx = spool_tx_begin(sp, &e)) == NULL) {
		rc = report(lg, &e, EX_TEMPFAIL);
		goto out;
	}
	if (pipe2(from_child, O_CLOEXEC) < 0) {
		err_set(&e, EX_OSERR, "pipe: %s", strerror(errno));
		rc = report(lg, &e, EX_OSERR);
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		err_set(&e, EX_TEMPFAIL, "fork: %s", strerror(errno));
		rc = report(lg, &e, EX_TEMPFAIL);
		goto out;
	}
	if (pid == 0) {
		close(from_child[0]);
		spool_tx_child(tx);	/* the parser gets the data file, nothing else of the spool */
		child(o, c, spool_tx_id(tx), spool_tx_data_fd(tx), from_child[1]);
	}
	close(from_child[1]);
	from_child[1] = -1;

	/* the mark's fsync while the parser works: the caller then waits for two fsyncs after it, not
	 * three (a failure is kept, and spool_tx_commit reports it) */
	struct err emark;
	err_clear(&emark);
	(void)spool_tx_mark(tx, &emark);
	int got = read_record(from_child[0], &rec, &e);
	close(from_child[0]);
	from_child[0] = -1;
	code = wait_child(pid);
	pid = -1;
	if (code != 0) {
		rc = code;	/* the child said why on stderr */
		log_msg(lg, LOG_NOTICE, "%s: submission from uid=%lu refused (exit %d)", spool_tx_id(tx),
		    (unsigned long)getuid(), code);
		if (o->errmode == 'm' && (code == EX_DATAERR || code == EX_USAGE) && got == 0)
			mail_back_reason(o, c, &rec);
		goto out;
	}
	if (got < 0) {
		rc = report(lg, &e, EX_SOFTWARE);
		goto out;
	}
	if (accept_envelope(&rec, tx, &env, &e) < 0 || (committed = spool_tx_commit(tx, &env, &e)) < 0) {
		rc = report(lg, &e, EX_TEMPFAIL);
		goto out;
	}
	if (committed == 1) {	/* queued for good (it cannot be taken back), but not known to be on disk */
		fprintf(stderr, "sendmail: warning: %s\n", e.msg);
		log_msg(lg, LOG_CRIT, "%s: %s", spool_tx_id(tx), e.msg);
	}
	log_msg(lg, LOG_INFO, "%s: uid=%lu from=<%s> size=%lld nrcpt=%zu", env.id, (unsigned long)getuid(),
	    env.sender, env.size, env.nrcpt);
	rc = 0;
	/* The data file is still locked by this process (the lock taken at spool_tx_begin rode along with
	 * the rename): release it before any runner is started, or the runner finds the message busy and
	 * skips it, which made -odi never deliver and the detached run lose a race with our exit. */
	spool_tx_abort(tx);	/* committed: this only closes the file and frees */
	tx = NULL;
	/* -odq or "deliver queue": the next queue run takes it; -odi: deliver before returning */
	if (o->deliver == OD_INTERACTIVE)
		submit_spawn_runner(env.id, o->config, true);
	else if (o->deliver != OD_QUEUE && c->deliver != DELIVER_QUEUE)
		submit_spawn_runner(env.id, o->config, false);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		(void)wait_child(pid);
	}
	spool_tx_abort(tx);	/* after a commit this only frees it */
	spool_close(sp);
	env_free(&env);
	buf_free(&rec);
	for (i = 0; i < 2; i++)
		if (from_child[i] >= 0)
			close(from_child[i]);
	return rc;
}

void submit_spawn_runner(const char *id, const char *config, bool wait)
{
	char qarg[ENV_ID_LEN + 4];
	const char *av[] = { "runq", qarg, config ? "-C" : NULL, config, NULL };
	struct rerun_cmd cmd = { .prog = POSTERN_PATH, .argv = av, .err = RERUN_ERR_INHERIT };
	struct err e;
	int n;

	n = snprintf(qarg, sizeof qarg, "-qI%s", id);
	if (n < 0 || (size_t)n >= sizeof qarg)
		return;
	/* -odi: in the foreground, and we wait for it; otherwise detached. Either way the queued message is
	 * safe: if no run starts, the periodic runner or cron delivers it. */
	err_clear(&e);
	(void)rerun_spawn(&cmd, wait ? RERUN_WAIT : RERUN_DETACH, &e);
}
