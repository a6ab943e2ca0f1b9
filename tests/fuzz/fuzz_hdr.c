/* fuzz_hdr.c - libFuzzer target for lib/hdr.c: parse, then check the fields tile the input, and
 * exercise unfold, fold and the long-line repair on every value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/limits.h"
#include "lib/hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* check_lines - every line of b ends in CRLF and is at most LIM_LINE octets. */
static void check_lines(const struct buf *b)
{
	size_t i = 0;

	while (i < b->len) {
		const char *e = memmem(b->data + i, b->len - i, "\r\n", 2);
		if (e == NULL || (size_t)(e - b->data) - i > LIM_LINE)
			abort();
		i = (size_t)(e - b->data) + 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *p = (const char *)d;
	struct hdr_field *f;
	struct err e;
	size_t nf, i, at = 0;

	if (hdr_parse(p, n, &f, &nf, &e) != 0)
		return 0;
	for (i = 0; i < nf; i++) {
		struct buf u, o;
		if (f[i].raw != p + at || f[i].raw[f[i].name_len] != ':')
			abort();
		at += f[i].len;
		buf_init(&u, n + 1);
		buf_init(&o, 4 * n + 64);
		if (hdr_unfold(hdr_value(&f[i]), &u) != 0)
			abort();
		char name[HDR_NAME_MAX + 1];
		memcpy(name, f[i].raw, f[i].name_len);
		name[f[i].name_len] = '\0';
		if (memchr(u.data, '\r', u.len) == NULL && memchr(u.data, '\n', u.len) == NULL &&
		    hdr_fold(name, buf_str(&u), u.len, &o) == 0)
			check_lines(&o);
		buf_reset(&o);
		if (hdr_fold_line(u.data, u.len, &o) == 0) {
			if (buf_add(&o, "\r\n", 2) != 0)
				abort();
			if (memchr(u.data, '\r', u.len) == NULL && memchr(u.data, '\n', u.len) == NULL)
				check_lines(&o);
		}
		buf_free(&u);
		buf_free(&o);
	}
	if (at != n)
		abort();
	free(f);
	return 0;
}
