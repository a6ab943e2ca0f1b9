/*
 * postern_main.c - the queue side's entry point (build/postern, installed not set-id as postern and
 * runq): the queue runner (runq, and sendmail -q, which the front door execs this for), the periodic
 * runner (-qTIME), and the admin commands (postern COMMAND: queue, stats, queue-run, tls-reload, check,
 * dkim-keygen, dkim-record, spf, config). It links OpenSSL; the front door (main.c) does not.
 *
 * Called by a front door's name (sendmail, mailq, newaliases), it refuses and names the front door:
 * submitting through a program that is not set-id could not reach the spool, and a silent exec the
 * other way would hide a broken install.
 *
 * SECURITY: not set-id, but the front door starts it with the postern group (sendmail -q, the run after
 * a submission), so it treats its caller as the front door does: the same process hygiene, -C with the
 * group only for root. Listing the queue's statistics (postern stats) follows mailq_users as mailq does;
 * what queue commands may do is decided by runner_main (runner.h) and qadmin_main (qadmin.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/rerun.h"
#include "sendmail/admin.h"
#include "sendmail/args.h"
#include "sendmail/privsep.h"
#include "sendmail/start.h"

/* name_of - argv[0]'s basename ("postern" when there is none). */
static const char *name_of(const char *argv0)
{
	const char *b;

	if (argv0 == NULL || *argv0 == '\0')
		return "postern";
	b = strrchr(argv0, '/');
	return b ? b + 1 : argv0;
}

int main(int argc, char **argv)
{
	const char *name = name_of(argc > 0 ? argv[0] : NULL);
	struct config conf;
	struct opts o;
	struct err e;
	struct log *lg;
	char **av;
	int rc;

	err_clear(&e);
	if (privsep_sanitize(&e) < 0)
		return EX_OSERR;
	if (strcmp(name, "sendmail") == 0 || strcmp(name, "mailq") == 0 || strcmp(name, "newaliases") == 0) {
		fprintf(stderr, "postern: called as %.32s: this is the queue side; the front door is %s "
		    "(see postern(8))\n", name, SENDMAIL_PATH);
		return EX_USAGE;
	}
	/* any other name is postern's (a copy, a test's link); runq alone takes sendmail's -q flags */
	av = xcalloc((size_t)(argc > 0 ? argc : 1) + 1, sizeof *av);
	for (int i = 1; i < argc; i++)
		av[i] = argv[i];
	av[0] = (char *)(strcmp(name, "runq") == 0 ? "runq" : "postern");
	rc = args_parse(argc > 0 ? argc : 1, av, &o, &e);
	if (rc == 0 && o.mode != MODE_QUEUE && o.mode != MODE_ADMIN)
		rc = err_set(&e, EX_USAGE, "only queue runs here (-q, -qR, -qS, -qI, -qTIME, -v, -C); "
		    "mail, mailq and aliases are %s's", SENDMAIL_PATH);
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", av[0], e.msg);
		free(av);
		return EX_USAGE;
	}
	if (o.config != NULL && getuid() != 0 && privsep_drop_group(&e) < 0) {
		fprintf(stderr, "%s: %s\n", o.personality, e.msg);
		free(av);
		return EX_OSERR;
	}
	/* postern stats tells about everybody's mail as mailq does: the same rule */
	if ((rc = start_config(&o, &conf, &lg)) == 0 && o.mode == MODE_ADMIN && o.admin_argc > 0 &&
	    strcmp(o.admin_argv[0], "stats") == 0)
		rc = start_may_list(&o, &conf, lg);
	if (rc != 0)
		goto out;
	rc = admin_dispatch(&o, &conf, lg);
out:
	conf_free(&conf);
	log_free(lg);
	free(av);
	return rc;
}
