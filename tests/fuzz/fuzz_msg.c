/* fuzz_msg.c - libFuzzer target for the pure normaliser in sendmail/msg.c: the first octet picks the
 * options and the input piece size; the output must be CRLF lines only, within LIM_LINE in split mode,
 * and the same whatever the piece size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "sendmail/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* norm - normalise in[0..n) in pieces; -1 on a NUL error. */
static int norm(struct buf *out, const char *in, size_t n, size_t piece, size_t room, bool dot, bool split)
{
	struct msg_norm z;
	char tmp[64];
	size_t i = 0, tl;

	msg_norm_init(&z, dot);
	z.split = split;
	while (i < n && !z.ended) {
		size_t take = n - i < piece ? n - i : piece, used = 0;
		struct err e;
		tl = 0;
		if (msg_norm_feed(&z, in + i, take, &used, tmp, room, &tl, &e) != 0)
			return -1;
		if (buf_add(out, tmp, tl) != 0)
			abort();
		i += used;
	}
	tl = 0;
	msg_norm_finish(&z, tmp, room, &tl);
	if (buf_add(out, tmp, tl) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buf a, b;
	bool dot, split;
	size_t piece, i, col = 0;
	int ra, rb;

	if (n < 1)
		return 0;
	dot = d[0] & 1;
	split = d[0] & 2;
	piece = (size_t)(d[0] >> 2) + 1;
	d++;
	n--;
	buf_init(&a, 4 * n + 64);
	buf_init(&b, 4 * n + 64);
	ra = norm(&a, (const char *)d, n, n ? n : 1, 64, dot, split);
	rb = norm(&b, (const char *)d, n, piece, 3 + piece % 7, dot, split);
	if (ra != rb || (ra == 0 && (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)))
		abort();
	if (ra == 0) {
		if (a.len > 0 && (a.len < 2 || a.data[a.len - 1] != '\n' || a.data[a.len - 2] != '\r'))
			abort();
		for (i = 0; i < a.len; i++) {
			char c = a.data[i];
			if (c == '\0' || (c == '\r' && a.data[i + 1] != '\n') ||
			    (c == '\n' && (i == 0 || a.data[i - 1] != '\r')))
				abort();
			col = c == '\n' ? 0 : c == '\r' ? col : col + 1;
			if (split && col > LIM_LINE)
				abort();
		}
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
