/*
 * smtp_param.h - a transaction's parameters (struct smtp_mail_params, struct smtp_rcpt_params) and
 * the pure formatting of the MAIL and RCPT command lines that carry them, with the xtext encoding of
 * RFC 3461 4.
 *
 * What a line carries depends on what the server offered (struct smtp_ext): SIZE, BODY=8BITMIME and
 * SMTPUTF8 when offered and wanted; with DSN (RFC 3461), MAIL gets RET and ENVID and each RCPT its
 * NOTIFY and ORCPT when the sender asked for them. Without DSN none of the four is sent (RFC 3461 4.1). A value that
 * cannot go on the wire - ENVID or ORCPT not printable US-ASCII before encoding (RFC 3461 4.2, 4.4),
 * longer encoded than the RFC allows - is left out whole, never cut: the next hop then applies its
 * default, which is what it would do for a sender that asked for nothing.
 *
 * Untrusted input: none from the network. The addresses and DSN values come from the spool; the
 * formatters check every one of them (an address with a control byte or an angle bracket is refused
 * with EX_DATAERR), so a line never holds CR or LF.
 */
#ifndef POSTERN_SMTP_PARAM_H
#define POSTERN_SMTP_PARAM_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "queue/wire/smtp_reply.h"

/* The xtext of ENVID: at most 100 characters (RFC 3461 4.4). */
#define SMTP_ENVID_MAX 100
/* What NOTIFY and ORCPT may add to a RCPT command together, separating spaces included (RFC 3461 4:
 * "increased by 500 characters"). The longest NOTIFY leaves ORCPT the rest. */
#define SMTP_RCPT_DSN_MAX 500

/* RET (RFC 3461 4.3). */
enum smtp_ret { SMTP_RET_NONE, SMTP_RET_FULL, SMTP_RET_HDRS };

/* NOTIFY bits (RFC 3461 4.1); NEVER stands alone. 0: the sender asked for nothing, and no NOTIFY is
 * sent: the next hop's default (failure, perhaps delay) is postern's own for such a recipient (dsn.c),
 * while spelling it out would turn the next hop's choice into the sender's. The values are
 * envelope.h's NOTIFY_* (runq_worker.c checks). */
#define SMTP_NOTIFY_SUCCESS 1
#define SMTP_NOTIFY_FAILURE 2
#define SMTP_NOTIFY_DELAY 4
#define SMTP_NOTIFY_NEVER 8

/* One transaction's MAIL parameters. Strings are borrowed. */
struct smtp_mail_params {
	const char *sender;	/* "" = null sender */
	long long size;		/* SIZE= when > 0 and offered */
	bool body8bit;		/* BODY=8BITMIME when offered */
	bool smtputf8;		/* SMTPUTF8 when offered */
	enum smtp_ret ret;	/* RET= with DSN; SMTP_RET_NONE: none */
	const char *envid;	/* ENVID= (xtext-encoded here) with DSN; NULL or "": none */
};

/* One recipient's RCPT parameters. Strings are borrowed. */
struct smtp_rcpt_params {
	const char *addr;
	int notify;		/* SMTP_NOTIFY_* bits with DSN; 0: none */
	const char *orcpt;	/* ORCPT=rfc822;<xtext of this> with DSN; NULL or "": none */
};

/* smtp_xtext - append the xtext of in[0..n) (RFC 3461 4: '!'..'~' but '+' and '=' as they are,
 * every other byte "+XX", upper-case hex) to out when it is at most max bytes; else -1 and out
 * unchanged (also when out's ceiling is reached). Pure. */
int smtp_xtext(const char *in, size_t n, size_t max, struct buf *out);

/* smtp_mail_format - "MAIL FROM:<sender>" and the parameters ext offers, into out (appended; no
 * CRLF). 0; -1 with EX_DATAERR for a bad sender or a line over out's ceiling. */
int smtp_mail_format(const struct smtp_mail_params *p, const struct smtp_ext *ext, struct buf *out,
		     struct err *e);
/* smtp_rcpt_format - "RCPT TO:<addr>" and, with DSN, NOTIFY and ORCPT, into out (appended; no CRLF).
 * 0; -1 with EX_DATAERR for a bad or empty address or a line over out's ceiling. */
int smtp_rcpt_format(const struct smtp_rcpt_params *r, const struct smtp_ext *ext, struct buf *out,
		     struct err *e);

#endif
