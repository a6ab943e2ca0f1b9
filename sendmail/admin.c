/*
 * admin.c - postern's dispatch: queue runs (runq, sendmail -q via postern) and the admin commands.
 * See admin.h.
 *
 * The admin commands that need no group privileges (all but queue, stats, queue-run and tls-reload)
 * give the group up for good before they look at anything the caller controls.
 */
#include "sendmail/admin.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/check.h"
#include "conf/confshow.h"
#include "conf/keygen.h"
#include "conf/spf.h"
#include "lib/buf.h"
#include "queue/wire/probe.h"
#include "queue/run/qadmin.h"
#include "queue/run/runner.h"
#include "queue/store/stats.h"
#include "sendmail/privsep.h"

#define POSTERN_VERSION "0.1"

static const char usage[] =
    "usage: postern COMMAND [ARGS]\n"
    "commands:\n"
    "  dkim-keygen DOMAIN SELECTOR [--type rsa|ed25519] [--bits N]\n"
    "                      make a DKIM key and print its config line and DNS record\n"
    "  dkim-record DOMAIN SELECTOR\n"
    "                      print the DNS record for a configured key\n"
    "  config [KEY]        print KEY's effective value (no KEY: every key that is set)\n"
    "  check [--json] [--only NAME] [--send ADDRESS] [DOMAIN]\n"
    "                      check SPF, DKIM, DMARC, MX, A, rDNS, port 25, the smarthost and TLS\n"
    "  spf IP SENDER [HELO] evaluate SPF (RFC 7208) for mail from SENDER at IP\n"
    "  stats [--prometheus] queue depth, oldest message, outcomes counted since install\n"
    "  queue-run [-v]      deliver what is due (for cron and timers; sendmail -q takes everything)\n"
    "  tls-reload          make a running periodic queue runner re-read its certificates\n"
    "  version             print the version\n"
    "As runq it takes sendmail's -q options; sendmail, mailq and newaliases are the front door.\n"
    "See postern(8).\n";

/* fail - one line for the caller; the sysexits code. */
static int fail(const char *who, const struct err *e, int dflt)
{
	fprintf(stderr, "%s: %s\n", who, e->msg);
	return e->code ? e->code : dflt;
}

static int do_admin(const struct opts *o, const struct config *c, struct log *lg)
{
	const char *cmd = o->admin_argc > 0 ? o->admin_argv[0] : NULL;
	struct err e;

	err_clear(&e);
	if (cmd == NULL || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0 || strcmp(cmd, "-h") == 0) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? 0 : EX_USAGE;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("postern %s\n", POSTERN_VERSION);
		return 0;
	}
	if (strcmp(cmd, "tls-reload") == 0)
		return runner_tls_reload(c, lg);
	if (strcmp(cmd, "queue") == 0)	/* checks the caller, then becomes postern */
		return qadmin_main(c, lg, o->admin_argc, o->admin_argv, stdout, stderr);
	if (strcmp(cmd, "stats") == 0)	/* main.c checked mailq_users */
		return stats_main(c->spool, o->admin_argc, o->admin_argv, stdout, stderr);
	if (strcmp(cmd, "queue-run") == 0) {	/* what is due, as the periodic runner takes it */
		struct runner_opts ro;

		memset(&ro, 0, sizeof ro);
		ro.verbose = o->admin_argc > 1 && strcmp(o->admin_argv[1], "-v") == 0;
		log_mirror(lg, ro.verbose);	/* the status= lines too, as sendmail -q -v shows them */
		ro.config_path = o->config;	/* bounces are submitted with the same configuration */
		return runner_main(&ro, c, lg);
	}
	/* the rest need no group: key generation writes as root (or where the caller may write) */
	if (getuid() != 0 && privsep_drop_group(&e) < 0)
		return fail("postern", &e, EX_OSERR);
	if (strcmp(cmd, "dkim-keygen") == 0)
		return keygen_main(c, o->admin_argc, o->admin_argv, stdout, stderr);
	if (strcmp(cmd, "dkim-record") == 0)
		return keyrecord_main(c, o->admin_argc, o->admin_argv, stdout, stderr);
	if (strcmp(cmd, "check") == 0)
		return check_main(c, &probe_net, o->admin_argc, o->admin_argv, stdout, stderr);
	if (strcmp(cmd, "spf") == 0)
		return spf_main(c->resolver, o->admin_argc, o->admin_argv, stdout, stderr);
	if (strcmp(cmd, "config") == 0)
		return conf_show_main(c, o->admin_argc, o->admin_argv, stdout, stderr);
	fprintf(stderr, "postern: unknown command \"%.64s\"\n%s", cmd, usage);
	return EX_USAGE;
}

/* sends_mail - whether this mode sends mail (and so needs a fully qualified hostname). */
static bool sends_mail(const struct opts *o)
{
	return o->mode == MODE_QUEUE ||
	    (o->mode == MODE_ADMIN && o->admin_argc > 0 && strcmp(o->admin_argv[0], "queue-run") == 0);
}

int admin_dispatch(const struct opts *o, const struct config *c, struct log *lg)
{
	struct runner_opts ro;
	struct err e;

	err_clear(&e);
	if (sends_mail(o) && conf_name_ok(c, &e) < 0) {
		log_msg(lg, LOG_ERR, "fatal: %s", e.msg);
		return fail(o->personality, &e, EX_CONFIG);
	}
	switch (o->mode) {
	case MODE_QUEUE:
		memset(&ro, 0, sizeof ro);
		ro.force = o->q_id == NULL;	/* -q forces all; -qI id (after submission) takes one */
		ro.domain = o->q_domain;
		ro.sender = o->q_sender;
		ro.id = o->q_id;
		ro.interval = o->qinterval;
		ro.verbose = o->verbose;
		ro.config_path = o->config;
		return runner_main(&ro, c, lg);
	case MODE_ADMIN:
		return do_admin(o, c, lg);
	default:
		break;	/* the front door's (front.h): postern's main refuses them before this */
	}
	return EX_SOFTWARE;
}
