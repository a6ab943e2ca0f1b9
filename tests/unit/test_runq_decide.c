/* test_runq_decide.c - runq_after_attempt row by row: expiry at queue_lifetime, the failure report
 * and its NOTIFY (RFC 3461 4.1), removal, the delay warning at delay_warning, the next attempt. */
#include <criterion/criterion.h>
#include <string.h>

#include "conf/config.h"
#include "queue/run/runner.h"
#include "queue/run/runq_decide.h"

#define P RCPT_PENDING
#define S RCPT_SENT
#define F RCPT_FAILED
#define NF NOTIFY_FAILURE
#define ND NOTIFY_DELAY
#define NS NOTIFY_SUCCESS
#define NN NOTIFY_NEVER

#define LIFE 432000	/* queue_lifetime, 5 days */
#define WARN 14400	/* delay_warning, 4 hours */
#define T0 1700000000LL	/* arrival */

struct drow {
	const char *why;
	enum rcpt_state st[3];
	int notify[3];
	size_t n;
	long long age;		/* now - arrival */
	const char *sender;
	bool is_bounce, warned;
	long delay_warning;
	int attempts;		/* before this one */
	/* want */
	bool expire, report_failed, remove, warn;
	long long next_in;	/* next_try - now, when !remove */
};

static const struct drow rows[] = {
	/* removal: nothing pending */
	{ "all sent: removed, nothing owed", { S, S }, { 0, 0 }, 2, 60, "a@x", false, false, WARN, 0,
	  false, false, true, false, 0 },
	{ "one failed, default NOTIFY: report (RFC 3461 4.1)", { S, F }, { 0, 0 }, 2, 60, "a@x", false, false,
	  WARN, 0, false, true, true, false, 0 },
	{ "failed, NOTIFY=FAILURE: report", { F }, { NF }, 1, 60, "a@x", false, false, WARN, 0,
	  false, true, true, false, 0 },
	{ "failed, NOTIFY=NEVER: no report", { F }, { NN }, 1, 60, "a@x", false, false, WARN, 0,
	  false, false, true, false, 0 },
	{ "failed, NOTIFY=DELAY only: no report", { F }, { ND }, 1, 60, "a@x", false, false, WARN, 0,
	  false, false, true, false, 0 },
	{ "failed, NOTIFY=SUCCESS only: no report", { F }, { NS }, 1, 60, "a@x", false, false, WARN, 0,
	  false, false, true, false, 0 },
	{ "failed, NOTIFY=SUCCESS,FAILURE: report", { F }, { NS | NF }, 1, 60, "a@x", false, false, WARN, 0,
	  false, true, true, false, 0 },
	{ "two failed, one NEVER one default: report", { F, F }, { NN, 0 }, 2, 60, "a@x", false, false, WARN,
	  0, false, true, true, false, 0 },
	{ "failed, null sender: no report (RFC 5321 6.1)", { F }, { 0 }, 1, 60, "", false, false, WARN, 0,
	  false, false, true, false, 0 },
	{ "failed, a bounce itself: never bounces", { F }, { 0 }, 1, 60, "a@x", true, false, WARN, 0,
	  false, false, true, false, 0 },
	/* deferral: the next attempt after retry_min (300) doubling, attempts counting this one */
	{ "first attempt deferred: retry_min", { P }, { 0 }, 1, 60, "a@x", false, false, WARN, 0,
	  false, false, false, false, 300 },
	{ "second attempt: doubled", { P }, { 0 }, 1, 60, "a@x", false, false, WARN, 1,
	  false, false, false, false, 600 },
	{ "fourth attempt", { P }, { 0 }, 1, 60, "a@x", false, false, WARN, 3,
	  false, false, false, false, 2400 },
	{ "many attempts: retry_max", { P }, { 0 }, 1, 60, "a@x", false, false, WARN, 50,
	  false, false, false, false, 14400 },
	{ "one failed, one deferred: report now, kept", { F, P }, { 0, 0 }, 2, 60, "a@x", false, false, WARN,
	  0, false, true, false, false, 300 },
	/* expiry at exactly queue_lifetime (>=) */
	{ "one second before queue_lifetime: deferred", { P }, { 0 }, 1, LIFE - 1, "a@x", false, true, WARN,
	  9, false, false, false, false, 14400 },
	{ "at queue_lifetime: expired, reported, removed", { P }, { 0 }, 1, LIFE, "a@x", false, true, WARN, 9,
	  true, true, true, false, 0 },
	{ "expired, NOTIFY=NEVER: no report", { P }, { NN }, 1, LIFE + 1, "a@x", false, false, WARN, 9,
	  true, false, true, false, 0 },
	{ "expired, NOTIFY=DELAY: no report", { P }, { ND }, 1, LIFE + 1, "a@x", false, false, WARN, 9,
	  true, false, true, false, 0 },
	{ "expired, NOTIFY=DELAY,FAILURE: report", { P }, { ND | NF }, 1, LIFE + 1, "a@x", false, false, WARN,
	  9, true, true, true, false, 0 },
	{ "nothing pending, old: no expiry", { S }, { 0 }, 1, LIFE + 1, "a@x", false, false, WARN, 9,
	  false, false, true, false, 0 },
	{ "expired, null sender: no report", { P }, { 0 }, 1, LIFE, "", false, false, WARN, 9,
	  true, false, true, false, 0 },
	/* the delay warning at exactly delay_warning (>=), once */
	{ "one second before delay_warning: none", { P }, { 0 }, 1, WARN - 1, "a@x", false, false, WARN, 2,
	  false, false, false, false, 1200 },
	{ "at delay_warning: warn", { P }, { 0 }, 1, WARN, "a@x", false, false, WARN, 2,
	  false, false, false, true, 1200 },
	{ "warned already: not again", { P }, { 0 }, 1, WARN + 60, "a@x", false, true, WARN, 2,
	  false, false, false, false, 1200 },
	{ "delay_warning 0: off", { P }, { 0 }, 1, WARN, "a@x", false, false, 0, 2,
	  false, false, false, false, 1200 },
	{ "NOTIFY=DELAY: warn", { P }, { ND }, 1, WARN, "a@x", false, false, WARN, 2,
	  false, false, false, true, 1200 },
	{ "NOTIFY=FAILURE only: no warning", { P }, { NF }, 1, WARN, "a@x", false, false, WARN, 2,
	  false, false, false, false, 1200 },
	{ "NOTIFY=NEVER: no warning", { P }, { NN }, 1, WARN, "a@x", false, false, WARN, 2,
	  false, false, false, false, 1200 },
	{ "one pending NEVER, one pending default: warn", { P, P }, { NN, 0 }, 2, WARN, "a@x", false, false,
	  WARN, 2, false, false, false, true, 1200 },
	{ "DELAY asked by a sent one only: no warning", { S, P }, { ND, NF }, 2, WARN, "a@x", false, false,
	  WARN, 2, false, false, false, false, 1200 },
	{ "null sender: no warning", { P }, { 0 }, 1, WARN, "", false, false, WARN, 2,
	  false, false, false, false, 1200 },
	{ "a bounce: no warning", { P }, { 0 }, 1, WARN, "a@x", true, false, WARN, 2,
	  false, false, false, false, 1200 },
	{ "failed and delayed at once: both", { F, P }, { 0, 0 }, 2, WARN, "a@x", false, false, WARN, 0,
	  false, true, false, true, 300 },
};

Test(runq_decide, table)
{
	struct config c;

	conf_defaults(&c);
	c.retry_min = 300;
	c.retry_max = 4 * 3600;
	c.queue_lifetime = LIFE;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct drow *w = &rows[i];
		struct env_rcpt rc[3];
		struct envelope env;
		struct runq_decision d;
		long long now = T0 + w->age;

		memset(&env, 0, sizeof env);
		memset(rc, 0, sizeof rc);
		for (size_t k = 0; k < w->n; k++) {
			rc[k].addr = (char *)(unsigned long)"r@y";
			rc[k].state = w->st[k];
			rc[k].notify = w->notify[k];
		}
		env.arrival = T0;
		env.sender = (char *)(unsigned long)w->sender;
		env.is_bounce = w->is_bounce;
		env.warned = w->warned;
		env.attempts = w->attempts;
		env.rcpt = rc;
		env.nrcpt = w->n;
		c.delay_warning = w->delay_warning;
		d = runq_after_attempt(&c, &env, now);
		cr_expect_eq(d.expire, w->expire, "row %zu (%s): expire", i, w->why);
		cr_expect_eq(d.report_failed, w->report_failed, "row %zu (%s): report_failed", i, w->why);
		cr_expect_eq(d.remove, w->remove, "row %zu (%s): remove", i, w->why);
		cr_expect_eq(d.warn, w->warn, "row %zu (%s): warn", i, w->why);
		if (!w->remove)
			cr_expect_eq(d.next_try - now, w->next_in, "row %zu (%s): next_try in %lld", i, w->why,
			    d.next_try - now);
	}
	conf_free(&c);
}
