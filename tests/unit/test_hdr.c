/* test_hdr.c - the header section (lib/hdr.c): parse, find, unfold, fold, long-line repair. */
#include <criterion/criterion.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/hdr.h"

#define L(s) s, sizeof(s) - 1

struct parse_row {
	const char *in;
	size_t len;
	const char *want;	/* fields as "name=value|" ... (value raw), or NULL for an error */
	const char *err;
};

static const struct parse_row parse_rows[] = {
	{ "", 0, "", NULL },
	{ "Subject: hi\r\n", 0, "Subject= hi|", NULL },
	{ "A: 1\r\nB:2\r\n", 0, "A= 1|B=2|", NULL },
	{ "To: a@b,\r\n c@d\r\n\tx\r\nX-Y: z\r\n", 0, "To= a@b,\r\n c@d\r\n\tx|X-Y= z|", NULL },
	{ "Empty:\r\n", 0, "Empty=|", NULL },
	{ "X:a:b\r\n", 0, "X=a:b|", NULL },
	{ "8bit: \xc3\xa9\r\n", 0, "8bit= \xc3\xa9|", NULL },
	{ " cont\r\n", 0, NULL, "continuation line before any header field (header line 1)" },
	{ "A: 1\r\n\r\n", 0, NULL, "empty line inside the header section (header line 2)" },
	{ "A: 1\r\nnot a field\r\n", 0, NULL, "not a header field (header line 2)" },
	{ "A : 1\r\n", 0, NULL, "not a header field" },
	{ ": 1\r\n", 0, NULL, "not a header field" },
	{ "A: 1", 0, NULL, "does not end with CRLF" },
	{ "A: 1\n", 0, NULL, "bare CR or LF" },
	{ "A: 1\rB: 2\r\n", 0, NULL, "bare CR or LF" },
	{ "A: 1\r", 0, NULL, "bare CR or LF" },
	{ L("A: 1\0\r\n"), NULL, "NUL byte" },
	{ "\xc3\xa9: x\r\n", 0, NULL, "not a header field" },
};

Test(hdr, parse_table)
{
	size_t i, k;

	for (i = 0; i < sizeof parse_rows / sizeof parse_rows[0]; i++) {
		const struct parse_row *r = &parse_rows[i];
		struct hdr_field *f = (struct hdr_field *)1;
		size_t n = 99;
		struct err e = { 0 };
		int rc = hdr_parse(r->in, r->len ? r->len : strlen(r->in), &f, &n, &e);
		if (r->want == NULL) {
			cr_assert_eq(rc, -1, "row %zu parsed", i);
			cr_assert_eq(e.code, EX_DATAERR);
			cr_assert_null(f);
			cr_assert_eq(n, 0);
			cr_assert(strstr(e.msg, r->err) != NULL, "row %zu: got \"%s\"", i, e.msg);
			continue;
		}
		cr_assert_eq(rc, 0, "row %zu: %s", i, e.msg);
		struct buf b;
		buf_init(&b, 4096);
		for (k = 0; k < n; k++) {
			struct span v = hdr_value(&f[k]);
			cr_assert_eq(f[k].raw[f[k].name_len], ':');
			cr_assert(buf_add(&b, f[k].raw, f[k].name_len) == 0 && buf_addc(&b, '=') == 0 &&
				  buf_add(&b, v.p, v.n) == 0 && buf_addc(&b, '|') == 0);
		}
		cr_assert_str_eq(buf_str(&b), r->want, "row %zu", i);
		buf_free(&b);
		free(f);
	}
}

Test(hdr, find_count)
{
	const char *h = "From: a\r\nTO: x\r\nSubject: s\r\nto: y\r\nX-To: z\r\n";
	struct hdr_field *f;
	size_t n;
	struct err e;
	const struct hdr_field *t;

	cr_assert_eq(hdr_parse(h, strlen(h), &f, &n, &e), 0);
	cr_assert_eq(n, 5);
	t = hdr_find(f, n, "to");
	cr_assert_not_null(t);
	cr_assert_eq(t, &f[1]);
	cr_assert_eq(hdr_count(f, n, "To"), 2);
	cr_assert_eq(hdr_count(f, n, "T"), 0);
	cr_assert_eq(hdr_count(f, n, "To:"), 0);
	cr_assert_null(hdr_find(f, n, "Cc"));
	cr_assert(hdr_name_is(&f[4], "x-to"));
	cr_assert(!hdr_name_is(&f[4], "x-t"));
	free(f);
}

Test(hdr, too_many_fields)
{
	struct buf b;
	struct hdr_field *f;
	size_t n, i;
	struct err e;

	buf_init(&b, 1 << 20);
	for (i = 0; i < LIM_HEADER_FIELDS; i++)
		cr_assert(buf_adds(&b, "X: y\r\n") == 0);
	cr_assert_eq(hdr_parse(b.data, b.len, &f, &n, &e), 0);
	cr_assert_eq(n, LIM_HEADER_FIELDS);
	free(f);
	cr_assert(buf_adds(&b, "X: y\r\n") == 0);
	cr_assert_eq(hdr_parse(b.data, b.len, &f, &n, &e), -1);
	cr_assert(strstr(e.msg, "too many header fields") != NULL);
	buf_free(&b);
}

Test(hdr, name_limit)
{
	char line[HDR_NAME_MAX + 8];

	memset(line, 'N', HDR_NAME_MAX);
	line[HDR_NAME_MAX] = ':';
	cr_assert_eq(hdr_line_kind(line, HDR_NAME_MAX + 1, false), HDR_LINE_FIELD);
	line[HDR_NAME_MAX] = 'N';
	line[HDR_NAME_MAX + 1] = ':';
	cr_assert_eq(hdr_line_kind(line, HDR_NAME_MAX + 2, true), HDR_LINE_OTHER);
	cr_assert_eq(hdr_line_kind(line, 10, false), HDR_LINE_MORE);
	cr_assert_eq(hdr_line_kind(line, 10, true), HDR_LINE_OTHER);
	cr_assert_eq(hdr_line_kind("", 0, false), HDR_LINE_MORE);
	cr_assert_eq(hdr_line_kind("", 0, true), HDR_LINE_EMPTY);
	cr_assert_eq(hdr_line_kind("\tx", 2, false), HDR_LINE_CONT);
	cr_assert_eq(hdr_line_kind("From ", 5, false), HDR_LINE_MORE);	/* "From :" or "From x"? */
	cr_assert_eq(hdr_line_kind("From x@y Mon", 12, true), HDR_LINE_OTHER);
	cr_assert_eq(hdr_line_kind("Subject : x", 11, true), HDR_LINE_OBS_FIELD);	/* RFC 5322 4.5.3 */
	cr_assert_eq(hdr_line_kind("X-Tab\t:\ty", 9, true), HDR_LINE_OBS_FIELD);
	cr_assert_eq(hdr_line_kind("Two words: x", 12, true), HDR_LINE_OTHER);
}

struct unfold_row {
	const char *in, *want;
};

static const struct unfold_row unfold_rows[] = {
	{ " a,\r\n b", " a, b" },
	{ " a\r\n\t\r\n c", " a\t c" },
	{ "x\r\ny", "x\r\ny" },	/* not folding: left for the address parser to refuse */
	{ "x\r\n", "x\r\n" },
	{ "", "" },
	{ "\r\n \r\n ", "  " },
};

Test(hdr, unfold)
{
	size_t i;

	for (i = 0; i < sizeof unfold_rows / sizeof unfold_rows[0]; i++) {
		struct buf b;
		buf_init(&b, 100);
		cr_assert_eq(hdr_unfold(span_str(unfold_rows[i].in), &b), 0);
		cr_assert_str_eq(buf_str(&b), unfold_rows[i].want, "row %zu", i);
		buf_free(&b);
	}
	struct buf small;
	buf_init(&small, 3);
	cr_assert_eq(hdr_unfold(span_str("abcd"), &small), -1);
	buf_free(&small);
}

/* lines_ok - every line of s ends in CRLF, no bare CR/LF, each at most max octets; returns the count. */
static size_t lines_ok(const char *s, size_t len, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len) {
		const char *e = memchr(s + i, '\r', len - i);
		cr_assert_not_null(e);
		cr_assert_eq(e[1], '\n');
		cr_assert_leq((size_t)(e - (s + i)), max, "line %zu has %zu octets", n, (size_t)(e - (s + i)));
		cr_assert_null(memchr(s + i, '\n', (size_t)(e - (s + i))));
		if (n > 0)
			cr_assert(s[i] == ' ' || s[i] == '\t');
		i = (size_t)(e - s) + 2;
		n++;
	}
	return n;
}

struct fold_row {
	const char *name, *value, *want;
};

static const struct fold_row fold_rows[] = {
	{ "Subject", "hello", "Subject: hello\r\n" },
	{ "Subject", " hello", "Subject: hello\r\n" },
	{ "X", "", "X:\r\n" },
	{ "To", "aaaaaaaaaa@example.com, bbbbbbbbbb@example.com, cccccccccc@example.com, dddd@example.com",
	  "To: aaaaaaaaaa@example.com, bbbbbbbbbb@example.com, cccccccccc@example.com,\r\n dddd@example.com\r\n" },
	{ "X", "a  ", "X: a  \r\n" },
};

Test(hdr, fold_table)
{
	size_t i;

	for (i = 0; i < sizeof fold_rows / sizeof fold_rows[0]; i++) {
		struct buf b;
		buf_init(&b, 4096);
		cr_assert_eq(hdr_fold(fold_rows[i].name, fold_rows[i].value, strlen(fold_rows[i].value), &b), 0);
		cr_assert_str_eq(buf_str(&b), fold_rows[i].want, "row %zu", i);
		buf_free(&b);
	}
}

Test(hdr, fold_long)
{
	struct buf v, b;
	size_t i;

	/* many short words: every line within 78, content preserved after unfolding */
	buf_init(&v, 1 << 20);
	buf_init(&b, 1 << 20);
	for (i = 0; i < 500; i++)
		cr_assert(buf_printf(&v, "%sword%zu", i ? " " : "", i) == 0);
	cr_assert_eq(hdr_fold("X-Long", v.data, v.len, &b), 0);
	cr_assert_gt(lines_ok(b.data, b.len, 78), 10);
	struct buf u;
	buf_init(&u, 1 << 20);
	cr_assert(hdr_unfold(span_make(b.data, b.len - 2), &u) == 0);
	cr_assert_eq(u.len, v.len + 8);
	cr_assert_eq(memcmp(u.data + 8, v.data, v.len), 0);
	buf_free(&u);

	/* a word of 990 fits after "X: " on its own line */
	buf_reset(&b);
	buf_reset(&v);
	cr_assert(buf_adds(&v, "a ") == 0);
	for (i = 0; i < 990; i++)
		cr_assert(buf_addc(&v, 'w') == 0);
	cr_assert_eq(hdr_fold("X", v.data, v.len, &b), 0);
	cr_assert_eq(lines_ok(b.data, b.len, LIM_LINE), 2);

	/* a word of 999 cannot be folded: -1, out unchanged */
	buf_reset(&b);
	cr_assert(buf_adds(&b, "keep") == 0);
	cr_assert(buf_addc(&v, 'w') == 0 && buf_adds(&v, "wwwwwwwww") == 0);
	cr_assert_eq(hdr_fold("X", v.data, v.len, &b), -1);
	cr_assert_str_eq(buf_str(&b), "keep");
	/* the first word shares the name's line: 996 + "X: " = 999 */
	buf_reset(&v);
	for (i = 0; i < 996; i++)
		cr_assert(buf_addc(&v, 'w') == 0);
	cr_assert_eq(hdr_fold("X", v.data, v.len, &b), -1);
	cr_assert_str_eq(buf_str(&b), "keep");
	v.len = 995;
	cr_assert_eq(hdr_fold("X", v.data, v.len, &b), 0);
	buf_free(&v);
	buf_free(&b);
}

Test(hdr, fold_refuses)
{
	struct buf b;

	buf_init(&b, 64);
	cr_assert_eq(hdr_fold("X", "a\r\nBcc: x", 9, &b), -1);
	cr_assert_eq(hdr_fold("X", "a\nb", 3, &b), -1);
	cr_assert_eq(hdr_fold("X", "a\0b", 3, &b), -1);
	cr_assert_eq(hdr_fold("Bad Name", "v", 1, &b), -1);
	cr_assert_eq(hdr_fold("Bad:", "v", 1, &b), -1);
	cr_assert_eq(hdr_fold("", "v", 1, &b), -1);
	cr_assert_eq(b.len, 0);
	/* ceiling reached */
	cr_assert_eq(hdr_fold("Subject", "0123456789012345678901234567890123456789012345678901234567", 58, &b), -1);
	cr_assert_eq(b.len, 0);
	buf_free(&b);
}

Test(hdr, fold_line)
{
	struct buf in, b;
	size_t i;

	buf_init(&in, 1 << 20);
	buf_init(&b, 1 << 20);
	/* short line: copied as is */
	cr_assert_eq(hdr_fold_line("Subject: x", 10, &b), 0);
	cr_assert_str_eq(buf_str(&b), "Subject: x");
	/* 3000 octets of words: pieces within 998 and content unchanged after unfolding */
	cr_assert(buf_adds(&in, "X-Long:") == 0);
	while (in.len < 3000)
		cr_assert(buf_adds(&in, " abcdefghi") == 0);
	buf_reset(&b);
	cr_assert_eq(hdr_fold_line(in.data, in.len, &b), 0);
	cr_assert(buf_adds(&b, "\r\n") == 0);
	cr_assert_eq(lines_ok(b.data, b.len, LIM_LINE), 4);
	struct buf u;
	buf_init(&u, 1 << 20);
	cr_assert(hdr_unfold(span_make(b.data, b.len), &u) == 0);
	cr_assert_eq(u.len, in.len + 2);
	cr_assert_eq(memcmp(u.data, in.data, in.len), 0);
	buf_free(&u);
	/* exactly 998: unchanged; 999 without whitespace: impossible */
	buf_reset(&in);
	for (i = 0; i < 998; i++)
		cr_assert(buf_addc(&in, 'x') == 0);
	buf_reset(&b);
	cr_assert_eq(hdr_fold_line(in.data, in.len, &b), 0);
	cr_assert_eq(b.len, 998);
	cr_assert(buf_addc(&in, 'x') == 0);
	buf_reset(&b);
	cr_assert_eq(hdr_fold_line(in.data, in.len, &b), -1);
	cr_assert_eq(b.len, 0);
	/* whitespace only at the end (trailing): folding there would leave a blank line - impossible */
	for (i = 0; i < 10; i++)
		cr_assert(buf_addc(&in, ' ') == 0);
	cr_assert_eq(hdr_fold_line(in.data, in.len, &b), -1);
	/* whitespace only at the start of a continuation line: impossible too */
	buf_reset(&in);
	cr_assert(buf_adds(&in, "\t") == 0);
	for (i = 0; i < 1200; i++)
		cr_assert(buf_addc(&in, 'x') == 0);
	cr_assert_eq(hdr_fold_line(in.data, in.len, &b), -1);
	buf_free(&in);
	buf_free(&b);
}
