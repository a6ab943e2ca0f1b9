/* fuzz_dns.c - dns_parse_answer on arbitrary bytes, for every record type we keep; then the CNAME
 * follower on what it returned. */
#include <stdint.h>
#include <string.h>

#include "lib/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const int types[] = { DNS_T_A, DNS_T_MX, DNS_T_TXT, DNS_T_PTR, DNS_T_CNAME };

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		struct dns_answer a;
		struct err e;
		size_t steps;

		if (dns_parse_answer(d, n, types[i], &a, &e) < 0)
			continue;
		for (size_t k = 0; k < a.nrr; k++) {
			if (a.rr[k].owner == NULL || (a.rr[k].type != DNS_T_A && strlen(a.rr[k].data) != a.rr[k].len))
				__builtin_trap();
			(void)dns_answer_follow(&a, a.rr[k].owner, 8, &steps);
		}
		dns_answer_free(&a);
	}
	return 0;
}
