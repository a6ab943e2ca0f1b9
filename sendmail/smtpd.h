/*
 * smtpd.h - sendmail -bs: an SMTP conversation on stdin/stdout, as Postfix's sendmail offers it.
 *
 * Untrusted input: every command and data line on stdin. Each accepted message is handed to postern's
 * own submission path (a fresh `sendmail -oi -f SENDER -- RCPT...` with the data on a pipe), so it is
 * checked, completed, signed and queued exactly like any other; this process holds no privileges.
 */
#ifndef POSTERN_SMTPD_H
#define POSTERN_SMTPD_H

#include "conf/config.h"
#include "lib/log.h"
#include "sendmail/args.h"

int smtpd_main(const struct opts *o, const struct config *c, struct log *lg);

/* smtpd_path_parse - the <path> of "MAIL FROM:<...>" / "RCPT TO:<...>" (after the colon), without
 * parameters. "<>" gives "". Pure; -1 on a malformed path. *out is malloc'd. */
int smtpd_path_parse(const char *s, size_t n, char **out);

#endif
