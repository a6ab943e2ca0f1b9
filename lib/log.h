/*
 * log.h - postern's log lines: syslog (LOG_MAIL, "postern/<personality>", LOG_PID), optionally mirrored
 * to stderr.
 *
 * Untrusted input: whatever the caller formats into a line (addresses, peer replies, header text). Every
 * line goes through log_safe before it is written, so control characters, 8-bit bytes and newlines from
 * a hostile peer or caller can never forge or split a log line. Lines are capped at LIM_LOG_LINE; a line
 * that is cut ends in "...".
 * Errors: none reported; logging is best effort. syslog is process-global, so a process should hold at
 * most one struct log with LOG_TO_SYSLOG at a time.
 */
#ifndef POSTERN_LOG_H
#define POSTERN_LOG_H

#include <stddef.h>
#include <syslog.h>	/* the priorities: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG */

#include "lib/text.h"	/* TEXT_VIS_SIZE: a log_safe destination that never cuts */

#define LOG_TO_STDERR 0x1
#define LOG_TO_SYSLOG 0x2

struct log;

/* log_new - open a log named `ident` (copied; e.g. "postern/sendmail") writing where `flags` say. */
struct log *log_new(const char *ident, int flags);

/* log_msg - format one line (printf), make it safe, cap it, write it. A NULL log is a no-op. */
void log_msg(struct log *l, int prio, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* log_mirror - from now on, mirror (or stop mirroring) l's lines to stderr (postern queue-run -v). */
void log_mirror(struct log *l, int on);

/* log_free - close the log (closelog when it used syslog). log_free(NULL) is a no-op. */
void log_free(struct log *l);

/* log_safe - text_safe(dst, dstsz, src, n, TEXT_VIS) (lib/text.h), the form every log line takes:
 * n bytes of untrusted src as printable ASCII with vis(3) C-style/octal escapes ("\n", "\t", "\\",
 * "\033", "\351"; NUL becomes "\0" or "\000"). Always NUL-terminates when dstsz > 0; when the escaped
 * text does not fit, it is cut at a whole escape and ends in "...". For display only. Returns the
 * length written, not counting the NUL. Pure. */
size_t log_safe(char *dst, size_t dstsz, const char *src, size_t n);

#endif
