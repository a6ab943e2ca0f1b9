/*
 * main.c - the front door's entry point (build/sendmail, installed set-group-id as sendmail, mailq and
 * newaliases): sanitise the process, parse argv, load the configuration, and hand over to the
 * personality (front.h). Everything else lives in the library the tests link (STYLE.md 2).
 *
 * Queue runs (-q, -qR, -qS, -qI, -qTIME, and this binary called as runq) and the admin commands (this
 * binary called as postern) are the queue side's: they are handed to postern (POSTERN_PATH, compiled
 * in) by exec, with the argv the caller gave and a clean environment, so that a sysadmin's habits
 * (sendmail -q, an old runq link) keep working while this program links no OpenSSL.
 *
 * SECURITY: the configuration named by -C is honoured with privileges only for root; anyone else gives
 * up the postern group for good before it is read (so it grants no access to the spool), and before
 * postern is started. postern is started only from its compiled-in path, never from PATH, the
 * environment or next to this binary (a hard link of this binary in a caller's folder must not make it
 * hand its group to the caller's program). Listing the queue (mailq, -bp) is refused here, with
 * EX_NOPERM, to callers mailq_users leaves out.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "lib/rerun.h"
#include "sendmail/args.h"
#include "sendmail/front.h"
#include "sendmail/privsep.h"
#include "sendmail/start.h"

/* run_postern - exec postern for a queue run or an admin command: argv as given, argv[0] the
 * personality postern knows it by. Returns only on failure, with the sysexits code. */
static int run_postern(int argc, char **argv, const struct opts *o)
{
	const char **av = xcalloc((size_t)argc + 1, sizeof *av);
	struct rerun_cmd cmd = { .prog = POSTERN_PATH, .argv = av, .err = RERUN_ERR_INHERIT };
	struct stat self, there;
	struct err e;

	err_clear(&e);
	/* an install that left POSTERN_PATH a link to this very program would exec itself for ever */
	if (stat(RERUN_SELF, &self) == 0 && stat(POSTERN_PATH, &there) == 0 && self.st_dev == there.st_dev &&
	    self.st_ino == there.st_ino) {
		fprintf(stderr, "%s: %s is this program, the front door, not postern: reinstall postern "
		    "(see postern(8))\n", o->personality, POSTERN_PATH);
		free(av);
		return EX_OSFILE;
	}
	av[0] = o->mode == MODE_ADMIN ? "postern" : "runq";
	for (int i = 1; i < argc; i++)
		av[i] = argv[i];
	(void)rerun_exec(&cmd, &e);
	fprintf(stderr, "%s: %s\n", o->personality, e.msg);
	free(av);
	return e.code;
}

int main(int argc, char **argv)
{
	struct config conf;
	struct opts o;
	struct err e;
	struct log *lg;
	int rc;

	err_clear(&e);
	if (privsep_sanitize(&e) < 0)
		return EX_OSERR;
	if (args_parse(argc, argv, &o, &e) < 0) {
		fprintf(stderr, "%s: %s\n", args_personality(argc > 0 ? argv[0] : NULL), e.msg);
		return EX_USAGE;
	}
	if (o.config != NULL && getuid() != 0 && privsep_drop_group(&e) < 0) {
		fprintf(stderr, "%s: %s\n", o.personality, e.msg);
		return EX_OSERR;
	}
	if (o.mode == MODE_QUEUE || o.mode == MODE_ADMIN)
		return run_postern(argc, argv, &o);
	if ((rc = start_config(&o, &conf, &lg)) == 0 && o.mode == MODE_MAILQ)
		rc = start_may_list(&o, &conf, lg);
	if (rc != 0) {
		conf_free(&conf);
		log_free(lg);
		return rc;
	}
	rc = front_dispatch(&o, &conf, lg);
	conf_free(&conf);
	log_free(lg);
	return rc;
}
