/* fuzz_spf.c - the SPF evaluator (conf/spf.c) on hostile records: the input is the TXT answer
 * for every name (so include/redirect recurse into it, bounded by the 10-term limit), with fixed
 * A, AAAA, MX and PTR answers; both address families. Nothing may crash, leak or run away. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/spf.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static enum dns_result answer(void *ctx, const char *name, int qtype, char ***v, size_t *n)
{
	const char *s = ctx;

	(void)name;
	*v = xcalloc(1, sizeof **v);
	*n = 1;
	switch (qtype) {
	case DNS_T_TXT: (*v)[0] = xstrdup(s); break;
	case DNS_T_A: (*v)[0] = xstrdup("192.0.2.1"); break;
	case DNS_T_AAAA: (*v)[0] = xstrdup("2001:db8::1"); break;
	case DNS_T_MX: (*v)[0] = xstrdup("mx.f.test"); break;
	default: (*v)[0] = xstrdup("p.f.test"); break;
	}
	return DNS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const ips[] = { "192.0.2.1", "2001:db8::1" };
	char *s = malloc(n + 1);

	if (s == NULL)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	for (size_t i = 0; i < 2; i++) {
		struct spf_query q = { .ip = ips[i], .sender = "a.b@f.test", .helo = "h.f.test",
				       .lookup = answer, .ctx = s };
		char *why;

		(void)spf_check(&q, &why);
		if (why == NULL || strlen(why) > SPF_EXPL_MAX)
			__builtin_trap();
		free(why);
	}
	free(s);
	return 0;
}
