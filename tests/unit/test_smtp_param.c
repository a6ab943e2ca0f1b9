/* test_smtp_param.c - the MAIL and RCPT command lines (smtp_param.h): xtext (RFC 3461 4), the DSN
 * parameters only when the server offers DSN, values that do not fit left out whole. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <criterion/criterion.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "queue/wire/smtp_param.h"

struct xrow {
	const char *name, *in;
	size_t max;
	const char *want;	/* NULL: refused (longer than max) */
};

static const struct xrow xrows[] = {
	{ "empty", "", 10, "" },
	{ "plain", "abc-123_x.y@z", 100, "abc-123_x.y@z" },
	{ "plus and equals", "a+b=c", 100, "a+2Bb+3Dc" },
	{ "space", "a b", 100, "a+20b" },
	{ "bang and tilde kept", "!~", 100, "!~" },
	{ "control and DEL", "\x01\x7f", 100, "+01+7F" },
	{ "8-bit upper-case hex", "\xc3\xa9", 100, "+C3+A9" },
	{ "semicolon kept", "rfc822;a@b", 100, "rfc822;a@b" },
	{ "exactly max", "abc", 3, "abc" },
	{ "one over max", "abcd", 3, NULL },
	{ "encoding makes it too long", "a=", 3, NULL },
	{ "encoding exactly max", "a=", 4, "a+3D" },
};

Test(smtp_param, xtext_table)
{
	for (size_t i = 0; i < sizeof xrows / sizeof xrows[0]; i++) {
		const struct xrow *r = &xrows[i];
		struct buf b;
		int rc;

		buf_init(&b, 1000);
		cr_assert_eq(buf_adds(&b, "K="), 0);
		rc = smtp_xtext(r->in, strlen(r->in), r->max, &b);
		if (r->want == NULL) {
			cr_expect_eq(rc, -1, "%s: accepted as %s", r->name, buf_str(&b));
			cr_expect_str_eq(buf_str(&b), "K=", "%s: out changed", r->name);
		} else {
			cr_expect_eq(rc, 0, "%s", r->name);
			cr_expect_eq(b.len, 2 + strlen(r->want), "%s", r->name);
			cr_expect_str_eq(buf_str(&b) + 2, r->want, "%s", r->name);
		}
		buf_free(&b);
	}
}

Test(smtp_param, xtext_out_ceiling)
{
	struct buf b;

	buf_init(&b, 4);
	cr_expect_eq(smtp_xtext("ab=", 3, 100, &b), -1, "out's ceiling is an error too");
	cr_expect_eq(b.len, 0);
	buf_free(&b);
}

/* the extensions a server offers */
static const struct smtp_ext none = { 0 };
static const struct smtp_ext dsn = { .dsn = true };
static const struct smtp_ext all = { .dsn = true, .size = true, .eightbitmime = true, .smtputf8 = true };
static const struct smtp_ext nodsn = { .size = true, .eightbitmime = true, .smtputf8 = true };

/* An ENVID of 100 characters (RFC 3461 4.4's limit) and one that is 101 once encoded. */
#define E100 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
#define E98PLUS "01234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567="

struct mrow {
	const char *name;
	struct smtp_mail_params p;
	const struct smtp_ext *ext;
	const char *want;	/* NULL: refused */
	const char *err;
};

static const struct mrow mrows[] = {
	{ "bare", { "a@x" }, &all, "MAIL FROM:<a@x>" },
	{ "null sender", { "" }, &all, "MAIL FROM:<>" },
	{ "size, 8bit, utf8", { "a@x", 42, true, true }, &all, "MAIL FROM:<a@x> SIZE=42 BODY=8BITMIME SMTPUTF8" },
	{ "nothing offered", { "a@x", 42, true, true, SMTP_RET_HDRS, "id1" }, &none, "MAIL FROM:<a@x>" },
	{ "RET and ENVID with DSN", { "a@x", 0, false, false, SMTP_RET_HDRS, "myid" }, &dsn,
	  "MAIL FROM:<a@x> RET=HDRS ENVID=myid" },
	{ "RET=FULL", { "a@x", 0, false, false, SMTP_RET_FULL }, &dsn, "MAIL FROM:<a@x> RET=FULL" },
	{ "everything", { "a@x", 7, true, true, SMTP_RET_FULL, "q+1" }, &all,
	  "MAIL FROM:<a@x> SIZE=7 BODY=8BITMIME SMTPUTF8 RET=FULL ENVID=q+2B1" },
	{ "no DSN offered: RFC 3461 4.1", { "a@x", 7, true, false, SMTP_RET_FULL, "myid" }, &nodsn,
	  "MAIL FROM:<a@x> SIZE=7 BODY=8BITMIME" },
	{ "empty ENVID is none", { "a@x", 0, false, false, SMTP_RET_NONE, "" }, &dsn, "MAIL FROM:<a@x>" },
	{ "ENVID of 100", { "a@x", 0, false, false, SMTP_RET_NONE, E100 }, &dsn, "MAIL FROM:<a@x> ENVID=" E100 },
	{ "ENVID over 100 encoded: left out", { "a@x", 0, false, false, SMTP_RET_HDRS, E98PLUS }, &dsn,
	  "MAIL FROM:<a@x> RET=HDRS" },
	{ "ENVID not US-ASCII: left out", { "a@x", 0, false, false, SMTP_RET_NONE, "caf\xc3\xa9" }, &dsn,
	  "MAIL FROM:<a@x>" },
	{ "ENVID with a control: left out", { "a@x", 0, false, false, SMTP_RET_NONE, "a\tb" }, &dsn,
	  "MAIL FROM:<a@x>" },
	{ "ENVID with a space", { "a@x", 0, false, false, SMTP_RET_NONE, "a b" }, &dsn,
	  "MAIL FROM:<a@x> ENVID=a+20b" },
	{ "CRLF in sender", { "a@x>\r\nRSET" }, &dsn, NULL, "bad sender address" },
};

Test(smtp_param, mail_table)
{
	for (size_t i = 0; i < sizeof mrows / sizeof mrows[0]; i++) {
		const struct mrow *r = &mrows[i];
		struct err e = { 0 };
		struct buf b;
		int rc;

		buf_init(&b, LIM_SMTP_LINE - 2);
		rc = smtp_mail_format(&r->p, r->ext, &b, &e);
		if (r->want == NULL) {
			cr_expect_eq(rc, -1, "%s: got %s", r->name, buf_str(&b));
			cr_expect_eq(e.code, EX_DATAERR, "%s", r->name);
			cr_expect(strstr(e.msg, r->err) != NULL, "%s: %s", r->name, e.msg);
			cr_expect_eq(b.len, 0, "%s", r->name);
		} else {
			cr_expect_eq(rc, 0, "%s: %s", r->name, e.msg);
			cr_expect_str_eq(buf_str(&b), r->want, "%s", r->name);
		}
		buf_free(&b);
	}
}

/* An ORCPT that fits with the longest NOTIFY (500 - 29 - 14 = 457 encoded bytes) and one over. */
static char orcpt457[458], orcpt458[459];

struct rcrow {
	const char *name;
	struct smtp_rcpt_params r;
	const struct smtp_ext *ext;
	const char *want;	/* NULL: refused; "=457"/"=458": the long ORCPT expected */
	const char *err;
};

static const struct rcrow rcrows[] = {
	{ "bare", { "b@y" }, &dsn, "RCPT TO:<b@y>" },
	{ "notify unset: none sent", { "b@y", 0, "b@y" }, &dsn, "RCPT TO:<b@y> ORCPT=rfc822;b@y" },
	{ "never", { "b@y", SMTP_NOTIFY_NEVER }, &dsn, "RCPT TO:<b@y> NOTIFY=NEVER" },
	{ "failure,delay", { "b@y", SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY }, &dsn,
	  "RCPT TO:<b@y> NOTIFY=FAILURE,DELAY" },
	{ "all three in order", { "b@y", SMTP_NOTIFY_DELAY | SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE }, &dsn,
	  "RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE,DELAY" },
	{ "success only", { "b@y", SMTP_NOTIFY_SUCCESS }, &dsn, "RCPT TO:<b@y> NOTIFY=SUCCESS" },
	{ "delay only", { "b@y", SMTP_NOTIFY_DELAY }, &dsn, "RCPT TO:<b@y> NOTIFY=DELAY" },
	{ "notify and orcpt", { "b@y", SMTP_NOTIFY_SUCCESS, "Bob+x=1@Y" }, &dsn,
	  "RCPT TO:<b@y> NOTIFY=SUCCESS ORCPT=rfc822;Bob+2Bx+3D1@Y" },
	{ "no DSN offered: RFC 3461 4.1", { "b@y", SMTP_NOTIFY_SUCCESS, "b@y" }, &nodsn, "RCPT TO:<b@y>" },
	{ "orcpt not US-ASCII: left out", { "b@y", SMTP_NOTIFY_FAILURE, "j\xc3\xb6rg@y" }, &dsn,
	  "RCPT TO:<b@y> NOTIFY=FAILURE" },
	{ "orcpt with a space", { "b@y", 0, "\"a b\"@y" }, &dsn, "RCPT TO:<b@y> ORCPT=rfc822;\"a+20b\"@y" },
	{ "orcpt at the limit", { "b@y", 7, orcpt457 }, &dsn, "=457" },
	{ "orcpt over the limit: left out", { "b@y", 7, orcpt458 }, &dsn,
	  "RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE,DELAY" },
	{ "empty address", { "" }, &dsn, NULL, "bad recipient" },
	{ "CRLF in address", { "b@y>\r\nRSET" }, &dsn, NULL, "bad recipient" },
};

Test(smtp_param, rcpt_table)
{
	memset(orcpt457, 'o', 457);
	memset(orcpt458, 'o', 458);
	for (size_t i = 0; i < sizeof rcrows / sizeof rcrows[0]; i++) {
		const struct rcrow *r = &rcrows[i];
		struct err e = { 0 };
		struct buf b;
		int rc;

		buf_init(&b, LIM_SMTP_LINE - 2);
		rc = smtp_rcpt_format(&r->r, r->ext, &b, &e);
		if (r->want == NULL) {
			cr_expect_eq(rc, -1, "%s: got %s", r->name, buf_str(&b));
			cr_expect(strstr(e.msg, r->err) != NULL, "%s: %s", r->name, e.msg);
			cr_expect_eq(b.len, 0, "%s", r->name);
		} else if (strcmp(r->want, "=457") == 0) {
			const char *head = "RCPT TO:<b@y> NOTIFY=SUCCESS,FAILURE,DELAY ORCPT=rfc822;";

			cr_expect_eq(rc, 0, "%s: %s", r->name, e.msg);
			cr_expect_eq(strncmp(buf_str(&b), head, strlen(head)), 0, "%s: %s", r->name, buf_str(&b));
			cr_expect_str_eq(buf_str(&b) + strlen(head), orcpt457, "%s", r->name);
			/* RFC 3461 4: NOTIFY and ORCPT add at most 500 characters */
			cr_expect_eq(b.len - strlen("RCPT TO:<b@y>"), SMTP_RCPT_DSN_MAX, "%s", r->name);
		} else {
			cr_expect_eq(rc, 0, "%s: %s", r->name, e.msg);
			cr_expect_str_eq(buf_str(&b), r->want, "%s", r->name);
		}
		buf_free(&b);
	}
}

/* The longest lines fit one command line of LIM_SMTP_LINE with its CRLF. */
Test(smtp_param, longest_lines_fit)
{
	char addr[LIM_PATH + 1], orcpt[SMTP_RCPT_DSN_MAX];
	struct smtp_mail_params mp = { addr, 999999999999LL, true, true, SMTP_RET_HDRS, E100 };
	struct smtp_rcpt_params rp = { addr, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY, orcpt };
	struct err e = { 0 };
	struct buf b;

	memset(addr, 'a', LIM_PATH);
	addr[LIM_PATH] = '\0';
	memset(orcpt, '=', sizeof orcpt - 1);	/* 3 bytes each encoded: far over, left out */
	orcpt[sizeof orcpt - 1] = '\0';
	buf_init(&b, LIM_SMTP_LINE - 2);
	cr_expect_eq(smtp_mail_format(&mp, &all, &b, &e), 0, "%s", e.msg);
	cr_expect(strstr(buf_str(&b), " ENVID=" E100) != NULL);
	buf_reset(&b);
	cr_expect_eq(smtp_rcpt_format(&rp, &all, &b, &e), 0, "%s", e.msg);
	cr_expect(strstr(buf_str(&b), "ORCPT") == NULL, "%s", buf_str(&b));
	memset(orcpt, 'o', 450);
	orcpt[450] = '\0';
	buf_reset(&b);
	cr_expect_eq(smtp_rcpt_format(&rp, &all, &b, &e), 0, "%s", e.msg);
	cr_expect(strstr(buf_str(&b), "ORCPT") != NULL, "%s", buf_str(&b));
	cr_expect_leq(b.len, LIM_SMTP_LINE - 2);
	buf_free(&b);
}
