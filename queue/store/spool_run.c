/*
 * spool_run.c - what a queue runner (and mailq) does with committed messages: list them, sweep what
 * crashes left, lock one, read its envelope, record a deferral, remove it. See spool.h; spool.c has
 * the store itself and submission.
 *
 * SECURITY: as in spool.c, everything is relative to the pinned folder fds, opened with
 * O_NOFOLLOW|O_NONBLOCK and checked with fstat; ids are checked before they become names.
 */
#include "queue/store/spool.h"
#include "queue/store/spool_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"

#define SPOOL_CHUNK 8192	/* what one read of a queue file takes */
#define ENV_TMP_SUFFIX_MAX 16	/* an update's temporary name suffix, ".env.XXXXXXXX" */
#define ENV_TMP_RANDOM_LEN 4	/* random octets in that suffix (8 hex digits) */

/* list_ids - the valid ids among the names in a folder, appended to *v as `state`. */
static int list_ids(int dirfd, enum spool_state state, struct spool_entry **v, size_t *n, size_t *cap)
{
	struct dirent *d;
	DIR *dir;
	int fd;

	if ((fd = dup(dirfd)) < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	rewinddir(dir);	/* the dup shares the offset of the pinned fd */
	while ((errno = 0, d = readdir(dir)) != NULL) {
		if (!env_id_valid(d->d_name, strlen(d->d_name)))
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			*v = xreallocarray(*v, *cap, sizeof **v);
		}
		memset(&(*v)[*n], 0, sizeof **v);
		memcpy((*v)[*n].id, d->d_name, ENV_ID_LEN + 1);
		(*v)[(*n)++].state = state;
	}
	fd = errno;
	closedir(dir);
	errno = fd;
	return errno ? -1 : 0;
}

/* entry_cmp - by id; for equal ids DEFERRED first. */
static int entry_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	return c != 0 ? c : (int)y->state - (int)x->state;
}

/* spool_scan - see spool.h */
int spool_scan(struct spool *s, struct spool_entry **v, size_t *n, struct err *e)
{
	size_t cap = 0, i, j;

	*v = NULL;
	*n = 0;
	if (list_ids(s->fd[D_DEFERRED], SPOOL_DEFERRED, v, n, &cap) < 0 ||
	    list_ids(s->fd[D_NEW], SPOOL_NEW, v, n, &cap) < 0) {
		spool_serr(e, "listing", "the queue");
		free(*v);
		*v = NULL;
		*n = 0;
		return -1;
	}
	if (*n == 0)
		return 0;
	qsort(*v, *n, sizeof **v, entry_cmp);
	for (i = 0, j = 1; j < *n; j++) {
		if (strcmp((*v)[i].id, (*v)[j].id) == 0)
			(*v)[i].stale_new = true;	/* [i] is DEFERRED, [j] its stale NEW */
		else
			(*v)[++i] = (*v)[j];
	}
	*n = i + 1;
	return 0;
}

/* exists_at - dir/name exists (as anything). */
static bool exists_at(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
}

/* spool_sweep - see spool.h */
/* orphan - a data file with no envelope that no submitter or runner holds: left by a submitter or a
 * runner that died between its two steps. The lock is taken before the envelope is looked for again,
 * so a commit that was just finishing is seen. */
static bool orphan(struct spool *s, const char *id)
{
	int fd = openat(s->fd[D_DATA], id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool r;

	if (fd < 0)
		return false;
	r = flock(fd, LOCK_EX | LOCK_NB) == 0 && !exists_at(s->fd[D_NEW], id) && !exists_at(s->fd[D_DEFERRED], id);
	close(fd);
	return r;
}

/* unheld - dir/name is a regular file that no process holds a flock on (a submission holds its tmp/
 * data file until it ends). */
static bool unheld(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool r;

	if (fd < 0)
		return false;
	r = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	return r;
}

/* lone_mark - new/ID with no data/ID that no submission holds: left by a submitter that died before its
 * commit point. The lock is taken before data/ID is looked for, so a commit just finishing is seen. */
static bool lone_mark(struct spool *s, const char *id)
{
	int fd = openat(s->fd[D_NEW], id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	bool r;

	if (fd < 0)
		return false;
	r = flock(fd, LOCK_EX | LOCK_NB) == 0 && !exists_at(s->fd[D_DATA], id);
	close(fd);
	return r;
}

/* scanned - id is among the scan's entries (sorted by id). */
static bool scanned(const struct spool_entry *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, v[mid].id);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

int spool_sweep(struct spool *s, long long now, const struct spool_entry *v, size_t n, struct err *e)
{
	static const int folders[] = { D_TMP, D_DATA };
	struct dirent *d;
	struct stat st;
	DIR *dir;
	int fd, count = 0;
	size_t k;

	for (k = 0; k < sizeof folders / sizeof folders[0]; k++) {
		int f = folders[k];
		if ((fd = dup(s->fd[f])) < 0 || (dir = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			return spool_serr(e, "sweeping", spool_dirs[f]);
		}
		rewinddir(dir);
		while ((d = readdir(dir)) != NULL) {
			bool stale = false;
			if (d->d_name[0] == '.' || d->d_type == DT_DIR)
				continue;
			if (f == D_TMP) {
				stale = fstatat(s->fd[f], d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					!S_ISDIR(st.st_mode) && (st.st_mtime < now - SPOOL_STALE_SECONDS ||
					(st.st_mtime < now - SPOOL_TMP_UNLOCKED_SECONDS && unheld(s->fd[f], d->d_name)));
			} else if (env_id_valid(d->d_name, strlen(d->d_name)) && !scanned(v, n, d->d_name)) {
				/* a queued message costs nothing here; what the scan did not see is looked at
				 * again on disk (it may have been committed since). ctime: the rename into data/
				 * counts as a change */
				stale = !exists_at(s->fd[D_NEW], d->d_name) &&
					!exists_at(s->fd[D_DEFERRED], d->d_name) &&
					fstatat(s->fd[f], d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					!S_ISDIR(st.st_mode) &&
					(st.st_ctime < now - SPOOL_STALE_SECONDS || orphan(s, d->d_name));
			}
			if (stale && unlinkat(s->fd[f], d->d_name, 0) == 0)
				count++;
		}
		closedir(dir);
	}
	/* new/ID left beside deferred/ID by a runner that died between its rename and its unlink, and
	 * new/ID without data/ID, by a submitter that died before its commit point */
	for (k = 0; k < n; k++)
		if (((v[k].stale_new && exists_at(s->fd[D_DEFERRED], v[k].id)) ||
		    (v[k].state == SPOOL_NEW && lone_mark(s, v[k].id))) && unlinkat(s->fd[D_NEW], v[k].id, 0) == 0)
			count++;
	return count;
}

/* open_data - open data/ID for reading without following links or blocking on a FIFO. */
static int open_data(struct spool *s, const char *id)
{
	return openat(s->fd[D_DATA], id, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

/* spool_lock - see spool.h */
int spool_lock(struct spool *s, const char *id, struct spool_msg **m, struct err *e)
{
	struct stat st;
	int fd;

	*m = NULL;
	if (!env_id_valid(id, strlen(id)))
		return err_set(e, EX_SOFTWARE, "spool: bad queue id");
	if ((fd = open_data(s, id)) < 0)
		return errno == ENOENT ? 0 : spool_serr(e, "opening", id);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;
		if (!busy)
			spool_serr(e, "locking", id);
		close(fd);
		return busy ? 0 : -1;
	}
	if (fstat(fd, &st) < 0) {
		spool_serr(e, "checking", id);
		close(fd);
		return -1;
	}
	if (st.st_nlink == 0) {	/* finished and unlinked between our open and our lock */
		close(fd);
		return 0;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || (st.st_uid != geteuid() && st.st_gid != getegid())) {
		close(fd);
		return err_set(e, EX_TEMPFAIL, "spool: data/%s is not a plain file owned by us: refusing it",
			       id);
	}
	*m = xcalloc(1, sizeof **m);
	(*m)->s = s;
	(*m)->fd = fd;
	(*m)->loc.dir = -1;
	memcpy((*m)->id, id, ENV_ID_LEN + 1);
	return 1;
}

/* spool_data_open - see spool.h */
int spool_data_open(struct spool *s, const char *id, struct err *e)
{
	struct stat st;
	int fd;

	if (!env_id_valid(id, strlen(id)))
		return err_set(e, EX_SOFTWARE, "spool: bad queue id");
	if ((fd = open_data(s, id)) < 0)
		return spool_serr(e, "opening", id);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != geteuid() && st.st_gid != getegid())) {
		close(fd);
		return err_set(e, EX_TEMPFAIL, "spool: data/%s is not a plain file owned by us: refusing it", id);
	}
	return fd;
}

/* read_at - read a whole regular file of at most ENV_MAX_FILE bytes, noting where (loc). 1, 0 (no such
 * file), -1. */
static int read_at(int dirfd, const char *name, struct buf *b, struct spool_loc *loc, struct err *e)
{
	struct stat st;
	char chunk[SPOOL_CHUNK];
	ssize_t r;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : spool_serr(e, "opening envelope", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, EX_TEMPFAIL, "spool: envelope %s is not a regular file", name);
	}
	loc->base = 0;
	loc->dev = st.st_dev;
	loc->ino = st.st_ino;
	loc->mtime = (long long)st.st_mtime;
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf_add(b, chunk, (size_t)r) < 0) {
			close(fd);
			return err_set(e, EX_TEMPFAIL, "spool: envelope %s over %zu bytes", name,
				       ENV_MAX_FILE);
		}
		if ((size_t)r < sizeof chunk)
			break;	/* a short read of a regular file is its end (envelopes never change) */
	}
	if (r < 0) {
		spool_serr(e, "reading envelope", name);
		close(fd);
		return -1;
	}
	close(fd);
	return 1;
}

/* read_trailer - the envelope at the end of data file fd into b; *msgsize = the message's length. 1, or
 * -1 when the file has no well-formed trailer. */
static int read_trailer(int fd, const char *id, struct buf *b, long long *msgsize, struct spool_loc *loc,
    struct err *e)
{
	char foot[TRAILER_FOOT + 1];
	struct stat st;
	size_t len;
	char *end;

	if (fstat(fd, &st) < 0)
		return spool_serr(e, "reading envelope of", id);
	if (!S_ISREG(st.st_mode) || st.st_size < TRAILER_FOOT ||
	    fdio_pread_all(fd, foot, TRAILER_FOOT, st.st_size - TRAILER_FOOT) != TRAILER_FOOT)
		return err_set(e, EX_TEMPFAIL, "spool: data/%s has no envelope", id);
	foot[TRAILER_FOOT] = '\0';
	if (strncmp(foot, TRAILER_TAG, sizeof TRAILER_TAG - 1) != 0 || foot[TRAILER_FOOT - 1] != '\n' ||
	    (len = strtoul(foot + sizeof TRAILER_TAG - 1, &end, 10), end != foot + TRAILER_FOOT - 1) ||
	    len > LIM_ENVELOPE_FILE || (off_t)len > st.st_size - TRAILER_FOOT)
		return err_set(e, EX_TEMPFAIL, "spool: data/%s has a damaged envelope trailer", id);
	*msgsize = (long long)(st.st_size - TRAILER_FOOT - (off_t)len);
	loc->base = (off_t)*msgsize;
	loc->dev = st.st_dev;
	loc->ino = st.st_ino;
	loc->mtime = (long long)st.st_mtime;
	buf_reset(b);
	if (len > b->max)
		return err_set(e, EX_TEMPFAIL, "spool: envelope of %s too large", id);
	for (size_t k = 0; k < len;) {
		char chunk[SPOOL_CHUNK];
		size_t want = len - k < sizeof chunk ? len - k : sizeof chunk;

		if (fdio_pread_all(fd, chunk, want, (off_t)*msgsize + (off_t)k) != (ssize_t)want)
			return err_set(e, EX_TEMPFAIL, "spool: data/%s: short envelope trailer", id);
		if (buf_add(b, chunk, want) < 0)
			return err_set(e, EX_TEMPFAIL, "spool: envelope of %s too large", id);
		k += want;
	}
	return 1;
}

/* mark_at - what new/ID is: 0 none, 1 the empty mark of a new message (its envelope ends the data
 * file), -1 it cannot be looked at (errno set), -2 anything but an empty regular file. One fstatat:
 * the common case reads nothing. */
static int mark_at(int dirfd, const char *id)
{
	struct stat st;

	if (fstatat(dirfd, id, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	return S_ISREG(st.st_mode) && st.st_size == 0 ? 1 : -2;
}

/* hold - a recipient "delayed" in place: the attempt at mtime could not be recorded; not due before
 * SPOOL_HOLD_SECONDS after it (a spool that cannot record needs its operator more than another try). */
static void hold(struct envelope *env, long long mtime)
{
	for (size_t i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].state == RCPT_PENDING && env->rcpt[i].inplace) {
			if (env->next_try < mtime + SPOOL_HOLD_SECONDS)
				env->next_try = mtime + SPOOL_HOLD_SECONDS;
			return;
		}
}

/* read_env - the envelope of id: deferred/ID, else (new/ID, which must be empty) the trailer of the
 * data file (datafd, or data/ID opened here when datafd < 0). Where it was read goes in *loc.
 * 1 read, 0 gone, -1 error. */
static int read_env(struct spool *s, const char *id, int datafd, struct envelope *env, struct spool_loc *loc,
    struct err *e)
{
	long long msgsize = -1;
	struct buf b;
	int r, fd, mark = 0;

	memset(env, 0, sizeof *env);
	loc->dir = -1;
	if (!env_id_valid(id, strlen(id)))
		return err_set(e, EX_SOFTWARE, "spool: bad queue id");
	buf_init(&b, ENV_MAX_FILE);
	if ((r = read_at(s->fd[D_DEFERRED], id, &b, loc, e)) == 1) {
		loc->dir = D_DEFERRED;
	} else if (r == 0 && (mark = mark_at(s->fd[D_NEW], id)) < 0) {
		r = mark == -1 ? spool_serr(e, "checking new/", id) :
		    err_set(e, EX_TEMPFAIL, "spool: new/%s is not an empty file", id);
	} else if (r == 0 && mark == 1) {
		if ((fd = datafd) < 0 && (fd = open_data(s, id)) < 0) {
			r = errno == ENOENT ? 0 : spool_serr(e, "opening", id);	/* finished meanwhile */
		} else {
			r = read_trailer(fd, id, &b, &msgsize, loc, e);
			loc->dir = D_DATA;
			if (fd != datafd)
				close(fd);
		}
	}
	if (r == 1 && env_parse(buf_str(&b), b.len, env, e) < 0) {
		err_prefix(e, "spool: %s", id);
		r = -1;
	} else if (r == 1 && strcmp(env->id, id) != 0) {
		env_free(env);
		r = err_set(e, EX_TEMPFAIL, "spool: envelope %s names another message", id);
	} else if (r == 1 && msgsize >= 0 && env->size != msgsize) {
		r = err_set(e, EX_TEMPFAIL, "spool: data/%s holds %lld bytes of message, its envelope says %lld", id, msgsize,
		    env->size);
		env_free(env);
	}
	if (r == 1)
		hold(env, loc->mtime);
	else
		loc->dir = -1;
	buf_free(&b);
	return r;
}

/* spool_read_env - see spool.h */
int spool_read_env(struct spool *s, const char *id, struct envelope *env, struct err *e)
{
	struct spool_loc loc;

	return read_env(s, id, -1, env, &loc, e);
}

/* spool_msg_env - see spool.h */
int spool_msg_env(struct spool_msg *m, struct envelope *env, struct err *e)
{
	int r = read_env(m->s, m->id, m->fd, env, &m->loc, e);

	free(m->at);
	m->at = NULL;
	m->nat = 0;
	if (r == 0)
		return err_set(e, EX_TEMPFAIL, "spool: %s has no envelope", m->id);
	if (r < 0)
		return -1;
	m->at = xcalloc(env->nrcpt, sizeof *m->at);
	for (m->nat = 0; m->nat < env->nrcpt; m->nat++)
		m->at[m->nat] = env->rcpt[m->nat].state_at;
	return 0;
}

int spool_msg_data_fd(struct spool_msg *m)
{
	return m->fd;
}

/* spool_msg_rewrite - see spool.h */
int spool_msg_rewrite(struct spool_msg *m, const struct envelope *env, struct err *e)
{
	struct spool *s = m->s;
	char name[NAME_MAX_LEN + 1], suffix[ENV_TMP_SUFFIX_MAX];
	unsigned char r[ENV_TMP_RANDOM_LEN];
	struct buf b;
	int rc = -1;

	if (strcmp(env->id, m->id) != 0)
		return err_set(e, EX_SOFTWARE, "spool: envelope id is not the locked message's %s", m->id);
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return spool_serr(e, "updating", m->id);
	if (snprintf(suffix, sizeof suffix, ".env.%02X%02X%02X%02X", r[0], r[1], r[2], r[3]) != 13)
		return err_set(e, EX_SOFTWARE, "spool: suffix");
	spool_tmp_name(name, m->id, suffix);
	buf_init(&b, ENV_MAX_FILE);
	if (env_format(env, &b, e) < 0)
		goto out;
	if (spool_write_file(s->fd[D_TMP], name, &b) < 0) {
		spool_serr(e, "writing", m->id);
		goto out;
	}
	if (spool_move(s->fd[D_TMP], name, s->fd[D_DEFERRED], m->id, true) < 0) {
		spool_serr(e, "renaming", m->id);
		(void)unlinkat(s->fd[D_TMP], name, 0);
		goto out;
	}
	/* from here the new file is the record: what was read can no longer be written in place */
	m->loc.dir = -1;
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* spool_sync_rewrites - see spool.h */
int spool_sync_rewrites(struct spool *s, struct spool_msg *const *ms, size_t n, struct err *e)
{
	if (n == 0)
		return 0;
	/* the renames first, then the marks' removal: a crash between the two leaves both, and
	 * deferred/ID is what is read */
	if (fsync(s->fd[D_DEFERRED]) < 0)
		return spool_serr(e, "syncing", ms[0]->id);
	for (size_t i = 0; i < n; i++)
		if (spool_unlink_quiet(s->fd[D_NEW], ms[i]->id) < 0)
			return spool_serr(e, "syncing", ms[i]->id);
	if (fsync(s->fd[D_NEW]) < 0)
		return spool_serr(e, "syncing", ms[0]->id);
	return 0;
}

/* spool_msg_update - see spool.h */
int spool_msg_update(struct spool_msg *m, const struct envelope *env, struct err *e)
{
	if (spool_msg_rewrite(m, env, e) < 0)
		return -1;
	return spool_sync_rewrites(m->s, &m, 1, e) < 0 ? 1 : 0;
}

/* spool_msg_id - see spool.h */
const char *spool_msg_id(const struct spool_msg *m)
{
	return m->id;
}

/* spool_msg_done - see spool.h */
int spool_msg_done(struct spool_msg *m, struct err *e)
{
	/* No fsync here: a removal that a crash undoes only means the message is sent again (it was
	 * delivered at least once either way), and three fsyncs per message would cap the runner's rate.
	 * The runner calls spool_sync once per batch. */
	if (spool_msg_settle(m, e) < 0)
		return -1;
	/* (again, if it was settled in place: the data goes only after its envelope, so that the next
	 * run still reads "done---" and only removes it) */
	if (spool_unlink_quiet(m->s->fd[D_NEW], m->id) < 0 || spool_unlink_quiet(m->s->fd[D_DEFERRED], m->id) < 0 ||
	    spool_unlink_quiet(m->s->fd[D_DATA], m->id) < 0)
		return spool_serr(e, "removing the settled message", m->id);
	return 0;
}

int spool_sync(struct spool *s, struct err *e)
{
	if (fsync(s->fd[D_NEW]) < 0 || fsync(s->fd[D_DEFERRED]) < 0 || fsync(s->fd[D_DATA]) < 0)
		return spool_serr(e, "syncing", "the spool");
	return 0;
}

/* spool_msg_unlock - see spool.h */
void spool_msg_unlock(struct spool_msg *m)
{
	if (m == NULL)
		return;
	close(m->fd);
	free(m->at);
	free(m);
}

/* spool_is_locked - see spool.h */
int spool_is_locked(struct spool *s, const char *id)
{
	int fd, locked = 0;

	if (!env_id_valid(id, strlen(id)) || (fd = open_data(s, id)) < 0)
		return 0;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		locked = errno == EWOULDBLOCK;
	close(fd);
	return locked;
}

/* spool_scratch - see spool.h */
int spool_scratch(struct spool *s, struct err *e)
{
	int fd = openat(s->fd[D_TMP], ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_set(e, EX_TEMPFAIL, "spool: an unnamed file in tmp/: %s", strerror(errno));
	return fd;
}
