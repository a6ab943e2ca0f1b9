/* test_buf.c - lib/buf.c: ceilings hit exactly, printf growth, take, NUL inside, spans. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

Test(buf, ceiling_exact)
{
	struct buf b;

	buf_init(&b, 10);
	cr_expect_str_eq(buf_str(&b), "");
	cr_expect_eq(buf_add(&b, "0123456789", 10), 0);
	cr_expect_eq(b.len, 10);
	cr_expect_str_eq(buf_str(&b), "0123456789");
	cr_expect_eq(buf_addc(&b, 'x'), -1, "one byte over the ceiling");
	cr_expect_eq(buf_add(&b, "", 0), 0, "nothing more is fine");
	cr_expect_eq(b.len, 10, "a failed add changes nothing");
	cr_expect_str_eq(buf_str(&b), "0123456789");
	cr_expect_leq(b.cap, 11, "never allocates past ceiling + NUL");
	buf_free(&b);
	cr_expect_eq(b.max, 10);
	cr_expect_null(b.data);

	buf_init(&b, 10);
	cr_expect_eq(buf_add(&b, "0123456789A", 11), -1);
	cr_expect_eq(b.len, 0);
	cr_expect_eq(buf_add(&b, "x", SIZE_MAX), -1, "a huge n cannot wrap the check");
	buf_free(&b);

	buf_init(&b, 0);
	cr_expect_eq(buf_addc(&b, 'a'), -1);
	cr_expect_eq(buf_add(&b, "", 0), 0);
	buf_free(&b);
}

Test(buf, printf_growth)
{
	struct buf b;
	char want[5001];

	buf_init(&b, 5000);
	for (int i = 0; i < 500; i++)
		cr_assert_eq(buf_printf(&b, "%09d|", i), 0);
	cr_expect_eq(b.len, 5000);
	for (int i = 0; i < 500; i++)
		cr_assert(snprintf(want + i * 10, 11, "%09d|", i) == 10);
	cr_expect_str_eq(buf_str(&b), want);
	cr_expect_eq(buf_printf(&b, "%s", "x"), -1, "printf past the ceiling fails");
	cr_expect_eq(b.len, 5000);
	cr_expect_eq(buf_printf(&b, "%s", ""), 0);
	buf_free(&b);

	buf_init(&b, 5);
	cr_expect_eq(buf_printf(&b, "%d", 123456), -1, "never truncates");
	cr_expect_eq(b.len, 0);
	cr_expect_eq(buf_printf(&b, "%d", 12345), 0);
	cr_expect_str_eq(buf_str(&b), "12345");
	buf_free(&b);
}

Test(buf, take_and_reset)
{
	struct buf b;
	char *s;

	buf_init(&b, 100);
	s = buf_take(&b);
	cr_expect_str_eq(s, "", "take of an empty buf is \"\", not NULL");
	free(s);
	cr_expect_eq(buf_adds(&b, "hello"), 0);
	s = buf_take(&b);
	cr_expect_str_eq(s, "hello");
	cr_expect_null(b.data, "take hands the allocation over");
	cr_expect_eq(b.len, 0);
	cr_expect_eq(b.max, 100, "and keeps the ceiling");
	free(s);
	cr_expect_eq(buf_adds(&b, "abc"), 0);
	buf_reset(&b);
	cr_expect_eq(b.len, 0);
	cr_expect_str_eq(buf_str(&b), "");
	cr_expect_eq(buf_adds(&b, "de"), 0);
	cr_expect_str_eq(buf_str(&b), "de");
	buf_free(&b);
	buf_reset(&b);	/* on an empty buf too */
}

Test(buf, nul_inside)
{
	struct buf b;

	buf_init(&b, 16);
	cr_expect_eq(buf_add(&b, "a\0b", 3), 0);
	cr_expect_eq(buf_addc(&b, '\0'), 0);
	cr_expect_eq(b.len, 4, "len is the truth, not strlen");
	cr_expect_eq(memcmp(b.data, "a\0b\0", 5), 0, "and a NUL after the content");
	buf_free(&b);
}

struct trow {
	const char *in;
	const char *want;
};

Test(buf, spans)
{
	static const struct trow t[] = {
		{ "", "" }, { "   ", "" }, { " \t a b \t ", "a b" }, { "x", "x" }, { "\nx\n", "\nx\n" },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct span s = span_trim(span_str(t[i].in));
		cr_expect(span_eq(s, t[i].want), "trim row %zu", i);
	}
	cr_expect(span_eq(span_make("abc", 2), "ab"));
	cr_expect(!span_eq(span_make("abc", 2), "abc"));
	cr_expect(!span_eq(span_make("ab", 2), "AB"));
	cr_expect(span_ieq(span_make("aBc", 3), "AbC"));
	cr_expect(!span_ieq(span_make("aBc", 2), "AbC"));
	cr_expect(!span_eq(span_make("a\0b", 3), "a"), "a NUL inside a span is a byte");
}

Test(buf, xalloc)
{
	char *s = xstrndup("abcdef", 3);

	cr_expect_str_eq(s, "abc");
	free(s);
	s = xstrndup("", 0);
	cr_expect_str_eq(s, "");
	free(s);
	int *p = xcalloc(0, 0);
	cr_expect_not_null(p);
	p = xreallocarray(p, 4, sizeof *p);
	p[3] = 7;
	cr_expect_eq(p[3], 7);
	free(p);
}
