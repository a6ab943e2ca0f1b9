/*
 * args.h - the sendmail(8) command line, and the personality chosen by argv[0].
 *
 * Untrusted input: argv. PHP's mail() passes caller-controlled extra arguments, so anything that names a
 * file or turns on debugging (-bd -bD -bt -X -d -oQ -oA -OQueueDirectory= ...) is refused with EX_USAGE
 * and never acted on. args_parse is pure: it only reads argv and fills struct opts with pointers borrowed
 * from argv. Errors: -1 with EX_USAGE (64) and a one-line reason naming the flag.
 */
#ifndef POSTERN_ARGS_H
#define POSTERN_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"	/* enum mailq_users */
#include "lib/err.h"
#include "queue/store/envelope.h"	/* NOTIFY_* */

enum mode {
	MODE_SUBMIT,		/* -bm, the default */
	MODE_MAILQ,		/* -bp, mailq */
	MODE_QUEUE,		/* -q, runq */
	MODE_NEWALIASES,	/* -bi, -I, newaliases */
	MODE_SMTP,		/* -bs */
	MODE_VERIFY,		/* -bv */
	MODE_ADMIN,		/* postern SUBCOMMAND ... */
};

enum deliver_opt { OD_DEFAULT, OD_BACKGROUND, OD_INTERACTIVE, OD_QUEUE };
enum body_opt { BODY_UNSET, BODY_7BIT, BODY_8BITMIME };
enum ret_opt { RET_UNSET, RET_FULL, RET_HDRS };

struct opts {
	enum mode mode;
	const char *personality;	/* "sendmail", "mailq", "runq", "newaliases", "postern" */
	bool extract;		/* -t */
	bool dot_ends;		/* a lone "." line ends input; cleared by -i / -oi */
	bool verbose;		/* -v */
	bool no_alias;		/* -n */
	const char *sender;	/* -f / -r, or NULL */
	const char *fullname;	/* -F, or NULL */
	const char *config;	/* -C, or NULL */
	enum deliver_opt deliver;	/* -od* */
	char errmode;		/* -oe?: 'p' (default), 'm', 'e', 'q', 'w' */
	enum body_opt body;	/* -B */
	int notify;		/* -N: NOTIFY_* bits, 0 = unset */
	enum ret_opt ret;	/* -R */
	const char *envid;	/* -V */
	int hops;		/* -h, 0 = unset */
	long qinterval;		/* -qTIME: seconds between runs; 0 = one run */
	const char *q_domain;	/* -qR */
	const char *q_sender;	/* -qS */
	const char *q_id;	/* -qI */
	bool json;		/* mailq --json: one JSON object per message (queue/run/qadmin.h) */
	char **rcpt;		/* recipients from argv (borrowed) */
	size_t nrcpt;
	char **admin_argv;	/* MODE_ADMIN: the subcommand and its arguments (borrowed) */
	int admin_argc;
};

/* args_personality - the personality named by argv[0]'s basename. */
const char *args_personality(const char *argv0);

/* args_parse - parse argv into o. Returns 0, or -1 with e (code 64) naming the offending flag. */
int args_parse(int argc, char **argv, struct opts *o, struct err *e);

/* args_may_list_queue - whether a caller may list the queue (mailq, -bp) under the mailq_users
 * setting: anyone; group (root, or a member of the postern group); root. Pure. */
bool args_may_list_queue(enum mailq_users who, bool root, bool member);

/* args_has_crlf - true if s contains CR or LF (header/SMTP injection). */
bool args_has_crlf(const char *s);

#endif
