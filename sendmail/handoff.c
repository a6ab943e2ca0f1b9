/*
 * handoff.c - the composer -> parent record. See handoff.h.
 */
#include "sendmail/handoff.h"

#include <stdbool.h>
#include <string.h>

/* text_max - the ceiling of a kind's text; 0 for a byte that names no kind. */
static size_t text_max(int k)
{
	switch (k) {
	case HANDOFF_ENVELOPE:
		return HANDOFF_ENV_MAX;
	case HANDOFF_REASON:
		return HANDOFF_REASON_MAX;
	}
	return 0;
}

/* reason_ok - no control character: the parent writes the reason as one line of a notice. */
static bool reason_ok(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

int handoff_format(enum handoff_kind k, const char *text, size_t n, struct buf *out, struct err *e)
{
	size_t max = text_max(k);

	if (max == 0)
		return err_set(e, EX_SOFTWARE, "no record kind %d", (int)k);
	if (n == 0 || n > max)
		return err_set(e, EX_SOFTWARE, "%s of %zu bytes (1..%zu)", k == HANDOFF_ENVELOPE ? "envelope" :
		    "reason", n, max);
	if (k == HANDOFF_REASON && !reason_ok(text, n))
		return err_set(e, EX_SOFTWARE, "reason with a control character");
	if (buf_printf(out, "%c %zu\n", (char)k, n) < 0 || buf_add(out, text, n) < 0)
		return err_set(e, EX_SOFTWARE, "handoff record over its buffer");
	return 0;
}

int handoff_parse(const char *buf, size_t len, enum handoff_kind *k, struct span *text, struct err *e)
{
	size_t i = 2, n = 0, max;

	if (len == 0)
		return err_set(e, EX_SOFTWARE, "no envelope");
	if (len < 4 || (max = text_max(buf[0])) == 0 || buf[1] != ' ' || buf[2] < '1' || buf[2] > '9')
		return err_set(e, EX_SOFTWARE, "not an envelope record");
	for (; i < len && i < HANDOFF_HEAD_MAX && buf[i] >= '0' && buf[i] <= '9'; i++) {
		n = n * 10 + (size_t)(buf[i] - '0');
		if (n > max)
			return err_set(e, EX_SOFTWARE, "%s record over %zu bytes", buf[0] == HANDOFF_ENVELOPE ?
			    "envelope" : "reason", max);
	}
	if (i >= len || buf[i] != '\n')
		return err_set(e, EX_SOFTWARE, "not an envelope record");
	i++;
	if (len - i < n)
		return err_set(e, EX_SOFTWARE, "record cut short (%zu of %zu bytes)", len - i, n);
	if (len - i > n)
		return err_set(e, EX_SOFTWARE, "%zu bytes after the record", len - i - n);
	if (buf[0] == HANDOFF_REASON && !reason_ok(buf + i, n))
		return err_set(e, EX_SOFTWARE, "reason with a control character");
	*k = (enum handoff_kind)buf[0];
	*text = span_make(buf + i, n);
	return 0;
}
