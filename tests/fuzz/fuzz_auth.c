/* fuzz_auth.c - the smarthost credentials file: one "user password" line, no CR/LF/NUL in either. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/wire/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *user = NULL, *pass = NULL;
	struct err e;

	if (auth_parse((const char *)d, n, &user, &pass, &e) == 0) {
		if (user == NULL || pass == NULL || *user == '\0' || *pass == '\0' ||
		    strpbrk(user, "\r\n \t") != NULL || strpbrk(pass, "\r\n") != NULL)
			__builtin_trap();
	}
	free(user);
	free(pass);
	return 0;
}
