/* test_runner.c - queue/runner.c's pure parts: the retry schedule, the batch size, who administers
 * the queue, and the resource limits a runner sets. */
#include <criterion/criterion.h>

#include "conf/config.h"
#include "queue/runner.h"

Test(runner, backoff)
{
	struct config c;

	conf_defaults(&c);
	c.retry_min = 300;
	c.retry_max = 4 * 3600;
	/* retry_min after the first attempt, doubling, capped at retry_max */
	cr_expect_eq(runner_backoff(&c, 0), 300);
	cr_expect_eq(runner_backoff(&c, 1), 300);
	cr_expect_eq(runner_backoff(&c, 2), 600);
	cr_expect_eq(runner_backoff(&c, 3), 1200);
	cr_expect_eq(runner_backoff(&c, 6), 9600);
	cr_expect_eq(runner_backoff(&c, 7), 14400);
	cr_expect_eq(runner_backoff(&c, 1000000), 14400, "no overflow however many attempts");
	/* a retry_min above retry_max: retry_max */
	c.retry_min = 7200;
	c.retry_max = 3600;
	cr_expect_eq(runner_backoff(&c, 1), 3600);
	/* retry_min 0 (tests use it): every run is due */
	c.retry_min = 0;
	cr_expect_eq(runner_backoff(&c, 5), 0);
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
