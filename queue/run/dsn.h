/*
 * dsn.h - compose RFC 3464 delivery status notifications (bounces and delay warnings).
 *
 * NAME
 *	dsn - "Undelivered Mail Returned to Sender", as a multipart/report
 * DESCRIPTION
 *	dsn_compose builds a complete message (CRLF line ends) to env->sender: the human explanation
 *	(text/plain), the machine report (message/delivery-status) and the original header section
 *	(text/rfc822-headers; the body is never returned, RET=FULL included). It reports only the
 *	recipients in the relevant state: RCPT_FAILED for DSN_FAILED, pending with attempts > 0 for
 *	DSN_DELAYED, and honours each recipient's NOTIFY (NEVER, or a list without FAILURE / DELAY,
 *	leaves it out). Message-ID is added later by submission, which also signs the DSN.
 *	NEVER A LOOP: nothing is produced (return 0, out unchanged) when env->sender is "" (the null
 *	sender, RFC 5321 4.5.5) or env->is_bounce (a DSN of ours), or when no recipient qualifies.
 * UNTRUSTED INPUT
 *	Diagnostics and relay names come from remote servers, addresses and headers from the caller:
 *	control bytes and non-ASCII bytes in report fields are shown as '?', long fields are folded
 *	(RFC 5322 2.2.3), and the original headers are re-terminated with CRLF; a header line that
 *	could be taken for the MIME boundary is refused.
 * ERRORS
 *	-1 with code 70 for bad arguments (boundary, kind), 75 when the result exceeds its ceiling.
 */
#ifndef POSTERN_DSN_H
#define POSTERN_DSN_H

#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "queue/store/envelope.h"

enum dsn_kind { DSN_FAILED, DSN_DELAYED };

/* dsn_compose - append the report to out (see above). `now` is the Date and Last-Attempt-Date;
 * boundary (1..70 characters of RFC 2046 bchars, no space) is given so tests are deterministic. The
 * report comes From MAILER-DAEMON@from_domain (the domain that signs it: a strict DMARC policy of that
 * domain must pass) and names reporting_mta (the host name) as the Reporting-MTA. */
int dsn_compose(const struct envelope *env, const char *orig_headers, size_t hlen, enum dsn_kind kind,
		const char *from_domain, const char *reporting_mta, long long now, const char *boundary, struct buf *out,
		struct err *e);

#endif
