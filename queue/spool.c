/*
 * spool.c - the maildir-style spool (see spool.h). The only file that knows spool paths.
 *
 * SECURITY
 *	Everything is relative to directory fds pinned at spool_open (O_DIRECTORY|O_NOFOLLOW), so a
 *	symlink swapped in for a folder later is never followed; files are created with O_EXCL|O_NOFOLLOW
 *	and opened with O_NOFOLLOW|O_NONBLOCK (a FIFO planted in the spool cannot hang us) and checked
 *	with fstat before use. Ids are checked with env_id_valid before they become part of a name.
 * DURABILITY
 *	A message exists once new/ID exists; data/ID is renamed into place (and its directory fsynced)
 *	before that. Every later change is a rename of a fully written, fsynced file, then an fsync of
 *	the directory. Removal goes envelope first, data last, so a crash can leave an orphan data file
 *	(swept after a day) but never an envelope without its data.
 */
#include "queue/spool.h"

#include "lib/fdio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The pinned folders; D_ROOT is the spool root itself. */
enum { D_ROOT, D_TMP, D_DATA, D_NEW, D_DEFERRED, D_N };
static const char *const dirs[D_N] = { ".", "tmp", "data", "new", "deferred" };

/* A temporary or leftover file is old after a day (then spool_sweep removes it). */
#define SPOOL_STALE_SECONDS 86400
/* The envelope of a new message follows the message in its data file, then a fixed-size footer
 * giving the envelope's length: "ENVELOPE-LENGTH 0000207\n". */
#define TRAILER_TAG "ENVELOPE-LENGTH "
#define TRAILER_FMT TRAILER_TAG "%07zu\n"
#define TRAILER_FOOT 24
/* tmp/ names: "ID.data", "ID.env", "ID.env.XXXXXXXX". */
#define NAME_MAX_LEN (ENV_ID_LEN + 16)

struct spool {
	int fd[D_N];
};

struct spool_tx {
	struct spool *s;
	char id[ENV_ID_LEN + 1];
	int fd;			/* tmp/ID.data, O_RDWR */
	bool finished;		/* committed or cleaned up: abort only frees */
};

struct spool_msg {
	struct spool *s;
	char id[ENV_ID_LEN + 1];
	int fd;			/* data/ID, holding the flock */
};

/* serr - a storage failure: "spool: <strerror> while <what> <id>", code 75. Uses errno. */
static int serr(struct err *e, const char *what, const char *id)
{
	int saved = errno;

	return err_set(e, 75, "spool: %s while %s %s", strerror(saved), what, id);
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

/* write_file - create dir/name with the bytes of b, fsync and close it; on failure it is removed. */
static int write_file(int dirfd, const char *name, const struct buf *b)
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

/* move - rename fromdir/from to todir/to; refuse to replace unless `replace`. */
static int move(int fromdir, const char *from, int todir, const char *to, bool replace)
{
	if (replace)
		return renameat(fromdir, from, todir, to);
	if (renameat2(fromdir, from, todir, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	return renameat(fromdir, from, todir, to);	/* a file system without RENAME_NOREPLACE */
}

/* unlink_quiet - unlink, where "already gone" is fine. */
static int unlink_quiet(int dirfd, const char *name)
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
		err_set(e, 75, "spool: %s: %s", root, strerror(errno));
		goto fail;
	}
	for (i = 1; i < D_N; i++) {
		s->fd[i] = openat(s->fd[D_ROOT], dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->fd[i] < 0) {
			err_set(e, 75, "spool: %s/%s: %s", root, dirs[i], strerror(errno));
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
		return err_set(e, 75, "spool: mkdir %s: %s", root, strerror(errno));
	if ((rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return err_set(e, 75, "spool: %s: %s", root, strerror(errno));
	for (i = 0; i < D_N; i++) {
		if (i > 0 && mkdirat(rootfd, dirs[i], 0770) < 0 && errno != EEXIST)
			goto fail;
		fd = i == 0 ? dup(rootfd) : openat(rootfd, dirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
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
	err_set(e, 75, "spool: %s/%s: %s", root, dirs[i], strerror(errno));
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

/* tmp_name - "ID<suffix>" into out (NAME_MAX_LEN + 1 bytes). */
static void tmp_name(char *out, const char *id, const char *suffix)
{
	int n = snprintf(out, NAME_MAX_LEN + 1, "%s%s", id, suffix);

	if (n < 0 || n > NAME_MAX_LEN)
		abort();	/* callers pass fixed short suffixes */
}

/* new_id - seconds (8 hex), microseconds (5 hex), 24 random bits (6 hex): sorts by arrival. */
static int new_id(char out[ENV_ID_LEN + 1], struct err *e)
{
	struct timespec ts;
	unsigned char r[3];
	int n;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return err_set(e, 75, "spool: cannot make a queue id: %s", strerror(errno));
	n = snprintf(out, ENV_ID_LEN + 1, "%08llX%05lX%02X%02X%02X",
		     (unsigned long long)ts.tv_sec & 0xFFFFFFFFULL, (unsigned long)(ts.tv_nsec / 1000),
		     r[0], r[1], r[2]);
	if (n != ENV_ID_LEN)
		return err_set(e, 75, "spool: cannot make a queue id");
	return 0;
}

/* spool_tx_begin - see spool.h */
struct spool_tx *spool_tx_begin(struct spool *s, struct err *e)
{
	struct spool_tx *t = xcalloc(1, sizeof *t);
	char name[NAME_MAX_LEN + 1];
	int tries;

	t->s = s;
	for (tries = 0; tries < 10; tries++) {
		if (new_id(t->id, e) < 0)
			break;
		tmp_name(name, t->id, ".data");
		if ((t->fd = create_at(s->fd[D_TMP], name, O_RDWR)) >= 0) {
			/* held until the submission is over: a data file that nobody holds and that has no
			 * envelope is an orphan the sweep may remove at once (see spool_sweep) */
			(void)flock(t->fd, LOCK_EX);
			return t;
		}
		if (errno != EEXIST) {
			serr(e, "creating", name);
			break;
		}
	}
	if (tries == 10)
		err_set(e, 75, "spool: cannot find a free queue id");
	free(t);
	return NULL;
}

const char *spool_tx_id(const struct spool_tx *t)
{
	return t->id;
}

int spool_tx_data_fd(const struct spool_tx *t)
{
	return t->fd;
}

/* spool_tx_commit - see spool.h. Each step undoes the earlier ones when it fails. */
int spool_tx_commit(struct spool_tx *t, const struct envelope *env, struct err *e)
{
	struct spool *s = t->s;
	char dname[NAME_MAX_LEN + 1];
	struct stat st;
	struct buf b;
	int fd, saved;

	if (t->finished)
		return err_set(e, 70, "spool: transaction %s already finished", t->id);
	tmp_name(dname, t->id, ".data");
	buf_init(&b, LIM_ENVELOPE_FILE + TRAILER_FOOT);
	if (strcmp(env->id, t->id) != 0) {
		err_set(e, 70, "spool: envelope id %.*s is not the transaction's %s", ENV_ID_LEN, env->id, t->id);
		goto undo_data;
	}
	if (fstat(t->fd, &st) < 0) {
		serr(e, "writing", t->id);
		goto undo_data;
	}
	if (st.st_size != env->size) {
		err_set(e, 70, "spool: envelope size %lld but data file %lld bytes for %s", env->size,
			(long long)st.st_size, t->id);
		goto undo_data;
	}
	/* the envelope rides at the end of the data file: one file per message to write and to remove */
	if (env_format(env, &b, e) < 0)
		goto undo_data;
	if (buf_printf(&b, TRAILER_FMT, b.len) < 0) {
		err_set(e, 70, "spool: envelope of %s too large", t->id);
		goto undo_data;
	}
	if (fdio_pwrite_all(t->fd, b.data, b.len, (off_t)env->size) < 0 || fsync(t->fd) < 0) {
		serr(e, "writing", t->id);
		goto undo_data;
	}
	if (move(s->fd[D_TMP], dname, s->fd[D_DATA], t->id, false) < 0) {
		serr(e, "renaming", t->id);
		goto undo_data;
	}
	if (fsync(s->fd[D_DATA]) < 0) {
		serr(e, "syncing", t->id);
		goto undo_both;
	}
	if ((fd = create_at(s->fd[D_NEW], t->id, O_WRONLY)) < 0) {	/* the commit point: new/ID, empty */
		serr(e, "committing", t->id);
		goto undo_both;
	}
	close(fd);
	if (fsync(s->fd[D_NEW]) < 0) {
		serr(e, "syncing", t->id);
		saved = errno;
		(void)unlinkat(s->fd[D_NEW], t->id, 0);
		(void)unlinkat(s->fd[D_DATA], t->id, 0);
		errno = saved;
		goto out;
	}
	buf_free(&b);
	t->finished = true;
	return 0;
undo_both:
	(void)unlinkat(s->fd[D_DATA], t->id, 0);
	goto out;
undo_data:
	(void)unlinkat(s->fd[D_TMP], dname, 0);
out:
	buf_free(&b);
	t->finished = true;
	return -1;
}

/* spool_tx_abort - see spool.h */
void spool_tx_abort(struct spool_tx *t)
{
	char name[NAME_MAX_LEN + 1];

	if (t == NULL)
		return;
	if (!t->finished) {
		tmp_name(name, t->id, ".data");
		(void)unlinkat(t->s->fd[D_TMP], name, 0);
	}
	if (t->fd >= 0)
		close(t->fd);
	free(t);
}

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
		serr(e, "listing", "the queue");
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
			return serr(e, "sweeping", dirs[f]);
		}
		rewinddir(dir);
		while ((d = readdir(dir)) != NULL) {
			bool stale = false;
			if (d->d_name[0] == '.' || d->d_type == DT_DIR)
				continue;
			if (f == D_TMP) {
				stale = fstatat(s->fd[f], d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
					!S_ISDIR(st.st_mode) && st.st_mtime < now - SPOOL_STALE_SECONDS;
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
	/* new/ID left beside deferred/ID by a runner that died between its rename and its unlink */
	for (k = 0; k < n; k++)
		if (v[k].stale_new && exists_at(s->fd[D_DEFERRED], v[k].id) && unlinkat(s->fd[D_NEW], v[k].id, 0) == 0)
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
		return err_set(e, 70, "spool: bad queue id");
	if ((fd = open_data(s, id)) < 0)
		return errno == ENOENT ? 0 : serr(e, "opening", id);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int busy = errno == EWOULDBLOCK;
		if (!busy)
			serr(e, "locking", id);
		close(fd);
		return busy ? 0 : -1;
	}
	if (fstat(fd, &st) < 0) {
		serr(e, "checking", id);
		close(fd);
		return -1;
	}
	if (st.st_nlink == 0) {	/* finished and unlinked between our open and our lock */
		close(fd);
		return 0;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || (st.st_uid != geteuid() && st.st_gid != getegid())) {
		close(fd);
		return err_set(e, 75, "spool: data/%s is not a plain file owned by us: refusing it", id);
	}
	*m = xcalloc(1, sizeof **m);
	(*m)->s = s;
	(*m)->fd = fd;
	memcpy((*m)->id, id, ENV_ID_LEN + 1);
	return 1;
}

/* read_at - read a whole regular file of at most LIM_ENVELOPE_FILE bytes. 1, 0 (no such file), -1. */
static int read_at(int dirfd, const char *name, struct buf *b, struct err *e)
{
	struct stat st;
	char chunk[8192];
	ssize_t r;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : serr(e, "opening envelope", name);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, 75, "spool: envelope %s is not a regular file", name);
	}
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf_add(b, chunk, (size_t)r) < 0) {
			close(fd);
			return err_set(e, 75, "spool: envelope %s over %d bytes", name, LIM_ENVELOPE_FILE);
		}
		if ((size_t)r < sizeof chunk)
			break;	/* a short read of a regular file is its end (envelopes never change) */
	}
	if (r < 0) {
		serr(e, "reading envelope", name);
		close(fd);
		return -1;
	}
	close(fd);
	return 1;
}

/* read_trailer - the envelope at the end of data file fd into b; *msgsize = the message's length. 1, or
 * -1 when the file has no well-formed trailer. */
static int read_trailer(int fd, const char *id, struct buf *b, long long *msgsize, struct err *e)
{
	char foot[TRAILER_FOOT + 1];
	struct stat st;
	size_t len;
	char *end;

	if (fstat(fd, &st) < 0)
		return serr(e, "reading envelope of", id);
	if (!S_ISREG(st.st_mode) || st.st_size < TRAILER_FOOT ||
	    fdio_pread_all(fd, foot, TRAILER_FOOT, st.st_size - TRAILER_FOOT) != TRAILER_FOOT)
		return err_set(e, 75, "spool: data/%s has no envelope", id);
	foot[TRAILER_FOOT] = '\0';
	if (strncmp(foot, TRAILER_TAG, sizeof TRAILER_TAG - 1) != 0 || foot[TRAILER_FOOT - 1] != '\n' ||
	    (len = strtoul(foot + sizeof TRAILER_TAG - 1, &end, 10), end != foot + TRAILER_FOOT - 1) ||
	    len > LIM_ENVELOPE_FILE || (off_t)len > st.st_size - TRAILER_FOOT)
		return err_set(e, 75, "spool: data/%s has a damaged envelope trailer", id);
	*msgsize = (long long)(st.st_size - TRAILER_FOOT - (off_t)len);
	buf_reset(b);
	if (len > b->max)
		return err_set(e, 75, "spool: envelope of %s too large", id);
	for (size_t k = 0; k < len;) {
		char chunk[8192];
		size_t want = len - k < sizeof chunk ? len - k : sizeof chunk;

		if (fdio_pread_all(fd, chunk, want, (off_t)*msgsize + (off_t)k) != (ssize_t)want)
			return err_set(e, 75, "spool: data/%s: short envelope trailer", id);
		if (buf_add(b, chunk, want) < 0)
			return err_set(e, 75, "spool: envelope of %s too large", id);
		k += want;
	}
	return 1;
}

/* read_env - the envelope of id: deferred/ID, else new/ID; an empty new/ID means it is the trailer of
 * the data file (datafd, or data/ID opened here when datafd < 0). 1 read, 0 gone, -1 error. */
static int read_env(struct spool *s, const char *id, int datafd, struct envelope *env, struct err *e)
{
	long long msgsize = -1;
	struct buf b;
	int r, fd;

	memset(env, 0, sizeof *env);
	if (!env_id_valid(id, strlen(id)))
		return err_set(e, 70, "spool: bad queue id");
	buf_init(&b, LIM_ENVELOPE_FILE);
	if ((r = read_at(s->fd[D_DEFERRED], id, &b, e)) == 0 && (r = read_at(s->fd[D_NEW], id, &b, e)) == 1 &&
	    b.len == 0) {
		if ((fd = datafd) < 0 && (fd = open_data(s, id)) < 0)
			r = errno == ENOENT ? 0 : serr(e, "opening", id);	/* finished meanwhile */
		else {
			r = read_trailer(fd, id, &b, &msgsize, e);
			if (fd != datafd)
				close(fd);
		}
	}
	if (r == 1 && env_parse(buf_str(&b), b.len, env, e) < 0) {
		err_prefix(e, "spool: %s", id);
		r = -1;
	} else if (r == 1 && strcmp(env->id, id) != 0) {
		env_free(env);
		r = err_set(e, 75, "spool: envelope %s names another message", id);
	} else if (r == 1 && msgsize >= 0 && env->size != msgsize) {
		r = err_set(e, 75, "spool: data/%s holds %lld bytes of message, its envelope says %lld", id, msgsize,
		    env->size);
		env_free(env);
	}
	buf_free(&b);
	return r;
}

/* spool_read_env - see spool.h */
int spool_read_env(struct spool *s, const char *id, struct envelope *env, struct err *e)
{
	return read_env(s, id, -1, env, e);
}

/* spool_msg_env - see spool.h */
int spool_msg_env(struct spool_msg *m, struct envelope *env, struct err *e)
{
	int r = read_env(m->s, m->id, m->fd, env, e);

	if (r == 0)
		return err_set(e, 75, "spool: %s has no envelope", m->id);
	return r < 0 ? -1 : 0;
}

int spool_msg_data_fd(struct spool_msg *m)
{
	return m->fd;
}

/* spool_msg_update - see spool.h */
int spool_msg_update(struct spool_msg *m, const struct envelope *env, struct err *e)
{
	struct spool *s = m->s;
	char name[NAME_MAX_LEN + 1], suffix[16];
	unsigned char r[4];
	struct buf b;
	int rc = -1;

	if (strcmp(env->id, m->id) != 0)
		return err_set(e, 70, "spool: envelope id is not the locked message's %s", m->id);
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		return serr(e, "updating", m->id);
	if (snprintf(suffix, sizeof suffix, ".env.%02X%02X%02X%02X", r[0], r[1], r[2], r[3]) != 13)
		return err_set(e, 70, "spool: suffix");
	tmp_name(name, m->id, suffix);
	buf_init(&b, LIM_ENVELOPE_FILE);
	if (env_format(env, &b, e) < 0)
		goto out;
	if (write_file(s->fd[D_TMP], name, &b) < 0) {
		serr(e, "writing", m->id);
		goto out;
	}
	if (move(s->fd[D_TMP], name, s->fd[D_DEFERRED], m->id, true) < 0) {
		serr(e, "renaming", m->id);
		(void)unlinkat(s->fd[D_TMP], name, 0);
		goto out;
	}
	if (fsync(s->fd[D_DEFERRED]) < 0 || unlink_quiet(s->fd[D_NEW], m->id) < 0 ||
	    fsync(s->fd[D_NEW]) < 0) {
		serr(e, "syncing", m->id);
		goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

/* spool_msg_id - see spool.h */
const char *spool_msg_id(const struct spool_msg *m)
{
	return m->id;
}

/* spool_msg_done - see spool.h */
int spool_msg_done(struct spool_msg *m, struct err *e)
{
	struct spool *s = m->s;

	/* No fsync here: a removal that a crash undoes only means the message is sent again (it was
	 * delivered at least once either way), and three fsyncs per message would cap the runner's rate.
	 * The runner calls spool_sync once per batch. */
	if (unlink_quiet(s->fd[D_DEFERRED], m->id) < 0 || unlink_quiet(s->fd[D_NEW], m->id) < 0)
		return serr(e, "removing envelope of", m->id);
	if (unlink_quiet(s->fd[D_DATA], m->id) < 0)
		return serr(e, "removing", m->id);
	return 0;
}

int spool_sync(struct spool *s, struct err *e)
{
	if (fsync(s->fd[D_NEW]) < 0 || fsync(s->fd[D_DEFERRED]) < 0 || fsync(s->fd[D_DATA]) < 0)
		return serr(e, "syncing", "the spool");
	return 0;
}

/* spool_msg_unlock - see spool.h */
void spool_msg_unlock(struct spool_msg *m)
{
	if (m == NULL)
		return;
	close(m->fd);
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
