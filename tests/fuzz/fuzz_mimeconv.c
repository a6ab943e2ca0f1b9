/* fuzz_mimeconv.c - libFuzzer target for lib/mimeconv.c. The first octet picks the mode and a chunk
 * size; the rest is a message. Checks: both passes give the same verdict and output whatever the chunks;
 * a message the scan says is unchanged comes out octet for octet; a MIMECONV_7BIT result has no 8-bit
 * octet; the output stays within the documented growth. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/mime.h"
#include "lib/mimeconv.h"
#include "lib/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

#define HEAD_MAX 4096

/* run - both passes in chunks of step; out gets the result; -1 when it cannot be converted. */
static int run(enum mimeconv_mode mode, const char *p, size_t n, size_t step, struct buf *out, bool *changes)
{
	struct mimeconv z;
	int rc = 0;

	mimeconv_init(&z, mode, HEAD_MAX);
	for (size_t i = 0; i < n && rc == 0; i += step)
		rc = mimeconv_feed(&z, p + i, i + step <= n ? step : n - i, NULL);
	if (rc == 0)
		rc = mimeconv_end(&z, NULL);
	if (rc == 0) {
		*changes = mimeconv_rewind(&z);
		for (size_t i = 0; i < n && rc == 0; i += step) {
			size_t before = out->len, k = i + step <= n ? step : n - i;

			rc = mimeconv_feed(&z, p + i, k, out);
			if (rc == 0 && out->len - before > MIMECONV_GROWTH * k + MIMECONV_HEAD_GROWTH * HEAD_MAX + MIMECONV_SLACK)
				abort();
		}
		if (rc == 0)
			rc = mimeconv_end(&z, out);
		if (rc < 0 && z.err == MIMECONV_E_OUT)
			abort();
	}
	mimeconv_free(&z);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct buf a, b;
	bool ca = false, cb = false;
	enum mimeconv_mode mode;
	size_t step;
	int ra, rb;

	if (n < 1)
		return 0;
	mode = d[0] & 1 ? MIMECONV_LINES : MIMECONV_7BIT;
	step = (size_t)(d[0] >> 1) % 64 + 1;
	d++;
	n--;
	buf_init(&a, MIMECONV_GROWTH * n + (MIMECONV_HEAD_GROWTH * HEAD_MAX + MIMECONV_SLACK) * (n + 2));
	buf_init(&b, a.max);
	ra = run(mode, (const char *)d, n, n ? n : 1, &a, &ca);
	rb = run(mode, (const char *)d, n, step, &b, &cb);
	if (ra != rb || (ra == 0 && (ca != cb || a.len != b.len || memcmp(a.data, b.data, a.len) != 0)))
		abort();
	if (ra == 0 && !ca && (a.len != n || (n > 0 && memcmp(a.data, d, n) != 0)))
		abort();
	if (ra == 0 && mode == MIMECONV_7BIT && text_has_8bit(a.data, a.len))
		abort();
	buf_free(&a);
	buf_free(&b);
	return 0;
}
