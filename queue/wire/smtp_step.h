/*
 * smtp_step.h - the steps of an SMTP client session as one table (STYLE.md 16): each step's name for
 * the reasons, the reply class that lets the session go on, and which timeout limits its write and
 * its read. Pure.
 *
 * smtp_verdict is the one place that says what a reply code means at a step (RFC 5321 4.3.2 and
 * 4.2.1: a client interprets the first digit). A reply of the wrong class - 250 to DATA, 354 after
 * the final dot, a 3xx greeting or a 3xx to MAIL - is a protocol error, never a success and never a
 * "3.x.x" status: the session is abandoned and what it carried is deferred.
 *
 * Untrusted input: the reply code (any int; out of 200..599 is a protocol error).
 */
#ifndef POSTERN_SMTP_STEP_H
#define POSTERN_SMTP_STEP_H

#include <stdbool.h>

enum smtp_step {
	SMTP_STEP_CONNECT,	/* the TCP connection */
	SMTP_STEP_TLS,		/* a TLS handshake (implicit, or after STARTTLS's 220) */
	SMTP_STEP_GREETING,	/* 220 */
	SMTP_STEP_EHLO,		/* 250 */
	SMTP_STEP_HELO,		/* 250 */
	SMTP_STEP_STARTTLS,	/* 220 (RFC 3207) */
	SMTP_STEP_AUTH_CONT,	/* AUTH LOGIN and the user name line: 334 (RFC 4954) */
	SMTP_STEP_AUTH,		/* the last AUTH line: 235 */
	SMTP_STEP_MAIL,		/* 250 */
	SMTP_STEP_RCPT,		/* 250, 251 */
	SMTP_STEP_DATA,		/* 354 */
	SMTP_STEP_BODY,		/* the message content: no reply */
	SMTP_STEP_DOT,		/* the end of data: 250 */
	SMTP_STEP_RSET,		/* 250 */
	SMTP_STEP_QUIT,		/* 221 */
	SMTP_STEP_N
};

enum smtp_verdict {
	SMTP_V_OK,		/* the class that lets this step go on (2xx, or 3xx where one is due) */
	SMTP_V_TEMP,		/* 4xx */
	SMTP_V_PERM,		/* 5xx */
	SMTP_V_PROTO,		/* any other code: a protocol error */
};

/* Which of the configured timeouts (struct smtp_timeouts, smtp.h) limits a step's write or read. */
enum smtp_timer {
	SMTP_T_CONNECT, SMTP_T_GREETING, SMTP_T_COMMAND, SMTP_T_DATA_INIT, SMTP_T_DATA_BLOCK,
	SMTP_T_DATA_DONE
};

/* smtp_verdict - what reply `code` means at `step`. A step that has no reply (CONNECT, TLS, BODY)
 * gets SMTP_V_PROTO for any code. */
enum smtp_verdict smtp_verdict(enum smtp_step step, int code);
/* smtp_step_want - the class (2 or 3) that lets `step` go on; 0 for a step without a reply. */
int smtp_step_want(enum smtp_step step);
/* smtp_step_name - the step as the reasons name it: "RCPT TO", "end of data", "the greeting". */
const char *smtp_step_name(enum smtp_step step);
/* smtp_step_doing - what the client was doing, for "... while %s": "sending end of data",
 * "reading the reply to RCPT TO", "reading the greeting". */
const char *smtp_step_doing(enum smtp_step step, bool reading);
/* smtp_step_timer - the timeout that limits the step's write (reading false) or read. */
enum smtp_timer smtp_step_timer(enum smtp_step step, bool reading);

#endif
