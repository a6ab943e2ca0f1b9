/* test_dsn.c - RFC 3464 reports: golden files, and the loops we must never start. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/run/dsn.h"

#define HDRS "Received: from localhost by mail.example.org\nFrom: Ana <ana@example.org>\r\n" \
	     "To: bruno@example.net, nobody@example.com\r\nSubject: Hello\r\n\tfolded\r\n" \
	     "Message-ID: <1@example.org>\r\n\r\nbody must not appear\r\n"

static struct env_rcpt rc[] = {
	{ .addr = (char *)"nobody@example.com", .orcpt = (char *)"nobody", .state = RCPT_FAILED, .attempts = 1,
	  .status = (char *)"5.1.1", .relay = (char *)"mx.example.com[192.0.2.10]:25",
	  .diag = (char *)"host mx.example.com[192.0.2.10] said: 550 5.1.1 <nobody@example.com>: Recipient "
			  "address rejected: User unknown in local recipient table (in reply to RCPT TO command)" },
	{ .addr = (char *)"bruno@example.net", .state = RCPT_SENT, .attempts = 1 },
	{ .addr = (char *)"late@example.net", .state = RCPT_PENDING, .attempts = 3, .status = (char *)"4.4.1",
	  .diag = (char *)"connect to mx.example.net[192.0.2.26]:25: Connection refused" },
	{ .addr = (char *)"quiet@example.net", .state = RCPT_FAILED, .attempts = 1, .notify = NOTIFY_NEVER },
	{ .addr = (char *)"evil@example.net", .state = RCPT_FAILED, .attempts = 1,
	  .diag = (char *)"550 \x1b[2J\xff bad" },
	{ .addr = (char *)"fresh@example.net", .state = RCPT_PENDING, .attempts = 0 },
};

static struct envelope mkenv(void)
{
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .arrival = 1701226994,
				.sender = (char *)"ana@example.org", .size = 100, .rcpt = rc, .nrcpt = 6 };
	return env;
}

#include "tests/unit/slurp.h"

static void golden(enum dsn_kind kind, const char *path)
{
	struct envelope env = mkenv();
	struct err e = { 0 };
	struct buf out;
	char *want;

	buf_init(&out, 1 << 20);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), kind, "example.org", "mail.example.org", 1701400000,
				 "6566A1F20B12C9D3E7F.1701400000/mail.example.org", &out, &e), 0, "%s", e.msg);
	if (getenv("DSN_WRITE_GOLDEN") != NULL) {
		FILE *f = fopen(path, "wb");
		fwrite(out.data, 1, out.len, f);
		fclose(f);
	}
	want = slurp(path);
	cr_assert_str_eq(buf_str(&out), want);
	/* every line ends in CRLF, none is longer than 998, no bare CR/LF, no body */
	for (size_t i = 0, col = 0; i < out.len; i++, col++) {
		if (out.data[i] == '\n') {
			cr_assert(i > 0 && out.data[i - 1] == '\r', "bare LF at %zu", i);
			col = 0;
		}
		if (out.data[i] == '\r')
			cr_assert(out.data[i + 1] == '\n', "bare CR at %zu", i);
		cr_assert_leq(col, 1000);
	}
	cr_assert_null(strstr(out.data, "body must not appear"));
	cr_assert_null(strstr(out.data, "\x1b"));
	free(want);
	buf_free(&out);
}

Test(dsn, failed_golden)
{
	golden(DSN_FAILED, "tests/unit/golden/dsn-failed.eml");
}

Test(dsn, delayed_golden)
{
	golden(DSN_DELAYED, "tests/unit/golden/dsn-delayed.eml");
}

/* No report for the null sender, for a bounce of a bounce, or when nobody qualifies. */
Test(dsn, never_loops)
{
	struct envelope env = mkenv();
	struct err e = { 0 };
	struct buf out;

	buf_init(&out, 1 << 20);
	env.sender = (char *)"";
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "b", &out, &e), 0);
	cr_assert_eq(out.len, 0, "null sender");
	env = mkenv();
	env.is_bounce = true;
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "b", &out, &e), 0);
	cr_assert_eq(out.len, 0, "bounce of a bounce");
	env = mkenv();
	env.rcpt = &rc[1];	/* sent only */
	env.nrcpt = 1;
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "b", &out, &e), 0);
	cr_assert_eq(out.len, 0, "nothing failed");
	env.rcpt = &rc[3];	/* failed, NOTIFY=NEVER */
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "b", &out, &e), 0);
	cr_assert_eq(out.len, 0, "NOTIFY=NEVER");
	env.rcpt = &rc[5];	/* pending, never tried */
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_DELAYED, "h", "h", 0, "b", &out, &e), 0);
	cr_assert_eq(out.len, 0, "not yet delayed");
	buf_free(&out);
}

Test(dsn, refuses)
{
	struct envelope env = mkenv();
	struct err e = { 0 };
	struct buf out;
	const char *h = "Subject: x\r\n--BOUND: y\r\n\r\n";

	buf_init(&out, 1 << 20);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "", &out, &e), -1);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "a b", &out, &e), -1);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "a\"b", &out, &e), -1);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "bad host", "h", 0, "b", &out, &e), -1);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "bad host", 0, "b", &out, &e), -1);
	cr_assert_eq(dsn_compose(&env, h, strlen(h), DSN_FAILED, "h", "h", 0, "BOUND", &out, &e), -1);
	cr_assert_not_null(strstr(e.msg, "boundary"), "%s", e.msg);
	cr_assert_eq(out.len, 0, "nothing left in out on error");
	/* a ceiling too small: an error, never a truncated report */
	struct buf tiny;
	buf_init(&tiny, 500);
	cr_assert_eq(dsn_compose(&env, HDRS, strlen(HDRS), DSN_FAILED, "h", "h", 0, "b", &tiny, &e), -1);
	cr_assert_eq(e.code, EX_TEMPFAIL);
	cr_assert_eq(tiny.len, 0);
	buf_free(&tiny);
	buf_free(&out);
}

/* A diagnostic with no spaces longer than a line is cut, never a line over 998. */
Test(dsn, long_word)
{
	static char diag[ENV_MAX_DIAG + 1];
	struct env_rcpt r = { .addr = (char *)"a@b", .state = RCPT_FAILED, .diag = diag };
	struct envelope env = mkenv();
	struct err e = { 0 };
	struct buf out;
	size_t col = 0;

	memset(diag, 'x', ENV_MAX_DIAG);
	env.rcpt = &r;
	env.nrcpt = 1;
	buf_init(&out, 1 << 20);
	cr_assert_eq(dsn_compose(&env, "", 0, DSN_FAILED, "h", "h", 0, "b", &out, &e), 0, "%s", e.msg);
	for (size_t i = 0; i < out.len; i++, col++) {
		if (out.data[i] == '\n')
			col = 0;
		cr_assert_leq(col, 999);
	}
	buf_free(&out);
}
