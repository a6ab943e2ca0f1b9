/* test_probe.c - the queue run's status line as `postern check --send` reads it. */
#include <criterion/criterion.h>
#include <string.h>

#include "queue/wire/probe.h"

#define ID "0123456789ABCDEF012"

Test(probe, status_parse)
{
	static const struct {
		const char *line;
		int want;
		const char *to, *relay, *tls, *dsn, *status, *diag;
	} rows[] = {
		{ "postern/sendmail: " ID ": to=<far@mx.example>, relay=mx1.mx.example[127.0.0.11]:25, delay=0.1, "
		  "tls=TLSv1.3/verified, dsn=2.0.0, status=sent (250 2.0.0 OK stored as 1)", 0, "far@mx.example",
		  "mx1.mx.example[127.0.0.11]:25", "TLSv1.3/verified", "2.0.0", "sent", "250 2.0.0 OK stored as 1" },
		/* the reply may hold commas, parentheses and "status=" */
		{ ID ": to=<a@b.example>, relay=none, delay=0.0, tls=none, dsn=5.1.1, status=bounced (host x said: "
		  "550 5.1.1 (no, status=sent) (in reply to RCPT TO))", 0, "a@b.example", "none", "none", "5.1.1",
		  "bounced", "host x said: 550 5.1.1 (no, status=sent) (in reply to RCPT TO)" },
		{ ID ": to=<a@b.example>, relay=r, delay=1.5, tls=none, dsn=4.4.1, status=deferred ()", 0, "a@b.example",
		  "r", "none", "4.4.1", "deferred", "" },
		/* another message's line, other lines of the run, cut or malformed lines */
		{ "postern/sendmail: 0123456789ABCDEF013: to=<a@b.example>, relay=r, delay=0, tls=none, dsn=2.0.0, "
		  "status=sent (250 ok)", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ "postern/sendmail: <<< 250 2.0.0 OK", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ ID ": to=<a@b.example>, relay=r, delay=0, tls=none, dsn=2.0.0, status=sent (250 ok", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ ID ": to=<a@b.example>, relay=r, delay=0, tls=none, dsn=2.0.0, status=sent", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ ID ": to=<a@b.example>, relay=r, tls=none, dsn=2.0.0, status=sent (250 ok)", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ ID ": to=<a@b.example, relay=r", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ ID ": to=<a@b.example>, relay=r, delay=0, tls=none, dsn=2.0.0.0.0.0.0.0.0.0.0, status=sent (x)", -1, NULL, NULL, NULL, NULL, NULL, NULL },
		{ "", -1, NULL, NULL, NULL, NULL, NULL, NULL },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct probe_status st;
		int rc = probe_status_parse(rows[i].line, strlen(rows[i].line), ID, &st);

		cr_expect_eq(rc, rows[i].want, "row %zu", i);
		if (rc != 0 || rows[i].want != 0)
			continue;
		cr_expect_str_eq(st.to, rows[i].to, "row %zu", i);
		cr_expect_str_eq(st.relay, rows[i].relay, "row %zu", i);
		cr_expect_str_eq(st.tls, rows[i].tls, "row %zu", i);
		cr_expect_str_eq(st.dsn, rows[i].dsn, "row %zu", i);
		cr_expect_str_eq(st.status, rows[i].status, "row %zu", i);
		cr_expect_str_eq(st.diag, rows[i].diag, "row %zu", i);
	}
}
