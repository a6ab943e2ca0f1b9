/* fuzz_runq_line.c - runq_line_parse on arbitrary bytes; every accepted line must format back
 * identically (the runner parses what a worker that read hostile replies wrote). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/run/runq_line.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct runq_line l;
	char out[RUNQ_LINE_MAX];
	int k;

	if (runq_line_parse((const char *)d, n, &l) < 0)
		return 0;
	k = runq_line_format(&l, out, sizeof out);
	if (k < 1 || (size_t)k != n + 1 || memcmp(out, d, n) != 0 || out[n] != '\n')
		abort();
	return 0;
}
