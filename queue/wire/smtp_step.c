/*
 * smtp_step.c - the SMTP client's steps: names, reply classes, timeouts (see smtp_step.h). Pure.
 */
#include "queue/wire/smtp_step.h"

#include <stdlib.h>

/* One row per step. want: the reply class that lets the step go on (RFC 5321 4.3.2's "S:" and "I:"
 * codes by their first digit), 0 for a step that has no reply. */
static const struct step_row {
	const char *name;
	const char *sending, *reading;	/* for "... while %s" */
	int want;
	enum smtp_timer wt, rt;		/* the write's and the read's timeout */
} steps[SMTP_STEP_N] = {
	[SMTP_STEP_CONNECT] = { "connect", "connecting", "connecting", 0, SMTP_T_CONNECT, SMTP_T_CONNECT },
	[SMTP_STEP_TLS] = { "the TLS handshake", "in the TLS handshake", "in the TLS handshake", 0,
			    SMTP_T_COMMAND, SMTP_T_COMMAND },
	[SMTP_STEP_GREETING] = { "the greeting", "reading the greeting", "reading the greeting", 2,
				 SMTP_T_GREETING, SMTP_T_GREETING },
	[SMTP_STEP_EHLO] = { "EHLO", "sending EHLO", "reading the reply to EHLO", 2, SMTP_T_COMMAND,
			     SMTP_T_COMMAND },
	[SMTP_STEP_HELO] = { "HELO", "sending HELO", "reading the reply to HELO", 2, SMTP_T_COMMAND,
			     SMTP_T_COMMAND },
	[SMTP_STEP_STARTTLS] = { "STARTTLS", "sending STARTTLS", "reading the reply to STARTTLS", 2,
				 SMTP_T_COMMAND, SMTP_T_COMMAND },
	[SMTP_STEP_AUTH_CONT] = { "AUTH", "sending AUTH", "reading the reply to AUTH", 3, SMTP_T_COMMAND,
				  SMTP_T_COMMAND },
	[SMTP_STEP_AUTH] = { "AUTH", "sending AUTH", "reading the reply to AUTH", 2, SMTP_T_COMMAND,
			     SMTP_T_COMMAND },
	[SMTP_STEP_MAIL] = { "MAIL FROM", "sending MAIL FROM", "reading the reply to MAIL FROM", 2,
			     SMTP_T_COMMAND, SMTP_T_COMMAND },
	[SMTP_STEP_RCPT] = { "RCPT TO", "sending RCPT TO", "reading the reply to RCPT TO", 2,
			     SMTP_T_COMMAND, SMTP_T_COMMAND },
	[SMTP_STEP_DATA] = { "DATA", "sending DATA", "reading the reply to DATA", 3, SMTP_T_COMMAND,
			     SMTP_T_DATA_INIT },
	[SMTP_STEP_BODY] = { "the message", "sending the message", "sending the message", 0,
			     SMTP_T_DATA_BLOCK, SMTP_T_DATA_BLOCK },
	[SMTP_STEP_DOT] = { "end of data", "sending end of data", "reading the reply to end of data", 2,
			    SMTP_T_DATA_BLOCK, SMTP_T_DATA_DONE },
	[SMTP_STEP_RSET] = { "RSET", "sending RSET", "reading the reply to RSET", 2, SMTP_T_COMMAND,
			     SMTP_T_COMMAND },
	[SMTP_STEP_QUIT] = { "QUIT", "sending QUIT", "reading the reply to QUIT", 2, SMTP_T_COMMAND,
			     SMTP_T_COMMAND },
};

/* row - the step's row; a value outside the enum is a broken invariant. */
static const struct step_row *row(enum smtp_step step)
{
	if ((unsigned)step >= SMTP_STEP_N)
		abort();
	return &steps[step];
}

enum smtp_verdict smtp_verdict(enum smtp_step step, int code)
{
	int want = row(step)->want, cls = code / 100;

	if (want == 0 || code < 200 || code > 599)
		return SMTP_V_PROTO;
	if (cls == want)
		return SMTP_V_OK;
	if (cls == 4)
		return SMTP_V_TEMP;
	if (cls == 5)
		return SMTP_V_PERM;
	return SMTP_V_PROTO;	/* 2xx where 3xx is due, or 3xx where 2xx is */
}

int smtp_step_want(enum smtp_step step)
{
	return row(step)->want;
}

const char *smtp_step_name(enum smtp_step step)
{
	return row(step)->name;
}

const char *smtp_step_doing(enum smtp_step step, bool reading)
{
	return reading ? row(step)->reading : row(step)->sending;
}

enum smtp_timer smtp_step_timer(enum smtp_step step, bool reading)
{
	return reading ? row(step)->rt : row(step)->wt;
}
