/*
 * rewrite.h - sender rewriting at submission: rewrite_sender (the envelope sender), rewrite_from (the
 * From header field) and from_policy (a From that does not align with what postern can sign).
 *
 * NAME
 *	rewrite - so that cron's root, PHP's www-data@hostname and a form's visitor@gmail.com leave with an
 *	address in a domain the receivers can check
 * DESCRIPTION
 *	Rules are "PATTERN ADDRESS" lines (struct conf_rewrites), tried in file order, the first match
 *	wins. A PATTERN is "*" (every address), "*@localhost", "*@hostname" (the value of the hostname
 *	key), "*@DOMAIN" (that domain exactly, letter case aside), or a user name NAME, which matches NAME
 *	at one of the host's own names (hostname, domain, localhost) or with no domain.
 *	The envelope sender is rewritten to the matching rule's address; the null sender never is.
 *	The From field's address (every mailbox of it) is replaced by the matching rule's address, its
 *	display name kept (or, for "root@host (Cron Daemon)", the comment made one); with
 *	rewrite_reply_to, the field as it was becomes Reply-To unless the message has one.
 *	from_policy, for a From no rule matched: aligned is a From domain that a dkim line is for (or is
 *	under) or that is the envelope sender's domain. keep leaves an unaligned From; rewrite-unaligned
 *	rewrites it to the address of the first rewrite_from rule matching the envelope sender as
 *	submitted (before rewrite_sender), else to the envelope sender; refuse-unaligned refuses the
 *	message (EX_DATAERR). Messages with the null sender (bounces) are never rewritten.
 * UNTRUSTED INPUT
 *	The From field and the envelope sender (the caller's). Parsed with lib/addr; a From that does
 *	not parse counts as unaligned and is not matched by rules.
 * ERRORS
 *	-1 with code 65 (refused, one line naming the domain and the key) or 65 for a header section
 *	over its ceiling.
 */
#ifndef POSTERN_REWRITE_H
#define POSTERN_REWRITE_H

#include <stdbool.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/err.h"

/* rewrite_match - pattern matches local@domain (domain NULL: a bare name). Pure. */
bool rewrite_match(const struct config *c, const char *pattern, const char *local, const char *domain);

/* rewrite_find - the first rule of rw matching the address addr ("local@domain" or a bare name), or
 * NULL. Pure. */
const struct conf_rewrite *rewrite_find(const struct config *c, const struct conf_rewrites *rw, const char *addr);

/* rewrite_signable - a dkim line is for domain or for a domain it is under. Pure. */
bool rewrite_signable(const struct config *c, const char *domain);

enum rewrite_act { REWRITE_KEEP, REWRITE_ADDR, REWRITE_REFUSE };

struct rewrite_decision {
	enum rewrite_act act;
	const char *addr;	/* REWRITE_ADDR: the new address (borrowed from c or the arguments) */
	bool by_policy;		/* from_policy decided (no rule matched) */
};

/* rewrite_from_decide - what to do with a From whose first address is from ("local@domain", a bare
 * name, or NULL when it does not parse), given the envelope sender as submitted and as it will go
 * ("" = null sender). Pure. */
struct rewrite_decision rewrite_from_decide(const struct config *c, const char *from, const char *sender_orig,
    const char *sender);

/* rewrite_sender - replace *sender (owned) by its rewrite_sender rule's address, if one matches.
 * Returns 1 rewritten, 0 not. */
int rewrite_sender(const struct config *c, char **sender);

/* rewrite_header - the From field of a completed header section (hdr: fields then the blank line)
 * rewritten per rewrite_from and from_policy, Reply-To added per rewrite_reply_to; hdr is replaced.
 * 1 rewritten, 0 unchanged, -1 refused or too large (e). */
int rewrite_header(const struct config *c, const char *sender_orig, const char *sender, struct buf *hdr,
    struct err *e);

#endif
