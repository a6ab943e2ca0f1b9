/*
 * smtpd.h - sendmail -bs: an SMTP conversation on stdin/stdout, as Postfix's sendmail offers it.
 *
 * Untrusted input: every command and data line on stdin. Each accepted message is handed to postern's
 * own submission path (a fresh `sendmail -oi -f SENDER -- RCPT...` with the data on a pipe), so it is
 * checked, completed, signed and queued exactly like any other; this process holds no privileges.
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include <stdbool.h>
#include <stddef.h>

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

int smtpd_main(const struct opts *o, const struct config *c, struct log *lg);

/* smtpd_path_parse - the <path> of "MAIL FROM:<...>" / "RCPT TO:<...>" (after the colon), without
 * parameters. "<>" gives "". Pure; -1 on a malformed path. *out is malloc'd. */
int smtpd_path_parse(const char *s, size_t n, char **out);

/* The longest DATA line -bs takes, without its CRLF; a longer one refuses the message (never cut). */
#define SMTPD_DATA_LINE_MAX (64 * 1024)

/* What one DATA line is. A message with a NUL, an over-long line or a bare LF is refused whole
 * (5xx, nothing queued); after a bare LF the session ends (521), since where the sender meant the
 * message to end, and what follows it, cannot be told apart (SMTP smuggling). */
enum smtpd_line {
	SMTPD_TEXT,		/* an ordinary line that ended in CRLF */
	SMTPD_END,		/* "." and CRLF: the end of the data */
	SMTPD_END_BARE_LF,	/* "." and a bare LF: the end of the data, and of the session */
	SMTPD_BARE_LF,		/* a line that ended in LF without CR */
	SMTPD_NUL,		/* a line holding a NUL byte */
	SMTPD_TOO_LONG,		/* a line over SMTPD_DATA_LINE_MAX octets (its excess was not kept) */
};

/* smtpd_data_line - classify s[0..n), a DATA line without its line end; crlf: it ended in CRLF (not a
 * bare LF); over: it was longer than SMTPD_DATA_LINE_MAX. A bare LF wins over the other faults. Pure. */
enum smtpd_line smtpd_data_line(const char *s, size_t n, bool crlf, bool over);

#endif
