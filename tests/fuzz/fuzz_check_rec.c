/* fuzz_check_rec.c - the record parsers of `postern check` (conf/check_rec.c): DKIM key records,
 * DMARC records and tag-lists, generic-PTR names. Untrusted TXT and PTR text in; every length stays in its buffer. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/check_rec.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct check_tag t[CHECK_TAGS_MAX];
	struct check_dkimrec r;
	struct check_dmarcrec m;
	struct in_addr ip = { htonl(0xCB007105) };
	char why[128], *s;
	size_t nt;

	if (check_taglist((const char *)d, n, t, &nt, why, sizeof why) == 0) {
		if (nt > CHECK_TAGS_MAX)
			__builtin_trap();
		for (size_t i = 0; i < nt; i++)
			if (t[i].name < (const char *)d || t[i].val + t[i].vlen > (const char *)d + n)
				__builtin_trap();
	}
	if (check_dkim_parse((const char *)d, n, &r, why, sizeof why) == 0 &&
	    (r.plen >= sizeof r.p || strlen(r.p) != r.plen || strlen(r.k) >= sizeof r.k))
		__builtin_trap();
	if (check_dmarc_parse((const char *)d, n, &m, why, sizeof why) == 0) {
		if (m.nuri > CHECK_DMARC_URIS || m.pct < 0 || m.pct > 100)
			__builtin_trap();
		for (size_t i = 0; i < m.nuri; i++)
			if (strlen(m.uri_domain[i]) >= sizeof m.uri_domain[i])
				__builtin_trap();
	}
	if ((s = malloc(n + 1)) == NULL)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	(void)check_ptr_generic(s, ip);
	(void)check_hostname_bad(s);
	free(s);
	return 0;
}
