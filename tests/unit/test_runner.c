/* test_runner.c - queue/run/runner.c's pure parts: the retry schedule, the batch size, who administers
 * the queue, and the resource limits a runner sets. */
#include <criterion/criterion.h>

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
