/*
 * envelope_priv.h - what envelope.c (checks, format) and envelope_parse.c (the reader) share.
 * Not an interface for other modules: use envelope.h.
 */
#ifndef POSTERN_ENVELOPE_PRIV_H
#define POSTERN_ENVELOPE_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/err.h"

/* A time stamp beyond the year 9999 is nonsense (and would overflow date formatting). */
#define ENV_MAX_TIME 253402300799LL
/* Delivery attempts: far beyond any queue lifetime, small enough for an int. */
#define ENV_MAX_ATTEMPTS 1000000

/* The spelling of enumerated values; one table for reader and writer keeps them in step. */
extern const char *const env_w_bool[2];		/* "0" "1" */
extern const char *const env_w_body[2];		/* BODY: 7BIT 8BITMIME */
extern const char *const env_w_ret[3];		/* RET: "" FULL HDRS */
extern const char *const env_w_state[3];	/* R-STATE: pending sent failed */
extern const char *const env_w_inplace[3];	/* in place: delayed done--- failed- */
extern const char *const env_w_notify[3];	/* R-NOTIFY bits 1, 2, 4 */

/* The value checks (code 65 and a reason without line number). */
int env_check_text(const char *s, size_t n, size_t max, struct err *e);	/* non-empty line */
int env_check_prepend(const char *s, size_t n, bool first, struct err *e);
int env_check_status(const char *s, size_t n, struct err *e);	/* RFC 3463 x.y.z */
int env_check_word(const char *s, size_t n, size_t max, struct err *e);	/* printable ASCII, no space */

#endif
