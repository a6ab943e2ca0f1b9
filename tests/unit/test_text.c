/* test_text.c - lib/text.c: the text questions several rooms share. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/text.h"

Test(text, has_8bit)
{
	static const struct {
		const char *in;
		size_t n;	/* 0: strlen */
		bool want;
	} t[] = {
		{ "", 0, false },
		{ "plain ASCII, \t\r\n and \x7f", 0, false },
		{ "caf\xc3\xa9", 0, true },
		{ "\x80", 0, true },
		{ "\xff", 0, true },
		{ "abc\0\x80", 5, true },	/* past a NUL: the length counts, not the string */
		{ "abc\x80", 3, false },	/* n is respected: the byte after it is not looked at */
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_expect_eq(text_has_8bit(t[i].in, t[i].n ? t[i].n : strlen(t[i].in)), t[i].want, "row %zu", i);
}
