/*
 * log.c - syslog and stderr lines, made safe with vis(3). See log.h.
 *
 * Untrusted input: the formatted text. It is escaped byte by byte (lib/text.h's TEXT_VIS: vis(3)'s
 * escapes in the C locale, so the result does not depend on the caller's LANG) before it reaches syslog
 * or stderr.
 */
#include "lib/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <paths.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/text.h"

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

/* log_safe - see log.h */
size_t log_safe(char *dst, size_t dstsz, const char *src, size_t n)
{
	return text_safe(dst, dstsz, src, n, TEXT_VIS);
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
