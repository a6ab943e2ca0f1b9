/*
 * runq_line.c - the runner <-> worker pipe records. See runq_line.h.
 */
#include "queue/run/runq_line.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* field - the next tab-separated field of [*p, end) as (f, n); false when there is none. */
static bool field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *t;

	if (*p == NULL)
		return false;
	*f = *p;
	t = memchr(*p, '\t', (size_t)(end - *p));
	*n = (size_t)((t ? t : end) - *p);
	*p = t ? t + 1 : NULL;
	return true;
}

/* number - a decimal index: digits only, no leading zero but "0", below RUNQ_INDEX_MAX. */
static bool number(const char *f, size_t n, unsigned long *v)
{
	unsigned long x = 0;

	if (n == 0 || n > 10 || (n > 1 && f[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (f[i] < '0' || f[i] > '9')
			return false;
		x = x * 10 + (unsigned long)(f[i] - '0');
	}
	if (x >= RUNQ_INDEX_MAX)
		return false;
	*v = x;
	return true;
}

/* text_ok - printable, no tab or newline (the fields are made safe before they are sent). */
static bool text_ok(const char *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)f[i] < 32 || (unsigned char)f[i] == 127)
			return false;
	return true;
}

/* text - copy field (f, n) into dst[sz] if it is text and fits. */
static bool text(const char *f, size_t n, char *dst, size_t sz)
{
	if (n >= sz || !text_ok(f, n))
		return false;
	memcpy(dst, f, n);
	dst[n] = '\0';
	return true;
}

int runq_line_parse(const char *buf, size_t len, struct runq_line *l)
{
	const char *p = buf, *end = buf + len, *f;
	size_t n;

	memset(l, 0, sizeof *l);
	if (len == 0 || len >= RUNQ_LINE_MAX || !field(&p, end, &f, &n) || n != 1)
		return -1;
	l->kind = (enum runq_kind)f[0];
	switch (l->kind) {
	case RUNQ_L_END:
	case RUNQ_L_WAIT:
		return p == NULL ? 0 : -1;
	case RUNQ_L_MSG:
	case RUNQ_L_FINISHED:
	case RUNQ_L_UNTRIED:
		return field(&p, end, &f, &n) && number(f, n, &l->msg) && p == NULL ? 0 : -1;
	case RUNQ_L_RESULT:
		if (!field(&p, end, &f, &n) || !number(f, n, &l->msg) || !field(&p, end, &f, &n) ||
		    !number(f, n, &l->rcpt) || !field(&p, end, &f, &n) || n != 1 || f[0] == '\0' || strchr("SDF", f[0]) == NULL)
			return -1;
		l->state = f[0];
		if (!field(&p, end, &f, &n) || !text(f, n, l->status, sizeof l->status) ||
		    !field(&p, end, &f, &n) || !text(f, n, l->relay, sizeof l->relay) ||
		    !field(&p, end, &f, &n) || !text(f, n, l->tls, sizeof l->tls))
			return -1;
		/* the last field is the rest of the line: a diagnostic holds no tab, so none may follow */
		if (!field(&p, end, &f, &n) || p != NULL || !text(f, n, l->diag, sizeof l->diag))
			return -1;
		return 0;
	}
	return -1;
}

int runq_line_format(const struct runq_line *l, char *out, size_t outsz)
{
	int n;

	switch (l->kind) {
	case RUNQ_L_END:
	case RUNQ_L_WAIT:
		n = snprintf(out, outsz, "%c\n", (char)l->kind);
		break;
	case RUNQ_L_MSG:
	case RUNQ_L_FINISHED:
	case RUNQ_L_UNTRIED:
		if (l->msg >= RUNQ_INDEX_MAX)
			return -1;
		n = snprintf(out, outsz, "%c\t%lu\n", (char)l->kind, l->msg);
		break;
	case RUNQ_L_RESULT:
		if (l->msg >= RUNQ_INDEX_MAX || l->rcpt >= RUNQ_INDEX_MAX || l->state == '\0' ||
		    strchr("SDF", l->state) == NULL || !text_ok(l->status, strnlen(l->status, sizeof l->status)) ||
		    !text_ok(l->relay, strnlen(l->relay, sizeof l->relay)) ||
		    !text_ok(l->tls, strnlen(l->tls, sizeof l->tls)) || !text_ok(l->diag, strnlen(l->diag, sizeof l->diag)) ||
		    memchr(l->status, '\0', sizeof l->status) == NULL || memchr(l->relay, '\0', sizeof l->relay) == NULL ||
		    memchr(l->tls, '\0', sizeof l->tls) == NULL || memchr(l->diag, '\0', sizeof l->diag) == NULL)
			return -1;
		n = snprintf(out, outsz, "R\t%lu\t%lu\t%c\t%s\t%s\t%s\t%s\n", l->msg, l->rcpt, l->state, l->status,
		    l->relay, l->tls, l->diag);
		break;
	default:
		return -1;
	}
	return n > 0 && (size_t)n < outsz && (size_t)n <= RUNQ_LINE_MAX ? n : -1;
}
