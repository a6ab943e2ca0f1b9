/* test_msg.c - the streaming message reader and its normaliser (sendmail/msg.c). */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/limits.h"
#include "sendmail/msg.h"

struct result {
	int rc;			/* 0, or -1 when header or body failed */
	struct buf hdr, body;
	struct err e;
	bool bit8;
};

/* feed_fd - an fd that yields in[0..n): whole (memfd) when split is 0, else as two reads split at
 * `split` (SOCK_SEQPACKET keeps the boundary). */
static int feed_fd(const char *in, size_t n, size_t split)
{
	int sv[2];

	if (split == 0 || split >= n) {
		int fd = memfd_create("msg", 0);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, in, n), (ssize_t)n);
		cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
		return fd;
	}
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	cr_assert_eq(write(sv[1], in, split), (ssize_t)split);
	cr_assert_eq(write(sv[1], in + split, n - split), (ssize_t)(n - split));
	close(sv[1]);
	return sv[0];
}

/* run - read a whole message; every body chunk must be complete CRLF lines within outsz. */
static void run(struct result *res, const char *in, size_t n, size_t split, const struct msg_opts *o)
{
	char out[1024];
	int fd = feed_fd(in, n, split);
	struct msg_reader *r = msg_reader_new(fd, o);
	ssize_t k;

	memset(res, 0, sizeof *res);
	buf_init(&res->hdr, 1 << 26);
	buf_init(&res->body, 1 << 26);
	res->rc = msg_read_header(r, &res->hdr, &res->e);
	while (res->rc == 0 && (k = msg_read_body(r, out, sizeof out, &res->e)) != 0) {
		if (k < 0) {
			res->rc = -1;
			break;
		}
		cr_assert_leq((size_t)k, sizeof out);
		cr_assert(o->keep_long || (k >= 2 && out[k - 2] == '\r' && out[k - 1] == '\n'), "chunk not ending in CRLF");
		cr_assert(buf_add(&res->body, out, (size_t)k) == 0);
	}
	res->bit8 = msg_body_8bit(r);
	msg_reader_free(r);
	close(fd);
}

static void result_free(struct result *res)
{
	buf_free(&res->hdr);
	buf_free(&res->body);
}

struct row {
	const char *in;
	size_t len;
	bool dot;
	const char *hdr, *body;	/* wanted; hdr NULL when an error is expected */
	const char *err;
};

#define L(s) s, sizeof(s) - 1

static const struct row rows[] = {
	{ "Subject: a\nTo: b\n\nbody\n", 0, false, "Subject: a\r\nTo: b\r\n", "body\r\n", NULL },
	{ "Subject: a\r\nTo: b\r\n\r\nbody\r\n", 0, false, "Subject: a\r\nTo: b\r\n", "body\r\n", NULL },
	{ "Subject: a\rTo: b\r\rbody\r", 0, false, "Subject: a\r\nTo: b\r\n", "body\r\n", NULL },
	{ "A: 1\r\n\r\nx\ry\n\r\nz", 0, false, "A: 1\r\n", "x\r\ny\r\n\r\nz\r\n", NULL },
	{ "A: 1\n\nx\r\r\ny\n\n\n", 0, false, "A: 1\r\n", "x\r\n\r\ny\r\n\r\n\r\n", NULL },
	{ "From foo@bar Mon Jan  1 00:00:00 2024\nSubject: x\n\nb\n", 0, false, "Subject: x\r\n", "b\r\n", NULL },
	{ "From x\n", 0, false, "", "", NULL },
	{ "From: a@b\n\nx", 0, false, "From: a@b\r\n", "x\r\n", NULL },
	{ "hello world\nmore\n", 0, false, "", "hello world\r\nmore\r\n", NULL },
	{ "Dear: no\n", 0, false, "Dear: no\r\n", "", NULL },
	/* RFC 5322 4.5.3: white space before the colon is obsolete but legal; kept as a field, without it */
	{ "From: a@b\nSubject : x\nX-Tab\t:\ty\n\nb\n", 0, false, "From: a@b\r\nSubject: x\r\nX-Tab:\ty\r\n", "b\r\n", NULL },
	{ "A: 1\nTwo words: x\n\nb\n", 0, false, "A: 1\r\n", "Two words: x\r\n\r\nb\r\n", NULL },
	{ "A: 1\nthis is body\nB: 2\n", 0, false, "A: 1\r\n", "this is body\r\nB: 2\r\n", NULL },
	{ "A: 1\nFrom x\n\n", 0, false, "A: 1\r\n", "From x\r\n\r\n", NULL },
	{ "A: 1\n 2\n\tthree\n\nb", 0, false, "A: 1\r\n 2\r\n\tthree\r\n", "b\r\n", NULL },
	{ " x\nA: 1\n\nb", 0, false, "", " x\r\nA: 1\r\n\r\nb\r\n", NULL },	/* uptime | sendmail root */
	{ "A: 1\n\nline\n.\nafter\n", 0, true, "A: 1\r\n", "line\r\n", NULL },
	{ "A: 1\n\nline\n.\nafter\n", 0, false, "A: 1\r\n", "line\r\n.\r\nafter\r\n", NULL },
	{ "A: 1\n\n..\n.x\n. \n.\n", 0, true, "A: 1\r\n", "..\r\n.x\r\n. \r\n", NULL },
	{ "A: 1\n.\nB: 2\n", 0, true, "A: 1\r\n", "", NULL },
	{ ".\nA: 1\n", 0, true, "", "", NULL },
	{ "A: 1\r\n\r\nx\r\n.\r\ny", 0, true, "A: 1\r\n", "x\r\n", NULL },
	{ "A: 1\r\n\r\nx\r.\ry", 0, true, "A: 1\r\n", "x\r\n", NULL },
	{ "A: 1\n\nx\n.", 0, true, "A: 1\r\n", "x\r\n", NULL },
	{ "A: 1\n\nx\n.", 0, false, "A: 1\r\n", "x\r\n.\r\n", NULL },
	{ "A: 1\n\nbody", 0, false, "A: 1\r\n", "body\r\n", NULL },
	{ "A: 1", 0, false, "A: 1\r\n", "", NULL },
	{ "", 0, false, "", "", NULL },
	{ "\n", 0, false, "", "", NULL },
	{ "\nbody\n", 0, false, "", "body\r\n", NULL },
	{ "\r\n\r\n", 0, false, "", "\r\n", NULL },
	{ L("A: 1\n\nx\ny\0\n"), false, NULL, NULL, "message contains a NUL byte (line 4)" },
	{ L("A: 1\0\n"), false, NULL, NULL, "message contains a NUL byte (line 1)" },
	{ L("\0"), false, NULL, NULL, "message contains a NUL byte (line 1)" },
	{ L("A: 1\r\rB\r\n\0"), false, NULL, NULL, "message contains a NUL byte (line 4)" },
};

Test(msg, table_and_every_split)
{
	size_t i, k;

	for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *w = &rows[i];
		size_t n = w->len ? w->len : strlen(w->in);
		struct msg_opts o = { .dot_ends = w->dot };
		for (k = 0; k < n || k == 0; k++) {
			struct result res;
			run(&res, w->in, n, k, &o);
			if (w->hdr == NULL) {
				cr_assert_eq(res.rc, -1, "row %zu split %zu", i, k);
				cr_assert_eq(res.e.code, EX_DATAERR);
				cr_assert_str_eq(res.e.msg, w->err, "row %zu split %zu", i, k);
			} else {
				cr_assert_eq(res.rc, 0, "row %zu split %zu: %s", i, k, res.e.msg);
				cr_assert_str_eq(buf_str(&res.hdr), w->hdr, "row %zu split %zu", i, k);
				cr_assert_str_eq(buf_str(&res.body), w->body, "row %zu split %zu", i, k);
			}
			result_free(&res);
		}
	}
}

/* A sample with every rule in it, for the boundary tests. */
static char *sample(size_t *n)
{
	struct buf b;
	size_t i;

	buf_init(&b, 1 << 20);
	cr_assert(buf_adds(&b, "From someone Sat Jan  1 00:00:00 2000\r\nSubject: hi\rTo: a@b,\n c@d\r\n") == 0);
	cr_assert(buf_adds(&b, "X-Long:") == 0);
	for (i = 0; i < 150; i++)
		cr_assert(buf_adds(&b, " word") == 0);
	cr_assert(buf_adds(&b, "\n\r\n..dots\r\nline\r\r\n\xc3\xa9t\xc3\xa9\n") == 0);
	for (i = 0; i < 2100; i++)
		cr_assert(buf_addc(&b, (char)('a' + i % 26)) == 0);
	cr_assert(buf_adds(&b, "\r\n.\r\nnot read\n") == 0);
	*n = b.len;
	return buf_take(&b);
}

Test(msg, read_boundaries_at_every_offset)
{
	size_t n, k;
	char *s = sample(&n);
	struct msg_opts o = { .dot_ends = true };
	struct result ref;

	run(&ref, s, n, 0, &o);
	cr_assert_eq(ref.rc, 0, "%s", ref.e.msg);
	cr_assert(strncmp(buf_str(&ref.hdr), "Subject: hi\r\nTo: a@b,\r\n c@d\r\nX-Long: word", 40) == 0);
	cr_assert(strncmp(buf_str(&ref.body), "..dots\r\nline\r\n\r\n\xc3\xa9t\xc3\xa9\r\nabc", 26) == 0, "%.40s",
		  buf_str(&ref.body));
	cr_assert_eq(ref.body.len, 8 + 6 + 2 + 7 + 998 + 2 + 998 + 2 + 104 + 2);
	cr_assert(ref.bit8);
	for (k = 1; k < n; k++) {
		struct result res;
		run(&res, s, n, k, &o);
		cr_assert_eq(res.rc, 0);
		cr_assert_eq(res.hdr.len, ref.hdr.len, "split %zu", k);
		cr_assert_eq(memcmp(res.hdr.data, ref.hdr.data, ref.hdr.len), 0, "split %zu", k);
		cr_assert_eq(res.body.len, ref.body.len, "split %zu", k);
		cr_assert_eq(memcmp(res.body.data, ref.body.data, ref.body.len), 0, "split %zu", k);
		cr_assert(res.bit8);
		result_free(&res);
	}
	result_free(&ref);
	free(s);
}

/* norm_all - run the pure normaliser over in with input pieces of `piece` octets and an output area of
 * `room` octets. */
static void norm_all(struct buf *out, const char *in, size_t n, size_t piece, size_t room, bool split)
{
	struct msg_norm z;
	char tmp[4096];
	size_t i = 0;

	msg_norm_init(&z, true);
	z.split = split;
	while (i < n && !z.ended) {
		size_t take = n - i < piece ? n - i : piece, used = 0, tl = 0;
		struct err e;
		cr_assert_eq(msg_norm_feed(&z, in + i, take, &used, tmp, room, &tl, &e), 0);
		cr_assert(used > 0 || tl > 0 || z.ended || take == 0 || z.skip_lf == false);
		cr_assert(buf_add(out, tmp, tl) == 0);
		i += used;
	}
	size_t tl = 0;
	msg_norm_finish(&z, tmp, room, &tl);
	cr_assert(buf_add(out, tmp, tl) == 0);
}

Test(msg, normaliser_pieces)
{
	size_t n, piece, room;
	char *s = sample(&n);
	struct buf ref;

	buf_init(&ref, 1 << 20);
	norm_all(&ref, s, n, n, sizeof(char[4096]), true);
	cr_assert_null(memchr(ref.data, '\0', ref.len));
	for (piece = 1; piece < 8; piece++) {
		for (room = 3; room < 9; room++) {
			struct buf b;
			buf_init(&b, 1 << 20);
			norm_all(&b, s, n, piece, room, true);
			cr_assert_eq(b.len, ref.len, "piece %zu room %zu", piece, room);
			cr_assert_eq(memcmp(b.data, ref.data, ref.len), 0);
			buf_free(&b);
		}
	}
	buf_free(&ref);
	free(s);
}

/* repeat - c n times, then tail. */
static char *repeat(char c, size_t n, const char *head, const char *tail, size_t *len)
{
	struct buf b;

	buf_init(&b, 1 << 26);
	cr_assert(buf_adds(&b, head) == 0);
	while (n--)
		cr_assert(buf_addc(&b, c) == 0);
	cr_assert(buf_adds(&b, tail) == 0);
	*len = b.len;
	return buf_take(&b);
}

Test(msg, long_body_lines)
{
	struct msg_opts o = { 0 };
	struct result res;
	size_t n;
	char *s;

	s = repeat('x', 998, "A: 1\n\n", "\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.body.len, 1000);
	result_free(&res);
	free(s);
	s = repeat('x', 999, "A: 1\n\n", "\ny", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.body.len, 998 + 2 + 1 + 2 + 1 + 2);
	cr_assert_eq(memcmp(res.body.data + 998, "\r\nx\r\ny\r\n", 8), 0);
	result_free(&res);
	free(s);
	/* no header section and a long first line: split the same way */
	s = repeat('z', 2500, "", "", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.hdr.len, 0);
	cr_assert_eq(res.body.len, 2500 + 3 * 2);
	cr_assert_eq(memcmp(res.body.data + 998, "\r\nz", 3), 0);
	cr_assert_eq(memcmp(res.body.data + 1998, "\r\nz", 3), 0);
	result_free(&res);
	free(s);
}

/* keep_long: a body line of any length comes through whole (the caller re-encodes it), at every split
 * of the input, and the last line still gets its CRLF */
Test(msg, long_body_lines_kept)
{
	struct msg_opts o = { .keep_long = true };
	struct result res;
	size_t n;
	char *s;

	s = repeat('x', 5000, "A: 1\n\n", "\ny", &n);
	for (size_t k = 0; k < n; k += 997) {
		run(&res, s, n, k, &o);
		cr_assert_eq(res.rc, 0, "split %zu", k);
		cr_assert_eq(res.body.len, 5000 + 2 + 1 + 2, "split %zu", k);
		cr_assert_eq(memcmp(res.body.data + 4998, "xx\r\ny\r\n", 7), 0, "split %zu", k);
		result_free(&res);
	}
	free(s);
}

Test(msg, long_header_lines)
{
	struct msg_opts o = { 0 };
	struct result res;
	struct buf b;
	size_t i, n;
	char *s;

	buf_init(&b, 1 << 20);
	cr_assert(buf_adds(&b, "X-Long:") == 0);
	for (i = 0; i < 400; i++)
		cr_assert(buf_adds(&b, " abcd") == 0);
	cr_assert(buf_adds(&b, "\n\nbody\n") == 0);
	run(&res, b.data, b.len, 0, &o);
	cr_assert_eq(res.rc, 0, "%s", res.e.msg);
	cr_assert_eq(res.hdr.len, 7 + 400 * 5 + 2 + 2 * 2);	/* two folds */
	for (i = 0; i + 1 < res.hdr.len;) {
		char *e = memmem(res.hdr.data + i, res.hdr.len - i, "\r\n", 2);
		cr_assert_leq((size_t)(e - res.hdr.data) - i, LIM_LINE);
		i = (size_t)(e - res.hdr.data) + 2;
	}
	result_free(&res);
	buf_free(&b);
	s = repeat('h', 1200, "X-Long: ", "\n\nbody\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, -1);
	cr_assert_str_eq(res.e.msg, "header line 1 is longer than 998 octets and cannot be folded");
	result_free(&res);
	free(s);
}

Test(msg, sizes)
{
	struct msg_opts o = { .max_header = 100 };
	struct result res;
	size_t n;
	char *s;

	s = repeat('v', 200, "A: ", "\n\nb\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, -1);
	cr_assert_eq(res.e.code, EX_DATAERR);
	cr_assert_str_eq(res.e.msg, "header section too large (max 100 bytes)");
	result_free(&res);
	free(s);
	/* exactly 100 bytes of header section: fine */
	s = repeat('v', 95, "A: ", "\n\nb\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, 0, "%s", res.e.msg);
	cr_assert_eq(res.hdr.len, 100);
	result_free(&res);
	free(s);
	/* a huge mbox From line counts too (it is never stored) */
	s = repeat('f', 5000, "From ", "\nA: 1\n\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, -1);
	cr_assert_str_eq(res.e.msg, "header section too large (max 100 bytes)");
	result_free(&res);
	free(s);
	/* message size: header 6 + body */
	o.max_header = 0;
	o.max_size = 1006;
	s = repeat('b', 998, "A: 1\n\n", "\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, 0, "%s", res.e.msg);
	cr_assert_eq(res.hdr.len + res.body.len, 1006, "exactly max_size octets, CRLF form, pass");
	result_free(&res);
	free(s);
	s = repeat('b', 999, "A: 1\n\n", "\n", &n);
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, -1);
	cr_assert_str_eq(res.e.msg, "message too large (max 1006 bytes)");
	result_free(&res);
	free(s);
	/* a big body streams through a 1 KiB buffer */
	o.max_size = 0;
	s = repeat('q', 3 * 1024 * 1024, "A: 1\n\n", "", &n);
	for (size_t i = 100; i < n; i += 100)
		s[i] = '\n';
	run(&res, s, n, 0, &o);
	cr_assert_eq(res.rc, 0);
	size_t nl = 0;
	for (size_t i = 6; i < n; i++)
		nl += s[i] == '\n';
	cr_assert_eq(res.body.len, n - 6 + nl + (s[n - 1] != '\n' ? 2 : 0));
	cr_assert_not(res.bit8);
	result_free(&res);
	free(s);
}

struct bit8_row {
	const char *in;
	bool want;
};

static const struct bit8_row bit8_rows[] = {
	{ "A: 1\n\nplain\n", false },
	{ "Subject: \xc3\xa9\n\nplain\n", false },
	{ "A: 1\n\n\xc3\xa9\n", true },
	{ "\xc3\xa9 no header\n", true },
	{ "A: 1\n\nx\n.\n\xff\n", false },
};

Test(msg, body_8bit)
{
	size_t i;

	for (i = 0; i < sizeof bit8_rows / sizeof bit8_rows[0]; i++) {
		struct msg_opts o = { .dot_ends = true };
		struct result res;
		run(&res, bit8_rows[i].in, strlen(bit8_rows[i].in), 0, &o);
		cr_assert_eq(res.rc, 0);
		cr_assert_eq(res.bit8, bit8_rows[i].want, "row %zu", i);
		result_free(&res);
	}
}

Test(msg, misuse)
{
	struct msg_opts o = { 0 };
	struct msg_reader *r;
	struct buf h;
	struct err e;
	char out[1024];
	int fd = feed_fd("A: 1\n\nb\n", 8, 0);

	buf_init(&h, 1024);
	r = msg_reader_new(fd, &o);
	cr_assert_eq(msg_read_body(r, out, sizeof out, &e), -1);
	msg_reader_free(r);
	r = msg_reader_new(fd, &o);
	cr_assert_eq(msg_read_header(r, &h, &e), 0);
	cr_assert_eq(msg_read_header(r, &h, &e), -1);
	msg_reader_free(r);
	msg_reader_free(NULL);
	buf_free(&h);
	close(fd);
	/* read error */
	r = msg_reader_new(-1, &o);
	cr_assert_eq(msg_read_header(r, &h, &e), -1);
	cr_assert_eq(e.code, EX_IOERR);
	msg_reader_free(r);
}
