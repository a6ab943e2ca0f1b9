/*
 * probe_send.c - `postern check --send ADDRESS`: a test message the way any message goes. See probe.h.
 *
 * The message goes through the front door (sendmail -odq, so it is completed, rewritten and queued as
 * mail from this user is) with a unique DSN envelope id (-V) by which it is found in the spool; then a
 * queue run of that message alone (sendmail -qIID -v) signs and delivers it in the foreground, and
 * its status line ("ID: to=<...>, relay=..., tls=..., dsn=..., status=sent (250 ...)") is the finding.
 * Finding the message needs the spool, so --send wants root (or the postern user).
 *
 * SECURITY: ADDRESS was checked by check_args and goes after "--"; the front door judges it again.
 * The status line carries the server's reply (made safe by the log) and is escaped by the report.
 */
#include "queue/wire/probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "lib/buf.h"
#include "lib/rerun.h"
#include "queue/store/envelope.h"
#include "queue/store/spool.h"

#define PROBE_MSG_MAX 4096	/* the test message: a few header fields and a paragraph */
#define PROBE_ENVID_MAX 64	/* "postern-check.TIME.PID" */
#define PROBE_DELAY_MAX 32	/* the delay= field of a status line */

/* field - copy [p, p+n) into dst[dstsz]: -1 if it does not fit. */
static int field(char *dst, size_t dstsz, const char *p, size_t n)
{
	if (n >= dstsz)
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* take - the text after `key` up to the first of `stops` (or the end) into dst; *p moves past it. */
static int take(const char **p, const char *end, const char *key, const char *stops, char *dst, size_t dstsz)
{
	size_t kl = strlen(key), n = 0;

	if ((size_t)(end - *p) < kl || memcmp(*p, key, kl) != 0)
		return -1;
	*p += kl;
	while (*p + n < end && strchr(stops, (*p)[n]) == NULL)
		n++;
	if (field(dst, dstsz, *p, n) < 0)
		return -1;
	*p += n;
	return 0;
}

int probe_status_parse(const char *line, size_t len, const char *id, struct probe_status *st)
{
	const char *end = line + len, *p = NULL;
	char head[ENV_ID_LEN + 16], delay[PROBE_DELAY_MAX];
	int hl = snprintf(head, sizeof head, "%s: to=<", id);

	if (hl < 0 || (size_t)hl >= sizeof head)
		return -1;
	for (const char *q = line; q + hl <= end && p == NULL; q++)
		if (memcmp(q, head, (size_t)hl) == 0)
			p = q + hl;
	if (p == NULL)
		return -1;
	memset(st, 0, sizeof *st);
	if (take(&p, end, "", ">", st->to, sizeof st->to) < 0 || take(&p, end, ">, relay=", ",", st->relay,
	    sizeof st->relay) < 0 || take(&p, end, ", delay=", ",", delay, sizeof delay) < 0 ||
	    take(&p, end, ", tls=", ",", st->tls, sizeof st->tls) < 0 ||
	    take(&p, end, ", dsn=", ",", st->dsn, sizeof st->dsn) < 0 ||
	    take(&p, end, ", status=", " ", st->status, sizeof st->status) < 0)
		return -1;
	if (end - p < 3 || p[0] != ' ' || p[1] != '(' || end[-1] != ')')
		return -1;
	return field(st->diag, sizeof st->diag, p + 2, (size_t)(end - p - 3));
}

/* front_door - argv NAME [-C FILE] for the front door (sendmail) or the queue side (runq); -C only for a
 * file other than the default (the front door gives its group up for any -C, and then could not queue). */
static size_t front_door(const char **av, const char *name, const struct config *c)
{
	size_t k = 0;

	av[k++] = name;
	if (c->path != NULL && strcmp(c->path, CONF_PATH_DEFAULT) != 0) {
		av[k++] = "-C";
		av[k++] = c->path;
	}
	return k;
}

/* submit - queue the test message; 0, or -1 with the finding made. */
static int submit(const struct config *c, const char *to, const char *envid, struct check_report *r)
{
	const char *av[12];
	struct rerun_cmd cmd = { .prog = SENDMAIL_PATH, .argv = av, .err = RERUN_ERR_CAPTURE };
	struct buf msg, said;
	struct rerun *rr;
	char nb[RERUN_NAME_MAX];
	struct err e;
	size_t k = front_door(av, "sendmail", c);
	int code = -1;

	av[k++] = "-odq";
	av[k++] = "-oi";
	av[k++] = "-V";
	av[k++] = envid;
	av[k++] = "--";
	av[k++] = to;
	av[k] = NULL;
	buf_init(&msg, PROBE_MSG_MAX);
	buf_init(&said, RERUN_STDERR_MAX);
	err_clear(&e);
	if (buf_printf(&msg, "To: <%s>\nSubject: postern check: a test message from %s\n\n"
	    "This message was sent by \"postern check --send\" on %s, to see how receivers judge\n"
	    "mail from this host: its address, reverse DNS, SPF, DKIM, DMARC and TLS.\n", to, c->hostname,
	    c->hostname) < 0)
		check_add(r, "send", CHECK_FAIL, to, NULL, "the test message does not fit %d bytes", PROBE_MSG_MAX);
	else if ((rr = rerun_start(&cmd, &e)) == NULL)
		check_add(r, "send", CHECK_FAIL, to, NULL, "cannot run the front door: %s", e.msg);
	else {
		(void)rerun_write(rr, msg.data, msg.len);
		code = rerun_finish(rr, &said);
		if (code != 0)
			check_add(r, "send", CHECK_FAIL, to, "see postern(8), DIAGNOSTICS",
			    "the front door refused it (%s): %.*s", rerun_status_name(code, nb),
			    (int)strcspn(buf_str(&said), "\n"), buf_str(&said));
	}
	buf_free(&msg);
	buf_free(&said);
	return code == 0 ? 0 : -1;
}

/* find - the id of the queued message whose envelope id is envid and whose submitter is us. */
static int find(const struct config *c, const char *envid, char id[ENV_ID_LEN + 1], struct err *e)
{
	struct spool_entry *v = NULL;
	struct spool *sp;
	size_t n = 0;
	int found = -1;

	if ((sp = spool_open(c->spool, e)) == NULL)
		return -1;
	if (spool_scan(sp, &v, &n, e) == 0)
		for (size_t i = n; i-- > 0 && found < 0;) {	/* the newest first */
			struct envelope env;

			memset(&env, 0, sizeof env);
			if (spool_read_env(sp, v[i].id, &env, e) == 1 && env.envid != NULL &&
			    strcmp(env.envid, envid) == 0 && env.uid == getuid()) {
				memcpy(id, v[i].id, ENV_ID_LEN + 1);
				found = 0;
			}
			env_free(&env);
		}
	if (found < 0 && e->msg[0] == '\0')
		err_set(e, EX_SOFTWARE, "queued, but not found in %s", c->spool);
	free(v);
	spool_close(sp);
	return found;
}

/* deliver - run the queue for that message alone; its status lines are the findings. */
static void deliver(const struct config *c, const char *to, const char *id, struct check_report *r)
{
	const char *av[12];
	struct rerun_cmd cmd = { .prog = RERUN_SELF, .argv = av, .err = RERUN_ERR_CAPTURE };
	char qarg[ENV_ID_LEN + 4], nb[RERUN_NAME_MAX];
	struct probe_status st;
	struct buf said;
	struct rerun *rr;
	struct err e;
	size_t k = front_door(av, "runq", c), lines = 0;	/* this program: postern */
	int code;

	(void)snprintf(qarg, sizeof qarg, "-qI%s", id);
	av[k++] = qarg;
	av[k++] = "-v";
	av[k] = NULL;
	err_clear(&e);
	if ((rr = rerun_start(&cmd, &e)) == NULL) {
		check_add(r, "send", CHECK_UNKNOWN, to, NULL, "queued as %s, but no queue run: %s", id, e.msg);
		return;
	}
	buf_init(&said, RERUN_STDERR_MAX);
	code = rerun_finish(rr, &said);
	for (const char *p = buf_str(&said); *p != '\0';) {
		size_t n = strcspn(p, "\n");

		if (probe_status_parse(p, n, id, &st) == 0) {
			bool sent = strcmp(st.status, "sent") == 0;

			lines++;
			check_add(r, "send", sent ? CHECK_OK : CHECK_FAIL, st.to,
			    sent ? NULL : strcmp(st.status, "deferred") == 0 ? "it stays queued and is tried again (mailq)" : NULL,
			    "%s via %s, TLS %s, dsn %s: %s", st.status, st.relay, st.tls, st.dsn, st.diag);
		}
		p += n + (p[n] == '\n');
	}
	if (lines == 0)
		check_add(r, "send", CHECK_UNKNOWN, to, "see mailq and the mail log",
		    "queued as %s; the queue run (%s) said nothing about it", id, rerun_status_name(code, nb));
	buf_free(&said);
}

void probe_send(const struct config *c, const char *to, struct check_report *r)
{
	char envid[PROBE_ENVID_MAX], id[ENV_ID_LEN + 1];
	struct err e;

	(void)snprintf(envid, sizeof envid, "postern-check.%lld.%ld", (long long)time(NULL), (long)getpid());
	if (submit(c, to, envid, r) < 0)
		return;
	err_clear(&e);
	if (find(c, envid, id, &e) < 0) {
		check_add(r, "send", CHECK_UNKNOWN, to, getuid() != 0 ? "run postern check --send as root" : NULL,
		    "queued; the next queue run sends it (%s)", e.msg);
		return;
	}
	deliver(c, to, id, r);
}
