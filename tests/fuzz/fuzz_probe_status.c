/* fuzz_probe_status.c - probe_status_parse on any line (it carries a server's reply), for a fixed id:
 * every field it returns is NUL-terminated within its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/wire/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct probe_status st;

	if (probe_status_parse((const char *)d, n, "0123456789ABCDEF012", &st) == 0 &&
	    (strnlen(st.to, sizeof st.to) == sizeof st.to || strnlen(st.relay, sizeof st.relay) == sizeof st.relay ||
	     strnlen(st.tls, sizeof st.tls) == sizeof st.tls || strnlen(st.dsn, sizeof st.dsn) == sizeof st.dsn ||
	     strnlen(st.status, sizeof st.status) == sizeof st.status ||
	     strnlen(st.diag, sizeof st.diag) == sizeof st.diag))
		__builtin_trap();
	return 0;
}
