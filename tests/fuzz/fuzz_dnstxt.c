/* fuzz_dnstxt.c - check_tag (tag values out of DNS TXT records) and the -bs path parser: untrusted
 * text in, bounded output. The record parsers of `postern check` are in fuzz_check_rec.c. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/check.h"
#include "sendmail/smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1), out[64], *path = NULL;

	if (s == NULL)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	if (check_tag(s, "p", out, sizeof out) && strlen(out) >= sizeof out)
		__builtin_trap();
	if (smtpd_path_parse((const char *)d, n, &path) == 0 && (path == NULL || strlen(path) > 256))
		__builtin_trap();
	free(path);
	free(s);
	return 0;
}
