/* test_body.c - the body into the spool file with MIME completion (sendmail/body.c): the file holds
 * exactly the completed header and the body as decided, whether it was written once (nothing changed)
 * or re-encoded and moved; the sink sees exactly the body that is in the file. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
