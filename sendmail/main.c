/*
 * main.c - postern's entry point: sanitise the process, parse argv, load the configuration, and hand
 * over to the personality. Everything else lives in the library the tests link (STYLE.md 2).
 *
 * SECURITY: the configuration named by -C is honoured with privileges only for root; anyone else gives
 * up the postern group for good before it is read (so it grants no access to the spool or keys).
 * Listing the queue (mailq, -bp) is refused here, with EX_NOPERM, to callers mailq_users leaves out;
 * what queue commands may do is decided by runner_main (runner.h).
 */
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/prctl.h>
#include <sysexits.h>
#include <unistd.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/log.h"
#include "sendmail/admin.h"
#include "sendmail/args.h"
#include "sendmail/privsep.h"

#if defined(__SANITIZE_ADDRESS__)
/* Sanitizer builds only: LeakSanitizer cannot inspect a set-group-id, non-dumpable process that is
 * not root (it needs ptrace), and would turn a clean exit into a failure. */
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return geteuid() != 0 && prctl(PR_GET_DUMPABLE) != 1;
}
#endif

/* in_postern_group - whether the caller (real gid or a supplementary group) is in the postern group. */
static bool in_postern_group(void)
{
	struct group *g = getgrnam("postern");
	gid_t *list;
	bool in = false;
	int n;

	if (g == NULL)
		return false;
	if (getgid() == g->gr_gid)
		return true;
	if ((n = getgroups(0, NULL)) <= 0)
		return false;
	list = xcalloc((size_t)n, sizeof *list);
	n = getgroups(n, list);
	for (int i = 0; i < n; i++)
		in |= list[i] == g->gr_gid;
	free(list);
	return in;
}

int main(int argc, char **argv)
{
	struct config conf;
	struct opts o;
	struct err e;
	struct log *lg;
	char ident[32];
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
	(void)snprintf(ident, sizeof ident, "postern/%s", o.personality);
	lg = log_new(ident, LOG_TO_SYSLOG | (o.verbose ? LOG_TO_STDERR : 0));
	memset(&conf, 0, sizeof conf);
	if (conf_load(&conf, o.config ? o.config : CONF_PATH_DEFAULT, o.config == NULL, &e) < 0) {
		fprintf(stderr, "%s: %s\n", o.personality, e.msg);
		log_msg(lg, LOG_ERR, "fatal: %s", e.msg);
		conf_free(&conf);
		log_free(lg);
		return EX_CONFIG;
	}
	/* postern stats tells about everybody's mail as mailq does: the same rule */
	if ((o.mode == MODE_MAILQ ||
	     (o.mode == MODE_ADMIN && o.admin_argc > 0 && strcmp(o.admin_argv[0], "stats") == 0)) &&
	    !args_may_list_queue(conf.mailq_users, getuid() == 0, in_postern_group())) {
		fprintf(stderr, "%s: permission denied: only %s may list the queue (mailq_users)\n", o.personality,
		    conf.mailq_users == MAILQ_ROOT ? "root" : "root and the postern group");
		log_msg(lg, LOG_NOTICE, "queue listing refused to uid=%lu", (unsigned long)getuid());
		conf_free(&conf);
		log_free(lg);
		return EX_NOPERM;
	}
	rc = admin_dispatch(&o, &conf, lg);
	conf_free(&conf);
	log_free(lg);
	return rc;
}
