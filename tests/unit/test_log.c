/* test_log.c - lib/log.c: log_safe escaping and truncation; log_msg to stderr. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/log.h"

struct row {
	const char *in;
	size_t n;	/* 0: strlen(in) */
	size_t dstsz;
	const char *want;
};

static const struct row rows[] = {
	{ "plain text, spaces: ok", 0, 64, "plain text, spaces: ok" },
	{ "", 0, 64, "" },
	{ "a\nb", 0, 64, "a\\nb" },
	{ "\r\n", 0, 64, "\\r\\n" },
	{ "x\ty", 0, 64, "x\\ty" },
	{ "\x1b[31mred", 0, 64, "\\033[31mred" },
	{ "\x7f", 0, 64, "\\177" },
	{ "\\", 0, 64, "\\\\" },
	{ "caf\xc3\xa9", 0, 64, "caf\\303\\251" },
	{ "\xff\x80", 0, 64, "\\377\\200" },
	{ "a\0b", 3, 64, "a\\0b" },
	{ "\0" "1", 2, 64, "\\0001" },	/* NUL before a digit stays unambiguous */
	{ "to=<evil>\nFAKE: status=sent", 0, 64, "to=<evil>\\nFAKE: status=sent" },
	/* truncation: whole escapes only, "..." marker, always NUL-terminated */
	{ "abcdefg", 0, 8, "abcdefg" },
	{ "abcdefgh", 0, 8, "abcd..." },
	{ "abcd\x01zz", 0, 8, "abcd..." },
	{ "ab\x01zzzz", 0, 8, "ab..." },
	{ "abcd", 0, 3, "ab" },
	{ "abcd", 0, 4, "..." },
	{ "abcde", 0, 4, "..." },
	{ "abcd", 0, 1, "" },
	{ "\x01\x02", 0, 9, "\\001\\002" },
	{ "\x01\x02\x03", 0, 9, "\\001..." },
};

Test(log, safe_table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		char dst[128];
		size_t n = r->n ? r->n : strlen(r->in);
		size_t got;

		memset(dst, 'Z', sizeof dst);
		got = log_safe(dst, r->dstsz, r->in, n);
		cr_expect_str_eq(dst, r->want, "row %zu: got [%s] want [%s]", i, dst, r->want);
		cr_expect_eq(got, strlen(r->want), "row %zu", i);
		cr_expect_lt(got, r->dstsz, "row %zu", i);
		cr_expect_eq(dst[r->dstsz], 'Z', "row %zu: wrote past dstsz", i);
	}
}

Test(log, safe_zero_size)
{
	char d = 'Z';

	cr_expect_eq(log_safe(&d, 0, "abc", 3), 0);
	cr_expect_eq(d, 'Z');
}

Test(log, safe_every_byte)
{
	char src[256], dst[1100];

	for (int i = 0; i < 256; i++)
		src[i] = (char)i;
	size_t n = log_safe(dst, sizeof dst, src, sizeof src);
	cr_expect_eq(n, strlen(dst));
	for (size_t i = 0; i < n; i++)
		cr_expect(dst[i] >= 0x20 && dst[i] < 0x7f, "byte %zu is printable ASCII", i);
}

Test(log, msg_stderr, .init = cr_redirect_stderr)
{
	struct log *l = log_new("postern/test", LOG_TO_STDERR);

	log_msg(l, LOG_INFO, "to=<%s>, status=%s", "ev\x1bil\r\ninjected", "sent");
	log_msg(NULL, LOG_INFO, "never %s", "seen");
	log_free(l);
	log_free(NULL);
	fflush(stderr);
	cr_expect_stderr_eq_str("postern/test: to=<ev\\033il\\r\\ninjected>, status=sent\n");
}

Test(log, msg_capped, .init = cr_redirect_stderr)
{
	struct log *l = log_new("p", LOG_TO_STDERR);
	char big[LIM_LOG_LINE * 2 + 1], want[LIM_LOG_LINE + 8];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	log_msg(l, LOG_INFO, "%s", big);
	log_free(l);
	fflush(stderr);
	/* "p: " + LIM_LOG_LINE - 3 x's + "..." + "\n" */
	memcpy(want, "p: ", 3);
	memset(want + 3, 'x', LIM_LOG_LINE - 3);
	memcpy(want + LIM_LOG_LINE, "...\n", 5);
	cr_expect_stderr_eq_str(want);
}
