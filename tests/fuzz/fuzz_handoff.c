/* fuzz_handoff.c - handoff_parse on arbitrary bytes (the parent reads what a possibly subverted
 * composer wrote): an envelope or an -oem reason; every accepted record must be within its kind's
 * ceiling (a reason without a control character) and format back identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendmail/handoff.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	enum handoff_kind k;
	struct span t;
	struct buf out;
	struct err e;

	err_clear(&e);
	if (handoff_parse((const char *)d, n, &k, &t, &e) < 0)
		return 0;
	if (t.n == 0 || t.p < (const char *)d || t.p + t.n != (const char *)d + n)
		abort();
	if (k == HANDOFF_ENVELOPE ? t.n > HANDOFF_ENV_MAX : k != HANDOFF_REASON || t.n > HANDOFF_REASON_MAX)
		abort();
	for (size_t i = 0; k == HANDOFF_REASON && i < t.n; i++)
		if ((unsigned char)t.p[i] < 0x20 || t.p[i] == 0x7f)
			abort();
	buf_init(&out, HANDOFF_MAX);
	if (handoff_format(k, t.p, t.n, &out, &e) < 0 || out.len != n || memcmp(out.data, d, n) != 0)
		abort();
	buf_free(&out);
	return 0;
}
