/*
 * sign.h - DKIM signing on the queue side, before a message's first delivery attempt.
 *
 * NAME
 *	sign - canonicalise, hash and sign a stored message with its From domain's keys
 * DESCRIPTION
 *	The front door never opens a key (DESIGN.md, privilege model). The runner signs instead: it reads
 *	the message as stored in the spool (it trusts no hash the submitting process computed), finds the
 *	keys of the From domain or of its nearest parent that has keys (never a top-level domain), hashes
 *	the body once per body canonicalisation, signs with each key and puts the folded DKIM-Signature
 *	fields in front of the envelope's PREPEND lines. The caller stores the envelope before the first
 *	attempt, so retries send the same fields and a bounce quotes them.
 *	Keys are loaded once per signer (one per queue pass): a key problem is logged once per pass, and a
 *	fixed key or a rotation in the configuration applies to the next pass.
 * UNTRUSTED INPUT
 *	The stored message (written by the unprivileged composer): parsed with hdr_parse, bounded by the
 *	configured header size plus what the composer adds, streamed through the body hashers.
 * ERRORS
 *	SIGN_HOLD with a reason in struct err: a key that cannot be used ("DKIM key PATH: mode 0644 is
 *	world-readable; chmod 0640"), or a stored message whose header section cannot be read. The message
 *	is then deferred with that reason (dkim_required yes) or sent unsigned with a warning (no).
 */
#ifndef POSTERN_SIGN_H
#define POSTERN_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "lib/buf.h"
#include "lib/err.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "queue/run/dkim.h"
#include "queue/store/envelope.h"

/* What the composer may add to the caller's header section (Received, Date, Message-ID, From, the
 * qualified addresses): the stored header section is read up to max_header_size plus this. */
#define SIGN_HEADER_SLACK (64 * 1024)
/* The status of a recipient held for a key problem (RFC 3463 X.7.5: cryptographic failure). */
#define SIGN_HOLD_STATUS "4.7.5"
/* A note for the log about one message (the From domain twice, a key file, a reason). */
#define SIGN_NOTE_MAX (512 + 3 * LIM_DOMAIN + LIM_PATH)

struct signer;

enum sign_result {
	SIGN_SIGNED,	/* the fields are in env->prepend */
	SIGN_UNSIGNED,	/* nothing to sign with (no key for the From domain, no From domain), or a key
			 * problem with dkim_required no: note says why */
	SIGN_HOLD,	/* a key problem (dkim_required yes) or an unreadable message: e says why */
};

/* signer_new - a signer for configuration c; keys are loaded when first needed and problems logged
 * once on lg. Never NULL. */
struct signer *signer_new(const struct config *c, struct log *lg);
/* signer_free - wipe and free the keys. NULL is a no-op. */
void signer_free(struct signer *s);

/* sign_needed - whether env still has to be signed: DKIM is configured, no DKIM-Signature field is
 * stored yet, and a recipient is still pending. Pure. */
bool sign_needed(const struct config *c, const struct envelope *env);

/* sign_keys_for - indexes into c->dkim of the keys that sign mail From `domain`: those of the domain
 * itself, else of its nearest parent that has keys (never a top-level domain). Returns how many were
 * stored in idx (<= max). Pure. */
size_t sign_keys_for(const struct config *c, const char *domain, size_t *idx, size_t max);

/* sign_message - sign the message stored in the first env->size bytes of fd (read with pread) at time
 * now. note (reset first) gets a line for the log when there is something to say. */
enum sign_result sign_message(struct signer *s, int fd, struct envelope *env, long long now, struct buf *note,
    struct err *e);

/* sign_form - the DKIM-Signature fields (CRLF lines, into fields, reset first) for another form of a
 * message, stored in the first `size` bytes of fd: the 7-bit form made for a hop without 8BITMIME
 * (queue/run/mime8.h), signed with the same keys as the stored form. SIGN_UNSIGNED: no key for its From
 * domain; SIGN_HOLD: e says why it cannot be signed. fields should hold LIM_SIGN_RESERVE. */
enum sign_result sign_form(struct signer *s, int fd, long long size, long long now, struct buf *fields,
    struct err *e);

#endif
