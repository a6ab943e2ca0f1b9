/*
 * reaper.c - removing finished messages in a thread beside the delivery. See reaper.h.
 */
#include "queue/store/reaper.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/err.h"

struct reaper {
	struct log *lg;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct spool_msg **m;	/* added, in order; [done, added) are waiting */
	size_t max, added, done;
	bool closing;
};

/* reaper_remove - see reaper.h */
void reaper_remove(struct log *lg, struct spool_msg *m)
{
	struct err e;

	err_clear(&e);
	if (spool_msg_done(m, &e) < 0)
		log_msg(lg, LOG_ERR, "%s: cannot remove the delivered message: %s", spool_msg_id(m), e.msg);
	else
		log_msg(lg, LOG_INFO, "%s: removed", spool_msg_id(m));
	spool_msg_unlock(m);	/* the lock goes only now that the files are gone */
}

static void *reap(void *arg)
{
	struct reaper *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->done == r->added && !r->closing)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->done == r->added)
			break;
		struct spool_msg *m = r->m[r->done];

		pthread_mutex_unlock(&r->mu);
		reaper_remove(r->lg, m);	/* (it logs what goes wrong) */
		pthread_mutex_lock(&r->mu);
		r->done++;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/* reaper_start - see reaper.h */
struct reaper *reaper_start(struct log *lg, size_t max)
{
	struct reaper *r = xcalloc(1, sizeof *r);
	sigset_t all, old;
	int rc;

	r->lg = lg;
	r->max = max;
	r->m = xcalloc(max ? max : 1, sizeof *r->m);
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	/* the thread inherits this mask: every signal stays with the worker's own thread */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&r->th, NULL, reap, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&r->cv);
		pthread_mutex_destroy(&r->mu);
		free(r->m);
		free(r);
		return NULL;
	}
	return r;
}

/* reaper_add - see reaper.h */
void reaper_add(struct reaper *r, struct spool_msg *m)
{
	pthread_mutex_lock(&r->mu);
	if (r->added == r->max) {
		pthread_mutex_unlock(&r->mu);
		reaper_remove(r->lg, m);
		return;
	}
	r->m[r->added++] = m;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* reaper_finish - see reaper.h */
void reaper_finish(struct reaper *r)
{
	pthread_mutex_lock(&r->mu);
	r->closing = true;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->th, NULL);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r->m);
	free(r);
}
