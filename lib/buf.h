/*
 * buf.h - a bounded growable byte buffer, and a non-owning span for parsing.
 *
 * Every buf has a ceiling fixed at init: growing past it fails (-1), it never truncates. The content
 * is always NUL-terminated (the NUL is not counted in len) so it can be handed to C APIs, but it may
 * also contain NUL bytes: len is the truth. `buf_take` hands the allocation to the caller.
 */
#ifndef POSTERN_BUF_H
#define POSTERN_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;	/* owned; NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;	/* ceiling for len */
};

struct span {
	const char *p;	/* borrowed */
	size_t n;
};

#define BUF_WARN __attribute__((warn_unused_result))

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);		/* frees and re-initialises with the same ceiling */
void buf_reset(struct buf *b);		/* len = 0, keeps the allocation */
BUF_WARN int buf_add(struct buf *b, const void *p, size_t n);
BUF_WARN int buf_addc(struct buf *b, char c);
BUF_WARN int buf_adds(struct buf *b, const char *s);
BUF_WARN int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
BUF_WARN int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
BUF_WARN char *buf_take(struct buf *b);	/* returns the NUL-terminated data (never NULL: "" if empty) */
const char *buf_str(const struct buf *b);	/* borrowed view; "" if empty */

static inline struct span span_make(const char *p, size_t n)
{
	struct span s = { p, n };
	return s;
}
struct span span_str(const char *s);
bool span_eq(struct span a, const char *s);	/* exact */
bool span_ieq(struct span a, const char *s);	/* ASCII case-insensitive */
struct span span_trim(struct span s);		/* drop leading/trailing SP and HTAB */

/* xstrndup - strndup that aborts on allocation failure (postern treats OOM as fatal). */
char *xstrndup(const char *p, size_t n);
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);

#endif
