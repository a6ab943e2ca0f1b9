/*
 * spool_stats.c - the spool's counters file (stats.h): added to under a lock, read under a shared one.
 *
 * The counters are "counters" in the spool root, rewritten in place (pwrite at 0, then ftruncate) under
 * flock of "counters.lock", so that both keep the owner of whoever created them. Only a run by root or
 * the postern user creates them (counting starts with the first such run); a caller's own run (any
 * local user's `sendmail -q`, or the run started after their submission) adds to existing files but
 * never creates one: a file of the spool owned by a local user would be theirs to change or remove.
 * Each runner process adds what it counted once, at its end: one small read and write per pass and
 * per worker that finished messages, never per message.
 * SECURITY
 *	Both files are opened relative to the pinned root with O_NOFOLLOW; the counters file must be a
 *	regular file and is parsed strictly (stats_parse) and bounded (STATS_FILE_MAX). The lock is never
 *	waited for without end: a holder that stops (a local user can stop their own run) costs the counts
 *	of the runs that give up after STATS_LOCK_TRIES, never a delivery.
 */
#include "queue/store/spool.h"
#include "queue/store/spool_int.h"
#include "queue/store/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"

#define COUNTERS_NAME "counters"
#define COUNTERS_LOCK "counters.lock"
/* How long the lock is waited for: STATS_LOCK_TRIES tries STATS_LOCK_WAIT_MS apart (a holder keeps it
 * for a read and a write of a few hundred bytes). */
#define STATS_LOCK_TRIES 100
#define STATS_LOCK_WAIT_MS 10

/* open_lock - the lock file, locked (op: LOCK_EX or LOCK_SH); -1 with errno (ENOENT: none yet,
 * EWOULDBLOCK: still busy after the tries). */
static int open_lock(struct spool *s, bool create, int op)
{
	struct timespec ts = { 0, STATS_LOCK_WAIT_MS * 1000000L };
	int fd = openat(s->fd[D_ROOT], COUNTERS_LOCK, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0660);

	if (fd < 0)
		return -1;
	for (int i = 0; i < STATS_LOCK_TRIES; i++) {
		if (flock(fd, op | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR)
			break;
		(void)nanosleep(&ts, NULL);
	}
	close(fd);
	errno = EWOULDBLOCK;
	return -1;
}

/* read_counters - the counters file fd's text into *c. 1 read, 0 empty (none yet), -1 (e says why). */
static int read_counters(int fd, struct stats_counters *c, struct err *e)
{
	char text[STATS_FILE_MAX + 1];
	struct stat st;
	ssize_t n;

	memset(c, 0, sizeof *c);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return err_set(e, EX_DATAERR, "spool: %s is not a regular file", COUNTERS_NAME);
	if ((n = fdio_pread_all(fd, text, sizeof text, 0)) < 0)
		return spool_serr(e, "reading", COUNTERS_NAME);
	if (n == 0)
		return 0;
	if (stats_parse(text, (size_t)n, c, e) < 0)
		return err_prefix(e, "spool: %s (remove it to start the counters again)", COUNTERS_NAME);
	return 1;
}

/* spool_counters_get - see spool.h */
int spool_counters_get(struct spool *s, struct stats_counters *c, struct err *e)
{
	int lk = open_lock(s, false, LOCK_SH), fd, r;

	/* (no lock file: nothing was ever counted; a lock still busy: read anyway, at worst a torn read
	 * that stats_parse refuses) */
	fd = openat(s->fd[D_ROOT], COUNTERS_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		memset(c, 0, sizeof *c);
		r = errno == ENOENT ? 0 : spool_serr(e, "opening", COUNTERS_NAME);
	} else {
		r = read_counters(fd, c, e);
		close(fd);
	}
	if (lk >= 0)
		close(lk);
	return r;
}

/* spool_counters_add - see spool.h */
int spool_counters_add(struct spool *s, const struct stats_counters *d, long long now, bool create,
    struct err *e)
{
	struct stats_counters c;
	struct buf b;
	int lk, fd, r;

	if (stats_empty(d))
		return 0;
	if ((lk = open_lock(s, create, LOCK_EX)) < 0) {
		if (errno == ENOENT && !create)
			return 0;	/* (not started yet: a run by root or the postern user starts them) */
		return errno == EWOULDBLOCK ? err_set(e, EX_TEMPFAIL, "spool: %s is busy", COUNTERS_LOCK) :
		    spool_serr(e, "opening", COUNTERS_LOCK);
	}
	fd = openat(s->fd[D_ROOT], COUNTERS_NAME, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | (create ? O_CREAT : 0),
	    0660);
	if (fd < 0) {
		r = errno == ENOENT && !create ? 0 : spool_serr(e, "opening", COUNTERS_NAME);
		close(lk);
		return r;
	}
	if ((r = read_counters(fd, &c, e)) >= 0) {
		if (r == 0)
			c.since = now;
		stats_add(&c, d);
		buf_init(&b, STATS_FILE_MAX);
		/* (in place, not synced: a crash may lose a pass's counts, never a message) */
		if ((r = stats_format(&c, &b, e)) == 0 &&
		    (fdio_pwrite_all(fd, b.data, b.len, 0) < 0 || ftruncate(fd, (off_t)b.len) < 0))
			r = spool_serr(e, "writing", COUNTERS_NAME);
		buf_free(&b);
	}
	close(fd);
	close(lk);	/* (releases the lock) */
	return r < 0 ? -1 : 0;
}
