/* fuzz_handoff.c - handoff_parse on arbitrary bytes (the parent reads what a possibly subverted
 * composer wrote); every accepted record must format back identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendmail/handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct span t;
	struct buf out;
	struct err e;

	err_clear(&e);
	if (handoff_parse((const char *)d, n, &t, &e) < 0)
		return 0;
	if (t.n == 0 || t.n > HANDOFF_ENV_MAX || t.p < (const char *)d || t.p + t.n != (const char *)d + n)
		abort();
	buf_init(&out, HANDOFF_MAX);
	if (handoff_format(t.p, t.n, &out, &e) < 0 || out.len != n || memcmp(out.data, d, n) != 0)
		abort();
	buf_free(&out);
	return 0;
}
