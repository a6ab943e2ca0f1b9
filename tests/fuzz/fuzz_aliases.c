/* fuzz_aliases.c - aliases_parse on arbitrary bytes, then check and expand every name that appears. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/aliases.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct aliases *a;
	struct err e;
	struct buf rep;
	const char *names[] = { "root", "a", "postmaster", "x", "A1" };

	if (aliases_parse((const char *)d, n, "fuzz", &a, &e) < 0)
		return 0;
	buf_init(&rep, 64);
	(void)aliases_check(a, &rep, &e);
	buf_free(&rep);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char **v;
		size_t nv;

		if (aliases_expand(a, names[i], &v, &nv, &e) < 0)
			continue;
		for (size_t k = 0; k < nv; k++) {
			/* results are safe for an envelope */
			if (strpbrk(v[k], "\r\n ") != NULL || strlen(v[k]) == 0)
				__builtin_trap();
			free(v[k]);
		}
		free(v);
	}
	aliases_free(a);
	return 0;
}
