/*
 * front.c - the front door's dispatch: submission, -bs, mailq (-bp), -bv, newaliases (-bi). See front.h.
 *
 * The modes that need no group privileges (-bv, newaliases; -bs in its own way, smtpd.h) give the group
 * up for good before they look at anything the caller controls. Nothing reached from here loads a key
 * or links OpenSSL (the Makefile links build/sendmail without it, so a stray reference fails the link).
 */
#include "sendmail/front.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "conf/aliases.h"
#include "lib/buf.h"
#include "queue/store/mailq.h"
#include "queue/run/qadmin.h"
#include "queue/store/spool.h"
#include "sendmail/privsep.h"
#include "sendmail/rcpt.h"
#include "sendmail/rewrite.h"
#include "sendmail/smtpd.h"
#include "sendmail/submit.h"

/* fail - one line for the caller; the sysexits code. */
static int fail(const char *who, const struct err *e, int dflt)
{
	fprintf(stderr, "%s: %s\n", who, e->msg);
	return e->code ? e->code : dflt;
}

static int do_mailq(const struct config *c, bool json)
{
	struct spool *sp;
	struct err e;
	int r;

	err_clear(&e);
	if ((sp = spool_open(c->spool, &e)) == NULL)
		return fail("mailq", &e, EX_TEMPFAIL);
	r = json ? qadmin_list_json(sp, stdout, &e) : mailq_print(sp, stdout, &e);
	spool_close(sp);
	if (r < 0) {
		fprintf(stderr, "%s\n", e.msg);	/* already "mailq: ..." */
		return e.code ? e.code : EX_TEMPFAIL;
	}
	if (fflush(stdout) != 0 && errno != EPIPE)	/* `mailq | head`: the reader has what it wanted */
		return EX_IOERR;
	return 0;
}

static int do_newaliases(const struct config *c)
{
	struct aliases *al = NULL;
	struct buf report;
	struct err e;
	int r;

	err_clear(&e);
	if (privsep_drop_group(&e) < 0)
		return fail("newaliases", &e, EX_OSERR);
	if (aliases_load(c->aliases, &al, &e) < 0)
		return fail("newaliases", &e, EX_CONFIG);
	buf_init(&report, 64 * 1024);
	r = aliases_check(al, &report, &e);
	if (r == 0)
		printf("newaliases: %s: %zu aliases, no errors (postern reads the file directly; no database is "
		    "built)\n", c->aliases, aliases_count(al));
	aliases_free(al);
	buf_free(&report);
	return r < 0 ? fail("newaliases", &e, EX_CONFIG) : 0;
}

/* verify_host - the host -bv names for mail from sender (NULL: not given) to a recipient in dom. */
static const char *verify_host(const struct config *c, const char *sender, const char *dom)
{
	const struct conf_relay *relay;
	const struct conf_route *via = conf_route_for(c, dom);

	switch (conf_dest_for(c, sender, dom, &relay)) {
	case CONF_VIA_ROUTE:
		return via->host;
	case CONF_VIA_SENDER:
		return relay->host;
	case CONF_VIA_SMARTHOST:
		return c->smarthost;
	case CONF_VIA_MX:
	default:
		return dom;
	}
}

/* do_verify - -bv: where each address would go (from the -f sender, as rewrite_sender leaves it: its
 * sender_route; without -f none is assumed); queues nothing. */
static int do_verify(const struct opts *o, const struct config *c)
{
	struct aliases *al = NULL;
	struct rcpt_src src;
	struct err e;
	char *sender = NULL;
	bool utf8 = false;
	size_t i;
	int rc = 0;

	err_clear(&e);
	if (privsep_drop_group(&e) < 0)
		return fail("sendmail", &e, EX_OSERR);
	if (aliases_load(c->aliases, &al, &e) < 0)
		return fail("sendmail", &e, EX_CONFIG);
	src.al = al;
	src.domain = c->domain;
	src.no_alias = o->no_alias;
	if (o->nrcpt == 0) {
		fprintf(stderr, "sendmail: -bv: no addresses given\n");
		aliases_free(al);
		return EX_USAGE;
	}
	if (o->sender != NULL && o->sender[0] != '\0') {
		if (rcpt_sender(&src, o->sender, "", &sender, &utf8, &e) < 0) {
			aliases_free(al);
			return fail("sendmail", &e, EX_USAGE);
		}
		(void)rewrite_sender(c, &sender);
	}
	for (i = 0; i < o->nrcpt; i++) {
		struct rcpt_set one = { 0 };

		err_clear(&e);
		if (rcpt_add_list(&one, &src, o->rcpt[i], strlen(o->rcpt[i]), EX_DATAERR, &e) < 0) {
			printf("%s... %s\n", o->rcpt[i], e.msg);
			rc = EX_DATAERR;
		}
		for (size_t k = 0; k < one.n; k++) {
			const char *dom = strrchr(one.v[k], '@') + 1;

			printf("%s... deliverable: mailer esmtp, host %s, user %s\n", o->rcpt[i],
			    verify_host(c, sender, dom), one.v[k]);
		}
		rcpt_free(&one);
	}
	free(sender);
	aliases_free(al);
	return rc;
}

int front_dispatch(const struct opts *o, const struct config *c, struct log *lg)
{
	struct err e;

	err_clear(&e);
	if ((o->mode == MODE_SUBMIT || o->mode == MODE_SMTP) && conf_name_ok(c, &e) < 0) {
		log_msg(lg, LOG_ERR, "fatal: %s", e.msg);
		return fail(o->personality, &e, EX_CONFIG);
	}
	switch (o->mode) {
	case MODE_SUBMIT:
		return submit_main(o, c, lg);
	case MODE_MAILQ:
		return do_mailq(c, o->json);
	case MODE_NEWALIASES:
		return do_newaliases(c);
	case MODE_VERIFY:
		return do_verify(o, c);
	case MODE_SMTP:
		return smtpd_main(o, c, lg);
	case MODE_QUEUE:
	case MODE_ADMIN:
		break;	/* postern's (main.c execs it before a configuration is read) */
	}
	return EX_SOFTWARE;
}
