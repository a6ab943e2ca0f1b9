/*
 * submit.c - the privileged half of submission. See submit.h and compose.h.
 *
 * SECURITY: this is the part of postern that runs with the postern group while a caller's message is
 * being read. It is kept small on purpose. What the caller controls: argv (already parsed, pure), stdin
 * (never read here: only the unprivileged child reads it), the child's behaviour (it may be subverted by a
 * parser bug). What is done about it: the child is forked BEFORE any private key is loaded, so no key
 * bytes are ever in its address space; it gives up the group for good before reading a byte; it can only
 * (a) write into the one temp file it was handed, (b) ask for 32-byte digests to be signed, and (c) hand
 * back an envelope, which is parsed here with the strict envelope parser and whose id, uid, arrival time
 * and size are overwritten with values this process knows. Nothing is committed unless the child exited 0
 * and the envelope is valid; the commit is the spool's single rename.
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

#include <openssl/evp.h>

#include "conf/aliases.h"
#include "conf/dkimkey.h"
#include "lib/buf.h"
#include "lib/fdio.h"
#include "lib/limits.h"
#include "lib/rerun.h"
#include "queue/envelope.h"
#include "queue/spool.h"
#include "sendmail/compose.h"
#include "sendmail/privsep.h"

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
static void mail_back(const struct opts *o, const struct config *c, const char *user, const char *reason)
{
	char to[LIM_PATH + 1];
	const char *av[] = { "sendmail", "-oi", "-f", "<>", "--", to, NULL };
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
	    "postern on %s could not accept a message you submitted with sendmail:\n\n    %s\n\n"
	    "Nothing was sent.\n", conf_notice_domain(c), to, c->hostname, reason) == 0) {
		err_clear(&e);
		(void)rerun_submit(&cmd, note.data, note.len, NULL, &e);
	}
	buf_free(&note);
}

/* child - the unprivileged composer; never returns. */
static void child(const struct opts *o, const struct config *c, const char *id, int datafd, int tofd,
    int fromfd)
{
	struct compose_ctx x;
	struct aliases *al = NULL;
	struct passwd *pw;
	char user[64], gecos[256] = "";
	struct err e;
	uid_t uid;

	err_clear(&e);
	uid = getuid();	/* the submitter, before the child may become nobody */
	pw = getpwuid(uid);
	if (pw != NULL && strlen(pw->pw_name) < sizeof user && strpbrk(pw->pw_name, " \t\r\n<>@\"") == NULL)
		memcpy(user, pw->pw_name, strlen(pw->pw_name) + 1);
	else
		(void)snprintf(user, sizeof user, "uid%lu", (unsigned long)getuid());
	if (pw != NULL && pw->pw_gecos != NULL) {
		size_t n = strcspn(pw->pw_gecos, ",");

		if (n < sizeof gecos && strpbrk(pw->pw_gecos, "\r\n") == NULL) {
			memcpy(gecos, pw->pw_gecos, n);
			gecos[n] = '\0';
		}
	}
	if (privsep_drop_all(&e) < 0)
		goto fail;
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
	x.fromfd = fromfd;
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
		mail_back(o, c, user, e.msg);
	_exit(e.code ? e.code : EX_SOFTWARE);
}

/* read_exact - n bytes from the child. */
static int read_exact(int fd, struct buf *b, size_t n)
{
	char tmp[4096];

	buf_reset(b);
	while (n > 0) {
		ssize_t r = read(fd, tmp, n < sizeof tmp ? n : sizeof tmp);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || buf_add(b, tmp, (size_t)r) < 0)
			return -1;
		n -= (size_t)r;
	}
	return 0;
}

static int write_str(int fd, const char *s, size_t n)
{
	return fdio_write_all(fd, s, n);
}

/* unhex - 64 hex digits to 32 bytes. */
static int unhex(const char *s, size_t n, unsigned char out[32])
{
	size_t i;

	if (n != 64)
		return -1;
	for (i = 0; i < 64; i++) {
		char ch = s[i];
		int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;

		if (v < 0)
			return -1;
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

/* serve - sign what the child asks for, and take its envelope. Returns 0 when an envelope arrived. */
static int serve(const struct config *c, EVP_PKEY **keys, int tofd, int fromfd, struct buf *envtext,
    struct log *lg, const char *id)
{
	struct buf line, sig;
	int got = -1;

	buf_init(&line, 256);
	buf_init(&sig, 8192);
	for (;;) {
		int r = fdio_read_line(fromfd, &line);

		if (r <= 0)
			break;
		if (line.len > 2 && line.data[0] == 'S' && line.data[1] == ' ') {
			unsigned char digest[32];
			char *end;
			struct err e;
			unsigned long k = strtoul(line.data + 2, &end, 10);

			buf_reset(&sig);
			err_clear(&e);
			if (end == line.data + 2 || *end != ' ' || k >= c->ndkim ||
			    unhex(end + 1, line.len - (size_t)(end + 1 - line.data), digest) < 0) {
				(void)write_str(tofd, "E bad request\n", 14);
				break;
			}
			if (dkimkey_sign(keys[k], digest, &sig, &e) < 0 || strpbrk(buf_str(&sig), "\r\n") != NULL) {
				struct buf m;

				buf_init(&m, 600);
				if (buf_printf(&m, "E %s\n", e.msg) == 0)
					(void)write_str(tofd, buf_str(&m), m.len);
				buf_free(&m);
				continue;
			}
			if (write_str(tofd, "B ", 2) < 0 || write_str(tofd, buf_str(&sig), sig.len) < 0 ||
			    write_str(tofd, "\n", 1) < 0)
				break;
		} else if (line.len > 2 && line.data[0] == 'L' && line.data[1] == ' ') {
			log_msg(lg, LOG_INFO, "%s: %s", id, line.data + 2);	/* log_msg makes it safe */
		} else if (line.len > 2 && line.data[0] == 'V' && line.data[1] == ' ') {
			char *end;
			unsigned long n = strtoul(line.data + 2, &end, 10);

			if (*end != '\0' || n == 0 || n > LIM_ENVELOPE_FILE || read_exact(fromfd, envtext, n) < 0)
				break;
			got = 0;
			break;
		} else {
			break;	/* anything else: the child is not speaking the protocol */
		}
	}
	buf_free(&line);
	buf_free(&sig);
	return got;
}

/* send_algs - tell the child which algorithm each configured key is. */
static int send_algs(int tofd, EVP_PKEY **keys, size_t n)
{
	struct buf b;
	size_t i;
	int r = 0;

	buf_init(&b, 16 + 2 * n);
	r |= buf_addc(&b, 'A');
	for (i = 0; i < n; i++)
		r |= buf_adds(&b, dkimkey_alg(keys[i]) == DKIM_ED25519_SHA256 ? " 1" : " 0");
	r |= buf_addc(&b, '\n');
	if (r == 0)
		r = write_str(tofd, buf_str(&b), b.len);
	buf_free(&b);
	return r;
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
static int accept_envelope(const struct buf *text, struct spool_tx *tx, struct envelope *env, struct err *e)
{
	struct stat st;

	if (env_parse(buf_str(text), text->len, env, e) < 0)
		return err_prefix(e, "internal error: envelope from the composer");
	if (env->nrcpt == 0)
		return err_set(e, EX_DATAERR, "no recipients");
	if (fstat(spool_tx_data_fd(tx), &st) < 0)
		return err_set(e, EX_TEMPFAIL, "spool: %s", strerror(errno));
	memset(env->id, 0, sizeof env->id);
	memcpy(env->id, spool_tx_id(tx), strnlen(spool_tx_id(tx), LIM_QUEUE_ID));
	env->uid = getuid();
	env->arrival = (long long)time(NULL);
	env->size = (long long)st.st_size;
	env->next_try = 0;
	env->attempts = 0;
	env->warned = false;
	env->is_bounce = env->sender[0] == '\0';
	env_hist_clear(env);	/* (a history is the runner's to write; it also keeps ENV_MAX_FILE's sum true) */
	for (size_t i = 0; i < env->nrcpt; i++) {
		env->rcpt[i].state = RCPT_PENDING;
		env->rcpt[i].attempts = 0;
	}
	return 0;
}

int submit_main(const struct opts *o, const struct config *c, struct log *lg)
{
	struct spool *sp = NULL;
	struct spool_tx *tx = NULL;
	EVP_PKEY **keys = NULL;
	struct envelope env;
	struct buf envtext;
	struct err e;
	int to_child[2] = { -1, -1 }, from_child[2] = { -1, -1 };
	int rc = EX_SOFTWARE, code, committed = 0;
	pid_t pid = -1;
	size_t i;

	err_clear(&e);
	memset(&env, 0, sizeof env);
	buf_init(&envtext, LIM_ENVELOPE_FILE);
	if ((sp = spool_open(c->spool, &e)) == NULL) {
		rc = report(lg, &e, EX_TEMPFAIL);
		goto out;
	}
	if ((tx = spool_tx_begin(sp, &e)) == NULL) {
		rc = report(lg, &e, EX_TEMPFAIL);
		goto out;
	}
	if (c->ndkim > 0)
		dkimkey_warm();	/* OpenSSL's one-time set-up, done once for both processes (no key involved) */
	if (pipe2(to_child, O_CLOEXEC) < 0 || pipe2(from_child, O_CLOEXEC) < 0) {
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
		close(to_child[1]);
		close(from_child[0]);
		child(o, c, spool_tx_id(tx), spool_tx_data_fd(tx), from_child[1], to_child[0]);
	}
	close(to_child[0]);
	close(from_child[1]);
	to_child[0] = from_child[1] = -1;

	/* only now, with the parser in its own address space, do private keys enter memory */
	keys = xcalloc(c->ndkim ? c->ndkim : 1, sizeof *keys);
	for (i = 0; i < c->ndkim; i++) {
		struct buf warn;

		buf_init(&warn, 512);
		if (dkimkey_load(c->dkim[i].keyfile, &keys[i], &warn, &e) < 0) {
			buf_free(&warn);
			kill(pid, SIGKILL);
			(void)wait_child(pid);
			pid = -1;
			rc = report(lg, &e, EX_CONFIG);
			goto out;
		}
		if (warn.len > 0)
			log_msg(lg, LOG_WARNING, "%s", buf_str(&warn));
		buf_free(&warn);
	}
	(void)send_algs(to_child[1], keys, c->ndkim);

	int got = serve(c, keys, to_child[1], from_child[0], &envtext, lg, spool_tx_id(tx));
	close(to_child[1]);
	to_child[1] = -1;
	code = wait_child(pid);
	pid = -1;
	if (code != 0) {
		rc = code;	/* the child said why on stderr */
		log_msg(lg, LOG_NOTICE, "%s: submission from uid=%lu refused (exit %d)", spool_tx_id(tx),
		    (unsigned long)getuid(), code);
		goto out;
	}
	if (got < 0) {
		err_set(&e, EX_SOFTWARE, "internal error: no envelope from the composer");
		rc = report(lg, &e, EX_SOFTWARE);
		goto out;
	}
	if (accept_envelope(&envtext, tx, &env, &e) < 0 || (committed = spool_tx_commit(tx, &env, &e)) < 0) {
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
	for (i = 0; keys != NULL && i < c->ndkim; i++)
		EVP_PKEY_free(keys[i]);
	free(keys);
	spool_tx_abort(tx);	/* after a commit this only frees it */
	spool_close(sp);
	env_free(&env);
	buf_free(&envtext);
	for (i = 0; i < 2; i++) {
		if (to_child[i] >= 0)
			close(to_child[i]);
		if (from_child[i] >= 0)
			close(from_child[i]);
	}
	return rc;
}

void submit_spawn_runner(const char *id, const char *config, bool wait)
{
	char qarg[LIM_QUEUE_ID + 4];
	const char *av[] = { "sendmail", qarg, config ? "-C" : NULL, config, NULL };
	struct rerun_cmd cmd = { .prog = RERUN_SELF, .argv = av, .err = RERUN_ERR_INHERIT };
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
