/* fuzz_smtp_reply.c - smtp_reply_parse over a whole stream of replies, EHLO parsing of each reply,
 * and the dot-stuffer with the input cut at a point taken from its first byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/wire/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *p = (const char *)d;
	size_t off = 0;
	struct smtp_dot st;
	struct err e;
	char *out;

	for (;;) {
		struct smtp_reply r;
		struct smtp_ext x;
		size_t used = 0;
		int got = smtp_reply_parse(p + off, n - off, &r, &used, &e);

		if (got <= 0)
			break;
		if (used == 0 || used > n - off || r.code < 200 || r.code > 599)
			__builtin_trap();
		smtp_ehlo_parse(&r, &x);
		smtp_reply_free(&r);
		off += used;
	}
	out = malloc(2 * n + 5);
	smtp_dot_init(&st);
	{
		size_t cut = n > 0 ? d[0] % (n + 1) : 0;
		ssize_t a = smtp_dot_stuff(&st, p, cut, out, &e), b = 0;

		if (a >= 0)
			b = smtp_dot_stuff(&st, p + cut, n - cut, out + a, &e);
		if (a >= 0 && b >= 0)
			(void)smtp_dot_end(&st, out + a + b, &e);
	}
	free(out);
	return 0;
}
