/*
 * slurp.h - for unit tests: a whole file (golden outputs, man pages) as one NUL-terminated string.
 * Paths are relative to the source tree's top, where make check runs the tests. Include it in one
 * test file per binary.
 */
#ifndef POSTERN_TEST_SLURP_H
#define POSTERN_TEST_SLURP_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

/* slurp - the file at path (malloc'd: free it); the test fails if it cannot be read whole. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	cr_assert_not_null(f, "%s: cannot open (run from the source tree's top)", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	cr_assert_geq(n = ftell(f), 0);
	rewind(f);
	cr_assert_not_null(s = malloc((size_t)n + 1));
	cr_assert_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

#endif
