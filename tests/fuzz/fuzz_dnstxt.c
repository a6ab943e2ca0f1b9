/* fuzz_dnstxt.c - what `postern check` reads out of DNS TXT records (SPF, DKIM and DMARC tags), and
 * the -bs path parser: untrusted text in, bounded output. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/check.h"
#include "sendmail/smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1), out[64], *path = NULL;
	struct in_addr ip = { htonl(0xC0000201) };

	if (s == NULL)
		return 0;
	memcpy(s, d, n);
	s[n] = '\0';
	(void)check_spf_ip4(s, ip);
	(void)check_spf_all(s);
	if (check_tag(s, "p", out, sizeof out) && strlen(out) >= sizeof out)
		__builtin_trap();
	if (smtpd_path_parse((const char *)d, n, &path) == 0 && (path == NULL || strlen(path) > 256))
		__builtin_trap();
	free(path);
	free(s);
	return 0;
}
