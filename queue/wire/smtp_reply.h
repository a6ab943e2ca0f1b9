/*
 * smtp_reply.h - the pure parts of the SMTP client: reply parsing, EHLO keywords, dot-stuffing.
 *
 * Untrusted input: every byte the remote server sends (STYLE.md 10). smtp_reply_parse caps line
 * length (LIM_REPLY_LINE) and line count (LIM_REPLY_LINES), requires a code 2xx-5xx that is the same
 * on every line, and refuses NUL and a CR that does not end a line. A bare LF is accepted as a line
 * end (Postfix and OpenSMTPD accept it from servers too; it cannot smuggle anything towards us).
 * "250\r\n" (no text) is accepted as RFC 5321 4.2's grammar allows it.
 *
 * smtp_dot_stuff is the last check before the wire: message bytes must already be CRLF-only; a bare
 * CR or LF is an internal error (SMTP smuggling defence), never silently fixed.
 */
#ifndef POSTERN_SMTP_REPLY_H
#define POSTERN_SMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"

struct smtp_reply {
	int code;		/* 200..599 */
	char status[12];	/* RFC 3463 enhanced status "x.y.z" from the first line, or "" */
	char *text;		/* owned: the lines' text (after "NNN-"/"NNN "), joined with '\n' */
	size_t nlines;
};

/* smtp_reply_parse - parse one complete reply at the start of buf. 1: *r filled (free it with
 * smtp_reply_free) and *used bytes consumed; 0: need more bytes; -1: malformed (reason in e). */
int smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, size_t *used,
		     struct err *e);
void smtp_reply_free(struct smtp_reply *r);

/* smtp_status_parse - RFC 3463 "class.subject.detail" at the start of s (class 2, 4 or 5, 1-3
 * digits each), followed by end or SP. Returns its length, 0 if none. */
size_t smtp_status_parse(const char *s, size_t n);

struct smtp_ext {
	bool starttls, pipelining, eightbitmime, smtputf8, enhancedstatuscodes, dsn;
	bool size;		/* SIZE offered */
	unsigned long long size_max;	/* its limit, 0 = none given */
	bool auth_plain, auth_login;
};

/* smtp_ehlo_parse - the extensions of a 250 EHLO reply (its first line is the greeting, skipped). */
void smtp_ehlo_parse(const struct smtp_reply *r, struct smtp_ext *ext);

/* Incremental dot-stuffing. Start with smtp_dot_init; feed chunks of any size; end with
 * smtp_dot_end. */
struct smtp_dot {
	bool bol;		/* at the start of a line */
	bool cr;		/* the last byte was a CR */
	unsigned long long off;	/* bytes consumed, for the error message */
};

void smtp_dot_init(struct smtp_dot *st);
/* smtp_dot_stuff - copy n bytes to out (room for 2*n) doubling a '.' at a line start. Returns the
 * bytes written or -1 (bare CR or LF at the reported offset). */
ssize_t smtp_dot_stuff(struct smtp_dot *st, const char *in, size_t n, char *out, struct err *e);
/* smtp_dot_end - the terminator into out (room for 5): "\r\n.\r\n" if the message did not end
 * with CRLF, else ".\r\n". -1 if it ended with a bare CR. */
ssize_t smtp_dot_end(struct smtp_dot *st, char *out, struct err *e);

#endif
