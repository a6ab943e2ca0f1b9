/*
 * handoff.h - the one record the composer hands the privileged parent: one pure codec that both sides
 * use, with its limits named once.
 *
 * NAME
 *	handoff - format and parse the composer -> parent pipe record
 * DESCRIPTION
 *	The unprivileged composer (compose.h) writes the message into the spool file it inherited and
 *	then exactly one record to the parent: "V <length>\n" followed by <length> bytes of envelope text
 *	(env_format), and nothing else; then it exits. The parent reads the pipe to its end (at most
 *	HANDOFF_MAX bytes), parses the whole of it with handoff_parse and re-validates the envelope
 *	before the commit. There is no request the parent answers: it holds no key and signs nothing.
 * UNTRUSTED INPUT
 *	The composer parses the caller's message and may be subverted, so the parent treats the bytes as
 *	hostile: the length is decimal without sign or leading zeros, 1..HANDOFF_ENV_MAX; a short text or
 *	any byte after it is refused.
 */
#ifndef POSTERN_HANDOFF_H
#define POSTERN_HANDOFF_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/limits.h"
#include "queue/sign.h"

/* The envelope text: what the spool reads back, less the room the queue side's DKIM-Signature fields
 * take when it signs (sign.h), so a signed envelope still fits LIM_ENVELOPE_FILE. */
#define HANDOFF_ENV_MAX (LIM_ENVELOPE_FILE - SIGN_ENV_RESERVE)
/* The head: "V ", the length's digits (HANDOFF_ENV_MAX has 7), "\n". */
#define HANDOFF_HEAD_MAX 16
/* The whole record. */
#define HANDOFF_MAX (HANDOFF_HEAD_MAX + HANDOFF_ENV_MAX)

/* handoff_format - append the record for envelope text text[0..n) to out. -1 with e (EX_SOFTWARE)
 * when n is 0 or over HANDOFF_ENV_MAX, or out's ceiling is hit. */
int handoff_format(const char *text, size_t n, struct buf *out, struct err *e);

/* handoff_parse - buf[0..len) must be exactly one record: 0 and *text (pointing into buf) set, or -1
 * with a reason in e (EX_SOFTWARE). Pure. */
int handoff_parse(const char *buf, size_t len, struct span *text, struct err *e);

#endif
