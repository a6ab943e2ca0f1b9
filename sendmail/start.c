/*
 * start.c - what both programs' main do after argv (start.h).
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "lib/err.h"
#include "sendmail/privsep.h"
#include "sendmail/start.h"

#define IDENT_MAX 32	/* the syslog ident, "postern/PERSONALITY" */

int start_config(const struct opts *o, struct config *conf, struct log **lg)
{
	char ident[IDENT_MAX];
	struct err e;

	err_clear(&e);
	(void)snprintf(ident, sizeof ident, "postern/%s", o->personality);
	*lg = log_new(ident, LOG_TO_SYSLOG | (o->verbose ? LOG_TO_STDERR : 0));
	memset(conf, 0, sizeof *conf);
	if (conf_load(conf, o->config ? o->config : CONF_PATH_DEFAULT, o->config == NULL, &e) < 0) {
		fprintf(stderr, "%s: %s\n", o->personality, e.msg);
		log_msg(*lg, LOG_ERR, "fatal: %s", e.msg);
		return EX_CONFIG;
	}
	return 0;
}

int start_may_list(const struct opts *o, const struct config *conf, struct log *lg)
{
	if (args_may_list_queue(conf->mailq_users, getuid() == 0, privsep_in_group()))
		return 0;
	fprintf(stderr, "%s: permission denied: only %s may list the queue (mailq_users)\n", o->personality,
	    conf->mailq_users == MAILQ_ROOT ? "root" : "root and the postern group");
	log_msg(lg, LOG_NOTICE, "queue listing refused to uid=%lu", (unsigned long)getuid());
	return EX_NOPERM;
}
