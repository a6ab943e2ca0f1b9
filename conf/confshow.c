/*
 * confshow.c - `postern config [KEY]`. See confshow.h.
 *
 * The values come from the parsed struct config through conf_value, which formats them from the
 * same key table the parser uses. They were validated by the parser (paths and host names hold no
 * white space or control characters), but they pass through log_safe on their way out all the same.
 */
#include "conf/confshow.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/log.h"

#define SHOW_MAX (64 * 1024)	/* every dkim and tls_policy line of a config file fits */

/* show - print key's value(s), each line prefixed with "key " when `named`. 1 shown, 0 not set, -1. */
static int show(const struct config *c, const char *key, int named, FILE *out, struct err *e)
{
	struct buf v;
	char *line, *next;
	int r;

	buf_init(&v, SHOW_MAX);
	if ((r = conf_value(c, key, &v, e)) <= 0) {
		buf_free(&v);
		return r;
	}
	for (line = (char *)(v.data != NULL ? v.data : ""); line != NULL; line = next) {
		char safe[LIM_LOG_LINE];

		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		(void)log_safe(safe, sizeof safe, line, strlen(line));
		fprintf(out, "%s%s%s\n", named ? key : "", named ? " " : "", safe);
	}
	buf_free(&v);
	return 1;
}

/* conf_show_main - see confshow.h */
int conf_show_main(const struct config *c, int argc, char **argv, FILE *out, FILE *errf)
{
	struct err e;
	const char *k;

	err_clear(&e);
	if (argc > 2) {
		fprintf(errf, "usage: postern config [KEY]\n");
		return EX_USAGE;
	}
	if (c->hostname_problem != NULL)	/* loaded, but no mail goes out with it */
		fprintf(errf, "postern: config: warning: %s\n", c->hostname_problem);
	if (argc == 2) {
		if (show(c, argv[1], 0, out, &e) < 0) {
			fprintf(errf, "postern: config: %s\n", e.msg);
			return e.code ? e.code : EX_USAGE;
		}
	} else {
		for (size_t i = 0; (k = conf_key_name(i)) != NULL; i++)
			if (show(c, k, 1, out, &e) < 0) {
				fprintf(errf, "postern: config: %s\n", e.msg);
				return e.code ? e.code : EX_USAGE;
			}
	}
	return fflush(out) != 0 || ferror(out) ? EX_IOERR : 0;
}
