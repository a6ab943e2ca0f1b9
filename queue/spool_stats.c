/*
 * spool_stats.c - the spool's counters file (stats.h): added to under a lock, read without one.
 *
 * The counters are "counters" in the spool root, replaced whole by a rename (a reader never sees half
 * a file); writers serialise on flock of "counters.lock", which is never replaced (a lock on the
 * counters file itself would be lost with the inode each rename retires). Each runner process adds
 * what it counted once, at its end, so the cost is one small read, write and rename per pass and per
 * worker that finished messages, never per message.
 * SECURITY
 *	Both files are opened relative to the pinned root with O_NOFOLLOW, the counters file must be a
 *	regular file and is parsed strictly (stats_parse) and bounded (STATS_FILE_MAX).
 */
#include "queue/spool.h"
#include "queue/spool_int.h"
#include "queue/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"

#define COUNTERS_NAME "counters"
#define COUNTERS_LOCK "counters.lock"

/* read_counters - 1 read (into *c), 0 none yet, -1 unreadable or malformed (e says why). */
static int read_counters(struct spool *s, struct stats_counters *c, struct err *e)
{
	char text[STATS_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd = openat(s->fd[D_ROOT], COUNTERS_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	memset(c, 0, sizeof *c);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return spool_serr(e, "opening", COUNTERS_NAME);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, EX_DATAERR, "spool: %s is not a regular file", COUNTERS_NAME);
	}
	n = fdio_pread_all(fd, text, sizeof text, 0);
	close(fd);
	if (n < 0)
		return spool_serr(e, "reading", COUNTERS_NAME);
	if (stats_parse(text, (size_t)n, c, e) < 0)
		return err_prefix(e, "spool: %s (remove it to start the counters again)", COUNTERS_NAME);
	return 1;
}

/* spool_counters_get - see spool.h */
int spool_counters_get(struct spool *s, struct stats_counters *c, struct err *e)
{
	return read_counters(s, c, e);
}

/* spool_counters_add - see spool.h */
int spool_counters_add(struct spool *s, const struct stats_counters *d, long long now, struct err *e)
{
	struct stats_counters c;
	char tmp[sizeof COUNTERS_NAME + 24];
	struct buf b;
	int lk, r;

	if (stats_empty(d))
		return 0;
	lk = openat(s->fd[D_ROOT], COUNTERS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (lk < 0)
		return spool_serr(e, "opening", COUNTERS_LOCK);
	while ((r = flock(lk, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		close(lk);
		return spool_serr(e, "locking", COUNTERS_LOCK);
	}
	if ((r = read_counters(s, &c, e)) < 0)
		goto out;
	if (r == 0)
		c.since = now;
	stats_add(&c, d);
	(void)snprintf(tmp, sizeof tmp, COUNTERS_NAME ".%ld", (long)getpid());
	(void)unlinkat(s->fd[D_TMP], tmp, 0);	/* a leftover of a killed run with our pid */
	buf_init(&b, STATS_FILE_MAX);
	if ((r = stats_format(&c, &b, e)) == 0) {
		/* (not synced: a crash may lose a pass's counts, never a message) */
		if ((r = spool_write_file(s->fd[D_TMP], tmp, &b)) < 0 ||
		    (r = spool_move(s->fd[D_TMP], tmp, s->fd[D_ROOT], COUNTERS_NAME, true)) < 0) {
			r = spool_serr(e, "writing", COUNTERS_NAME);
			(void)unlinkat(s->fd[D_TMP], tmp, 0);
		}
	}
	buf_free(&b);
out:
	close(lk);	/* (releases the lock) */
	return r < 0 ? -1 : 0;
}
