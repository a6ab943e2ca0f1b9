/* test_runner.c - queue/run/runner.c's pure parts: the retry schedule, the batch size, who administers
 * the queue, and the resource limits a runner sets. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "queue/run/runner.h"
#include "queue/run/runq_decide.h"
#include "queue/run/runq.h"

Test(runner, backoff)
{
	struct config c;

	conf_defaults(&c);
	c.retry_min = 300;
	c.retry_max = 4 * 3600;
	/* retry_min after the first attempt, doubling, capped at retry_max */
	cr_expect_eq(runq_backoff(&c, 0), 300);
	cr_expect_eq(runq_backoff(&c, 1), 300);
	cr_expect_eq(runq_backoff(&c, 2), 600);
	cr_expect_eq(runq_backoff(&c, 3), 1200);
	cr_expect_eq(runq_backoff(&c, 6), 9600);
	cr_expect_eq(runq_backoff(&c, 7), 14400);
	cr_expect_eq(runq_backoff(&c, 1000000), 14400, "no overflow however many attempts");
	/* a retry_min above retry_max: retry_max */
	c.retry_min = 7200;
	c.retry_max = 3600;
	cr_expect_eq(runq_backoff(&c, 1), 3600);
	/* retry_min 0 (tests use it): every run is due */
	c.retry_min = 0;
	cr_expect_eq(runq_backoff(&c, 5), 0);
	conf_free(&c);
}

Test(runner, batch_size)
{
	/* two batches, the workers' pipes (2 each) and 64 more descriptors must fit */
	cr_expect_eq(runner_batch_size(~0ULL, 4), RUNNER_BATCH);
	cr_expect_eq(runner_batch_size(2 * RUNNER_BATCH + 64 + 8, 4), RUNNER_BATCH);
	cr_expect_eq(runner_batch_size(2 * RUNNER_BATCH + 64 + 7, 4), RUNNER_BATCH - 1);
	cr_expect_eq(runner_batch_size(1024, 4), (1024 - 64 - 8) / 2);
	cr_expect_eq(runner_batch_size(1024, 100), (1024 - 64 - 200) / 2);
	cr_expect_eq(runner_batch_size(256, 0), (256 - 64) / 2);
	cr_expect_eq(runner_batch_size(64, 4), 1, "never nothing");
	cr_expect_eq(runner_batch_size(0, 4), 1);
	cr_expect_eq(runner_batch_size(1024, -5), (1024 - 64) / 2, "a negative count is none");
}

Test(runner, privileged)
{
	static const struct {
		uid_t uid, postern;
		bool want;
		const char *why;
	} t[] = {
		{ 0, 998, true, "root" },
		{ 998, 998, true, "the postern user" },
		{ 1000, 998, false, "any other user" },
		{ 65534, 998, false, "nobody" },
		{ 0, (uid_t)-1, true, "root, no postern user" },
		{ 1000, (uid_t)-1, false, "a user, no postern user" },
		{ (uid_t)-1, (uid_t)-1, false, "uid -1 is not the missing postern user" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
		cr_expect_eq(runner_privileged(t[i].uid, t[i].postern), t[i].want, "%s", t[i].why);
}

Test(runner, rlimit_plan)
{
	const rlim_t inf = RLIM_INFINITY, M = 1024 * 1024;
	static const struct {
		rlim_t cur, max, min, want, set;
		int rc;
		const char *why;
	} t[] = {
		{ 8 * M, inf, 256 * M, inf, inf, 0, "a small soft limit is raised to the hard one" },
		{ 8 * M, 512 * M, 256 * M, inf, 512 * M, 0, "raised as far as the hard limit goes" },
		{ 8 * M, 8 * M, 256 * M, inf, 8 * M, -1, "a hard limit below the minimum: refused" },
		{ 8 * M, 256 * M, 256 * M, inf, 256 * M, 0, "a hard limit at the minimum is enough" },
		{ inf, inf, 256 * M, inf, inf, 0, "unlimited stays unlimited" },
		{ 1 * M, inf, 1 * M, 8 * M, 8 * M, 0, "raised to want, not beyond" },
		{ 16 * M, inf, 1 * M, 8 * M, 16 * M, 0, "a soft limit above want is not lowered" },
		{ 10, 10, 600, inf, 10, -1, "CPU seconds below the minimum" },
		{ 0, 0, 1, inf, 0, -1, "zero" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		rlim_t set = 12345;

		cr_expect_eq(runner_rlimit_plan(t[i].cur, t[i].max, t[i].min, t[i].want, &set), t[i].rc, "%s", t[i].why);
		cr_expect_eq(set, t[i].set, "%s: set %llu", t[i].why, (unsigned long long)set);
	}
}

/* A held message is never selected: not when due, not by -q (force), not by -qI naming it. */
Test(runner, held_never_selected)
{
	struct env_rcpt r = { .addr = (char *)"a@example.net" };
	struct envelope env = { .id = "6566A1F20B12C9D3E7F", .sender = (char *)"s@example.org", .rcpt = &r,
				.nrcpt = 1, .next_try = 0 };
	struct runner_opts due = { 0 }, force = { .force = true }, byid = { .id = "6566A1F20B12C9D3E7F" };

	cr_expect(runq_selected(&due, &env, 1000));
	cr_expect(runq_selected(&force, &env, 1000));
	cr_expect(runq_selected(&byid, &env, 1000));
	env.held = true;
	cr_expect_not(runq_selected(&due, &env, 1000), "held and due");
	cr_expect_not(runq_selected(&force, &env, 1000), "held, sendmail -q");
	cr_expect_not(runq_selected(&byid, &env, 1000), "held, sendmail -qI ID");
}

/* runq_group: a destination is (recipient domain, or NULL and a sender's relay or the smarthost);
 * senders routed to one relay host and port share it whatever their recipients' domains, a route
 * DOMAIN direct keeps its domain, the null sender goes to the smarthost. */
Test(runner, group_by_sender_relay)
{
	static const char conf[] = "smarthost s.net\nroute direct.org direct\n"
				   "sender_route shop.example r.net:2525\nsender_route other.example r.net:2525\n"
				   "sender_route third.example r3.net\n";
	static const struct {
		const char *sender, *rcpt[3];
	} m[] = {
		{ "a@shop.example", { "x@any.org", "y@direct.org", "z@b.org" } },
		{ "b@other.example", { "w@c.org" } },	/* the same relay and port: the same destination */
		{ "c@plain.example", { "v@any.org", "u@direct.org" } },
		{ "", { "t@any.org" } },	/* a bounce */
		{ "d@third.example", { "s@any.org" } },
	};
	static const struct {
		const char *domain, *relay;	/* relay "host:port", NULL: none */
		size_t nmsg, msg[2], nr[2];
	} want[] = {
		{ NULL, "r.net:2525", 2, { 0, 1 }, { 2, 1 } },
		{ "direct.org", NULL, 2, { 0, 2 }, { 1, 1 } },
		{ NULL, NULL, 2, { 2, 3 }, { 1, 1 } },	/* the smarthost */
		{ NULL, "r3.net:587", 1, { 4 }, { 1 } },
	};
	static const int inflight[] = { 2, 1, 2, 1, 1 };
	enum { NM = sizeof m / sizeof m[0] };
	struct env_rcpt r[NM][3];
	struct runq_msg q[NM];
	struct runq_dest *d;
	struct config c;
	struct err e = { 0 };
	size_t nd = 0;

	conf_defaults(&c);
	cr_assert_eq(conf_parse(&c, conf, sizeof conf - 1, "t.conf", &e), 0, "%s", e.msg);
	memset(q, 0, sizeof q);
	memset(r, 0, sizeof r);
	for (size_t i = 0; i < NM; i++) {
		q[i].env.sender = strdup(m[i].sender);
		q[i].env.rcpt = r[i];
		for (size_t k = 0; k < 3 && m[i].rcpt[k] != NULL; k++) {
			r[i][k].addr = strdup(m[i].rcpt[k]);
			r[i][k].state = RCPT_PENDING;
			q[i].env.nrcpt++;
		}
	}
	d = runq_group(&c, q, NM, &nd);
	cr_assert_eq(nd, sizeof want / sizeof want[0], "destinations: %zu", nd);
	/* (domain, relay) is the key: the smarthost is not a relay's, a relay not another port's */
	cr_expect_not(runq_dest_is(&d[0], NULL, NULL));
	cr_expect_not(runq_dest_is(&d[2], NULL, d[0].relay));
	cr_expect_not(runq_dest_is(&d[3], NULL, d[0].relay));
	cr_expect_not(runq_dest_is(&d[1], NULL, NULL));
	cr_expect_not(runq_dest_is(&d[0], "direct.org", NULL));
	for (size_t j = 0; j < nd; j++) {
		char got[300] = "(none)";

		cr_expect_str_eq(d[j].domain ? d[j].domain : "(none)", want[j].domain ? want[j].domain : "(none)",
		    "dest %zu", j);
		if (d[j].relay != NULL)
			(void)snprintf(got, sizeof got, "%s:%d", d[j].relay->host, d[j].relay->port);
		cr_expect_str_eq(got, want[j].relay ? want[j].relay : "(none)", "dest %zu", j);
		cr_assert_eq(d[j].nmsg, want[j].nmsg, "dest %zu: %zu messages", j, d[j].nmsg);
		for (size_t k = 0; k < d[j].nmsg; k++) {
			cr_expect_eq(d[j].msg[k], want[j].msg[k], "dest %zu message %zu", j, k);
			cr_expect_eq(d[j].nr[k], want[j].nr[k], "dest %zu message %zu: recipients", j, k);
			free(d[j].ridx[k]);
		}
		cr_expect(runq_dest_is(&d[j], d[j].domain, d[j].relay));
		free(d[j].ridx);
		free(d[j].nr);
		free(d[j].msg);
		free(d[j].domain);
	}
	for (size_t i = 0; i < NM; i++) {
		cr_expect_eq(q[i].inflight, inflight[i], "message %zu: %d destinations", i, q[i].inflight);
		free(q[i].env.sender);
		for (size_t k = 0; k < q[i].env.nrcpt; k++)
			free(r[i][k].addr);
	}
	free(d);
	conf_free(&c);
}
