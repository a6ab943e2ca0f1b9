/* fuzz_rewrite.c - rewrite_header on an arbitrary header section (the caller's From, as compose.c has
 * completed it) under each from_policy: it never crashes, and what it writes is a header section that
 * parses again, with as many From fields as it had (compose.c refuses more than one before). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "lib/hdr.h"
#include "sendmail/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static const char conf_text[] =
    "hostname mail.example.org\ndomain example.org\ndkim example.org s1 /k.pem\n"
    "rewrite_from root cron@example.org\nrewrite_from *@hostname web@example.org\n"
    "rewrite_from www-data web@example.org\n";

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const policy[] = { "from_policy keep\n", "from_policy rewrite-unaligned\n",
		"from_policy refuse-unaligned\nrewrite_reply_to no\n" };
	struct buf h, ct;
	struct config c;
	struct err e;

	if (n < 1)
		return 0;
	buf_init(&ct, 4096);
	if (buf_adds(&ct, conf_text) < 0 || buf_adds(&ct, policy[d[0] % 3]) < 0)
		abort();
	conf_set_system_name("sys.example.net");
	conf_defaults(&c);
	if (conf_parse(&c, ct.data, ct.len, "fuzz", &e) < 0)
		abort();
	buf_init(&h, 64 * 1024);
	if (buf_add(&h, d + 1, n - 1) == 0 && buf_adds(&h, "\r\n") == 0) {
		struct hdr_field *f = NULL;
		size_t nf = 0, nfrom = 0;
		int r;

		if (hdr_parse(h.data, h.len - 2, &f, &nf, &e) == 0)
			nfrom = hdr_count(f, nf, "From");
		free(f);
		f = NULL;
		r = rewrite_header(&c, "www-data@example.org", "www-data@example.org", &h, &e);
		if (r == 1) {
			if (hdr_parse(h.data, h.len - 2, &f, &nf, &e) < 0 || hdr_count(f, nf, "From") != nfrom)
				abort();
			free(f);
		}
	}
	buf_free(&h);
	buf_free(&ct);
	conf_free(&c);
	return 0;
}
