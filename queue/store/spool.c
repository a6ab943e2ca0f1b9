/*
 * spool.c - the maildir-style spool (see spool.h): the store and submission. With spool_run.c (what a
 * runner does with committed messages), the only files that know spool paths.
 *
 * SECURITY
 *	Everything is relative to directory fds pinned at spool_open (O_DIRECTORY|O_NOFOLLOW), so a
 *	symlink swapped in for a folder later is never followed; files are created with O_EXCL|O_NOFOLLOW
 *	and opened with O_NOFOLLOW|O_NONBLOCK (a FIFO planted in the spool cannot hang us) and checked
 *	with fstat before use. Ids are checked with env_id_valid before they become part of a name.
 * DURABILITY
 *	A message exists once new/ID and data/ID both exist. A submission makes the empty mark new/ID
 *	first, held (flocked) until it ends, and fsyncs new/ while the parser reads the message; the
 *	commit point is the rename of the fully written, fsynced data file to data/ID, then an fsync of
 *	data/. So the caller waits for two fsyncs, not three, and a mark without its data (a submission
 *	that died) is never delivered, and is swept once nobody holds it. Every later change is a
 *	rename of a fully written, fsynced file, then an fsync of the directory. Removal goes envelope
 *	first, data last, so a crash can leave an orphan data file (swept after a day).
 */
#include "queue/store/spool.h"
#include "queue/store/spool_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)	/* the kernel's value; musl's headers do not name it */
#endif
#define ID_RANDOM_LEN 3	/* random octets in a queue id (its last 6 hex digits) */

const char *const spool_dirs[D_N] = { ".", "tmp", "data", "new", "deferred" };

struct spool_tx {
	struct spool *s;
	char id[ENV_ID_LEN + 1];
	int fd;			/* tmp/ID.data, O_RDWR */
	int markfd;		/* new/ID, flocked until the transaction ends */
	bool marked;		/* new/ has been synced with the mark in it */
	int markerr;		/* errno of a failed sync of new/: sticky (a second fsync may lie) */
	bool finished;		/* committed or cleaned up: abort only frees */
};

/* spool_serr - a storage failure: "spool: <strerror> while <what> <id>", code 75. Uses errno. */
int spool_serr(struct err *e, const char *what, const char *id)
{
	int saved = errno;

	return err_set(e, EX_TEMPFAIL, "spool: %s while %s %s", strerror(saved), what, id);
}

/* create_at - create dir/name exclusively, mode 0660 whatever the umask. */
static int create_at(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0660);

	if (fd >= 0 && fchmod(fd, 0660) < 0) {
		int saved = errno;
		close(fd);
		(void)unlinkat(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	return fd;
}

/* spool_write_file - create dir/name with the bytes of b, fsync and close it; on failure it is removed. */
int spool_write_file(int dirfd, const char *name, const struct buf *b)
{
	int fd, saved;

	if ((fd = create_at(dirfd, name, O_WRONLY)) < 0)
		return -1;
	if (fdio_write_all(fd, buf_str(b), b->len) < 0 || fsync(fd) < 0) {
		saved = errno;
		close(fd);
		(void)unlinkat(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	if (close(fd) < 0) {
		saved = errno;
		(void)unlinkat(dirfd, name, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* spool_move - rename fromdir/from to todir/to; refuse to replace unless `replace`. renameat2 is
 * made as a raw system call: musl has no wrapper for it. */
int spool_move(int fromdir, const char *from, int todir, const char *to, bool replace)
{
	if (replace)
		return renameat(fromdir, from, todir, to);
	if (syscall(SYS_renameat2, fromdir, from, todir, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	return renameat(fromdir, from, todir, to);	/* a file system without RENAME_NOREPLACE */
}

/* spool_unlink_quiet - unlink, where "already gone" is fine. */
int spool_unlink_quiet(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}

/* spool_open - see spool.h */
struct spool *spool_open(const char *root, struct err *e)
{
	struct spool *s = xcalloc(1, sizeof *s);
	int i;

	for (i = 0; i < D_N; i++)
		s->fd[i] = -1;
	s->fd[D_ROOT] = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->fd[D_ROOT] < 0) {
		err_set(e, EX_TEMPFAIL, "spool: %s: %s", root, strerror(errno));
		goto fail;
	}
	for (i = 1; i < D_N; i++) {
		s->fd[i] = openat(s->fd[D_ROOT], spool_dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->fd[i] < 0) {
			err_set(e, EX_TEMPFAIL, "spool: %s/%s: %s", root, spool_dirs[i], strerror(errno));
			goto fail;
		}
	}
	return s;
fail:
	spool_close(s);
	return NULL;
}

/* spool_init - see spool.h */
int spool_init(const char *root, gid_t gid, struct err *e)
{
	int i, fd, rootfd;

	if (mkdir(root, 0770) < 0 && errno != EEXIST)
		return err_set(e, EX_TEMPFAIL, "spool: mkdir %s: %s", root, strerror(errno));
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_set(e, EX_TEMPFAIL, "spool: %s: %s", root, strerror(errno));
	for (i = 0; i < D_N; i++) {
		if (i > 0 && mkdirat(rootfd, spool_dirs[i], 0770) < 0 && errno != EEXIST)
			goto fail;
		fd = i == 0 ? dup(rootfd) : openat(rootfd, spool_dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			goto fail;
		if (fchmod(fd, 0770) < 0 ||
		    (gid != (gid_t)-1 && geteuid() == 0 && fchown(fd, 0, gid) < 0)) {
			close(fd);
			goto fail;
		}
		close(fd);
	}
	close(rootfd);
	return 0;
fail:
	err_set(e, EX_TEMPFAIL, "spool: %s/%s: %s", root, spool_dirs[i], strerror(errno));
	close(rootfd);
	return -1;
}

/* spool_close - see spool.h */
void spool_close(struct spool *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < D_N; i++)
		if (s->fd[i] >= 0)
			close(s->fd[i]);
	free(s);
}

/* spool_tmp_name - "ID<suffix>" into out (NAME_MAX_LEN + 1 bytes). */
void spool_tmp_name(char *out, const char *id, const char *suffix)
{
	int n = snprintf(out, NAME_MAX_LEN + 1, "%s%s", id, suffix);

	if (n < 0 || n > NAME_MAX_LEN)
		abort();	/* callers pass fixed short suffixes */
}

/* new_id - seconds (8 hex), microseconds (5 hex), 24 random bits (6 hex): sorts by arrival. */
static int new_id(char out[ENV_ID_LEN + 1], struct err *e)
{
	struct timespec ts;
	unsigned char r[ID_RANDOM_LEN];
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return err_set(e, EX_TEMPFAIL, "spool: cannot make a queue id: %s", strerror(errno));
	n = snprintf(out, ENV_ID_LEN + 1, "%08llX%05lX%02X%02X%02X",
		     (unsigned long long)ts.tv_sec & 0xFFFFFFFFULL, (unsigned long)(ts.tv_nsec / 1000),
		     r[0], r[1], r[2]);
	if (n != ENV_ID_LEN)
		return err_set(e, EX_TEMPFAIL, "spool: cannot make a queue id");
	return 0;
}

/* make_mark - the empty new/ID, made in tmp/ and flocked before the rename shows it: until the
 * transaction ends, mailq does not list it (spool_committing) and the sweep leaves it alone. */
static int make_mark(struct spool_tx *t, struct err *e)
{
	struct spool *s = t->s;
	char mname[NAME_MAX_LEN + 1];

	spool_tmp_name(mname, t->id, ".new");
	if ((t->markfd = create_at(s->fd[D_TMP], mname, O_WRONLY)) < 0)
		return spool_serr(e, "marking", t->id);
	(void)flock(t->markfd, LOCK_EX);
	if (spool_move(s->fd[D_TMP], mname, s->fd[D_NEW], t->id, false) < 0) {
		spool_serr(e, "marking", t->id);
		(void)unlinkat(s->fd[D_TMP], mname, 0);
		close(t->markfd);
		t->markfd = -1;
		return -1;
	}
	return 0;
}

/* spool_tx_begin - see spool.h */
struct spool_tx *spool_tx_begin(struct spool *s, struct err *e)
{
	struct spool_tx *t = xcalloc(1, sizeof *t);
	char name[NAME_MAX_LEN + 1];
	int tries;

	t->s = s;
	t->markfd = -1;
	for (tries = 0; tries < 10; tries++) {
		if (new_id(t->id, e) < 0)
			break;
		spool_tmp_name(name, t->id, ".data");
		if ((t->fd = create_at(s->fd[D_TMP], name, O_RDWR)) >= 0) {
			/* held until the submission is over: a data file that nobody holds and that has no
			 * envelope is an orphan the sweep may remove at once (see spool_sweep) */
			(void)flock(t->fd, LOCK_EX);
			if (make_mark(t, e) == 0)
				return t;
			(void)unlinkat(s->fd[D_TMP], name, 0);
			close(t->fd);
			break;
		}
		if (errno != EEXIST) {
			spool_serr(e, "creating", name);
			break;
		}
	}
	if (tries == 10)
		err_set(e, EX_TEMPFAIL, "spool: cannot find a free queue id");
	free(t);
	return NULL;
}

/* spool_tx_mark - see spool.h */
int spool_tx_mark(struct spool_tx *t, struct err *e)
{
	if (t->marked)
		return 0;
	if (t->markerr == 0 && fsync(t->s->fd[D_NEW]) < 0)
		t->markerr = errno;
	if (t->markerr != 0) {
		errno = t->markerr;
		return spool_serr(e, "syncing the mark of", t->id);
	}
	t->marked = true;
	return 0;
}

/* spool_tx_child - see spool.h */
void spool_tx_child(struct spool_tx *t)
{
	if (t->markfd >= 0)
		close(t->markfd);
	t->markfd = -1;
	for (int i = 0; i < D_N; i++)
		if (t->s->fd[i] >= 0) {
			close(t->s->fd[i]);
			t->s->fd[i] = -1;
		}
}

const char *spool_tx_id(const struct spool_tx *t)
{
	return t->id;
}

int spool_tx_data_fd(const struct spool_tx *t)
{
	return t->fd;
}

/* uncommit - the fsync of data/ failed after data/ID was renamed there (EIO, a file system going
 * read-only): the data file may or may not be in place on disk. Take the message back: without its mark, or without its data file,
 * no runner delivers it and mailq does not list it, so the caller may be told that nothing was queued
 * (-1, code 75). If neither can be removed, the message stays whole in the queue and a runner will
 * deliver it: saying 75 then would make a retrying caller send it twice, so it is reported as queued
 * (1), with the reason in e for a warning. */
static int uncommit(struct spool_tx *t, struct err *e)
{
	struct spool *s = t->s;
	int saved = errno, gone = 0;

	gone += unlinkat(s->fd[D_NEW], t->id, 0) == 0;
	gone += unlinkat(s->fd[D_DATA], t->id, 0) == 0;
	if (gone > 0) {
		errno = saved;
		return spool_serr(e, "syncing", t->id);
	}
	err_set(e, EX_TEMPFAIL, "spool: %s while syncing %s, which could not be taken back (%s): it stays "
		"queued, but is not known to be on disk", strerror(saved), t->id, strerror(errno));
	return 1;
}

/* unmark - take the mark away (the message was not committed). */
static void unmark(struct spool_tx *t)
{
	if (t->markfd < 0)
		return;
	(void)unlinkat(t->s->fd[D_NEW], t->id, 0);
	close(t->markfd);
	t->markfd = -1;
}

/* spool_tx_commit - see spool.h. Each step undoes the earlier ones when it fails. */
int spool_tx_commit(struct spool_tx *t, const struct envelope *env, struct err *e)
{
	struct spool *s = t->s;
	char dname[NAME_MAX_LEN + 1];
	struct stat st;
	struct buf b;
	int r;

	if (t->finished)
		return err_set(e, EX_SOFTWARE, "spool: transaction %s already finished", t->id);
	spool_tmp_name(dname, t->id, ".data");
	buf_init(&b, LIM_ENVELOPE_FILE + TRAILER_FOOT);
	if (strcmp(env->id, t->id) != 0) {
		err_set(e, EX_SOFTWARE, "spool: envelope id %.*s is not the transaction's %s", ENV_ID_LEN, env->id, t->id);
		goto undo_data;
	}
	if (fstat(t->fd, &st) < 0) {
		spool_serr(e, "writing", t->id);
		goto undo_data;
	}
	if (st.st_size != env->size) {
		err_set(e, EX_SOFTWARE, "spool: envelope size %lld but data file %lld bytes for %s",
			env->size, (long long)st.st_size, t->id);
		goto undo_data;
	}
	/* the envelope rides at the end of the data file: one file per message to write and to remove */
	if (env_format(env, &b, e) < 0)
		goto undo_data;
	if (buf_printf(&b, TRAILER_FMT, b.len) < 0) {
		err_set(e, EX_SOFTWARE, "spool: envelope of %s too large", t->id);
		goto undo_data;
	}
	if (fdio_pwrite_all(t->fd, b.data, b.len, (off_t)env->size) < 0 || fsync(t->fd) < 0) {
		spool_serr(e, "writing", t->id);
		goto undo_data;
	}
	if (spool_tx_mark(t, e) < 0)	/* (done already when the caller synced it while the parser ran) */
		goto undo_data;
	/* the commit point: data/ID beside its mark. Until data/ is synced, the mark's lock keeps mailq
	 * from listing a commit that may still be taken back, and the data file's keeps runners off */
	if (spool_move(s->fd[D_TMP], dname, s->fd[D_DATA], t->id, false) < 0) {
		spool_serr(e, "renaming", t->id);
		goto undo_data;
	}
	r = fsync(s->fd[D_DATA]) < 0 ? uncommit(t, e) : 0;
	close(t->markfd);	/* the commit is complete (or taken back): mailq may look */
	t->markfd = -1;
	buf_free(&b);
	t->finished = true;
	return r;
undo_data:
	(void)unlinkat(s->fd[D_TMP], dname, 0);
	unmark(t);
	buf_free(&b);
	t->finished = true;
	return -1;
}

/* spool_committing - see spool.h */
int spool_committing(struct spool *s, const char *id)
{
	int fd, busy = 0;

	if (!env_id_valid(id, strlen(id)))
		return 0;
	if ((fd = openat(s->fd[D_NEW], id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		busy = errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* spool_tx_abort - see spool.h */
void spool_tx_abort(struct spool_tx *t)
{
	char name[NAME_MAX_LEN + 1];

	if (t == NULL)
		return;
	if (!t->finished) {
		spool_tmp_name(name, t->id, ".data");
		(void)unlinkat(t->s->fd[D_TMP], name, 0);
		unmark(t);
	}
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

#define WARNING_NAME "runner-warning"

/* spool_warning_set - see spool.h */
int spool_warning_set(struct spool *s, const char *text)
{
	char tmp[sizeof WARNING_NAME + 24];
	struct buf b;
	int r;

	if (text == NULL)
		return spool_unlink_quiet(s->fd[D_ROOT], WARNING_NAME);
	(void)snprintf(tmp, sizeof tmp, WARNING_NAME ".%ld", (long)getpid());
	(void)unlinkat(s->fd[D_TMP], tmp, 0);	/* a leftover of a killed run with our pid */
	buf_init(&b, SPOOL_WARNING_MAX + 2);
	if (buf_add(&b, text, strnlen(text, SPOOL_WARNING_MAX)) < 0 || buf_addc(&b, '\n') < 0) {
		buf_free(&b);
		errno = EOVERFLOW;
		return -1;
	}
	r = spool_write_file(s->fd[D_TMP], tmp, &b);
	buf_free(&b);
	if (r == 0 && (r = spool_move(s->fd[D_TMP], tmp, s->fd[D_ROOT], WARNING_NAME, true)) < 0)
		(void)unlinkat(s->fd[D_TMP], tmp, 0);
	return r;
}

/* spool_warning_get - see spool.h */
int spool_warning_get(struct spool *s, char *dst, size_t n)
{
	int fd = openat(s->fd[D_ROOT], WARNING_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t got;
	char *nl;

	if (n == 0)
		return 0;
	dst[0] = '\0';
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (got = read(fd, dst, n - 1)) <= 0) {
		close(fd);
		dst[0] = '\0';
		return 0;
	}
	close(fd);
	dst[got] = '\0';
	if ((nl = memchr(dst, '\n', (size_t)got)) != NULL)
		*nl = '\0';
	return dst[0] != '\0';
}
