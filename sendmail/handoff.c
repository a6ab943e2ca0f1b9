/*
 * handoff.c - the composer -> parent record. See handoff.h.
 */
#include "sendmail/handoff.h"

#include <string.h>

int handoff_format(const char *text, size_t n, struct buf *out, struct err *e)
{
	if (n == 0 || n > HANDOFF_ENV_MAX)
		return err_set(e, EX_SOFTWARE, "envelope of %zu bytes (1..%zu)", n, (size_t)HANDOFF_ENV_MAX);
	if (buf_printf(out, "V %zu\n", n) < 0 || buf_add(out, text, n) < 0)
		return err_set(e, EX_SOFTWARE, "envelope record over its buffer");
	return 0;
}

int handoff_parse(const char *buf, size_t len, struct span *text, struct err *e)
{
	size_t i = 2, n = 0;

	if (len == 0)
		return err_set(e, EX_SOFTWARE, "no envelope");
	if (len < 4 || buf[0] != 'V' || buf[1] != ' ' || buf[2] < '1' || buf[2] > '9')
		return err_set(e, EX_SOFTWARE, "not an envelope record");
	for (; i < len && i < HANDOFF_HEAD_MAX && buf[i] >= '0' && buf[i] <= '9'; i++) {
		n = n * 10 + (size_t)(buf[i] - '0');
		if (n > HANDOFF_ENV_MAX)
			return err_set(e, EX_SOFTWARE, "envelope record over %zu bytes", (size_t)HANDOFF_ENV_MAX);
	}
	if (i >= len || buf[i] != '\n')
		return err_set(e, EX_SOFTWARE, "not an envelope record");
	i++;
	if (len - i < n)
		return err_set(e, EX_SOFTWARE, "envelope cut short (%zu of %zu bytes)", len - i, n);
	if (len - i > n)
		return err_set(e, EX_SOFTWARE, "%zu bytes after the envelope", len - i - n);
	*text = span_make(buf + i, n);
	return 0;
}
