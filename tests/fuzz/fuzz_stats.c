/* fuzz_stats.c - stats_parse on arbitrary bytes; every accepted counters file formats back identically. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/store/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct stats_counters c;
	struct err e;
	struct buf out;

	if (stats_parse((const char *)d, n, &c, &e) < 0)
		return 0;
	buf_init(&out, STATS_FILE_MAX);
	if (stats_format(&c, &out, &e) < 0 || out.len != n || memcmp(out.data, d, n) != 0)
		abort();	/* the round trip is the format's promise */
	buf_free(&out);
	return 0;
}
