/* fuzz_pwnss.c - pwnss_parse on arbitrary bytes (getent's answer, as the composer reads it): an
 * accepted answer gives a name fit for an address and a full name without a comma, CR or LF, both
 * within their ceilings and taken from the answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendmail/pwnss.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char user[PWNSS_USER_MAX], gecos[PWNSS_GECOS_MAX];

	if (!pwnss_parse((const char *)d, n, 4242, user, gecos))
		return 0;
	if (!pwnss_name_ok(user) || strlen(gecos) >= PWNSS_GECOS_MAX || strpbrk(gecos, ",\r\n:") != NULL)
		abort();
	if (memcmp(d, user, strlen(user)) != 0 || d[strlen(user)] != ':')
		abort();
	return 0;
}
