/* test_body.c - the body into the spool file with MIME completion (sendmail/body.c): the file holds
 * exactly the completed header and the body as decided, whether it was written once (nothing changed)
 * or re-encoded and moved; the sink sees exactly the body that is in the file. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/mime.h"
#include "sendmail/body.h"

struct row {
	const char *hdr;	/* the caller's header section (CRLF, without the empty line) */
	const char *body;	/* NULL: built by the test (a long line) */
	const char *added;	/* the fields MIME completion appends */
	bool bit8;
	const char *want_body;	/* NULL: checked by the test */
};

static const struct row rows[] = {
	{ "Subject: x\r\n", "hello\r\n", "", false, "hello\r\n" },
	{ "Subject: x\r\n", "", "", false, "" },
	{ "Subject: x\r\n", "Gr\xc3\xbc\xc3\x9f" "e\r\n",
	  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n", true,
	  "Gr\xc3\xbc\xc3\x9f" "e\r\n" },
	{ "Subject: x\r\n", NULL,
	  "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
	  "Content-Transfer-Encoding: quoted-printable\r\n", false, NULL },
	{ "MIME-Version: 1.0\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n", NULL, "", false,
	  NULL },
};

struct seen {
	struct buf b;
	int restarts;
};

static void feed(void *arg, const char *p, size_t n)
{
	struct seen *s = arg;

	cr_assert(buf_add(&s->b, p, n) == 0);
}

static void restart(void *arg)
{
	struct seen *s = arg;

	buf_reset(&s->b);
	s->restarts++;
}

/* memfd_with - a descriptor holding p[0..n), at offset 0. */
static int memfd_with(const char *p, size_t n)
{
	int fd = memfd_create("in", 0);

	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

Test(body, table)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		struct msg_opts o = { .keep_long = true };
		struct buf in, hdr, want;
		struct seen s = { .restarts = 0 };
		struct body_sink k = { feed, restart, &s };
		struct err e;
		struct stat st;
		bool bit8 = !r->bit8;
		char *file;
		int infd, outfd;

		buf_init(&in, 1 << 20);
		buf_init(&hdr, 1 << 16);
		buf_init(&want, 1 << 20);
		buf_init(&s.b, 1 << 20);
		cr_assert(buf_adds(&in, r->hdr) == 0 && buf_adds(&in, "\r\n") == 0);
		if (r->body != NULL)
			cr_assert(buf_adds(&in, r->body) == 0);
		else {
			for (int k2 = 0; k2 < 1500; k2++)
				cr_assert(buf_addc(&in, (char)('A' + k2 % 26)) == 0);
			cr_assert(buf_adds(&in, "\r\nend\r\n") == 0);
		}
		infd = memfd_with(in.data, in.len);
		outfd = memfd_create("out", 0);
		struct msg_reader *rd = msg_reader_new(infd, &o);
		cr_assert_eq(msg_read_header(rd, &hdr, &e), 0, "row %zu: %s", i, e.msg);
		cr_assert(buf_adds(&hdr, "\r\n") == 0);
		cr_assert_eq(body_write(rd, outfd, &hdr, &k, &bit8, &e), 0, "row %zu: %s", i, e.msg);
		cr_assert_eq(bit8, r->bit8, "row %zu", i);

		/* the file: the caller's header, the added fields, the empty line, the body */
		cr_assert_eq(fstat(outfd, &st), 0);
		file = malloc((size_t)st.st_size + 1);
		cr_assert_eq(pread(outfd, file, (size_t)st.st_size, 0), st.st_size);
		cr_assert(buf_adds(&want, r->hdr) == 0 && buf_adds(&want, r->added) == 0 && buf_adds(&want, "\r\n") == 0);
		cr_assert_eq(hdr.len, want.len, "row %zu: header length", i);
		cr_assert(memcmp(hdr.data, want.data, want.len) == 0, "row %zu: hdr", i);
		cr_assert((size_t)st.st_size >= want.len && memcmp(file, want.data, want.len) == 0, "row %zu: header in file", i);
		const char *fb = file + want.len;
		size_t fbn = (size_t)st.st_size - want.len;
		if (r->want_body != NULL) {
			cr_assert_eq(fbn, strlen(r->want_body), "row %zu: body length %zu", i, fbn);
			cr_assert(memcmp(fb, r->want_body, fbn) == 0, "row %zu: body", i);
		} else if (i == 3) {	/* quoted-printable: 76-octet lines, and nothing else changed */
			cr_assert(memmem(fb, fbn, "=\r\n", 3) != NULL, "row %zu: no soft break", i);
			cr_assert(memmem(fb, fbn, "\r\nend\r\n", 7) != NULL, "row %zu", i);
			cr_assert_eq(s.restarts, 1, "row %zu: the hashes were not restarted", i);
		} else {	/* base64 body: folded at 998 */
			cr_assert_eq(fbn, 1500 + 2 + 2 + 5, "row %zu", i);
			cr_assert(memcmp(fb + 998, "\r\n", 2) == 0, "row %zu", i);
		}
		/* the sink saw exactly the body that is in the file */
		cr_assert_eq(s.b.len, fbn, "row %zu: sink %zu octets, file %zu", i, s.b.len, fbn);
		cr_assert(fbn == 0 || memcmp(s.b.data, fb, fbn) == 0, "row %zu: sink", i);
		free(file);
		msg_reader_free(rd);
		close(infd);
		close(outfd);
		buf_free(&in);
		buf_free(&hdr);
		buf_free(&want);
		buf_free(&s.b);
	}
}

/* body_of - body_write over the message hdr + CRLF + body; the file's body (after the header) into out,
 * and what the sink saw must be the same. */
static void body_of(const char *hdrs, const char *body, struct buf *out)
{
	struct msg_opts o = { .keep_long = true };
	struct buf in, hdr;
	struct seen s = { .restarts = 0 };
	struct body_sink k = { feed, restart, &s };
	struct err e;
	struct stat st;
	bool bit8;
	char *file;
	int infd, outfd;

	buf_init(&in, 1 << 20);
	buf_init(&hdr, 1 << 16);
	buf_init(&s.b, 1 << 20);
	cr_assert(buf_adds(&in, hdrs) == 0 && buf_adds(&in, "\r\n") == 0 && buf_adds(&in, body) == 0);
	infd = memfd_with(in.data, in.len);
	outfd = memfd_create("out", 0);
	struct msg_reader *rd = msg_reader_new(infd, &o);
	cr_assert_eq(msg_read_header(rd, &hdr, &e), 0, "%s", e.msg);
	cr_assert(buf_adds(&hdr, "\r\n") == 0);
	cr_assert_eq(body_write(rd, outfd, &hdr, &k, &bit8, &e), 0, "%s", e.msg);
	cr_assert_eq(fstat(outfd, &st), 0);
	file = malloc((size_t)st.st_size + 1);
	cr_assert_eq(pread(outfd, file, (size_t)st.st_size, 0), st.st_size);
	cr_assert((size_t)st.st_size >= hdr.len && memcmp(file, hdr.data, hdr.len) == 0, "the header in the file");
	cr_assert(buf_add(out, file + hdr.len, (size_t)st.st_size - hdr.len) == 0);
	cr_assert_eq(s.b.len, out->len, "sink %zu octets, file %zu", s.b.len, out->len);
	cr_assert(out->len == 0 || memcmp(s.b.data, out->data, out->len) == 0, "the sink saw another body");
	free(file);
	msg_reader_free(rd);
	close(infd);
	close(outfd);
	buf_free(&in);
	buf_free(&hdr);
	buf_free(&s.b);
}

/* A line over 998 octets in a text part of a multipart message: that part becomes quoted-printable
 * (lossless, the other parts as they were); in a part that cannot be re-encoded: folded as before,
 * never inside a UTF-8 sequence. */
Test(body, multipart_long_line)
{
	static const char mp[] = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n";
	struct buf line, body, got, dec;
	const char *p, *q;

	buf_init(&line, 4096);
	buf_init(&body, 1 << 16);
	buf_init(&got, 1 << 16);
	buf_init(&dec, 1 << 16);
	for (int i = 0; i < 700; i++)
		cr_assert(buf_adds(&line, "\xc3\xa9") == 0);
	cr_assert(buf_printf(&body, "--b\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
	    "a%s\r\nend\r\n--b\r\nContent-Type: text/plain\r\n\r\nshort\r\n--b--\r\n", buf_str(&line)) == 0);
	body_of(mp, buf_str(&body), &got);
	p = strstr(buf_str(&got), "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	cr_assert(p != NULL, "%.300s", buf_str(&got));
	cr_expect(strstr(buf_str(&got), "8bit") == NULL, "the part's old label is left");
	p += strlen("Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	q = strstr(p, "\r\n--b\r\n");
	cr_assert(q != NULL);
	cr_assert(mime_qp_decode(p, (size_t)(q - p), &dec) == 0);
	cr_expect(strncmp(buf_str(&dec), "a", 1) == 0 && strcmp(buf_str(&dec) + 1 + line.len, "\r\nend") == 0 &&
	    memcmp(dec.data + 1, line.data, line.len) == 0, "the part does not decode back");
	cr_expect(strstr(q, "\r\n--b\r\nContent-Type: text/plain\r\n\r\nshort\r\n--b--\r\n") == q);

	buf_reset(&body);
	buf_reset(&got);
	cr_assert(buf_printf(&body, "--b\r\nContent-Type: application/x-thing\r\n\r\na%s\r\n--b--\r\n", buf_str(&line)) == 0);
	body_of(mp, buf_str(&body), &got);
	cr_expect(strstr(buf_str(&got), "quoted-printable") == NULL);
	p = strstr(buf_str(&got), "\r\n\r\na") + 4;
	q = strstr(p, "\r\n");
	cr_expect_eq(q - p, 997, "folded at %td", q - p);	/* "a" + 498 sequences of 2 */
	buf_free(&line);
	buf_free(&body);
	buf_free(&got);
	buf_free(&dec);
}
