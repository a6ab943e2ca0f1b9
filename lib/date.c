/* date.c - see date.h */
#include "lib/date.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char *const wday[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* date_format - see date.h */
int date_format(char dst[DATE_MAX], long long t, enum date_form f, bool utc)
{
	time_t tt = (time_t)t;
	struct tm tm;
	long off;
	int n = -1;

	dst[0] = '\0';
	utc = utc || f == DATE_ISO;
	if ((long long)tt != t || (utc ? gmtime_r(&tt, &tm) : localtime_r(&tt, &tm)) == NULL ||
	    tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
		return -1;
	off = utc ? 0 : tm.tm_gmtoff / 60;	/* minutes east of UTC */
	switch (f) {
	case DATE_RFC5322:
		n = snprintf(dst, DATE_MAX, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld", wday[tm.tm_wday], tm.tm_mday,
			     mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, off < 0 ? '-' : '+',
			     labs(off) / 60, labs(off) % 60);
		break;
	case DATE_MAILQ:
		n = snprintf(dst, DATE_MAX, "%s %s %2d %02d:%02d:%02d", wday[tm.tm_wday], mon[tm.tm_mon], tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
		break;
	case DATE_ISO:
		n = snprintf(dst, DATE_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		break;
	}
	if (n < 0 || n >= DATE_MAX) {
		dst[0] = '\0';
		return -1;
	}
	return 0;
}
