/*
 * date.h - wall-clock times as postern writes them: RFC 5322 date-times (Date and Received fields, the
 * DSN's dates), mailq's arrival column, ISO 8601 in UTC (postern queue show, the statistics file).
 *
 * One place holds the day and month names: never the locale's (strftime's %a and %b follow LC_TIME),
 * so a header field never depends on the caller's environment. Local time follows TZ.
 * Untrusted input: none (a time from the envelope is a number the parser bounded). Errors: -1 when the
 * time cannot be broken down (out of range).
 */
#ifndef POSTERN_DATE_H
#define POSTERN_DATE_H

#include <stdbool.h>

enum date_form {
	DATE_RFC5322,	/* "Wed, 1 Nov 2023 03:03:14 +0000" (RFC 5322 3.3; day without a leading zero) */
	DATE_MAILQ,	/* "Wed Nov  1 03:03:14" (asctime's first 19, Postfix's mailq arrival column) */
	DATE_ISO,	/* "2023-11-01T03:03:14Z" (RFC 3339; always UTC) */
};

/* DATE_MAX - room for any form, NUL included (a year of up to 11 digits and the zone). */
#define DATE_MAX 48

/* date_format - unix time t in form f into dst, in UTC when utc is set (DATE_ISO: always), else in
 * local time with its offset. 0, or -1 with dst "" when t is out of range. */
int date_format(char dst[DATE_MAX], long long t, enum date_form f, bool utc);

#endif
