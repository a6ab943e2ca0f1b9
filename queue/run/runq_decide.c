/*
 * runq_decide.c - what happens to a message after an attempt. See runq_decide.h. Pure.
 */
#include "queue/run/runq_decide.h"


/* wants - whether a recipient's NOTIFY asks for a report of kind `bit` (RFC 3461 4.1: none given is
 * the default, which reports failures and delays; NEVER has no other bit). */
static bool wants(int notify, int bit)
{
	return notify == 0 || (notify & bit) != 0;
}

struct runq_decision runq_after_attempt(const struct config *c, const struct envelope *env, long long now)
{
	struct runq_decision d = { 0 };
	bool to_sender = env->sender[0] != '\0' && !env->is_bounce;
	bool failed_wants = false, delay_wants = false;
	size_t pending = 0;

	for (size_t i = 0; i < env->nrcpt; i++)
		pending += env->rcpt[i].state == RCPT_PENDING;
	d.expire = pending > 0 && now - env->arrival >= c->queue_lifetime;
	for (size_t i = 0; i < env->nrcpt; i++) {
		const struct env_rcpt *r = &env->rcpt[i];
		bool failed = r->state == RCPT_FAILED || (d.expire && r->state == RCPT_PENDING);

		failed_wants |= failed && wants(r->notify, NOTIFY_FAILURE);
		delay_wants |= r->state == RCPT_PENDING && wants(r->notify, NOTIFY_DELAY);
	}
	d.report_failed = to_sender && failed_wants;
	d.remove = pending == 0 || d.expire;
	if (d.remove)
		return d;
	d.warn = to_sender && delay_wants && c->delay_warning > 0 && !env->warned &&
	    now - env->arrival >= c->delay_warning;
	d.next_try = now + runq_backoff(c, env->attempts + 1);
	return d;
}

/* runq_backoff - see runq_decide.h */
long runq_backoff(const struct config *c, int attempts)
{
	long d = c->retry_min;

	for (int i = 1; i < attempts && d < c->retry_max; i++)
		d = d > c->retry_max / 2 ? c->retry_max : d * 2;
	return d < c->retry_max ? d : c->retry_max;
}
