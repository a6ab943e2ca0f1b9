/*
 * fuzz_dkim_canon.c - DKIM body and header canonicalisation on arbitrary bytes.
 *
 * Input: byte 0 picks the canonicalisation (bit 0) and a chunk size for the streaming hasher (the
 * rest); the remaining bytes are the body, and also one header field. Checks, beyond memory safety:
 * the streaming hash equals the hash of the one-shot canonical form whatever the chunking; relaxed
 * output has no WSP run, no WSP before CRLF, no trailing empty line; every canonical body is empty
 * or ends with CRLF.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "queue/run/dkim.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	enum dkim_canon c;
	size_t chunk, off, i;
	const char *p;
	struct buf out;
	struct dkim_body *b;
	unsigned char bh[32], want[32];
	unsigned int wl = 32;

	if (n < 1)
		return 0;
	c = (d[0] & 1) ? CANON_SIMPLE : CANON_RELAXED;
	chunk = (size_t)(d[0] >> 1) + 1;
	p = (const char *)d + 1;
	n--;

	buf_init(&out, 4 * n + 16);
	if (dkim_canon_body(c, p, n, &out) < 0)
		abort();
	if (out.len > 0 && (out.len < 2 || memcmp(out.data + out.len - 2, "\r\n", 2) != 0))
		abort();
	if (c == CANON_SIMPLE && out.len == 0)
		abort();
	if (c == CANON_RELAXED && out.len > 0) {
		const char *s = out.data;
		for (i = 0; i + 1 < out.len; i++) {
			if (s[i] == ' ' && (s[i + 1] == ' ' || s[i + 1] == '\t' || (s[i + 1] == '\r' && i + 2 < out.len && s[i + 2] == '\n')))
				abort();
			if (s[i] == '\t')
				abort();
		}
		if (out.len >= 4 && memcmp(s + out.len - 4, "\r\n\r\n", 4) == 0)
			abort();
		if (out.len == 2)
			abort(); /* a lone CRLF is an empty body, which is "" in relaxed */
	}
	if (EVP_Digest(out.data != NULL ? out.data : "", out.len, want, &wl, EVP_sha256(), NULL) != 1)
		abort();
	b = dkim_body_new(c);
	for (off = 0; off < n; off += chunk)
		dkim_body_update(b, p + off, n - off < chunk ? n - off : chunk);
	dkim_body_final(b, bh);
	dkim_body_free(b);
	if (memcmp(bh, want, 32) != 0)
		abort();
	buf_free(&out);

	/* the same bytes as one header field */
	{
		struct hdr_field f = { p, n, 0 };
		const char *colon = memchr(p, ':', n);

		buf_init(&out, 2 * n + 16);
		if (dkim_canon_header(c, &f, &out) != (colon == NULL ? -1 : 0))
			abort();
		if (colon != NULL && c == CANON_RELAXED) {
			/* no uppercase in the name, no WSP before the CRLF, no WSP run */
			for (i = 0; out.data[i] != ':'; i++)
				if (out.data[i] >= 'A' && out.data[i] <= 'Z')
					abort();
			if (out.len >= 3 && (out.data[out.len - 3] == ' ' || out.data[out.len - 3] == '\t'))
				abort();
		}
		buf_free(&out);
	}
	return 0;
}
