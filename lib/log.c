/*
 * log.c - syslog and stderr lines, made safe with vis(3). See log.h.
 *
 * Untrusted input: the formatted text. It is escaped byte by byte (libbsd's nvis in the C locale, so the
 * result does not depend on the caller's LANG) before it reaches syslog or stderr.
 */
#define LIBBSD_NETBSD_VIS
#include "lib/log.h"

#include <bsd/vis.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <paths.h>

#include "lib/buf.h"
#include "lib/limits.h"

#define LOG_VIS_FLAGS (VIS_CSTYLE | VIS_NL | VIS_TAB | VIS_OCTAL | VIS_NOLOCALE)
#define LOG_MORE "..."

struct log {
	char *ident;	/* owned: openlog keeps the pointer */
	int flags;
};

/* log_mirror - see log.h */
void log_mirror(struct log *l, int on)
{
	if (l != NULL)
		l->flags = on ? l->flags | LOG_TO_STDERR : l->flags & ~LOG_TO_STDERR;
}

/* log_new - see log.h */
struct log *log_new(const char *ident, int flags)
{
	struct log *l = xcalloc(1, sizeof *l);

	l->ident = xstrdup(ident != NULL ? ident : "postern");
	/* no syslog daemon (a container, a test namespace): do not try to connect on every line */
	if ((flags & LOG_TO_SYSLOG) && access(_PATH_LOG, F_OK) != 0)
		flags &= ~LOG_TO_SYSLOG;
	l->flags = flags;
	if (flags & LOG_TO_SYSLOG)
		openlog(l->ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	return l;
}

/* log_free - see log.h */
void log_free(struct log *l)
{
	if (l == NULL)
		return;
	if (l->flags & LOG_TO_SYSLOG)
		closelog();
	free(l->ident);
	free(l);
}

/* vis_one - the escape for src[i] into one[8]; returns its length. */
static size_t vis_one(char one[8], const char *src, size_t n, size_t i)
{
	unsigned char c = (unsigned char)src[i];

	if (c >= 0x20 && c < 0x7f && c != '\\') {	/* printable ASCII is itself: skip nvis's multibyte work */
		one[0] = (char)c;
		one[1] = '\0';
		return 1;
	}
	int next = i + 1 < n ? (unsigned char)src[i + 1] : '\0';
	char *end = nvis(one, 8, c, LOG_VIS_FLAGS, next);

	return end != NULL ? (size_t)(end - one) : 0;
}

/* log_safe - see log.h */
size_t log_safe(char *dst, size_t dstsz, const char *src, size_t n)
{
	const size_t nmore = sizeof LOG_MORE - 1;
	char one[8];	/* one escape: at most 4 bytes ("\ooo") plus NUL */
	size_t total = 0, len = 0, i, k, reserve;
	bool cut;

	if (dstsz == 0)
		return 0;
	for (i = 0; i < n && total < dstsz; i++)
		total += vis_one(one, src, n, i);
	cut = total + 1 > dstsz;
	reserve = cut && dstsz > nmore ? nmore : 0;
	/* whole escapes only; when cutting, keep room for the marker after the last one */
	for (i = 0; i < n; i++) {
		k = vis_one(one, src, n, i);
		if (len + k + reserve + 1 > dstsz)
			break;
		memcpy(dst + len, one, k);
		len += k;
	}
	if (reserve != 0) {
		memcpy(dst + len, LOG_MORE, nmore);
		len += nmore;
	}
	dst[len] = '\0';
	return len;
}

/* log_msg - see log.h */
void log_msg(struct log *l, int prio, const char *fmt, ...)
{
	char raw[LIM_LOG_LINE + 1], safe[LIM_LOG_LINE + 1];
	va_list ap;
	int n;

	if (l == NULL || !(l->flags & (LOG_TO_SYSLOG | LOG_TO_STDERR)))
		return;	/* (no syslog daemon and no -v: nothing to format) */
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof raw)	/* cut: say so (the marker is printable, escaping keeps it) */
		memcpy(raw + sizeof raw - 1 - (sizeof LOG_MORE - 1), LOG_MORE, sizeof LOG_MORE - 1);
	(void)log_safe(safe, sizeof safe, raw, strlen(raw));
	if (l->flags & LOG_TO_SYSLOG)
		syslog(prio, "%s", safe);
	if (l->flags & LOG_TO_STDERR)
		(void)fprintf(stderr, "%s: %s\n", l->ident, safe);
}
