/* test_mimeconv.c - lib/mimeconv.c: which parts of a message become quoted-printable for a hop without
 * 8BITMIME (MIMECONV_7BIT) or for long lines (MIMECONV_LINES), what cannot be converted, and that the
 * result is the same whatever the chunks and decodes back to the original text. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/mime.h"
#include "lib/mimeconv.h"
#include "lib/text.h"

#define HEAD_MAX (64 * 1024)

struct conv {
	int rc;
	enum mimeconv_err err;
	bool changes;
	struct buf out;
};

/* conv - both passes over in[0..n) in chunks of step. */
static struct conv conv(enum mimeconv_mode mode, const char *in, size_t n, size_t step)
{
	struct conv c = { 0 };
	struct mimeconv z;

	buf_init(&c.out, MIMECONV_GROWTH * n + (MIMECONV_HEAD_GROWTH * HEAD_MAX + MIMECONV_SLACK) * (n / step + 2));
	mimeconv_init(&z, mode, HEAD_MAX);
	for (size_t i = 0; i < n && c.rc == 0; i += step)
		c.rc = mimeconv_feed(&z, in + i, i + step <= n ? step : n - i, NULL);
	if (c.rc == 0)
		c.rc = mimeconv_end(&z, NULL);
	if (c.rc == 0) {
		c.changes = mimeconv_rewind(&z);
		for (size_t i = 0; i < n && c.rc == 0; i += step)
			c.rc = mimeconv_feed(&z, in + i, i + step <= n ? step : n - i, &c.out);
		if (c.rc == 0)
			c.rc = mimeconv_end(&z, &c.out);
	}
	c.err = z.err;
	mimeconv_free(&z);
	return c;
}

#define UTF8_BODY "Gr\xc3\xbc\xc3\x9f" "e\r\n"
#define MP_HEAD "MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"=_b 1\"\r\n"

struct row {
	const char *name;
	enum mimeconv_mode mode;
	const char *in;
	enum mimeconv_err err;
	bool changes;
	const char *out;	/* NULL: the input */
};

static const struct row rows[] = {
	{ "7-bit message: nothing to do", MIMECONV_7BIT,
	  "Subject: x\r\n\r\nplain\r\n", MIMECONV_OK, false, NULL },
	{ "8-bit single part", MIMECONV_7BIT,
	  "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nMIME-Version: 1.0\r\n"
	  "\r\n" UTF8_BODY,
	  MIMECONV_OK, true,
	  "Content-Type: text/plain; charset=UTF-8\r\nMIME-Version: 1.0\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe\r\n" },
	{ "8-bit single part without MIME-Version gets one", MIMECONV_7BIT,
	  "Subject: x\r\n\r\n" UTF8_BODY, MIMECONV_OK, true,
	  "Subject: x\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "Gr=C3=BC=C3=9Fe\r\n" },
	{ "multipart: 8-bit parts re-encoded, 7-bit part and the outer label", MIMECONV_7BIT,
	  MP_HEAD "Content-Transfer-Encoding: 8bit\r\n\r\npreamble\r\n--=_b 1\r\n"
	  "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" UTF8_BODY
	  "--=_b 1\r\nContent-Type: text/html\r\n\r\n<p>ok</p>\r\n--=_b 1\r\nContent-Type: text/html; charset=UTF-8\r\n"
	  "\r\n<p>\xc3\xa9</p>\r\n--=_b 1--\r\nepilogue\r\n",
	  MIMECONV_OK, true,
	  MP_HEAD "Content-Transfer-Encoding: 7bit\r\n\r\npreamble\r\n--=_b 1\r\n"
	  "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	  "Gr=C3=BC=C3=9Fe\r\n"
	  "--=_b 1\r\nContent-Type: text/html\r\n\r\n<p>ok</p>\r\n--=_b 1\r\nContent-Type: text/html; charset=UTF-8\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>=C3=A9</p>\r\n--=_b 1--\r\nepilogue\r\n" },
	{ "nested multipart", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: multipart/alternative;\r\n"
	  "\tboundary=in\r\n\r\n--in\r\n\r\n\xc3\xa9\r\n--in--\r\n--out\r\nContent-Type: image/png\r\n"
	  "Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--out--\r\n",
	  MIMECONV_OK, true,
	  "Content-Type: multipart/mixed; boundary=out\r\n\r\n--out\r\nContent-Type: multipart/alternative;\r\n"
	  "\tboundary=in\r\n\r\n--in\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=C3=A9\r\n--in--\r\n"
	  "--out\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n--out--\r\n" },
	{ "a boundary that only starts like one is content", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--bx \xc3\xa9\r\n--b--\r\n",
	  MIMECONV_OK, true,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: quoted-printable\r\n"
	  "\r\n--bx =C3=A9\r\n--b--\r\n" },
	{ "8-bit in message/rfc822", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
	  "Subject: x\r\n\r\n\xc3\xa9\r\n--b--\r\n", MIMECONV_E_MESSAGE8, false, NULL },
	{ "8-bit in a digest part (message/rfc822 by default)", MIMECONV_7BIT,
	  "Content-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nSubject: x\r\n\r\n\xc3\xa9\r\n--b--\r\n",
	  MIMECONV_E_MESSAGE8, false, NULL },
	{ "8-bit in a non-text part", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n"
	  "\xff\xfe\r\n--b--\r\n", MIMECONV_E_OPAQUE8, false, NULL },
	{ "8-bit in a part already base64", MIMECONV_7BIT,
	  "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n\xc3\xa9\r\n",
	  MIMECONV_E_OPAQUE8, false, NULL },
	{ "8-bit in the preamble", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n\xc3\xa9\r\n--b\r\n\r\nx\r\n--b--\r\n",
	  MIMECONV_E_OPAQUE8, false, NULL },
	{ "8-bit Subject: encoded words", MIMECONV_7BIT,
	  "Subject: Gr\xc3\xbc\xc3\x9f" "e  aus\r\n K\xc3\xb6ln\r\nTo: a@b.example\r\n\r\nx\r\n", MIMECONV_OK, true,
	  "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe__aus_K=C3=B6ln?=\r\nTo: a@b.example\r\n\r\nx\r\n" },
	{ "8-bit Subject and body", MIMECONV_7BIT,
	  "Subject: caf\xe9\r\n\r\n\xc3\xa9\r\n", MIMECONV_OK, true,
	  "Subject: =?unknown-8bit?Q?caf=E9?=\r\nMIME-Version: 1.0\r\nContent-Transfer-Encoding: quoted-printable\r\n"
	  "\r\n=C3=A9\r\n" },
	{ "8-bit in another field", MIMECONV_7BIT,
	  "Subject: ok\r\nX-Note: Gr\xc3\xbc\xc3\x9f" "e\r\n\r\nx\r\n", MIMECONV_E_HEADER8, false, NULL },
	{ "an 8-bit Subject of a part is no message's Subject", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nSubject: \xc3\xa9\r\n\r\nx\r\n--b--\r\n",
	  MIMECONV_E_HEADER8, false, NULL },
	{ "8-bit in a part's header", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; name=\xc3\xa9\r\n\r\n"
	  "x\r\n--b--\r\n", MIMECONV_E_HEADER8, false, NULL },
	{ "lines mode: 8-bit alone changes nothing", MIMECONV_LINES,
	  MP_HEAD "\r\n--=_b 1\r\n\r\n" UTF8_BODY "--=_b 1--\r\n", MIMECONV_OK, false, NULL },
	{ "lines mode: a header-only part before the delimiter", MIMECONV_LINES,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n--b--\r\n",
	  MIMECONV_OK, false, NULL },
	{ "more nesting than MIMECONV_DEPTH", MIMECONV_7BIT,
	  "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	  "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n",
	  MIMECONV_E_DEPTH, false, NULL },
};

Test(mimeconv, table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		size_t n = strlen(r->in);
		const char *want = r->out ? r->out : r->in;
		struct conv first = conv(r->mode, r->in, n, n);

		cr_expect_eq(first.err, r->err, "%s: error %d (%s)", r->name, first.err, mimeconv_why(first.err));
		if (r->err != MIMECONV_OK) {
			cr_expect_eq(first.rc, -1, "%s", r->name);
			buf_free(&first.out);
			continue;
		}
		cr_expect_eq(first.changes, r->changes, "%s: changes", r->name);
		cr_expect_str_eq(buf_str(&first.out), want, "%s", r->name);
		if (r->mode == MIMECONV_7BIT)
			cr_expect(!text_has_8bit(first.out.data, first.out.len), "%s: 8-bit left", r->name);
		for (size_t step = 1; step < n; step++) {	/* the same whatever the chunks */
			struct conv c = conv(r->mode, r->in, n, step);

			cr_expect(c.err == first.err && c.changes == first.changes && c.out.len == first.out.len &&
			    memcmp(c.out.data, first.out.data, c.out.len) == 0, "%s: step %zu", r->name, step);
			buf_free(&c.out);
		}
		buf_free(&first.out);
	}
}

/* long lines in a text part of a multipart message: quoted-printable, lossless, whole UTF-8
 * sequences per line; a long line where re-encoding is impossible is an error (the caller folds) */
Test(mimeconv, long_lines_in_parts)
{
	struct buf in, part;
	struct conv c;
	const char *p, *q;
	struct buf dec;

	buf_init(&in, 64 * 1024);
	buf_init(&part, 8192);
	for (int i = 0; i < 700; i++)
		cr_assert(buf_adds(&part, "\xc3\xa9") == 0);	/* 1,400 octets of "é" */
	cr_assert(buf_adds(&part, "\r\n") == 0);
	cr_assert(buf_printf(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n\r\n%s--b\r\nContent-Type: text/plain\r\n\r\nshort\r\n--b--\r\n",
	    buf_str(&part)) == 0);
	c = conv(MIMECONV_LINES, in.data, in.len, 4096);
	cr_assert_eq(c.rc, 0, "%s", mimeconv_why(c.err));
	cr_assert(c.changes);
	p = strstr(buf_str(&c.out), "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	cr_assert(p != NULL);
	p += strlen("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	q = strstr(p, "--b\r\n");
	cr_assert(q != NULL);
	buf_init(&dec, 8192);
	cr_assert(mime_qp_decode(p, (size_t)(q - p), &dec) == 0);
	cr_expect_str_eq(buf_str(&dec), buf_str(&part));
	for (const char *l = p; l < q;) {	/* every line at most 76, never a sequence cut */
		const char *e = strstr(l, "\r\n");

		cr_expect(e - l <= MIME_QP_LINE);
		cr_expect(e - l < 3 || strncmp(e - 3, "=C3", 3) != 0, "a sequence cut at a soft break");
		l = e + 2;
	}
	cr_expect(strstr(buf_str(&c.out), "Content-Type: text/plain\r\n\r\nshort\r\n--b--") != NULL);
	buf_free(&c.out);
	buf_free(&dec);

	buf_reset(&in);
	cr_assert(buf_printf(&in, "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: application/x-thing\r\n\r\n%s--b--\r\n", buf_str(&part)) == 0);
	c = conv(MIMECONV_LINES, in.data, in.len, 100);
	cr_expect_eq(c.err, MIMECONV_E_LONG);
	buf_free(&c.out);
	buf_free(&in);
	buf_free(&part);
}
