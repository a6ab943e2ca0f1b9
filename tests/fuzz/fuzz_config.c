/* fuzz_config.c - conf_parse on arbitrary bytes; also the duration and size parsers. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "conf/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct config c;
	struct err e;

	memset(&c, 0, sizeof c);	/* no conf_defaults: keep the system resolver out of the loop */
	c.retry_min = 300;
	c.retry_max = 14400;
	if (conf_parse(&c, (const char *)d, n, "fuzz", &e) < 0) {
		if (strlen(e.msg) == 0)
			__builtin_trap();	/* every error has a reason */
	} else {
		const struct conf_relay *r;

		/* a relay exactly when the sender's relay is the answer */
		if ((conf_dest_for(&c, "Bill@shop.example.com", "x.example.org", &r) == CONF_VIA_SENDER) != (r != NULL))
			__builtin_trap();
		(void)conf_dest_for(&c, "", "a.b.example.com", &r);
	}
	conf_free(&c);
	(void)conf_duration_parse((const char *)d, n);
	(void)conf_size_parse((const char *)d, n);
	return 0;
}
