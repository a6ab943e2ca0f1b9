/* test_conftable.c - the key table of conf/config.c against its documents: every key in postern.conf(5)
 * with the table's default, and in the sample conf/postern.conf.
 *
 * The files are read from the source tree, relative to the top folder (where `make check` and
 * tests/run-unit.sh run the tests, as test_mailq.c's golden files). The man page states the stock
 * paths (SPOOLDIR /var/spool/postern, SYSCONFDIR /etc); a build with others fails here, rightly: its
 * manual would then be wrong.
 *
 * The man page's convention, which this test holds it to: in the sections SUBMISSION to TIMEOUTS and
 * CHECK each key is one `.TP` entry whose head line is "KEY ARGS" (tls_cert and tls_key share one: "KEY ARGS, KEY
 * ARGS"), and whose body says
 * "Default: X" exactly once. X runs to the first ". ", ": ", " (", "; " or the final ".". It is the
 * table's default as the file would write it ("5m", not "300"), "none" for a key that is not set by
 * default, or the table's words for a derived default ("the value of hostname").
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/confshow.h"

#define MAN "man/postern.conf.5"
#define SAMPLE "conf/postern.conf"
#define TEXT_MAX 4096	/* one entry's body as plain text */

/* slurp - a whole file, NUL-terminated. */
#include "tests/unit/slurp.h"

/* key_index - the table row of a name, or -1. */
static int key_index(const char *name, size_t n)
{
	const char *k;

	for (size_t i = 0; (k = conf_key_name(i)) != NULL; i++)
		if (strlen(k) == n && memcmp(k, name, n) == 0)
			return (int)i;
	return -1;
}

/* nkeys - the table's length. */
static size_t nkeys(void)
{
	size_t n = 0;

	while (conf_key_name(n) != NULL)
		n++;
	return n;
}

/* add - append n bytes to out[TEXT_MAX] at *len. */
static void add(char *out, size_t *len, const char *p, size_t n)
{
	cr_assert_lt(*len + n, TEXT_MAX, "entry text too long");
	memcpy(out + *len, p, n);
	*len += n;
	out[*len] = '\0';
}

/* roff_text - one line of the man page as the reader sees it, appended to out: the font macros' words
 * (.B and .I joined by spaces, .BR and the other alternating ones joined without), font and character
 * escapes resolved. Other requests (.TP, .PP, .nf) add nothing. */
static void roff_text(const char *line, size_t n, char *out, size_t *len)
{
	char tmp[TEXT_MAX];
	size_t t = 0;

	if (n > 0 && line[0] == '.') {
		size_t m = 1;
		bool alt;

		while (m < n && line[m] != ' ')
			m++;
		if (!((m == 2 && strchr("BI", line[1]) != NULL) ||
			    (m == 3 && strchr("BIR", line[1]) != NULL && strchr("BIR", line[2]) != NULL)))
			return;
		alt = m == 3;
		for (size_t i = m, w = 0; i < n; w++) {
			while (i < n && line[i] == ' ')
				i++;
			if (i == n)
				break;
			if (w > 0 && !alt)
				tmp[t++] = ' ';
			if (line[i] == '"') {
				for (i++; i < n && line[i] != '"'; i++)
					tmp[t++] = line[i];
				i++;
			} else
				for (; i < n && line[i] != ' '; i++)
					tmp[t++] = line[i];
			cr_assert_lt(t, sizeof tmp - 1);
		}
	} else {
		cr_assert_lt(n, sizeof tmp);
		memcpy(tmp, line, n);
		t = n;
	}
	if (*len > 0)
		add(out, len, " ", 1);
	for (size_t i = 0; i < t; i++) {
		if (tmp[i] == '\\' && i + 2 < t && tmp[i + 1] == 'f') {
			i += 2;	/* \fB \fI \fR \fP */
		} else if (tmp[i] == '\\' && i + 1 < t && (tmp[i + 1] == '-' || tmp[i + 1] == ' ')) {
			add(out, len, &tmp[++i], 1);
		} else if (tmp[i] == '\\' && i + 3 < t && tmp[i + 1] == '(') {
			add(out, len, "\"", 1);	/* \(dq \(lq \(rq */
			i += 3;
		} else
			add(out, len, &tmp[i], 1);
	}
}

/* stated_default - the X of the one "Default: X" in text, into out; 0, or -1 when not exactly one. */
static int stated_default(const char *text, char *out, size_t outn)
{
	static const char *const ends[] = { ". ", ": ", " (", "; " };
	const char *d = strstr(text, "Default: "), *end;

	if (d == NULL || strstr(d + 1, "Default:") != NULL)
		return -1;
	d += strlen("Default: ");
	end = d + strlen(d);
	if (end > d && end[-1] == '.')
		end--;
	for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
		const char *e = strstr(d, ends[i]);
		if (e != NULL && e < end)
			end = e;
	}
	cr_assert_lt((size_t)(end - d), outn);
	memcpy(out, d, (size_t)(end - d));
	out[end - d] = '\0';
	return 0;
}

/* check_entry - an entry of the man page: its head is "KEY ARGS" or "KEY ARGS, KEY ARGS" (each KEY a key
 * of the table), its body states the default of each. Counts the keys seen in found[]. */
static void check_entry(const char *head, const char *body, int *found)
{
	char got[TEXT_MAX];
	const char *p = head;

	for (;;) {
		size_t n = strcspn(p, " ,");
		int k = key_index(p, n);
		bool value;
		const char *want;

		cr_expect_geq(k, 0, "man: the entry \"%s\" names \"%.*s\", not a key of the table", head, (int)n, p);
		if (k >= 0) {
			want = conf_key_default((size_t)k, &value);
			found[k]++;
			if (stated_default(body, got, sizeof got) < 0)
				cr_expect_fail("man: %s: want exactly one \"Default: \" in [%s]", conf_key_name((size_t)k), body);
			else
				cr_expect_str_eq(got, want, "man: %s: states default \"%s\", the table has \"%s\"",
				    conf_key_name((size_t)k), got, want);
		}
		if ((p = strstr(p, ", ")) == NULL)
			break;
		p += 2;
	}
}

/* the man page: every key of the table once, each with the table's default */
/* fixed_sysname - a fully qualified system name, whatever the machine running the tests is called */
static void fixed_sysname(void)
{
	conf_set_system_name("sys.example.net");
}
TestSuite(conftable, .init = fixed_sysname);

Test(conftable, man_page)
{
	char *man = slurp(MAN), *p = man;
	size_t nk = nkeys();
	int *found = calloc(nk, sizeof *found);
	bool keys_section = false;
	char head[TEXT_MAX], body[TEXT_MAX];
	size_t hlen = 0, blen = 0;
	enum { OUT, HEAD, BODY } at = OUT;

	cr_assert_not_null(found);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		bool tp = n >= 3 && memcmp(p, ".TP", 3) == 0;
		bool end = tp || (n >= 3 && (memcmp(p, ".PP", 3) == 0 || memcmp(p, ".SH", 3) == 0));

		if (end && at == BODY) {
			check_entry(head, body, found);
			at = OUT;
		}
		if (n >= 4 && memcmp(p, ".SH ", 4) == 0) {
			static const char *const sections[] = { "SUBMISSION", "DKIM", "DELIVERY", "QUEUE", "TIMEOUTS",
								      "CHECK" };
			keys_section = false;
			for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
				if (n - 4 == strlen(sections[i]) && memcmp(p + 4, sections[i], n - 4) == 0)
					keys_section = true;
		} else if (tp && keys_section) {
			at = HEAD;
			hlen = blen = 0;
			head[0] = body[0] = '\0';
		} else if (at == HEAD) {
			roff_text(p, n, head, &hlen);
			at = BODY;
		} else if (at == BODY)
			roff_text(p, n, body, &blen);
		p += n + (p[n] == '\n');
	}
	if (at == BODY)
		check_entry(head, body, found);
	for (size_t i = 0; i < nk; i++)
		cr_expect_eq(found[i], 1, "man: %s is documented %d times (want once)", conf_key_name(i), found[i]);
	free(found);
	free(man);
}

/* the sample: every key once as "# key value", a fixed default shown as the table has it, and no
 * "# word value" line for a key the table does not have */
Test(conftable, sample)
{
	char *s = slurp(SAMPLE), *p = s;
	size_t nk = nkeys();
	int *found = calloc(nk, sizeof *found);

	cr_assert_not_null(found);
	while (*p != '\0') {
		size_t n = strcspn(p, "\n"), w = 0;

		if (n > 2 && p[0] == '#' && p[1] == ' ') {
			while (2 + w < n && ((p[2 + w] >= 'a' && p[2 + w] <= 'z') || (p[2 + w] >= '0' && p[2 + w] <= '9') ||
			    p[2 + w] == '_'))
				w++;
			if (w > 0 && 2 + w < n && p[2 + w] == ' ') {
				int k = key_index(p + 2, w);
				const char *v = p + 2 + w + strspn(p + 2 + w, " ");
				size_t vn = strcspn(v, " \n");
				bool value;
				const char *want;

				cr_expect_geq(k, 0, "sample: \"%.*s\" is not a key of the table", (int)n, p);
				if (k >= 0) {
					found[k]++;
					want = conf_key_default((size_t)k, &value);
					if (value)
						cr_expect(vn == strlen(want) && memcmp(v, want, vn) == 0,
						    "sample: %s shows \"%.*s\", the table's default is \"%s\"",
						    conf_key_name((size_t)k), (int)vn, v, want);
				}
			}
		}
		p += n + (p[n] == '\n');
	}
	for (size_t i = 0; i < nk; i++)
		cr_expect_eq(found[i], 1, "sample: %s is shown %d times (want once)", conf_key_name(i), found[i]);
	free(found);
	free(s);
}

/* the defaults the table states are what an empty file gives, as `postern config` prints them */
Test(conftable, defaults_parse_to_themselves)
{
	struct config c, d;
	struct err e = { 0 };
	const char *k;

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, "", 0, "empty", &e), 0, "%s", e.msg);
	for (size_t i = 0; (k = conf_key_name(i)) != NULL; i++) {
		bool value;
		const char *def = conf_key_default(i, &value);
		char line[512];
		struct buf a, b;

		cr_assert_not_null(def);
		if (!value) {	/* not set, or derived: nothing to write */
			buf_init(&a, 4096);
			if (strcmp(def, "none") == 0)
				cr_expect_eq(conf_value(&c, k, &a, &e), 0, "%s: default none but set to [%s]", k, buf_str(&a));
			buf_free(&a);
			continue;
		}
		/* the default written out explicitly gives the same value as no line at all */
		cr_assert(snprintf(line, sizeof line, "%s %s\n", k, def) < (int)sizeof line);
		conf_defaults(&d);
		cr_expect_eq(conf_parse(&d, line, strlen(line), "one", &e), 0, "%s: %s", k, e.msg);
		buf_init(&a, 4096);
		buf_init(&b, 4096);
		cr_expect_eq(conf_value(&c, k, &a, &e), 1, "%s", k);
		cr_expect_eq(conf_value(&d, k, &b, &e), 1, "%s", k);
		cr_expect_str_eq(buf_str(&a), buf_str(&b), "%s: default [%s] but \"%s\" gives [%s]", k, buf_str(&a),
		    def, buf_str(&b));
		buf_free(&a);
		buf_free(&b);
		conf_free(&d);
	}
	conf_free(&c);
}

/* show_all - `postern config` for the configuration in `in`, into out[n]. */
static void show_all(const char *in, char *out, size_t n)
{
	char *argv[] = { "config", NULL };
	struct config c;
	struct err e = { 0 };
	FILE *f, *errf;

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, in, strlen(in), "t.conf", &e), 0, "%s", e.msg);
	cr_assert_not_null(f = fmemopen(out, n, "w"));
	cr_assert_not_null(errf = fopen("/dev/null", "w"));
	cr_expect_eq(conf_show_main(&c, 1, argv, f, errf), 0);
	cr_assert_eq(fclose(f), 0);
	fclose(errf);
	conf_free(&c);
}

/* `postern config`: every key that is set, in the table's order, in the file's syntax (golden) */
Test(conftable, show_every_key)
{
	static const char in[] = "hostname a.example.org\nmax_size 10M\ndkim a.org s1 /k canon=simple\n"
				 "tls_policy b.org verify\nsmarthost relay.example.net\nretry_min 1m\n";
	static const char want[] = "hostname a.example.org\ndomain a.example.org\nspool " SPOOLDIR "\n"
		"aliases " SYSCONFDIR "/postern/aliases\nmax_size 10000000\nmax_header_size 1048576\n"
		"deliver background\ndkim a.org s1 /k canon=simple/simple\ndkim_canon relaxed/relaxed\n"
		"dkim_required yes\ndkim_expire 0\nsmarthost relay.example.net:587\nsmarthost_tls auto\ntls may\n"
		"tls_policy b.org verify\ntls_cert_name a.example.org\nmax_connections 4\nmax_per_destination 2\ndestination_rate_delay 0\nretry_min 60\n"
		"retry_max 14400\nqueue_lifetime 432000\ndelay_warning 0\ntimeout_connect 30\n"
		"timeout_greeting 300\ntimeout_command 300\ntimeout_data_init 120\ntimeout_data_block 180\n"
		"timeout_data_done 600\ntimeout_message 1800\ntimeout_session 3600\npidfile /run/postern.pid\n"
		"mailq_users anyone\nallow_local_mx no\nrewrite_reply_to yes\nfrom_policy keep\n"
		"check_myip myip.opendns.com@resolver1.opendns.com\ndnsbl zen.spamhaus.org,bl.spamcop.net\n"
		"check_port25_host gmail-smtp-in.l.google.com\n";
	char got[4096] = { 0 }, again[4096] = { 0 };

	show_all(in, got, sizeof got - 1);
	cr_expect_str_eq(got, want);
	/* the listing is a configuration file that gives itself back */
	show_all(got, again, sizeof again - 1);
	cr_expect_str_eq(again, got);
}
