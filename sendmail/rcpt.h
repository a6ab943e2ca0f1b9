/*
 * rcpt.h - the recipient set of one submission: from argv or from the headers (-t), through aliases.
 *
 * Untrusted input: argv and header values. Bare local names ("root") are expanded through the aliases
 * table, and what stays bare gets "@" + the configured domain, so postern never delivers locally.
 * Errors: code 65 naming the malformed address; 64 for a malformed argv address.
 */
#ifndef POSTERN_RCPT_H
#define POSTERN_RCPT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/aliases.h"
#include "lib/err.h"
#include "lib/hdr.h"

struct rcpt_set {
	char **v;	/* owned "local@domain" strings, in order, without duplicates */
	char **orig;	/* owned: what the caller wrote for each, or NULL */
	size_t n;
	bool utf8;	/* some address needs SMTPUTF8 */
};

struct rcpt_src {
	const struct aliases *al;	/* may be NULL */
	const char *domain;		/* for bare names */
	bool no_alias;			/* -n */
};

/* rcpt_add_list - parse an address list (an argv word or a header value) and add each address. */
int rcpt_add_list(struct rcpt_set *s, const struct rcpt_src *src, const char *p, size_t n, int code,
    struct err *e);

/* rcpt_from_headers - -t: To, Cc, Bcc (or Resent-To/Cc/Bcc when any Resent- field is present). */
int rcpt_from_headers(struct rcpt_set *s, const struct rcpt_src *src, const struct hdr_field *f, size_t nf,
    struct err *e);

/* rcpt_remove - drop every member of `drop` from s (sendmail 8's -t: argv addresses are suppressed). */
void rcpt_remove(struct rcpt_set *s, const struct rcpt_set *drop);

/* rcpt_sender - the envelope sender: -f value (may be "<>" for the null sender) or user@domain.
 * Result in *out (owned; "" = null sender). */
int rcpt_sender(const struct rcpt_src *src, const char *f, const char *user, char **out, bool *utf8,
    struct err *e);

void rcpt_free(struct rcpt_set *s);

#endif
