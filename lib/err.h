/*
 * err.h - the one-line reason a library function gives its caller.
 *
 * Library functions return 0 on success and -1 on failure, and write a short human reason into the
 * caller's struct err; only the top of each personality logs and chooses an exit code. The optional
 * `code` carries a sysexits.h value the caller may use (0 when the failing layer has no opinion),
 * always by its EX_ name: this header includes <sysexits.h> for every user, and `make lint` refuses a
 * bare number in the 64..78 range where an exit code goes.
 */
#ifndef POSTERN_ERR_H
#define POSTERN_ERR_H

#include <stddef.h>
#include <sysexits.h>

struct err {
	int code;	/* sysexits.h value suggested by the failing layer, or 0 */
	char msg[512];
};

/* err_set - record a reason (printf-style; the result is truncated to fit, always NUL-terminated).
 * Returns -1 so that `return err_set(e, ...)` reads naturally. `e` may be NULL. */
int err_set(struct err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* err_prefix - put "what: " before an existing reason, keeping its code. Returns -1. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* err_clear - reset to "no error". */
void err_clear(struct err *e);

#endif
