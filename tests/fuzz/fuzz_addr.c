/* fuzz_addr.c - libFuzzer target for lib/addr.c: both parsers, and the round trip of what they accept
 * (a formatted address parses back to the same local part and domain). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct addr_list l;
	struct addr a, b;
	struct err e;
	size_t i;

	if (addr_list_parse((const char *)d, n, &l, &e) == 0) {
		for (i = 0; i < l.n; i++) {
			char *f = addr_format(&l.v[i]);
			if (strpbrk(f, "\r\n") != NULL)
				abort();
			if (addr_parse_one(f, strlen(f), &b, &e) != 0)
				abort();	/* what we accepted and formatted must parse again */
			if (strcmp(b.local, l.v[i].local) != 0 ||
			    (b.domain == NULL) != (l.v[i].domain == NULL) ||
			    (b.domain != NULL && strcmp(b.domain, l.v[i].domain) != 0))
				abort();
			addr_free(&b);
			free(f);
		}
		addr_list_free(&l);
	}
	if (addr_parse_one((const char *)d, n, &a, &e) == 0) {
		char *f = addr_format(&a);
		if (strpbrk(f, "\r\n") != NULL || (a.domain != NULL && !a.utf8 && !addr_domain_valid(a.domain, strlen(a.domain))))
			abort();
		free(f);
		addr_free(&a);
	}
	return 0;
}
