/* fuzz_mime.c - libFuzzer target for sendmail/mime.c. The first octet picks a chunk size; the rest is
 * a body and a display name. Checks: quoted-printable output is 7-bit, lines <= MIME_QP_LINE, and
 * decodes back to the input whatever the chunks; folding leaves no line over LIM_LINE and keeps valid
 * UTF-8 valid; the decision never keeps a body with an over-long line; a phrase's encoded words are at
 * most MIME_EW_MAX octets and the output has no CR, LF or 8-bit octet unless the name was ASCII. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/mime.h"
#include "lib/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* run - the encoder over p[0..n) in chunks of step. */
static struct buf run(enum mime_body mode, const char *p, size_t n, size_t step)
{
	struct mime_enc z;
	struct buf out;

	buf_init(&out, MIME_ENC_GROWTH * n + MIME_ENC_SLACK * (n / step + 2));
	mime_enc_init(&z, mode);
	for (size_t i = 0; i < n; i += step)
		if (mime_enc_feed(&z, p + i, i + step <= n ? step : n - i, &out) < 0)
			abort();
	if (mime_enc_end(&z, &out) < 0)
		abort();
	return out;
}

/* longest - the longest line of b (CR and LF not counted). */
static size_t longest(const struct buf *b)
{
	size_t col = 0, max = 0;

	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r' || b->data[i] == '\n')
			col = 0;
		else if (++col > max)
			max = col;
	}
	return max;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *p = (const char *)d + 1;
	struct mime_scan s;
	struct mime_head h = { 0 };
	struct mime_plan plan;
	struct buf q, dec, f, ph;

	if (n < 1)
		return 0;
	size_t step = (size_t)d[0] % 64 + 1;
	n--;

	mime_scan_init(&s);
	for (size_t i = 0; i < n; i += step)
		mime_scan_feed(&s, p + i, i + step <= n ? step : n - i);
	mime_scan_end(&s);
	if (s.utf8_bad == mime_utf8_valid(p, n) || s.bit8 != text_has_8bit(p, n))
		abort();
	for (int c = 0; c < 4; c++) {
		h.composite = c == 3;
		h.cte = c == 0 ? MIME_CTE_NONE : c == 1 ? MIME_CTE_QP : MIME_CTE_BASE64;
		mime_decide(&h, &s, &plan);
		if (s.longest > LIM_LINE && plan.body == MIME_BODY_KEEP)
			abort();
	}

	q = run(MIME_BODY_QP, p, n, step);
	if (text_has_8bit(q.data, q.len) || longest(&q) > MIME_QP_LINE)
		abort();
	buf_init(&dec, n + 1);
	if (mime_qp_decode(buf_str(&q), q.len, &dec) < 0 || dec.len != n || (n > 0 && memcmp(dec.data, p, n) != 0))
		abort();

	f = run(MIME_BODY_FOLD, p, n, step);
	if (longest(&f) > LIM_LINE || (mime_utf8_valid(p, n) && !mime_utf8_valid(f.data, f.len)))
		abort();
	buf_free(&f);
	f = run(MIME_BODY_FOLD_QP, p, n, step);
	if (longest(&f) > LIM_LINE)
		abort();

	buf_init(&ph, 8 * n + 64);
	if (memchr(p, '\0', n) == NULL && mime_phrase(&ph, p, n) == 0 && text_has_8bit(p, n)) {
		const char *w = buf_str(&ph), *end;

		if (text_has_8bit(ph.data, ph.len) || memchr(ph.data, '\r', ph.len) || memchr(ph.data, '\n', ph.len))
			abort();
		for (; *w; w = *end ? end + 1 : end) {
			end = strchr(w, ' ');
			if (end == NULL)
				end = w + strlen(w);
			if ((size_t)(end - w) > MIME_EW_MAX)
				abort();
		}
	}
	buf_free(&ph);
	buf_free(&f);
	buf_free(&q);
	buf_free(&dec);
	return 0;
}
