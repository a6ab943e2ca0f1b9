/* fuzz_refusal.c - dlv_refusal on arbitrary reply text (a server's words), the first bytes taken as
 * the code and the status: it must stay inside the text and name a known kind. The input is copied so
 * that the text has no terminating NUL (ASan sees any read past it). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/wire/dlv_fate.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	char status[DLV_STATUS_MAX];
	char *t;
	enum dlv_refusal r;
	int code;

	if (n < 2 + sizeof status - 1)
		return 0;
	code = 400 + (d[0] | d[1] << 8) % 200;
	memcpy(status, d + 2, sizeof status - 1);
	status[sizeof status - 1] = '\0';
	n -= 2 + sizeof status - 1;
	t = malloc(n ? n : 1);
	if (t == NULL)
		return 0;
	memcpy(t, d + 2 + sizeof status - 1, n);
	r = dlv_refusal(code, status, t, n);
	if (r != DLV_R_NONE && dlv_refusal_name(r)[0] == '\0')
		abort();	/* every kind has a name for the log */
	free(t);
	return 0;
}
