/* fuzz_envelope.c - env_parse on arbitrary bytes; every accepted input must format back identically,
 * and noting an attempt made of any bytes (env_hist_note) must leave it writable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* note_tail - env_hist_note with the relay, TLS, status and reply cut from the input's last bytes. */
static void note_tail(struct envelope *env, const uint8_t *d, size_t n)
{
	size_t k = n < 64 ? n : 64, q = k / 4;
	char *v[4];

	for (size_t i = 0; i < 4; i++)
		v[i] = strndup((const char *)d + n - k + i * q, i == 3 ? k - 3 * q : q);
	(void)env_hist_note(env, n % (ENV_MAX_HISTORY + 2), (long long)n * 1000003LL, v[0], v[1], v[2], v[3]);
	for (size_t i = 0; i < 4; i++)
		free(v[i]);
}

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
	note_tail(&env, d, n);
	buf_reset(&out);
	if (env_format(&env, &out, &e) < 0)
		abort();	/* whatever an attempt was made of, it can be recorded */
	buf_free(&out);
	env_free(&env);
	return 0;
}
