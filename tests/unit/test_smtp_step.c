/* test_smtp_step.c - smtp_verdict row by row against RFC 5321 4.3.2's command-reply sequences (and
 * RFC 3207 for STARTTLS, RFC 4954 for AUTH), and the step table's names and timeouts. */
#include <criterion/criterion.h>
#include <string.h>

#include "queue/wire/smtp_step.h"

#define OK SMTP_V_OK
#define TEMP SMTP_V_TEMP
#define PERM SMTP_V_PERM
#define PROTO SMTP_V_PROTO

struct vrow {
	enum smtp_step step;
	int code;
	enum smtp_verdict want;
	const char *why;
};

static const struct vrow vrows[] = {
	/* CONNECTION ESTABLISHMENT  S: 220  E: 554 (and 421, 3.8) */
	{ SMTP_STEP_GREETING, 220, OK, "S: 220" },
	{ SMTP_STEP_GREETING, 554, PERM, "E: 554" },
	{ SMTP_STEP_GREETING, 421, TEMP, "421 to anything" },
	{ SMTP_STEP_GREETING, 250, OK, "first digit only (4.3.2, 4.2.1)" },
	{ SMTP_STEP_GREETING, 354, PROTO, "3xx greeting: was status 3.0.0, never recorded" },
	{ SMTP_STEP_GREETING, 334, PROTO, "3xx greeting" },
	/* EHLO or HELO  S: 250  E: 504, 550, 502 */
	{ SMTP_STEP_EHLO, 250, OK, "S: 250" },
	{ SMTP_STEP_EHLO, 502, PERM, "E: 502 (then HELO)" },
	{ SMTP_STEP_EHLO, 504, PERM, "E: 504" },
	{ SMTP_STEP_EHLO, 550, PERM, "E: 550" },
	{ SMTP_STEP_EHLO, 421, TEMP, "421" },
	{ SMTP_STEP_EHLO, 334, PROTO, "334 to EHLO: was status 3.0.0" },
	{ SMTP_STEP_EHLO, 354, PROTO, "3xx to EHLO" },
	{ SMTP_STEP_HELO, 250, OK, "S: 250" },
	{ SMTP_STEP_HELO, 501, PERM, "501 to anything" },
	{ SMTP_STEP_HELO, 354, PROTO, "3xx to HELO" },
	/* STARTTLS (RFC 3207 4)  S: 220  E: 501, 454 */
	{ SMTP_STEP_STARTTLS, 220, OK, "S: 220" },
	{ SMTP_STEP_STARTTLS, 454, TEMP, "E: 454" },
	{ SMTP_STEP_STARTTLS, 501, PERM, "E: 501" },
	{ SMTP_STEP_STARTTLS, 334, PROTO, "3xx to STARTTLS" },
	/* AUTH (RFC 4954 4, 6): 334 challenges, then 235 or an error */
	{ SMTP_STEP_AUTH_CONT, 334, OK, "I: 334 (AUTH LOGIN, the user name)" },
	{ SMTP_STEP_AUTH_CONT, 235, PROTO, "235 before the credentials" },
	{ SMTP_STEP_AUTH_CONT, 504, PERM, "E: 504 unknown mechanism" },
	{ SMTP_STEP_AUTH_CONT, 454, TEMP, "E: 454" },
	{ SMTP_STEP_AUTH, 235, OK, "S: 235" },
	{ SMTP_STEP_AUTH, 535, PERM, "E: 535" },
	{ SMTP_STEP_AUTH, 454, TEMP, "E: 454" },
	{ SMTP_STEP_AUTH, 334, PROTO, "334 beyond the mechanism's challenges: the loop's bound" },
	/* MAIL  S: 250  E: 552, 451, 452, 550, 553, 503, 455, 555 */
	{ SMTP_STEP_MAIL, 250, OK, "S: 250" },
	{ SMTP_STEP_MAIL, 552, PERM, "E: 552" },
	{ SMTP_STEP_MAIL, 451, TEMP, "E: 451" },
	{ SMTP_STEP_MAIL, 452, TEMP, "E: 452" },
	{ SMTP_STEP_MAIL, 550, PERM, "E: 550" },
	{ SMTP_STEP_MAIL, 553, PERM, "E: 553" },
	{ SMTP_STEP_MAIL, 503, PERM, "E: 503" },
	{ SMTP_STEP_MAIL, 455, TEMP, "E: 455" },
	{ SMTP_STEP_MAIL, 555, PERM, "E: 555" },
	{ SMTP_STEP_MAIL, 354, PROTO, "3xx to MAIL" },
	{ SMTP_STEP_MAIL, 334, PROTO, "3xx to MAIL" },
	/* RCPT  S: 250, 251  E: 550, 551, 552, 553, 450, 451, 452, 503, 455, 555 */
	{ SMTP_STEP_RCPT, 250, OK, "S: 250" },
	{ SMTP_STEP_RCPT, 251, OK, "S: 251" },
	{ SMTP_STEP_RCPT, 550, PERM, "E: 550" },
	{ SMTP_STEP_RCPT, 551, PERM, "E: 551" },
	{ SMTP_STEP_RCPT, 552, PERM, "E: 552" },
	{ SMTP_STEP_RCPT, 553, PERM, "E: 553" },
	{ SMTP_STEP_RCPT, 450, TEMP, "E: 450" },
	{ SMTP_STEP_RCPT, 451, TEMP, "E: 451" },
	{ SMTP_STEP_RCPT, 452, TEMP, "E: 452" },
	{ SMTP_STEP_RCPT, 503, PERM, "E: 503" },
	{ SMTP_STEP_RCPT, 455, TEMP, "E: 455" },
	{ SMTP_STEP_RCPT, 555, PERM, "E: 555" },
	{ SMTP_STEP_RCPT, 354, PROTO, "3xx to RCPT" },
	/* DATA  I: 354 -> data -> S: 250 / E: 552, 554, 451, 452, 450, 550;  E: 503, 554 */
	{ SMTP_STEP_DATA, 354, OK, "I: 354" },
	{ SMTP_STEP_DATA, 503, PERM, "E: 503" },
	{ SMTP_STEP_DATA, 554, PERM, "E: 554" },
	{ SMTP_STEP_DATA, 451, TEMP, "421/451" },
	{ SMTP_STEP_DATA, 250, PROTO, "250 to DATA: no byte was sent, was status=sent" },
	{ SMTP_STEP_DATA, 221, PROTO, "2xx to DATA" },
	{ SMTP_STEP_DOT, 250, OK, "S: 250" },
	{ SMTP_STEP_DOT, 552, PERM, "E: 552" },
	{ SMTP_STEP_DOT, 554, PERM, "E: 554" },
	{ SMTP_STEP_DOT, 451, TEMP, "E: 451" },
	{ SMTP_STEP_DOT, 452, TEMP, "E: 452" },
	{ SMTP_STEP_DOT, 450, TEMP, "E: 450" },
	{ SMTP_STEP_DOT, 550, PERM, "E: 550" },
	{ SMTP_STEP_DOT, 354, PROTO, "354 after the dot: was status=sent" },
	/* RSET  S: 250;  QUIT  S: 221 */
	{ SMTP_STEP_RSET, 250, OK, "S: 250" },
	{ SMTP_STEP_RSET, 421, TEMP, "421" },
	{ SMTP_STEP_RSET, 500, PERM, "500" },
	{ SMTP_STEP_RSET, 354, PROTO, "3xx to RSET" },
	{ SMTP_STEP_QUIT, 221, OK, "S: 221" },
	/* steps without a reply, and codes outside 2xx-5xx */
	{ SMTP_STEP_CONNECT, 220, PROTO, "no reply due" },
	{ SMTP_STEP_TLS, 250, PROTO, "no reply due" },
	{ SMTP_STEP_BODY, 250, PROTO, "no reply due" },
	{ SMTP_STEP_MAIL, 199, PROTO, "1xx" },
	{ SMTP_STEP_MAIL, 600, PROTO, "6xx" },
	{ SMTP_STEP_MAIL, 0, PROTO, "none" },
	{ SMTP_STEP_DATA, -354, PROTO, "negative" },
};

Test(smtp_step, verdict_table)
{
	for (size_t i = 0; i < sizeof vrows / sizeof vrows[0]; i++) {
		const struct vrow *r = &vrows[i];

		cr_expect_eq(smtp_verdict(r->step, r->code), r->want, "%s %d (%s): got %d, want %d",
			     smtp_step_name(r->step), r->code, r->why, smtp_verdict(r->step, r->code), r->want);
	}
}

/* Every step that expects a reply: every code 200-599 is OK, TEMP, PERM or PROTO by its first digit
 * alone, and only the step's class is OK. */
Test(smtp_step, verdict_by_first_digit)
{
	for (int st = 0; st < SMTP_STEP_N; st++) {
		int want = smtp_step_want((enum smtp_step)st);

		for (int code = 200; code < 600; code++) {
			enum smtp_verdict v = smtp_verdict((enum smtp_step)st, code), exp;

			exp = want == 0 ? PROTO : code / 100 == want ? OK : code / 100 == 4 ? TEMP :
			      code / 100 == 5 ? PERM : PROTO;
			cr_expect_eq(v, exp, "%s %d", smtp_step_name((enum smtp_step)st), code);
			if (v == OK)
				cr_expect(code / 100 == 2 || code / 100 == 3);
		}
	}
}

struct srow {
	enum smtp_step step;
	const char *name, *sending, *reading;
	int want;
	enum smtp_timer wt, rt;
};

static const struct srow srows[] = {
	{ SMTP_STEP_CONNECT, "connect", "connecting", "connecting", 0, SMTP_T_CONNECT, SMTP_T_CONNECT },
	{ SMTP_STEP_TLS, "the TLS handshake", "in the TLS handshake", "in the TLS handshake", 0,
	  SMTP_T_COMMAND, SMTP_T_COMMAND },
	{ SMTP_STEP_GREETING, "the greeting", "reading the greeting", "reading the greeting", 2,
	  SMTP_T_GREETING, SMTP_T_GREETING },
	{ SMTP_STEP_EHLO, "EHLO", "sending EHLO", "reading the reply to EHLO", 2, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
	{ SMTP_STEP_HELO, "HELO", "sending HELO", "reading the reply to HELO", 2, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
	{ SMTP_STEP_STARTTLS, "STARTTLS", "sending STARTTLS", "reading the reply to STARTTLS", 2,
	  SMTP_T_COMMAND, SMTP_T_COMMAND },
	{ SMTP_STEP_AUTH_CONT, "AUTH", "sending AUTH", "reading the reply to AUTH", 3, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
	{ SMTP_STEP_AUTH, "AUTH", "sending AUTH", "reading the reply to AUTH", 2, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
	{ SMTP_STEP_MAIL, "MAIL FROM", "sending MAIL FROM", "reading the reply to MAIL FROM", 2,
	  SMTP_T_COMMAND, SMTP_T_COMMAND },
	{ SMTP_STEP_RCPT, "RCPT TO", "sending RCPT TO", "reading the reply to RCPT TO", 2, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
	{ SMTP_STEP_DATA, "DATA", "sending DATA", "reading the reply to DATA", 3, SMTP_T_COMMAND,
	  SMTP_T_DATA_INIT },
	{ SMTP_STEP_BODY, "the message", "sending the message", "sending the message", 0,
	  SMTP_T_DATA_BLOCK, SMTP_T_DATA_BLOCK },
	{ SMTP_STEP_DOT, "end of data", "sending end of data", "reading the reply to end of data", 2,
	  SMTP_T_DATA_BLOCK, SMTP_T_DATA_DONE },
	{ SMTP_STEP_RSET, "RSET", "sending RSET", "reading the reply to RSET", 2, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
	{ SMTP_STEP_QUIT, "QUIT", "sending QUIT", "reading the reply to QUIT", 2, SMTP_T_COMMAND,
	  SMTP_T_COMMAND },
};

Test(smtp_step, step_table)
{
	cr_assert_eq(sizeof srows / sizeof srows[0], SMTP_STEP_N, "a step without a row here");
	for (size_t i = 0; i < sizeof srows / sizeof srows[0]; i++) {
		const struct srow *r = &srows[i];

		cr_expect_str_eq(smtp_step_name(r->step), r->name);
		cr_expect_str_eq(smtp_step_doing(r->step, false), r->sending, "%s", r->name);
		cr_expect_str_eq(smtp_step_doing(r->step, true), r->reading, "%s", r->name);
		cr_expect_eq(smtp_step_want(r->step), r->want, "%s", r->name);
		cr_expect_eq(smtp_step_timer(r->step, false), r->wt, "%s", r->name);
		cr_expect_eq(smtp_step_timer(r->step, true), r->rt, "%s", r->name);
	}
}
