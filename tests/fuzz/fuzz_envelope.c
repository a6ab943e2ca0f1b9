/* fuzz_envelope.c - env_parse on arbitrary bytes; every accepted input must format back identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct envelope env;
	struct err e;
	struct buf out;

	if (env_parse((const char *)d, n, &env, &e) < 0)
		return 0;
	buf_init(&out, ENV_MAX_FILE);
	if (env_format(&env, &out, &e) < 0 || out.len != n || memcmp(out.data, d, n) != 0)
		abort();	/* the round trip is the format's promise */
	buf_free(&out);
	env_free(&env);
	return 0;
}
