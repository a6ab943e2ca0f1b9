/* test_smtp.c - the pure parts of the SMTP client: reply parser, EHLO keywords, dot-stuffing. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "queue/wire/smtp_reply.h"

struct rrow {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	int ret;		/* 1, 0, -1 */
	int code;
	const char *status;
	const char *text;
	size_t nlines;
	size_t used;
	const char *err;
};

static const struct rrow rrows[] = {
	{ "single", "250 ok\r\n", 0, 1, 250, "", "ok", 1, 8 },
	{ "enhanced", "550 5.1.1 no such user\r\n", 0, 1, 550, "5.1.1", "5.1.1 no such user", 1, 24 },
	{ "enhanced 3 digits", "451 4.123.999 later\r\n", 0, 1, 451, "4.123.999", "4.123.999 later", 1, 21 },
	{ "enhanced class mismatch", "250 5.1.1 odd\r\n", 0, 1, 250, "", "5.1.1 odd", 1, 15 },
	{ "enhanced 4 digits", "250 2.1000.0 x\r\n", 0, 1, 250, "", "2.1000.0 x", 1, 16 },
	{ "enhanced glued", "250 2.0.0ok\r\n", 0, 1, 250, "", "2.0.0ok", 1, 13 },
	{ "multi", "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 0, 1, 250, "",
	  "mx.example\nPIPELINING\nSIZE 100", 3, 46 },
	{ "followed by more", "250 a\r\n354 b\r\n", 0, 1, 250, "", "a", 1, 7 },
	{ "no text", "250\r\n", 0, 1, 250, "", "", 1, 5 },
	{ "empty continuation", "250-\r\n250 x\r\n", 0, 1, 250, "", "\nx", 2, 13 },
	{ "bare LF tolerated", "220 hi\n", 0, 1, 220, "", "hi", 1, 7 },
	{ "partial line", "250 o", 0, 0 },
	{ "partial CR", "250 ok\r", 0, 0 },
	{ "partial multi", "250-a\r\n250-b\r\n", 0, 0 },
	{ "empty", "", 0, 0 },
	{ "mismatched codes", "250-a\r\n251 b\r\n", 0, -1, 0, NULL, NULL, 0, 0, "different codes" },
	{ "code 1xx", "150 x\r\n", 0, -1, 0, NULL, NULL, 0, 0, "2xx-5xx" },
	{ "code 6xx", "650 x\r\n", 0, -1, 0, NULL, NULL, 0, 0, "2xx-5xx" },
	{ "two digits", "25 x\r\n", 0, -1, 0, NULL, NULL, 0, 0, "2xx-5xx" },
	{ "letters", "2a0 x\r\n", 0, -1, 0, NULL, NULL, 0, 0, "2xx-5xx" },
	{ "bad separator", "250_x\r\n", 0, -1, 0, NULL, NULL, 0, 0, "separator" },
	{ "four digits", "2500 x\r\n", 0, -1, 0, NULL, NULL, 0, 0, "separator" },
	{ "NUL in line", "250 a\0b\r\n", 9, -1, 0, NULL, NULL, 0, 0, "NUL" },
	{ "NUL in partial line", "250 a\0", 6, -1, 0, NULL, NULL, 0, 0, "NUL" },
	{ "bare CR inside", "250 a\rb\r\n", 0, -1, 0, NULL, NULL, 0, 0, "bare CR" },
	{ "blank line", "\r\n", 0, -1, 0, NULL, NULL, 0, 0, "2xx-5xx" },
};

Test(smtp, reply_table)
{
	for (size_t i = 0; i < sizeof rrows / sizeof rrows[0]; i++) {
		const struct rrow *r = &rrows[i];
		struct smtp_reply rep;
		struct err e = { 0 };
		size_t used = 0, len = r->len ? r->len : strlen(r->in);
		int got = smtp_reply_parse(r->in, len, &rep, &used, &e);

		cr_expect_eq(got, r->ret, "%s: got %d (%s)", r->name, got, e.msg);
		if (got == 1 && r->ret == 1) {
			cr_expect_eq(rep.code, r->code, "%s", r->name);
			cr_expect_str_eq(rep.status, r->status, "%s", r->name);
			cr_expect_str_eq(rep.text, r->text, "%s", r->name);
			cr_expect_eq(rep.nlines, r->nlines, "%s", r->name);
			cr_expect_eq(used, r->used, "%s", r->name);
			smtp_reply_free(&rep);
		}
		if (r->ret < 0)
			cr_expect(strstr(e.msg, r->err) != NULL, "%s: %s", r->name, e.msg);
	}
}

Test(smtp, reply_split_at_every_offset)
{
	const char *full = "250-first\r\n250-second\r\n250 2.0.0 last\r\n";
	size_t n = strlen(full);

	for (size_t k = 0; k < n; k++) {
		struct smtp_reply rep;
		struct err e;
		size_t used;

		cr_expect_eq(smtp_reply_parse(full, k, &rep, &used, &e), 0, "cut at %zu", k);
	}
}

Test(smtp, reply_limits)
{
	struct smtp_reply rep;
	struct err e = { 0 };
	struct buf b;
	size_t used;

	/* a line of exactly LIM_REPLY_LINE is fine, one more byte is not */
	buf_init(&b, 1 << 20);
	cr_assert_eq(buf_adds(&b, "250 "), 0);
	for (int i = 4; i < LIM_REPLY_LINE; i++)
		cr_assert_eq(buf_addc(&b, 'x'), 0);
	cr_assert_eq(buf_adds(&b, "\r\n"), 0);
	cr_expect_eq(smtp_reply_parse(b.data, b.len, &rep, &used, &e), 1);
	smtp_reply_free(&rep);
	buf_reset(&b);
	cr_assert_eq(buf_adds(&b, "250 "), 0);
	for (int i = 4; i <= LIM_REPLY_LINE; i++)
		cr_assert_eq(buf_addc(&b, 'x'), 0);
	cr_assert_eq(buf_adds(&b, "\r\n"), 0);
	cr_expect_eq(smtp_reply_parse(b.data, b.len, &rep, &used, &e), -1);
	cr_expect(strstr(e.msg, "longer") != NULL, "%s", e.msg);
	/* without a line end: needs more until the ceiling, then refused */
	cr_expect_eq(smtp_reply_parse(b.data, LIM_REPLY_LINE, &rep, &used, &e), 0);
	cr_expect_eq(smtp_reply_parse(b.data, LIM_REPLY_LINE + 2, &rep, &used, &e), -1);
	/* LIM_REPLY_LINES lines are fine, one more continuation is refused at once */
	buf_reset(&b);
	for (int i = 1; i < LIM_REPLY_LINES; i++)
		cr_assert_eq(buf_adds(&b, "250-x\r\n"), 0);
	cr_assert_eq(buf_adds(&b, "250 end\r\n"), 0);
	cr_expect_eq(smtp_reply_parse(b.data, b.len, &rep, &used, &e), 1);
	cr_expect_eq(rep.nlines, LIM_REPLY_LINES);
	smtp_reply_free(&rep);
	buf_reset(&b);
	for (int i = 0; i < LIM_REPLY_LINES; i++)
		cr_assert_eq(buf_adds(&b, "250-x\r\n"), 0);
	cr_expect_eq(smtp_reply_parse(b.data, b.len, &rep, &used, &e), -1);
	cr_expect(strstr(e.msg, "lines") != NULL, "%s", e.msg);
	buf_free(&b);
}

Test(smtp, status_parse)
{
	cr_expect_eq(smtp_status_parse("2.0.0", 5), 5);
	cr_expect_eq(smtp_status_parse("5.7.1 x", 7), 5);
	cr_expect_eq(smtp_status_parse("3.0.0", 5), 0);
	cr_expect_eq(smtp_status_parse("2.0", 3), 0);
	cr_expect_eq(smtp_status_parse("2..0", 4), 0);
	cr_expect_eq(smtp_status_parse("2.0.", 4), 0);
	cr_expect_eq(smtp_status_parse("2.0.0.0", 7), 0);
}

static struct smtp_ext ehlo(const char *text)
{
	struct smtp_reply r = { .code = 250, .text = (char *)(uintptr_t)text };
	struct smtp_ext x;

	smtp_ehlo_parse(&r, &x);
	return x;
}

Test(smtp, ehlo_keywords)
{
	struct smtp_ext x = ehlo("mx.example greets you\nPIPELINING\nSIZE 35882577\n8BITMIME\n"
				 "STARTTLS\nAUTH LOGIN PLAIN CRAM-MD5\nENHANCEDSTATUSCODES\nDSN\nSMTPUTF8");

	cr_expect(x.pipelining && x.size && x.eightbitmime && x.starttls && x.auth_login &&
		  x.auth_plain && x.enhancedstatuscodes && x.dsn && x.smtputf8);
	cr_expect_eq(x.size_max, 35882577ULL);
	x = ehlo("STARTTLS PIPELINING on the greeting line only");
	cr_expect(!x.starttls && !x.pipelining);
	x = ehlo("hi\nstarttls\nauth=login\nSIZE\nXPIPELINING\nAUTH CRAM-MD5");
	cr_expect(x.starttls && x.auth_login && !x.auth_plain && x.size && !x.pipelining);
	cr_expect_eq(x.size_max, 0);
	x = ehlo("hi\nSIZE 99999999999999999999999");
	cr_expect(x.size);
	cr_expect_eq(x.size_max, 0);
	x = ehlo("hi\nSIZE 12abc");
	cr_expect_eq(x.size_max, 0);
	{
		struct smtp_reply r = { .code = 550, .text = (char *)(uintptr_t)"x\nSTARTTLS" };

		smtp_ehlo_parse(&r, &x);
		cr_expect(!x.starttls);
	}
}

/* stuff_all - run the stuffer over in, cut at `cut` (and every 1 byte when cut==0 for the worst case). */
static int stuff_all(const char *in, size_t n, size_t cut, struct buf *out, struct err *e)
{
	struct smtp_dot st;
	char tmp[2 * 4096 + 5];
	ssize_t m;

	smtp_dot_init(&st);
	for (size_t p = 0; p < n;) {
		size_t k = p < cut ? cut - p : n - p;

		if ((m = smtp_dot_stuff(&st, in + p, k, tmp, e)) < 0)
			return -1;
		if (buf_add(out, tmp, (size_t)m) < 0)
			return -1;
		p += k;
	}
	if ((m = smtp_dot_end(&st, tmp, e)) < 0)
		return -1;
	return buf_add(out, tmp, (size_t)m);
}

struct drow {
	const char *name, *in, *want, *err;
};

static const struct drow drows[] = {
	{ "plain", "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
	{ "leading dot", ".a\r\n", "..a\r\n.\r\n" },
	{ "lone dot line", "x\r\n.\r\ny\r\n", "x\r\n..\r\ny\r\n.\r\n" },
	{ "dots inside", "a.b\r\n...\r\n", "a.b\r\n....\r\n.\r\n" },
	{ "no final CRLF", "abc", "abc\r\n.\r\n" },
	{ "empty", "", ".\r\n" },
	{ "bare LF", "a\nb\r\n", NULL, "bare LF" },
	{ "bare CR", "a\rb\r\n", NULL, "bare CR" },
	{ "smuggling", "x\r\n\n.\r\nMAIL FROM:<a>\r\n", NULL, "bare LF" },
	{ "CR CR LF", "x\r\r\n", NULL, "bare CR" },
	{ "ends with CR", "x\r", NULL, "bare CR" },
};

Test(smtp, dot_stuff_every_cut)
{
	for (size_t i = 0; i < sizeof drows / sizeof drows[0]; i++) {
		const struct drow *r = &drows[i];
		size_t n = strlen(r->in);

		for (size_t cut = 0; cut <= n; cut++) {
			struct buf out;
			struct err e = { 0 };
			int got;

			buf_init(&out, 4096);
			got = stuff_all(r->in, n, cut, &out, &e);
			if (r->want != NULL) {
				cr_expect_eq(got, 0, "%s cut %zu: %s", r->name, cut, e.msg);
				cr_expect_str_eq(buf_str(&out), r->want, "%s cut %zu", r->name, cut);
			} else {
				cr_expect_eq(got, -1, "%s cut %zu", r->name, cut);
				cr_expect(strstr(e.msg, r->err) != NULL, "%s: %s", r->name, e.msg);
				cr_expect_eq(e.code, EX_SOFTWARE);
			}
			buf_free(&out);
		}
	}
}

Test(smtp, dot_stuff_worst_case_fits)
{
	char in[4096], out[2 * 4096];
	struct smtp_dot st;
	struct err e;

	for (size_t i = 0; i < sizeof in; i += 3)
		memcpy(in + i, ".\r\n", i + 3 <= sizeof in ? 3 : sizeof in - i);
	smtp_dot_init(&st);
	cr_expect_eq(smtp_dot_stuff(&st, in, sizeof in - 1, out, &e), (ssize_t)(sizeof in - 1 + 1365));
}
