/*
 * spool_int.h - what spool.c (the store, submission) and spool_run.c (what a runner does with
 * committed messages) share, with spool_mark.c and spool_stats.c. Not used outside the spool's
 * files; see spool.h for the layout.
 */
#ifndef POSTERN_SPOOL_INT_H
#define POSTERN_SPOOL_INT_H

#include <stdbool.h>

#include "lib/buf.h"
#include "lib/err.h"
#include "queue/store/envelope.h"

/* The pinned folders; D_ROOT is the spool root itself. */
enum { D_ROOT, D_TMP, D_DATA, D_NEW, D_DEFERRED, D_N };
extern const char *const spool_dirs[D_N];	/* their names */

/* A temporary or leftover file is old after a day (then spool_sweep removes it). */
#define SPOOL_STALE_SECONDS 86400
/* A tmp/ file that nobody holds (no flock) is a leftover after an hour: a submission holds its data
 * file for as long as it runs, and a runner's envelope file lives for milliseconds. */
#define SPOOL_TMP_UNLOCKED_SECONDS 3600
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

/* Where an envelope was read: the folder (D_DATA: the trailer of the data file, at base), and the
 * file's identity, so that an in-place write goes to that very file or nowhere. */
struct spool_loc {
	int dir;		/* D_DATA or D_DEFERRED; -1: none */
	off_t base;		/* offset of the envelope text in the file */
	dev_t dev;
	ino_t ino;
	long long mtime;
};

struct spool_msg {
	struct spool *s;
	char id[ENV_ID_LEN + 1];
	int fd;			/* data/ID, holding the flock */
	struct spool_loc loc;	/* of the envelope spool_msg_env read (dir -1 once rewritten) */
	size_t *at;		/* offsets of its recipients' R-STATE values in that text */
	size_t nat;
	bool settled;		/* spool_msg_settle succeeded */
};

/* spool_serr - a storage failure: "spool: <strerror> while <what> <id>", code 75. Uses errno. */
int spool_serr(struct err *e, const char *what, const char *id);
/* spool_write_file - create dir/name with the bytes of b, fsync and close it; removed on failure. */
int spool_write_file(int dirfd, const char *name, const struct buf *b);
/* spool_move - rename fromdir/from to todir/to; refuse to replace unless `replace`. */
int spool_move(int fromdir, const char *from, int todir, const char *to, bool replace);
/* spool_unlink_quiet - unlink, where "already gone" is fine. */
int spool_unlink_quiet(int dirfd, const char *name);
/* spool_tmp_name - "ID<suffix>" into out (NAME_MAX_LEN + 1 bytes). */
void spool_tmp_name(char *out, const char *id, const char *suffix);

#endif
