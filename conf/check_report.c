/*
 * check_report.c - the findings of `postern check`, its command line and its exit status. See
 * check_report.h.
 */
#include "conf/check_report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "lib/buf.h"
#include "lib/limits.h"
#include "lib/log.h"
#include "lib/text.h"

#define CHECK_ARG_SHOWN_MAX 96	/* a command-line word as quoted back in an error, escaped */

const char *const check_ids[] = {
	"hostname", "address", "a", "ptr", "port25", "dnsbl", "smarthost", "mx", "spf", "spf-helo", "dkim",
	"dmarc", "align", "tls", "send", NULL,
};

static int id_index(const char *name, size_t len)
{
	for (int i = 0; check_ids[i] != NULL; i++)
		if (strlen(check_ids[i]) == len && strncmp(check_ids[i], name, len) == 0)
			return i;
	return -1;
}

/* add_only - one --only value: names separated by commas. */
static int add_only(struct check_report *r, const char *v, struct err *e)
{
	while (*v != '\0') {
		size_t len = strcspn(v, ",");
		int i = id_index(v, len);

		if (i < 0) {
			char safe[CHECK_ARG_SHOWN_MAX];

			(void)log_safe(safe, sizeof safe, v, len);
			return err_set(e, EX_USAGE, "check: --only: no check named \"%s\" (see postern-check(8))",
			    safe);
		}
		r->only |= 1UL << i;
		v += len;
		if (*v == ',')
			v++;
	}
	return 0;
}

/* send_addr_ok - an address for --send: local@domain, printable ASCII without spaces, not an option. */
static bool send_addr_ok(const char *v)
{
	const char *at = strrchr(v, '@');

	if (v[0] == '-' || at == NULL || at == v || at[1] == '\0' || strlen(v) > LIM_PATH)
		return false;
	for (const char *p = v; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>' || *p == ',')
			return false;
	return true;
}

int check_args(int argc, const char *const *argv, struct check_report *r, const char **domain,
	       struct err *e)
{
	int i;

	*domain = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "--json") == 0)
			r->json = true;
		else if (strcmp(a, "--only") == 0 || strncmp(a, "--only=", 7) == 0) {
			const char *v = a[6] == '=' ? a + 7 : i + 1 < argc ? argv[++i] : NULL;

			if (v == NULL || *v == '\0')
				return err_set(e, EX_USAGE, "check: --only needs a check name");
			if (add_only(r, v, e) < 0)
				return -1;
		} else if (strcmp(a, "--send") == 0 || strncmp(a, "--send=", 7) == 0) {
			const char *v = a[6] == '=' ? a + 7 : i + 1 < argc ? argv[++i] : NULL;

			if (v == NULL || !send_addr_ok(v))
				return err_set(e, EX_USAGE, "check: --send needs an address, local@domain");
			r->send = v;
		} else {
			char safe[CHECK_ARG_SHOWN_MAX];

			(void)log_safe(safe, sizeof safe, a, strlen(a));
			return err_set(e, EX_USAGE, "check: unknown option \"%s\"", safe);
		}
	}
	if (i < argc)
		*domain = argv[i++];
	if (i < argc)
		return err_set(e, EX_USAGE, "check: one DOMAIN at most");
	return 0;
}

bool check_wanted(const struct check_report *r, const char *id)
{
	int i = id_index(id, strlen(id));

	if (i < 0)
		abort();	/* a check with no id in the table: a programming error */
	if (strcmp(id, "send") == 0 && r->send == NULL)
		return false;
	return r->only == 0 || (r->only & (1UL << i)) != 0;
}

void check_add(struct check_report *r, const char *id, enum check_status st, const char *subject,
	       const char *fix, const char *seenfmt, ...)
{
	char seen[CHECK_FIELD_MAX];
	va_list ap;

	if (!check_wanted(r, id))
		return;
	r->count[st]++;
	if (r->n >= CHECK_MAX_FINDINGS)
		return;
	va_start(ap, seenfmt);
	(void)vsnprintf(seen, sizeof seen, seenfmt, ap);	/* a cut text is still a finding */
	va_end(ap);
	r->f[r->n].id = id;
	r->f[r->n].status = st;
	r->f[r->n].subject = xstrdup(subject != NULL ? subject : "");
	r->f[r->n].seen = xstrdup(seen);
	r->f[r->n].fix = xstrdup(fix != NULL ? fix : "");
	r->n++;
}

int check_exit(const size_t count[4])
{
	if (count[CHECK_FAIL] > 0)
		return CHECK_EXIT_FAILED;
	if (count[CHECK_UNKNOWN] > 0)
		return EX_TEMPFAIL;
	return EX_OK;
}

void check_json_str(FILE *out, const char *s)
{
	size_t n = strlen(s);
	struct buf b;

	buf_init(&b, n * TEXT_JSON_PER_BYTE + 2);	/* the most s can become: never cut */
	if (text_json_add(&b, s, n) == 0)
		(void)fwrite(b.data, 1, b.len, out);
	buf_free(&b);
}

static void safe_out(FILE *out, const char *s)
{
	char safe[TEXT_VIS_SIZE(CHECK_FIELD_MAX)];

	(void)log_safe(safe, sizeof safe, s, strlen(s));
	fputs(safe, out);
}

void check_print(const struct check_report *r, const char *hostname, FILE *out)
{
	static const char *const word[] = { "ok  ", "warn", "FAIL", "??  " };
	static const char *const jword[] = { "ok", "warn", "fail", "unknown" };

	if (r->json) {
		fputs("{\"hostname\":", out);
		check_json_str(out, hostname);
		fputs(",\"domain\":", out);
		check_json_str(out, r->domain);
		fputs(",\"checks\":[", out);
		for (size_t i = 0; i < r->n; i++) {
			const struct check_finding *f = &r->f[i];

			fputs(i > 0 ? ",{\"id\":" : "{\"id\":", out);
			check_json_str(out, f->id);
			fputs(",\"subject\":", out);
			check_json_str(out, f->subject);
			fprintf(out, ",\"status\":\"%s\",\"seen\":", jword[f->status]);
			check_json_str(out, f->seen);
			fputs(",\"fix\":", out);
			check_json_str(out, f->fix);
			fputc('}', out);
		}
		fputs("]}\n", out);
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct check_finding *f = &r->f[i];

		fprintf(out, "%s  %-8s ", word[f->status], f->id);
		safe_out(out, f->subject);
		fputs(": ", out);
		safe_out(out, f->seen);
		if (f->fix[0] != '\0') {
			fputs("; fix: ", out);
			safe_out(out, f->fix);
		}
		fputc('\n', out);
	}
	fprintf(out, "%zu ok, %zu warnings, %zu failures, %zu not checked\n", r->count[CHECK_OK],
	    r->count[CHECK_WARN], r->count[CHECK_FAIL], r->count[CHECK_UNKNOWN]);
}

void check_report_free(struct check_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->f[i].subject);
		free(r->f[i].seen);
		free(r->f[i].fix);
	}
	r->n = 0;
}
