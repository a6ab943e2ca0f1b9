/*
 * check_report.h - the findings of `postern check` and how they are told: one line each, or one JSON
 * object; the command line (--json, --only NAME, --send ADDRESS, DOMAIN) and the exit status.
 *
 * A finding is (id, subject, status, seen, fix). id is one of check_ids[] (postern-check(8) lists
 * them); subject is what was checked (a domain, an address, a file); seen is what was found; fix is
 * what to do, or "" when nothing needs doing. seen and subject carry DNS text and the caller's
 * DOMAIN: they are escaped when printed (log_safe in text, \uXXXX in JSON), never trusted.
 *
 * Errors: check_args returns EX_USAGE with a reason for an unknown option or check name.
 */
#ifndef POSTERN_CHECK_REPORT_H
#define POSTERN_CHECK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "lib/err.h"

enum check_status { CHECK_OK, CHECK_WARN, CHECK_FAIL, CHECK_UNKNOWN };

/* The status `postern check` exits with when something FAILed (as diff(1) and test(1) say "no"):
 * not a sysexits.h condition, the check itself worked. */
#define CHECK_EXIT_FAILED 1
/* Findings kept: a dozen checks, a few lines per DKIM key, sending address and deny-list. */
#define CHECK_MAX_FINDINGS 256
/* One seen or fix text: a DKIM record to publish (RSA 8192, DKIMKEY_RECORD_MAX) fits with room. */
#define CHECK_FIELD_MAX 8192

/* check_ids - every check id, in the order they run; NULL-terminated. */
extern const char *const check_ids[];

struct check_finding {
	const char *id;		/* one of check_ids */
	enum check_status status;
	char *subject, *seen, *fix;	/* owned */
};

struct check_report {
	bool json;
	const char *send;	/* borrowed: --send ADDRESS, or NULL */
	unsigned long only;	/* bit i: check_ids[i] asked for by --only; 0: all */
	const char *domain;	/* borrowed: argv or the configuration */
	struct check_finding f[CHECK_MAX_FINDINGS];
	size_t n;
	size_t count[4];	/* by status */
};

/* check_args - parse argv ("check" [--json] [--only NAME[,NAME...]]... [--send ADDRESS] [DOMAIN])
 * into r; *domain is set when a DOMAIN is given. ADDRESS must be local@domain without white space,
 * control bytes or a leading '-' (the front door judges the rest). Pure. 0, or -1 with EX_USAGE. */
int check_args(int argc, const char *const *argv, struct check_report *r, const char **domain,
	       struct err *e);

/* check_wanted - whether check `id` runs (no --only, or named by it; "send" only with --send). */
bool check_wanted(const struct check_report *r, const char *id);

/* check_add - one finding (dropped when --only leaves its id out). fix may be NULL (nothing to do). A finding past CHECK_MAX_FINDINGS is
 * counted but not kept (abort would lose the report; the count still drives the exit status). */
void check_add(struct check_report *r, const char *id, enum check_status st, const char *subject,
	       const char *fix, const char *seenfmt, ...) __attribute__((format(printf, 6, 7)));

/* check_exit - the exit status for the counts: CHECK_EXIT_FAILED when something failed, else
 * EX_TEMPFAIL when something could not be checked, else EX_OK (warnings do not change it). Pure. */
int check_exit(const size_t count[4]);

/* check_print - the text lines ("ok  ", "warn", "FAIL", "??  ") and a summary, or the JSON object. */
void check_print(const struct check_report *r, const char *hostname, FILE *out);

/* check_json_str - s as a JSON string, quotes included (lib/text.h's text_json_add: valid UTF-8 kept,
 * controls and any other 8-bit byte escaped), so that the output is valid JSON whatever DNS sent. */
void check_json_str(FILE *out, const char *s);

void check_report_free(struct check_report *r);

#endif
