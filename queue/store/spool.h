/*
 * spool.h - the durable, maildir-style message store. All knowledge of spool paths is in spool.c.
 *
 * NAME
 *	spool - tmp/ -> data/ + new/ -> deferred/, one commit point per message
 * DESCRIPTION
 *	Under the spool root: tmp/ (files being written); data/ID, immutable once committed: the message
 *	bytes (env->size of them), then the envelope as submitted, then the 24-byte line
 *	"ENVELOPE-LENGTH nnnnnnn\n" giving its length (one file per message to sync and to remove: on a
 *	disk that discards freed blocks synchronously, removing a file that has a block costs ten times
 *	more than removing an empty one); new/ID, empty: the mark of a message not yet tried;
 *	deferred/ID: the envelope once a runner rewrote it (after a delivery attempt, or when it stored
 *	the DKIM-Signature fields before the first one), replaced by rename, which takes the place of
 *	the data file's. The creation of new/ID is the commit point: before it the message
 *	does not exist, after it (and the fsync of new/) it is durable. A new/ID that is not an empty
 *	file is an error (the message is not read).
 *	IDs sort by arrival: 8 hex digits of seconds, 5 of microseconds, 6 random (ENV_ID_LEN).
 *	A message is owned by whoever holds flock(LOCK_EX) on its data file; the lock dies with the fd.
 *	When a deferral cannot be written (full disk, EIO, a value env_format refuses), the runner writes
 *	recipient states in place instead (spool_msg_mark; envelope.h, IN-PLACE STATES): no new block is
 *	needed, so a recipient whose 2xx was read is never sent to again. A message with a recipient
 *	"delayed" in place is not due before SPOOL_HOLD_SECONDS (15 minutes) after that write (the
 *	envelope file's mtime): its spool could not record its last attempt.
 * SECURITY
 *	Directory fds are pinned with O_DIRECTORY|O_NOFOLLOW and every operation is relative to them
 *	(openat/renameat/unlinkat); files are created O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0660.
 *	An id is validated (exact length and charset) before it is used in any path. A data file is
 *	trusted only if fstat says: regular file, one link, owned by our euid or egid.
 * ERRORS
 *	-1 and a reason in struct err. Storage failures (ENOSPC, EDQUOT, EIO...) carry code 75
 *	(EX_TEMPFAIL): "spool: No space left on device while writing ID".
 */
#ifndef POSTERN_SPOOL_H
#define POSTERN_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"
#include "lib/limits.h"
#include "queue/store/envelope.h"

/* A message whose last attempt could not be recorded (a recipient "delayed" in place) is not due
 * before this long after that attempt (the envelope file's mtime, which the in-place write set). */
#define SPOOL_HOLD_SECONDS 900

struct spool;
struct spool_tx;
struct stats_counters;
struct spool_msg;

enum spool_state { SPOOL_NEW, SPOOL_DEFERRED };

struct spool_entry {
	char id[ENV_ID_LEN + 1];
	enum spool_state state;
	bool stale_new;	/* both new/ID and deferred/ID exist (crash mid-update): new/ID is stale */
};

/* spool_open - pin the root and its four folders (which must exist). NULL on error (code 75). */
struct spool *spool_open(const char *root, struct err *e);
/* spool_init - create root and its folders, mode 0770 (tests, make demo). Group set to gid only when
 * gid != (gid_t)-1 and we are root. Existing folders are fine. */
int spool_init(const char *root, gid_t gid, struct err *e);
/* spool_close - close the pinned fds and free. spool_close(NULL) is a no-op. */
void spool_close(struct spool *s);

/* -- submission: the privileged parent uses these; the child only ever gets the data fd -- */

/* spool_tx_begin - a new id, an empty tmp/ID.data opened O_RDWR, and the message's empty mark new/ID,
 * made in tmp/ and flocked before it was renamed there; both are held until the transaction ends. A
 * mark without data/ID is no message: runners skip it, mailq does not list it, the sweep removes it
 * once nobody holds it. */
struct spool_tx *spool_tx_begin(struct spool *s, struct err *e);
const char *spool_tx_id(const struct spool_tx *t);
int spool_tx_data_fd(const struct spool_tx *t);
/* spool_tx_mark - fsync new/, so that the mark is on disk before the data file is renamed beside it.
 * The submitter calls it while the parser reads the message, so that the caller does not wait for it;
 * spool_tx_commit calls it when nobody has. A failure is kept: a later call fails too. 0 or -1 (75). */
int spool_tx_mark(struct spool_tx *t, struct err *e);
/* spool_tx_child - in a child forked to write the data file: close everything else the transaction
 * and its spool hold (the mark, the folders), so that the parser can reach nothing but the data fd.
 * The child must not use the spool afterwards. */
void spool_tx_child(struct spool_tx *t);
/* spool_tx_commit - append the envelope and its length line to the data and fsync it; make sure the
 * mark is synced (spool_tx_mark); rename the data file to data/ID (the commit point) and fsync data/,
 * the mark still held (see spool_committing). env->id must be the transaction's id and env->size the
 * data file's size. 0: committed. -1: nothing is queued; what was created is removed, the mark too
 * (code 75 for storage errors). 1: the fsync of data/ failed and neither the mark nor the data file
 * could be removed, so the message stays queued and will be delivered, but is not known to be on disk
 * (e says why; the caller reports success with a warning, never 75, which would make a retrying caller
 * send it twice). Either way the transaction is finished: call spool_tx_abort(t) afterwards to free it
 * (it then only frees). */
int spool_tx_commit(struct spool_tx *t, const struct envelope *env, struct err *e);
/* spool_committing - 1 while a submission holds id's mark (new/ID exists and is flocked: the message
 * is being written, or committed and its fsync has not returned, so it may yet be taken back), else
 * 0. mailq does not list such a message; a runner cannot take it anyway (the submitter holds the data
 * file's lock, and before the commit there is no data/ID). */
int spool_committing(struct spool *s, const char *id);
/* spool_tx_abort - unlink the temporary files (unless committed), close, free. NULL is a no-op. */
void spool_tx_abort(struct spool_tx *t);

/* -- runner -- */

/* spool_scan - every committed message sorted by id (= arrival); *v is malloc'd (free it). If both
 * new/ID and deferred/ID exist, deferred wins and stale_new is set. Names that are not ids are
 * ignored. */
int spool_scan(struct spool *s, struct spool_entry **v, size_t *n, struct err *e);
/* spool_sweep - given a fresh scan (v, n): unlink tmp/ files last changed more than an hour before
 * `now` that nobody holds a flock on (a day when held: a submission still running), envelope-less
 * data/ files that are that old or that nobody holds, the stale new/ID files the scan marked, and
 * marks (new/ID) without data/ID that no submission holds. Only data files missing from the scan are
 * looked at on disk. Returns how many were removed, or -1. */
int spool_sweep(struct spool *s, long long now, const struct spool_entry *v, size_t n, struct err *e);
/* spool_lock - open data/ID and take flock(LOCK_EX|LOCK_NB). 1: locked (*m set), 0: busy or gone,
 * -1: error (bad id, or a data file that is not a regular file with one link and our owner). */
int spool_lock(struct spool *s, const char *id, struct spool_msg **m, struct err *e);
/* spool_msg_env - read deferred/ID, else (new/ID empty) the envelope at the end of the data file,
 * bounded by ENV_MAX_FILE, and parse it; a data file whose message length is not the envelope's SIZE
 * is refused. Where it was read is remembered for spool_msg_mark and _settle. A held
 * message (a recipient "delayed" in place) gets next_try no earlier than the hold's end. */
int spool_msg_env(struct spool_msg *m, struct envelope *env, struct err *e);
/* spool_msg_data_fd - the locked data file (read-only, offset undefined: use pread or lseek). The
 * message is its first env->size bytes; what follows is not message text. */
int spool_msg_data_fd(struct spool_msg *m);
/* spool_msg_update - write tmp/ID.env.<rand>, fsync, rename to deferred/ID, unlink new/ID, fsync. 0: the
 * new envelope is the record; 1: it is the record, but a sync after the rename failed (e says why;
 * only a machine crash could undo it); -1: nothing changed, the envelope read is still the record
 * (then spool_msg_mark can still record states in it). */
int spool_msg_update(struct spool_msg *m, const struct envelope *env, struct err *e);
/* spool_msg_rewrite, spool_sync_rewrites - spool_msg_update in two halves, so that a runner that
 * rewrites many envelopes (DKIM signing before the first attempt) syncs the folders once for all of
 * them rather than twice for each. spool_msg_rewrite: write tmp/ID.env.<rand>, fsync, rename to
 * deferred/ID (0: the new envelope is the record, but its name is not yet durable; -1: nothing
 * changed, as spool_msg_update). spool_sync_rewrites: fsync deferred/, then unlink new/ID of each of
 * ms[0..n) and fsync new/; -1 (e says why) when a step failed. Nothing that a rewritten envelope
 * says may be acted on (a MAIL FROM) before spool_sync_rewrites has returned 0, or the act logged as
 * unsynced. */
int spool_msg_rewrite(struct spool_msg *m, const struct envelope *env, struct err *e);
int spool_sync_rewrites(struct spool *s, struct spool_msg *const *ms, size_t n, struct err *e);
/* spool_msg_mark - write the states of r[0..n), recipients of the envelope spool_msg_env read (those
 * with state_at 0 are skipped), in place into that envelope's file: env_state_word(state, true), so a
 * pending one becomes "delayed" (and holds the message, see DESCRIPTION). Only words as wide as
 * "pending" are overwritten, in the very file read (device and inode checked); no block is added, so
 * it works on a full disk. fdatasync when sync. -1 if any could not be written (those before it were),
 * or after a successful spool_msg_update. */
int spool_msg_mark(struct spool_msg *m, const struct env_rcpt *r, size_t n, bool sync, struct err *e);
/* spool_msg_id - the message's queue id. */
const char *spool_msg_id(const struct spool_msg *m);
/* spool_msg_settle - the message is finished: make sure no run sends it again, cheaply and at once.
 * Unlinks new/ID (empty for a message never deferred: no block is freed) and deferred/ID, in that
 * order; when that fails, every recipient of the envelope read is marked "done---" in place, and a
 * later run only removes the message. Not synced (a process kill cannot undo it). -1 only if neither
 * worked. Idempotent. */
int spool_msg_settle(struct spool_msg *m, struct err *e);
/* spool_msg_done - spool_msg_settle (unless done), then unlink the data file: the expensive step, which
 * may lag behind (a data file without an envelope is an orphan that spool_sweep removes once it is
 * unlocked). A message settled in place keeps its data file until its envelope can be unlinked (the
 * next run reads "done---" and only removes it). -1 when settling failed (the message may be sent
 * again), or when a file could not be removed ("settled message": it is not sent again). Not synced:
 * see spool_sync. */
int spool_msg_done(struct spool_msg *m, struct err *e);
/* spool_sync - make the removals since the last call durable (fsync of the folders). */
int spool_sync(struct spool *s, struct err *e);
/* spool_msg_unlock - close (releasing the lock) and free. NULL is a no-op. */
void spool_msg_unlock(struct spool_msg *m);
/* spool_is_locked - 1 if a runner holds the message now (mailq's '*'), else 0. Takes a shared lock
 * for an instant, so a runner starting at that very moment may see the message busy and skip it. */
int spool_is_locked(struct spool *s, const char *id);
/* spool_data_open - the data file of id, read-only and unlocked (postern queue show): the message is
 * its first env->size bytes. The fd, or -1 (gone, or not a plain file of ours). */
int spool_data_open(struct spool *s, const char *id, struct err *e);
/* spool_scratch - an unnamed file in tmp/ (O_TMPFILE: it vanishes with its last descriptor, and no sweep
 * or crash leaves it behind), read-write, for another form of a message that lives as long as one
 * delivery (queue/run/mime8.h). The fd, or -1 with e. */
int spool_scratch(struct spool *s, struct err *e);
/* spool_read_env - read a message's envelope without locking it (mailq). 1 read, 0 gone, -1 error. */
int spool_read_env(struct spool *s, const char *id, struct envelope *env, struct err *e);

/* -- the counters of postern stats (stats.h; spool_stats.c): "counters" in the root -- */

/* spool_counters_add - add d to the spool's counters (started at `now` when there are none yet), under
 * the counters' lock, in place; nothing to do when d counted nothing. Only with `create` (a run by root
 * or the postern user) are the files created: without, a spool that has none yet ignores d. 0, or -1
 * (a storage error, the lock busy for a second, or a counters file that is not what postern writes:
 * it is left alone, and e says to remove it). */
int spool_counters_add(struct spool *s, const struct stats_counters *d, long long now, bool create,
    struct err *e);
/* spool_counters_get - read the counters without the lock. 1 read, 0 none yet, -1 error. */
int spool_counters_get(struct spool *s, struct stats_counters *c, struct err *e);

/* -- the runner's warning: one line the last queue run wants the operator to see (mailq's header) -- */

/* SPOOL_WARNING_MAX - the longest warning kept (a reason and a file name). */
#define SPOOL_WARNING_MAX 1024
/* spool_warning_set - replace the spool's warning file (runner-warning in the root, written whole
 * and renamed into place) with `text`, or remove it when text is NULL. Best effort: -1 and errno. */
int spool_warning_set(struct spool *s, const char *text);
/* spool_warning_get - the warning into dst (at most n - 1 bytes, cut at the first newline; the text
 * is the runner's but shown only after escaping). 1 there is one, 0 none. */
int spool_warning_get(struct spool *s, char *dst, size_t n);

#endif
