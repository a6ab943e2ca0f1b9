/*
 * args.c - the sendmail(8) command line. See args.h.
 *
 * SECURITY: argv is caller-controlled (PHP passes extra arguments from web code). Nothing here opens a
 * file or changes state; flags that would name a file or enable debugging are refused, not ignored, so a
 * caller learns at once that they have no effect. CR and LF in anything that ends up in a header or on the
 * SMTP wire are refused here, before a byte is written anywhere.
 *
 * Options follow sendmail: single letters, boolean ones may be combined ("-ti"), an option's value may be
 * glued ("-fuser") or the next argument ("-f user"). Like Postfix, option processing stops at the first
 * argument that is not an option, or after "--"; an option after a recipient is an error rather than a
 * recipient.
 */
#include "sendmail/args.h"

#include "lib/limits.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FLAG_LEN 3	/* an option letter as shown, "-X", and its NUL */


const char *args_personality(const char *argv0)
{
	const char *base;

	if (argv0 == NULL || *argv0 == '\0')
		return "sendmail";
	base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	if (strcmp(base, "mailq") == 0)
		return "mailq";
	if (strcmp(base, "runq") == 0)
		return "runq";
	if (strcmp(base, "newaliases") == 0)
		return "newaliases";
	if (strcmp(base, "postern") == 0)
		return "postern";
	return "sendmail";
}

bool args_may_list_queue(enum mailq_users who, bool root, bool member)
{
	switch (who) {
	case MAILQ_ANYONE:
		return true;
	case MAILQ_GROUP:
		return root || member;
	case MAILQ_ROOT:
		return root;
	}
	return root;
}

bool args_has_crlf(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* bad - the one error form: which flag, and why. */
static int bad(struct err *e, const char *flag, const char *why)
{
	return err_set(e, EX_USAGE, "%s: %s", flag, why);
}

/* parse_qtime - sendmail's -qTIME: digits with s/m/h/d/w units, concatenable ("1h30m"). */
static long parse_qtime(const char *s)
{
	long total = 0;

	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		long n = 0, unit;

		if (!isdigit((unsigned char)*s))
			return -1;
		while (isdigit((unsigned char)*s)) {
			if (n > 100000000L)
				return -1;
			n = n * 10 + (*s++ - '0');
		}
		switch (*s) {
		case 's': unit = 1; s++; break;
		case 'm': unit = 60; s++; break;
		case 'h': unit = 3600; s++; break;
		case 'd': unit = 86400; s++; break;
		case 'w': unit = 604800; s++; break;
		case '\0': unit = 60; break;	/* sendmail: a bare number is minutes */
		default: return -1;
		}
		if (n > (1L << 30) / unit)
			return -1;
		total += n * unit;
		if (total > (1L << 30))
			return -1;
	}
	return total > 0 ? total : -1;
}

/* parse_notify - -N: "never", or a comma list of success, failure, delay. */
static int parse_notify(const char *s)
{
	int bits = 0;

	if (strcasecmp(s, "never") == 0)
		return NOTIFY_NEVER;
	while (*s != '\0') {
		size_t n = strcspn(s, ",");

		if (n == 7 && strncasecmp(s, "success", 7) == 0)
			bits |= NOTIFY_SUCCESS;
		else if (n == 7 && strncasecmp(s, "failure", 7) == 0)
			bits |= NOTIFY_FAILURE;
		else if (n == 5 && strncasecmp(s, "delay", 5) == 0)
			bits |= NOTIFY_DELAY;
		else
			return -1;
		s += n;
		if (*s == ',' && *++s == '\0')
			return -1;
	}
	return bits ? bits : -1;
}

/* envid_ok - -V: RFC 3461 xtext characters, at most 100 octets. */
static bool envid_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 100)
		return false;
	for (; *s; s++)
		if (*s < 33 || *s > 126 || *s == '+' || *s == '=')
			return false;
	return true;
}

/* names_a_file - -O options that would point postern at a file or folder, or turn on debugging. */
static bool names_a_file(const char *opt)
{
	static const char *const words[] = { "file", "dir", "path", "queue", "debug", "alias", "include",
		"program", "mailer", "help", "status", "log" };
	size_t i, n = strcspn(opt, "=");

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		size_t w = strlen(words[i]), j;

		for (j = 0; j + w <= n; j++)
			if (strncasecmp(opt + j, words[i], w) == 0)
				return true;
	}
	return false;
}

/* do_o - the -oX family. */
static int do_o(struct opts *o, const char *v, struct err *e)
{
	switch (v[0]) {
	case 'i':
		if (v[1] == '\0' || strcmp(v + 1, "True") == 0 || strcmp(v + 1, "true") == 0)
			o->dot_ends = false;
		return 0;
	case 'e':
		if (strchr("mepqw", v[1]) == NULL || v[1] == '\0' || v[2] != '\0')
			return bad(e, "-oe", "error mode must be one of m, e, p, q, w");
		o->errmode = v[1];
		return 0;
	case 'd':
		switch (v[1]) {
		case 'b': o->deliver = OD_BACKGROUND; return 0;
		case 'i': o->deliver = OD_INTERACTIVE; return 0;
		case 'q': case 'd': o->deliver = OD_QUEUE; return 0;
		default: return bad(e, "-od", "delivery mode must be b, i, q or d");
		}
	case 'A': case 'Q': case 'S': case 'H': case 'E': case 'L': case 'D':
		/* alias file, queue dir, status file, help file, error header, log level, database */
		return err_set(e, EX_USAGE, "-o%c: refused: this option names a file or changes logging", v[0]);
	case '\0':
		return bad(e, "-o", "missing option letter");
	default:
		return 0;	/* -om, -os, -oL..., and the rest: no meaning here */
	}
}

/* do_q - -q, -qTIME, -qR domain, -qS sender, -qI id, -qf. The value must be glued, as in sendmail. */
static int do_q(struct opts *o, const char *v, struct err *e)
{
	o->mode = MODE_QUEUE;
	if (*v == '\0' || strcmp(v, "f") == 0)
		return 0;
	if (*v == '!')
		v++;	/* -q!I...: negation is not supported; treated as the plain form */
	switch (*v) {
	case 'R': case 'S': case 'I':
		if (v[1] == '\0')
			return err_set(e, EX_USAGE, "-q%c: missing value (write it glued, e.g. -q%cexample.com)",
			    *v, *v);
		if (args_has_crlf(v + 1) || strlen(v + 1) > 255)
			return err_set(e, EX_USAGE, "-q%c: bad value", *v);
		if (*v == 'R')
			o->q_domain = v + 1;
		else if (*v == 'S')
			o->q_sender = v + 1;
		else
			o->q_id = v + 1;
		return 0;
	default:
		if ((o->qinterval = parse_qtime(v)) < 0)
			return bad(e, "-q", "bad interval (sendmail form: -q30m, -q1h, -q15s)");
		return 0;
	}
}

/* do_b - the -bX modes. */
static int do_b(struct opts *o, const char *v, struct err *e)
{
	if (strcmp(v, "m") == 0)
		o->mode = MODE_SUBMIT;
	else if (strcmp(v, "p") == 0)
		o->mode = MODE_MAILQ;
	else if (strcmp(v, "i") == 0)
		o->mode = MODE_NEWALIASES;
	else if (strcmp(v, "s") == 0)
		o->mode = MODE_SMTP;
	else if (strcmp(v, "v") == 0)
		o->mode = MODE_VERIFY;
	else if (strcmp(v, "d") == 0 || strcmp(v, "D") == 0)
		return err_set(e, EX_USAGE, "-b%s: refused: postern runs no SMTP daemon "
		    "(for periodic queue runs use \"sendmail -q30m\")", v);
	else if (strcmp(v, "t") == 0)
		return bad(e, "-bt", "refused: no address test mode (use -bv)");
	else
		return err_set(e, EX_USAGE, "-b%s: unknown mode", v);
	return 0;
}

/* takes_value - options whose value is glued or the next argument. */
static bool takes_value(char c)
{
	return strchr("BCFfrhLNORVXA", c) != NULL;
}

/* do_value - one option with its value. */
static int do_value(struct opts *o, char c, const char *v, struct err *e)
{
	char flag[FLAG_LEN] = { '-', c, '\0' };

	switch (c) {
	case 'B':
		if (strcasecmp(v, "7BIT") == 0)
			o->body = BODY_7BIT;
		else if (strcasecmp(v, "8BITMIME") == 0)
			o->body = BODY_8BITMIME;
		else
			return bad(e, flag, "body type must be 7BIT or 8BITMIME");
		return 0;
	case 'C':
		if (*v == '\0' || args_has_crlf(v))
			return bad(e, flag, "bad configuration file name");
		o->config = v;
		return 0;
	case 'F':
		if (args_has_crlf(v))
			return bad(e, flag, "full name contains CR or LF");
		if (strlen(v) > 256)
			return bad(e, flag, "full name too long (max 256)");
		o->fullname = v;
		return 0;
	case 'f': case 'r':
		if (args_has_crlf(v))
			return bad(e, flag, "sender contains CR or LF");
		if (strlen(v) > 256)
			return bad(e, flag, "sender too long (max 256)");
		o->sender = v;
		return 0;
	case 'h': {
		char *end;
		long n;

		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *v == '\0' || *end != '\0' || n < 0 || n > 1000)
			return bad(e, flag, "hop count must be a number");
		o->hops = (int)n;
		return 0;
	}
	case 'L':
		return 0;	/* syslog tag: postern's log lines keep their own */
	case 'N':
		if ((o->notify = parse_notify(v)) < 0)
			return bad(e, flag, "DSN notify must be never, or a list of success, failure, delay");
		return 0;
	case 'O':
		if (names_a_file(v))
			return err_set(e, EX_USAGE, "-O %.64s: refused: this option names a file or "
			    "enables debugging", v);
		return 0;
	case 'R':
		if (strcasecmp(v, "full") == 0)
			o->ret = RET_FULL;
		else if (strcasecmp(v, "hdrs") == 0)
			o->ret = RET_HDRS;
		else
			return bad(e, flag, "return type must be full or hdrs");
		return 0;
	case 'V':
		if (!envid_ok(v))
			return bad(e, flag, "envelope id must be 1-100 printable characters without + or =");
		o->envid = v;
		return 0;
	case 'X':
		return bad(e, flag, "refused: postern writes no traffic log file");
	case 'A':
		if (strcmp(v, "c") != 0 && strcmp(v, "m") != 0)
			return bad(e, flag, "must be -Ac or -Am");
		return 0;
	}
	return bad(e, flag, "unknown option");
}

int args_parse(int argc, char **argv, struct opts *o, struct err *e)
{
	bool dashdash = false;
	int i;

	memset(o, 0, sizeof *o);
	o->dot_ends = true;
	o->errmode = 'p';
	o->personality = args_personality(argc > 0 ? argv[0] : NULL);
	if (strcmp(o->personality, "mailq") == 0)
		o->mode = MODE_MAILQ;
	else if (strcmp(o->personality, "runq") == 0)
		o->mode = MODE_QUEUE;
	else if (strcmp(o->personality, "newaliases") == 0)
		o->mode = MODE_NEWALIASES;
	else if (strcmp(o->personality, "postern") == 0) {
		o->mode = MODE_ADMIN;
		i = argc > 0 ? 1 : 0;
		if (argc > 2 && strcmp(argv[1], "-C") == 0) {	/* postern -C FILE COMMAND ... */
			if (do_value(o, 'C', argv[2], e) < 0)
				return -1;
			i = 3;
		}
		o->admin_argv = argv + i;
		o->admin_argc = argc - i;
		return 0;
	}

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t j;

		if (strcmp(a, "--") == 0) {
			dashdash = true;
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--json") == 0) {	/* mailq --json, sendmail -bp --json */
			o->json = true;
			continue;
		}
		for (j = 1; a[j] != '\0'; j++) {
			char c = a[j];
			const char *rest = a + j + 1;
			int r = 0;

			if (takes_value(c)) {
				if (*rest == '\0') {
					if (i + 1 >= argc)
						return err_set(e, EX_USAGE, "-%c: missing value", c);
					rest = argv[++i];
				}
				r = do_value(o, c, rest, e);
			} else if (c == 'b') {
				r = do_b(o, rest, e);
			} else if (c == 'o') {
				r = do_o(o, rest, e);
			} else if (c == 'q' && (strcmp(rest, "R") == 0 || strcmp(rest, "S") == 0 ||
			    strcmp(rest, "I") == 0) && i + 1 < argc && argv[i + 1][0] != '-') {
				/* -qR domain: the value as the next argument, as some scripts write it */
				const char *v = argv[++i];

				o->mode = MODE_QUEUE;
				if (args_has_crlf(v) || strlen(v) > 255 || *v == '\0')
					return err_set(e, EX_USAGE, "-q%s: bad value", rest);
				if (*rest == 'R')
					o->q_domain = v;
				else if (*rest == 'S')
					o->q_sender = v;
				else
					o->q_id = v;
			} else if (c == 'q') {
				r = do_q(o, rest, e);
			} else if (c == 'd') {
				r = bad(e, "-d", "refused: debugging is not available");
			} else {
				switch (c) {
				case 't': o->extract = true; continue;
				case 'i': o->dot_ends = false; continue;
				case 'v': o->verbose = true; continue;
				case 'n': o->no_alias = true; continue;
				case 'I': o->mode = MODE_NEWALIASES; continue;
				case 'G': case 'm': case 's': case 'U': case 'c': case 'T': continue;
				case 'p': break;	/* -pPROTOCOL[:host]: value ignored */
				default:
					return err_set(e, EX_USAGE, "-%c: unknown option", c);
				}
			}
			if (r < 0)
				return -1;
			break;	/* the rest of this argument was the value */
		}
	}
	if (o->json && o->mode != MODE_MAILQ)
		return err_set(e, EX_USAGE, "--json: only with mailq or -bp");
	o->rcpt = argv + i;
	o->nrcpt = (size_t)(argc - i);
	for (size_t k = 0; k < o->nrcpt; k++) {
		const char *r = o->rcpt[k];

		if (args_has_crlf(r))
			return err_set(e, EX_USAGE, "recipient %zu contains CR or LF", k + 1);
		if (*r == '\0')
			return err_set(e, EX_USAGE, "recipient %zu is empty", k + 1);
		if (strlen(r) > LIM_ARG)
			return err_set(e, EX_USAGE, "recipient %zu is too long", k + 1);
		if (r[0] == '-' && !dashdash)
			return err_set(e, EX_USAGE, "%.32s: options must come before the recipients "
			    "(or use -- before recipients starting with -)", r);
	}
	return 0;
}
