/* fuzz_args.c - the sendmail command line: PHP passes caller-controlled extra arguments. The input is
 * split at NUL bytes into argv; whatever args_parse accepts must hold no CR or LF in the values that
 * reach headers or the SMTP wire. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sendmail/args.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char *copy = malloc(n + 1), *argv[66];
	int argc = 0;
	struct opts o;
	struct err e;

	if (copy == NULL)
		return 0;
	memcpy(copy, d, n);
	copy[n] = '\0';
	argv[argc++] = (char *)"sendmail";
	for (size_t i = 0; i <= n && argc < 64;) {
		argv[argc++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	argv[argc] = NULL;
	if (args_parse(argc, argv, &o, &e) == 0) {
		if ((o.sender && args_has_crlf(o.sender)) || (o.fullname && args_has_crlf(o.fullname)))
			__builtin_trap();
		for (size_t i = 0; i < o.nrcpt; i++)
			if (args_has_crlf(o.rcpt[i]))
				__builtin_trap();
	} else if (e.code != EX_USAGE) {
		__builtin_trap();
	}
	free(copy);
	return 0;
}
