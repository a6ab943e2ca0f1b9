/*
 * spool_mark.c - recording outcomes without a new block: recipient states written in place, and
 * settling a finished message (the cheap, synchronous step of its removal). See spool.h.
 *
 * WHY IN PLACE
 *	A deferral is normally a new envelope file renamed over the old one. That needs free blocks and
 *	a working write path; when it fails (a full disk, EIO, a value the writer refuses) the envelope
 *	written at submission stays, and the next run would send to every recipient again. Overwriting a
 *	recipient's 7-byte state word ("pending" -> "done---") inside the file that was read changes no
 *	file size, so it needs no allocation and works on a full disk (Postfix marks a recipient done in
 *	its queue file the same way). A process kill cannot undo it (the page cache survives it); only a
 *	crash of the machine can, and then the message is at worst sent twice, never lost.
 * SECURITY
 *	The file is opened relative to its pinned folder with O_NOFOLLOW and must be the very file
 *	(device and inode) the envelope was read from; each word is read back before it is overwritten
 *	and must be one of the 7-byte state words, so a stale offset can never damage another line.
 */
#include "queue/store/spool.h"
#include "queue/store/spool_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fdio.h"

/* wide - a state word of ENV_STATE_WIDTH bytes (only those can be overwritten in place). */
static bool wide(const char *w)
{
	static const enum rcpt_state st[3] = { RCPT_PENDING, RCPT_SENT, RCPT_FAILED };

	if (memcmp(w, env_state_word(RCPT_PENDING, false), ENV_STATE_WIDTH) == 0)
		return true;
	for (size_t i = 0; i < 3; i++)
		if (memcmp(w, env_state_word(st[i], true), ENV_STATE_WIDTH) == 0)
			return true;
	return false;
}

/* open_env - the envelope file m's envelope was read from, for writing; -1 (with e) if it is gone or
 * is another file now. */
static int open_env(struct spool_msg *m, struct err *e)
{
	struct stat st;
	int fd;

	if (m->loc.dir < 0)
		return err_set(e, EX_SOFTWARE, "spool: %s: no envelope read to write in place", m->id);
	fd = openat(m->s->fd[m->loc.dir], m->id, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return spool_serr(e, "opening the envelope of", m->id);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_dev != m->loc.dev || st.st_ino != m->loc.ino) {
		close(fd);
		return err_set(e, EX_TEMPFAIL, "spool: the envelope of %s changed since it was read", m->id);
	}
	return fd;
}

/* put_word - overwrite the state word at text offset `at` with the in-place word of st. 0, or -1 (errno
 * set; EINVAL when the bytes there are not a word that can be overwritten). A shorter canonical word
 * that already says st ("sent", "failed") is left as it is. */
static int put_word(int fd, off_t base, size_t at, enum rcpt_state st)
{
	const char *w = env_state_word(st, true), *canon = env_state_word(st, false);
	char cur[ENV_STATE_WIDTH + 1];
	off_t off = base + (off_t)at;
	size_t cn = strlen(canon);

	if (fdio_pread_all(fd, cur, sizeof cur, off) != (ssize_t)sizeof cur)
		return -1;
	if (cn < ENV_STATE_WIDTH && memcmp(cur, canon, cn) == 0 && cur[cn] == '\n')
		return 0;
	if (!wide(cur) || cur[ENV_STATE_WIDTH] != '\n') {
		errno = EINVAL;
		return -1;
	}
	if (memcmp(cur, w, ENV_STATE_WIDTH) == 0)
		return 0;
	return fdio_pwrite_all(fd, w, ENV_STATE_WIDTH, off);
}

/* finish - close fd after the words, syncing when asked. */
static int finish(struct spool_msg *m, int fd, bool sync, int rc, struct err *e)
{
	if (rc == 0 && sync && fdatasync(fd) < 0)
		rc = spool_serr(e, "syncing the envelope of", m->id);
	close(fd);
	return rc;
}

/* spool_msg_mark - see spool.h */
int spool_msg_mark(struct spool_msg *m, const struct env_rcpt *r, size_t n, bool sync, struct err *e)
{
	int fd, rc = 0;

	if ((fd = open_env(m, e)) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (r[i].state_at == 0 || put_word(fd, m->loc.base, r[i].state_at, r[i].state) == 0)
			continue;	/* (state_at 0: not read from this file) */
		if (rc == 0)	/* the first reason; the others are still written */
			rc = errno == EINVAL ? err_set(e, EX_TEMPFAIL, "spool: %s: the state of %s cannot be written in place",
			    m->id, r[i].addr) : spool_serr(e, "marking a recipient of", m->id);
	}
	return finish(m, fd, sync, rc, e);
}

/* mark_all_done - every recipient of the envelope read "done---" (or left "sent"). */
static int mark_all_done(struct spool_msg *m, struct err *e)
{
	int fd, rc = 0;

	if (m->nat == 0)
		return err_set(e, EX_SOFTWARE, "spool: %s: no envelope read to write in place", m->id);
	if ((fd = open_env(m, e)) < 0)
		return -1;
	for (size_t i = 0; i < m->nat; i++)
		if (put_word(fd, m->loc.base, m->at[i], RCPT_SENT) < 0 && rc == 0)
			rc = errno == EINVAL ? err_set(e, EX_TEMPFAIL, "spool: %s: a state cannot be written in place", m->id) :
			    spool_serr(e, "marking the recipients of", m->id);
	return finish(m, fd, false, rc, e);
}

/* spool_msg_settle - see spool.h */
int spool_msg_settle(struct spool_msg *m, struct err *e)
{
	struct spool *s = m->s;
	struct err e2;

	if (m->settled)
		return 0;
	/* new/ID first: with deferred/ID gone and a stale new/ID left, the message would read as never tried */
	if (spool_unlink_quiet(s->fd[D_NEW], m->id) == 0 && spool_unlink_quiet(s->fd[D_DEFERRED], m->id) == 0) {
		m->settled = true;
		return 0;
	}
	spool_serr(&e2, "removing the envelope of", m->id);
	if (mark_all_done(m, e) < 0)
		return err_prefix(e, "%s; and in place", e2.msg);
	m->settled = true;	/* every recipient reads "done---": the next run only removes it */
	return 0;
}
