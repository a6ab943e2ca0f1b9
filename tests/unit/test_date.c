/* test_date.c - lib/date.c: each form, in UTC and in zones east and west (POSIX TZ strings, so no
 * tzdata is needed), and times that cannot be written. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/date.h"

Test(date, forms)
{
	static const struct {
		long long t;
		enum date_form f;
		bool utc;
		const char *tz;	/* TZ for a local time */
		const char *want;
	} t[] = {
		{ 1701226994, DATE_RFC5322, true, "UTC0", "Wed, 29 Nov 2023 03:03:14 +0000" },
		{ 1701399999, DATE_RFC5322, true, "UTC0", "Fri, 1 Dec 2023 03:06:39 +0000" },	/* no leading 0 */
		{ 1701226994, DATE_RFC5322, false, "XST-5:30", "Wed, 29 Nov 2023 08:33:14 +0530" },
		{ 1701226994, DATE_RFC5322, false, "YST3", "Wed, 29 Nov 2023 00:03:14 -0300" },
		{ 1701226994, DATE_RFC5322, false, "ZST4", "Tue, 28 Nov 2023 23:03:14 -0400" },	/* day before */
		{ 1701226994, DATE_RFC5322, true, "XST-5:30", "Wed, 29 Nov 2023 03:03:14 +0000" },	/* utc wins */
		{ 0, DATE_RFC5322, true, "UTC0", "Thu, 1 Jan 1970 00:00:00 +0000" },
		{ 1677741058, DATE_MAILQ, false, "UTC0", "Thu Mar  2 07:10:58" },	/* asctime's padding */
		{ 1701226994, DATE_MAILQ, false, "XST-5:30", "Wed Nov 29 08:33:14" },
		{ 1764550923, DATE_ISO, false, "XST-5:30", "2025-12-01T01:02:03Z" },	/* always UTC */
		{ 1764550923, DATE_ISO, true, "UTC0", "2025-12-01T01:02:03Z" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char d[DATE_MAX];

		cr_assert_eq(setenv("TZ", t[i].tz, 1), 0);
		tzset();
		cr_expect_eq(date_format(d, t[i].t, t[i].f, t[i].utc), 0, "row %zu", i);
		cr_expect_str_eq(d, t[i].want, "row %zu", i);
	}
}

/* A time no struct tm can hold: -1 and an empty string, never a made-up date. */
Test(date, out_of_range)
{
	char d[DATE_MAX] = "x";

	cr_expect_eq(date_format(d, 0x7fffffffffffffffLL, DATE_RFC5322, true), -1);
	cr_expect_str_eq(d, "");
	cr_expect_eq(date_format(d, 0x7fffffffffffffffLL, DATE_ISO, true), -1);
	cr_expect_str_eq(d, "");
}
