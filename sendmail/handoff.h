/*
 * handoff.h - the one record the composer hands the privileged parent: one pure codec that both sides
 * use, with its limits named once.
 *
 * NAME
 *	handoff - format and parse the composer -> parent pipe record
 * DESCRIPTION
 *	The unprivileged composer (compose.h) writes the message into the spool file it inherited and
 *	then exactly one record to the parent, "K <length>\n" followed by <length> bytes of text, and
 *	nothing else; then it exits. K is the kind:
 *	  V  the envelope text (env_format), when the message is accepted (the composer exits 0);
 *	  R  the reason it refused the message, when the caller asked for -oem (mail the error back)
 *	     and the composer exits 65 or 64: the parent, which keeps the group and honours root's
 *	     -C, sends the notice to the spool the caller's configuration names (the composer runs
 *	     as nobody and could reach no spool).
 *	The parent reads the pipe to its end (at most HANDOFF_MAX bytes), parses the whole of it with
 *	handoff_parse and re-validates what it is given. There is no request the parent answers: it
 *	holds no key and signs nothing.
 * UNTRUSTED INPUT
 *	The composer parses the caller's message and may be subverted, so the parent treats the bytes as
 *	hostile: the kind is V or R; the length is decimal without sign or leading zeros,
 *	1..HANDOFF_ENV_MAX for V and 1..HANDOFF_REASON_MAX for R; a reason holds no control character
 *	(it becomes a line of the notice); a short text or any byte after it is refused.
 */
#ifndef POSTERN_HANDOFF_H
#define POSTERN_HANDOFF_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "lib/limits.h"

/* The envelope text: what the spool reads back, less the room the queue side's DKIM-Signature fields
 * take when it signs (LIM_SIGN_RESERVE), so a signed envelope still fits LIM_ENVELOPE_FILE. */
#define HANDOFF_ENV_MAX (LIM_ENVELOPE_FILE - LIM_SIGN_RESERVE)
/* The head: "V ", the length's digits (HANDOFF_ENV_MAX has 7), "\n". */
#define HANDOFF_HEAD_MAX 16
/* The reason for -oem: one struct err message (what the composer has to say), without its NUL. */
#define HANDOFF_REASON_MAX (sizeof ((struct err *)0)->msg - 1)
/* The whole record (the envelope is the larger kind). */
#define HANDOFF_MAX (HANDOFF_HEAD_MAX + HANDOFF_ENV_MAX)

/* handoff_kind - what a record carries (its first byte). */
enum handoff_kind {
	HANDOFF_ENVELOPE = 'V',
	HANDOFF_REASON = 'R',
};

/* handoff_format - append the record of kind k for text[0..n) to out. -1 with e (EX_SOFTWARE) when n is
 * 0 or over the kind's ceiling, a reason holds a control character, or out's ceiling is hit. */
int handoff_format(enum handoff_kind k, const char *text, size_t n, struct buf *out, struct err *e);

/* handoff_parse - buf[0..len) must be exactly one record: 0 with *k and *text (pointing into buf) set,
 * or -1 with a reason in e (EX_SOFTWARE). Pure. */
int handoff_parse(const char *buf, size_t len, enum handoff_kind *k, struct span *text, struct err *e);

#endif
