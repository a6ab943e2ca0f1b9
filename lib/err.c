/* err.c - see err.h */
#include "lib/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERR_PREFIX_MAX 256	/* the text err_prefix puts before a message */

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(e->msg, sizeof e->msg, fmt, ap); /* truncation of a reason is acceptable */
	va_end(ap);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[ERR_PREFIX_MAX];
	size_t np, nold;
	va_list ap;
	int n;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(pre, sizeof pre - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	np = strlen(pre);
	memcpy(pre + np, ": ", 2);
	np += 2;
	/* shift the old reason right, cutting its tail if both do not fit */
	nold = strnlen(e->msg, sizeof e->msg - 1);
	if (np + nold > sizeof e->msg - 1)
		nold = sizeof e->msg - 1 - np;
	memmove(e->msg + np, e->msg, nold);
	memcpy(e->msg, pre, np);
	e->msg[np + nold] = '\0';
	return -1;
}

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}
