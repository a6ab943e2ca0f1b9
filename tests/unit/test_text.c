/* test_text.c - lib/text.c: untrusted text made safe in each mode, and the 8-bit test. TEXT_VIS's
 * escapes and cuts have their own table in test_log.c (log_safe is its name there). */
#define LIBBSD_NETBSD_VIS
#include <bsd/vis.h>
#include <criterion/criterion.h>
#include <stdio.h>
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

Test(text, printable)
{
	static const struct {
		const char *in;
		unsigned allow;
		bool want;
	} t[] = {
		{ "", 0, true },
		{ "word!~", 0, true },
		{ "two words", 0, false },
		{ "two words", TEXT_P_SPACE, true },
		{ "tab\there", TEXT_P_SPACE | TEXT_P_8BIT, false },	/* never a control */
		{ "del\x7f", TEXT_P_SPACE | TEXT_P_8BIT, false },
		{ "line\n", TEXT_P_SPACE | TEXT_P_8BIT, false },
		{ "caf\xc3\xa9", 0, false },
		{ "caf\xc3\xa9", TEXT_P_SPACE, false },
		{ "caf\xc3\xa9", TEXT_P_8BIT, true },
		{ "caf\xc3\xa9 x", TEXT_P_8BIT, false },
		{ "caf\xc3\xa9 x", TEXT_P_SPACE | TEXT_P_8BIT, true },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_expect_eq(text_printable(t[i].in, strlen(t[i].in), t[i].allow), t[i].want, "row %zu", i);
	cr_expect(!text_printable("ab\0", 3, TEXT_P_SPACE | TEXT_P_8BIT), "a NUL is a control");
	cr_expect(text_printable("ab\n", 2, 0), "n is respected");
}

/* One row per rule of each mode; text_safe_add must give the same text when nothing is cut. */
Test(text, safe_modes)
{
	static const struct {
		enum text_mode m;
		const char *in;
		size_t n;	/* 0: strlen(in) */
		size_t dstsz;
		const char *want;
	} t[] = {
		{ TEXT_VIS, "a\nb\\", 0, 64, "a\\nb\\\\" },
		{ TEXT_VIS, "caf\xc3\xa9", 0, 64, "caf\\303\\251" },
		{ TEXT_MARK, "plain <a@b.example> ~", 0, 64, "plain <a@b.example> ~" },
		{ TEXT_MARK, "a\tb\r\nc\x1b[0m\x7f", 0, 64, "a?b??c?[0m?" },
		{ TEXT_MARK, "caf\xc3\xa9", 0, 64, "caf??" },	/* 7-bit out */
		{ TEXT_MARK, "a\0b", 3, 64, "a?b" },
		{ TEXT_MARK, "abcdef", 0, 4, "abc" },	/* cut without a marker */
		{ TEXT_MARK_8BIT, "caf\xc3\xa9", 0, 64, "caf\xc3\xa9" },	/* SMTPUTF8 stays readable */
		{ TEXT_MARK_8BIT, "\x1b]0;x\x07\x7f\n", 0, 64, "?]0;x???" },
		{ TEXT_LINE, "550 5.1.1 <a@b>:\r\nno such user", 0, 64, "550 5.1.1 <a@b>: no such user" },
		{ TEXT_LINE, "\r\n\tlead and trail\r\n", 0, 64, "lead and trail" },
		{ TEXT_LINE, "a\x80\xff\x01" "b", 0, 64, "a b" },	/* 8-bit out, one space per run */
		{ TEXT_LINE, "a b", 0, 64, "a b" },	/* a space is text: kept as it is */
		{ TEXT_LINE, "a  b", 0, 64, "a  b" },
		{ TEXT_LINE, "abc\ndef", 0, 5, "abc" },	/* the space and its word do not fit */
		{ TEXT_LINE, "", 0, 64, "" },
		{ TEXT_LINE, "abc", 0, 1, "" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char dst[128];
		size_t n = t[i].n ? t[i].n : strlen(t[i].in), got;
		struct buf b;

		memset(dst, 'Z', sizeof dst);
		got = text_safe(dst, t[i].dstsz, t[i].in, n, t[i].m);
		cr_expect_str_eq(dst, t[i].want, "row %zu: got [%s]", i, dst);
		cr_expect_eq(got, strlen(t[i].want), "row %zu", i);
		cr_expect_eq(dst[t[i].dstsz], 'Z', "row %zu: wrote past dstsz", i);
		if (t[i].dstsz != 64)
			continue;
		buf_init(&b, 64);
		cr_expect_eq(text_safe_add(&b, t[i].in, n, t[i].m), 0, "row %zu", i);
		cr_expect_str_eq(buf_str(&b), t[i].want, "row %zu: text_safe_add", i);
		buf_free(&b);
	}
}

/* JSON strings: escapes by RFC 8259, UTF-8 kept only when valid. */
struct jrow {
	const char *in, *out;
};

static const struct jrow jrows[] = {
	{ "", "\"\"" },
	{ "a@b", "\"a@b\"" },
	{ "q\"b\\s/", "\"q\\\"b\\\\s/\"" },
	{ "a\nb\tc\rd", "\"a\\nb\\tc\\rd\"" },
	{ "\x01\x1b[2J\x1f\x7f", "\"\\u0001\\u001b[2J\\u001f\\u007f\"" },
	{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },	/* UTF-8 kept */
	{ "\xe9t\xe9", "\"\\u00e9t\\u00e9\"" },				/* Latin-1: each byte escaped */
	{ "\xc0\xaf", "\"\\u00c0\\u00af\"" },				/* overlong '/' */
	{ "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"" },		/* a surrogate */
	{ "\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"" },	/* above U+10FFFF */
	{ "x\xe2\x82", "\"x\\u00e2\\u0082\"" },				/* cut short at the end */
	{ "\xc3(", "\"\\u00c3(\"" },					/* a bad continuation */
};

Test(text, json)
{
	for (size_t i = 0; i < sizeof jrows / sizeof jrows[0]; i++) {
		struct buf b;

		buf_init(&b, 1024);
		cr_assert_eq(text_json_add(&b, jrows[i].in, strlen(jrows[i].in)), 0);
		cr_assert_str_eq(buf_str(&b), jrows[i].out, "row %zu", i);
		buf_free(&b);
	}
}

/* text_safe_add stops at the buffer's ceiling and says so. */
Test(text, safe_add_ceiling)
{
	struct buf b;

	buf_init(&b, 4);
	cr_expect_eq(text_safe_add(&b, "ab", 2, TEXT_VIS), 0);
	cr_expect_eq(text_safe_add(&b, "\x01", 1, TEXT_VIS), -1);	/* "\001" is 4 more */
	buf_free(&b);
}

/* TEXT_VIS_SIZE(n) holds the escapes of any n bytes, the worst ones included; one byte less cuts. */
Test(text, vis_size)
{
	char in[32], dst[TEXT_VIS_SIZE(sizeof in)];

	memset(in, 0x01, sizeof in);	/* "\001" each */
	cr_expect_eq(text_safe(dst, sizeof dst, in, sizeof in, TEXT_VIS), TEXT_VIS_PER_BYTE * sizeof in);
	cr_expect_null(strstr(dst, "..."));
	text_safe(dst, sizeof dst - 1, in, sizeof in, TEXT_VIS);
	cr_expect_not_null(strstr(dst, "..."));
}

/* TEXT_VIS is vis(3) with C-style and octal escapes in the C locale: held to libbsd's nvis for every
 * byte, alone and before each kind of next byte (a NUL before an octal digit is "\\000"). */
Test(text, vis_matches_nvis)
{
	static const unsigned char next[] = { 'x', '0', '7', '8', '\0', '\\', 0x80 };

	for (unsigned c = 0; c < 256; c++)
		for (size_t k = 0; k <= sizeof next; k++) {
			char in[2] = { (char)c, k < sizeof next ? (char)next[k] : 'x' };
			size_t n = k < sizeof next ? 2 : 1;
			char want[TEXT_VIS_SIZE(2)] = "", got[TEXT_VIS_SIZE(2)];

			cr_assert_geq(strnvisx(want, sizeof want, in, n, VIS_CSTYLE | VIS_NL | VIS_TAB | VIS_OCTAL |
			    VIS_NOLOCALE), 0);
			text_safe(got, sizeof got, in, n, TEXT_VIS);
			cr_expect_str_eq(got, want, "byte 0x%02x before 0x%02x", c, (unsigned char)in[1]);
		}
}
