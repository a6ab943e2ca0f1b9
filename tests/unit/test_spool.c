/* test_spool.c - the spool in a private mkdtemp directory: commit, abort, locks, update, scan, sweep,
 * storage failures (a full tmpfs, a read-only folder, and fsync/unlinkat faults injected below). */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/file.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sys/syscall.h>

#include "queue/store/mailq.h"
#include "queue/store/spool.h"

static char root[64];
static struct spool *sp;

static void setup(void)
{
	struct err e = { 0 };

	snprintf(root, sizeof root, "/tmp/postern-spool-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	cr_assert_eq(spool_init(root, (gid_t)-1, &e), 0, "%s", e.msg);
	sp = spool_open(root, &e);
	cr_assert_not_null(sp, "%s", e.msg);
}

static void teardown(void)
{
	char cmd[256];

	spool_close(sp);
	snprintf(cmd, sizeof cmd, "chmod -R u+rwx %s; rm -rf %s", root, root);
	cr_assert_eq(system(cmd), 0);
}

/* exists - root/rel exists. */
static bool exists(const char *dir, const char *id, const char *suffix)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/%s/%s%s", root, dir, id, suffix ? suffix : "");
	return lstat(p, &st) == 0;
}

/* count - entries in root/dir other than . and .. */
static int count(const char *dir)
{
	char cmd[256], out[32] = "";
	FILE *f;

	snprintf(cmd, sizeof cmd, "ls -A %s/%s | wc -l", root, dir);
	f = popen(cmd, "r");
	cr_assert_not_null(fgets(out, sizeof out, f));
	pclose(f);
	return (int)strtol(out, NULL, 10);
}

static struct env_rcpt rc = { .addr = (char *)"bob@example.net" };

static void mkenv(struct envelope *env, const char *id, long long size)
{
	memset(env, 0, sizeof *env);
	memcpy(env->id, id, ENV_ID_LEN + 1);
	env->arrival = 1700000000;
	env->sender = (char *)"alice@example.org";
	env->size = size;
	env->uid = 1000;
	env->rcpt = &rc;
	env->nrcpt = 1;
}

/* submit - a committed message "hello\r\n"; returns its id in id. */
static void submit(char id[ENV_ID_LEN + 1])
{
	struct err e = { 0 };
	struct envelope env;
	struct spool_tx *t = spool_tx_begin(sp, &e);

	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(write(spool_tx_data_fd(t), "hello\r\n", 7), 7);
	memcpy(id, spool_tx_id(t), ENV_ID_LEN + 1);
	mkenv(&env, id, 7);
	cr_assert_eq(spool_tx_commit(t, &env, &e), 0, "%s", e.msg);
	spool_tx_abort(t);
}

TestSuite(spool, .init = setup, .fini = teardown);

/*
 * Storage faults injected by interposing fsync and unlinkat in this test program: the library is
 * linked in statically, so its calls land here. A file system cannot be made to fail one fsync on
 * demand the way a full tmpfs or a read-only folder (commit_storage_failure) fails a write; EIO from
 * a disk going bad, with the file system then remounted read-only, is what these stand for.
 */
static struct {
	const char *folder;	/* the folder whose fsync the two below apply to ("new", "data") */
	int fsync_dir;		/* its fsync: 0 as usual, 1 call `during` first, 2 also fail with EIO */
	int unlink_fail;	/* unlinkat in new/ (bit 0) or data/ (bit 1) fails with EROFS */
	void (*during)(void);	/* runs inside that fsync: the commit window for data/ */
} fault;

/* is_folder - fd is root/sub. */
static bool is_folder(int fd, const char *sub)
{
	struct stat a, b;
	char p[256];

	snprintf(p, sizeof p, "%s/%s", root, sub);
	return fstat(fd, &a) == 0 && stat(p, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int fsync(int fd)
{
	if (fault.fsync_dir > 0 && is_folder(fd, fault.folder)) {
		if (fault.during != NULL)
			fault.during();
		if (fault.fsync_dir == 2) {
			errno = EIO;
			return -1;
		}
	}
	return (int)syscall(SYS_fsync, fd);
}

int unlinkat(int dirfd, const char *name, int flags)
{
	if (((fault.unlink_fail & 1) && is_folder(dirfd, "new")) ||
	    ((fault.unlink_fail & 2) && is_folder(dirfd, "data"))) {
		errno = EROFS;
		return -1;
	}
	return (int)syscall(SYS_unlinkat, dirfd, name, flags);
}

/* sweep - a scan, then a sweep with it, as the runner does. */
static int sweep(long long now)
{
	struct spool_entry *v;
	struct err e = { 0 };
	size_t n;
	int r;

	cr_assert_eq(spool_scan(sp, &v, &n, &e), 0, "%s", e.msg);
	r = spool_sweep(sp, now, v, n, &e);
	free(v);
	return r;
}

Test(spool, open_needs_folders)
{
	struct err e = { 0 };
	char p[128];

	cr_assert_null(spool_open("/nonexistent/spool", &e));
	cr_assert_eq(e.code, EX_TEMPFAIL);
	snprintf(p, sizeof p, "%s/deferred", root);
	cr_assert_eq(rmdir(p), 0);
	cr_assert_null(spool_open(root, &e));
	cr_assert_not_null(strstr(e.msg, "deferred"), "%s", e.msg);
	/* a symlink instead of a folder is refused */
	cr_assert_eq(symlink("/tmp", p), 0);
	cr_assert_null(spool_open(root, &e));
}

Test(spool, id_format)
{
	struct err e = { 0 };
	struct spool_tx *a = spool_tx_begin(sp, &e), *b = spool_tx_begin(sp, &e);
	long long now = (long long)time(NULL);
	char sec[9];

	cr_assert(env_id_valid(spool_tx_id(a), strlen(spool_tx_id(a))), "%s", spool_tx_id(a));
	cr_assert_str_neq(spool_tx_id(a), spool_tx_id(b));
	cr_assert_lt(strcmp(spool_tx_id(a), spool_tx_id(b)), 0, "ids sort by arrival");
	memcpy(sec, spool_tx_id(a), 8);
	sec[8] = '\0';
	cr_assert_lt(llabs(strtoll(sec, NULL, 16) - now), 5);
	cr_assert(exists("tmp", spool_tx_id(a), ".data"));
	struct stat st;
	cr_assert_eq(fstat(spool_tx_data_fd(a), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0660);
	spool_tx_abort(a);
	spool_tx_abort(b);
	cr_assert_eq(count("tmp"), 0, "abort leaves nothing");
	spool_tx_abort(NULL);
}

Test(spool, commit)
{
	char id[ENV_ID_LEN + 1];
	struct envelope env;
	struct err e = { 0 };

	submit(id);
	cr_assert(exists("new", id, NULL));
	cr_assert(exists("data", id, NULL));
	cr_assert_eq(count("tmp"), 0);
	cr_assert_eq(count("deferred"), 0);
	cr_assert_eq(spool_read_env(sp, id, &env, &e), 1, "%s", e.msg);
	cr_assert_str_eq(env.id, id);
	cr_assert_str_eq(env.rcpt[0].addr, "bob@example.net");
	env_free(&env);
}

/* path_of - root/dir/id into p. */
static void path_of(char *p, size_t n, const char *dir, const char *id)
{
	snprintf(p, n, "%s/%s/%s", root, dir, id);
}

/* slurp - a whole file into a NUL-terminated malloc'd string; *n its length. */
static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = calloc(1, 65536);

	cr_assert_not_null(f, "%s", path);
	*n = fread(p, 1, 65535, f);
	fclose(f);
	return p;
}

Test(spool, commit_layout)
{
	char id[ENV_ID_LEN + 1], p[256], want[64];
	size_t n, envlen;
	char *d;

	submit(id);
	/* new/ID is an empty commit mark; data/ID is the message, then the envelope, then its length */
	path_of(p, sizeof p, "new", id);
	free(slurp(p, &n));
	cr_assert_eq(n, 0);
	path_of(p, sizeof p, "data", id);
	d = slurp(p, &n);
	cr_assert_gt(n, 7 + 24);
	cr_assert_eq(memcmp(d, "hello\r\n", 7), 0);
	cr_assert_eq(strncmp(d + 7, "VERSION 1\nID ", 13), 0, "%s", d + 7);
	envlen = n - 7 - 24;
	snprintf(want, sizeof want, "ENVELOPE-LENGTH %07zu\n", envlen);
	cr_assert_str_eq(d + n - 24, want);
	cr_assert_eq(strncmp(d + n - 24 - 6, "END 1\n", 6), 0);
	free(d);
}

/* damage - rewrite data/ID's last bytes (from the end: at, with len bytes of s). */
static void damage(const char *id, size_t from_end, const char *with)
{
	char p[256];
	int fd;
	struct stat st;

	path_of(p, sizeof p, "data", id);
	cr_assert((fd = open(p, O_WRONLY)) >= 0);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(pwrite(fd, with, strlen(with), st.st_size - (off_t)from_end), (ssize_t)strlen(with));
	close(fd);
}

Test(spool, trailer_damage)
{
	static const struct {
		size_t from_end;
		const char *with, *why;
	} t[] = {
		{ 24, "ENVELOPE-LENGHT", "tag" },
		{ 8, "9999999", "longer than the file" },
		{ 8, "00000x0", "not a number" },
		{ 1, "X", "no newline" },
		{ 8, "0000010", "a shorter envelope: not one that parses" },
	};

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		char id[ENV_ID_LEN + 1];
		struct envelope env;
		struct err e = { 0 };

		submit(id);
		damage(id, t[i].from_end, t[i].with);
		cr_expect_eq(spool_read_env(sp, id, &env, &e), -1, "%s", t[i].why);
	}
}

Test(spool, trailer_size_mismatch)
{
	char id[ENV_ID_LEN + 1], p[256];
	struct envelope env;
	struct err e = { 0 };
	struct stat st;
	size_t n;
	char *d;
	int fd;

	/* one byte more of message before the same envelope: its SIZE no longer matches */
	submit(id);
	path_of(p, sizeof p, "data", id);
	d = slurp(p, &n);
	cr_assert((fd = open(p, O_WRONLY | O_TRUNC)) >= 0);
	cr_assert_eq(write(fd, "X", 1), 1);
	cr_assert_eq(write(fd, d, n), (ssize_t)n);
	close(fd);
	free(d);
	cr_assert_eq(spool_read_env(sp, id, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "8 bytes of message, its envelope says 7"), "%s", e.msg);
	cr_assert_eq(stat(p, &st), 0);
}

Test(spool, nonempty_mark_refused)
{
	/* the layout of a pre-release spool (new/ID holds the envelope, data/ID only the message) is
	 * no longer read: the message stays where it is and the reason names new/ID */
	char id[ENV_ID_LEN + 1], p[256], q[256];
	struct envelope env;
	struct err e = { 0 };
	struct stat st;
	size_t n;
	char *d;
	FILE *f;

	submit(id);
	path_of(p, sizeof p, "data", id);
	d = slurp(p, &n);
	path_of(q, sizeof q, "new", id);
	cr_assert_not_null(f = fopen(q, "w"));
	fwrite(d + 7, 1, n - 7 - 24, f);
	fclose(f);
	cr_assert_eq(truncate(p, 7), 0);
	free(d);
	cr_assert_eq(spool_read_env(sp, id, &env, &e), -1);
	snprintf(p, sizeof p, "spool: new/%s is not an empty file", id);
	cr_assert_str_eq(e.msg, p);
	cr_assert_eq(stat(q, &st), 0);
}

Test(spool, commit_refuses_mismatch)
{
	struct err e = { 0 };
	struct envelope env;
	struct spool_tx *t = spool_tx_begin(sp, &e);

	cr_assert_eq(write(spool_tx_data_fd(t), "x", 1), 1);
	mkenv(&env, "0000000000000000000", 1);
	cr_assert_eq(spool_tx_commit(t, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "not the transaction"), "%s", e.msg);
	spool_tx_abort(t);
	t = spool_tx_begin(sp, &e);
	mkenv(&env, spool_tx_id(t), 5);	/* wrong size */
	cr_assert_eq(spool_tx_commit(t, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, "size"), "%s", e.msg);
	cr_assert_eq(spool_tx_commit(t, &env, &e), -1, "a finished transaction cannot commit");
	spool_tx_abort(t);
	cr_assert_eq(count("tmp") + count("data") + count("new"), 0);
}

/* A storage failure while writing the envelope: everything created is removed, code 75. As root
 * permissions do not stop us, so a tmpfs of 64 KiB in a private mount namespace is the full disk; as
 * anyone else, a file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes the envelope's write fail. */
Test(spool, commit_storage_failure)
{
	struct err e = { 0 };
	struct envelope env;
	struct spool_tx *t;
	char cmd[256];

	if (geteuid() == 0) {
		snprintf(cmd, sizeof cmd, "unshare -m true 2>/dev/null");
		if (system(cmd) != 0)
			cr_skip_test("root without unshare -m: cannot simulate a full disk");
	}
	pid_t pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		/* child: when root, a private mount namespace with a tiny tmpfs over the spool (one file
		 * system, as a spool is: the mark is renamed from tmp/ to new/) */
		if (geteuid() == 0) {
			if (unshare(CLONE_NEWNS) < 0 ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
			    mount("tmpfs", root, "tmpfs", 0, "size=64k") < 0)
				_exit(3);
			if (spool_init(root, (gid_t)-1, &e) < 0)
				_exit(3);
			struct spool *s2 = spool_open(root, &e);
			spool_close(sp);
			sp = s2;
		}
		t = spool_tx_begin(sp, &e);
		if (t == NULL)
			_exit(4);
		/* the data fills the disk (or, not root, reaches the file size limit) */
		char block[4096];
		memset(block, 'x', sizeof block);
		long long size = 0;
		if (geteuid() == 0) {
			while (write(spool_tx_data_fd(t), block, sizeof block) == (ssize_t)sizeof block)
				size += sizeof block;
			if (ftruncate(spool_tx_data_fd(t), size) < 0)
				_exit(5);
		} else {
			struct rlimit rl = { .rlim_cur = sizeof block, .rlim_max = sizeof block };

			if (write(spool_tx_data_fd(t), block, sizeof block) != (ssize_t)sizeof block)
				_exit(5);
			size = sizeof block;
			signal(SIGXFSZ, SIG_IGN);
			if (setrlimit(RLIMIT_FSIZE, &rl) < 0)
				_exit(5);
		}
		mkenv(&env, spool_tx_id(t), size);
		if (spool_tx_commit(t, &env, &e) != -1 || e.code != EX_TEMPFAIL)
			_exit(6);
		if (strstr(e.msg, geteuid() == 0 ? "No space left on device while writing" :
						   "File too large while writing") == NULL ||
		    strstr(e.msg, spool_tx_id(t)) == NULL)
			_exit(7);
		spool_tx_abort(t);
		if (count("tmp") + count("data") + count("new") != 0)
			_exit(8);	/* (as root: inside the namespace, where the full disk is) */
		_exit(0);
	}
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3)
		cr_skip_test("cannot mount a tmpfs in a private namespace here");
	cr_assert_eq(WEXITSTATUS(status), 0, "child step %d failed", WEXITSTATUS(status));
	snprintf(cmd, sizeof cmd, "%s/tmp", root);
	chmod(cmd, 0770);
	cr_assert_eq(count("tmp") + count("data") + count("new"), 0, "nothing left behind");
}

Test(spool, lock)
{
	char id[ENV_ID_LEN + 1];
	struct spool_msg *m, *m2;
	struct err e = { 0 };

	submit(id);
	cr_assert_eq(spool_is_locked(sp, id), 0);
	cr_assert_eq(spool_lock(sp, id, &m, &e), 1, "%s", e.msg);
	cr_assert_eq(spool_is_locked(sp, id), 1);
	cr_assert_eq(spool_lock(sp, id, &m2, &e), 0, "second lock is busy");
	cr_assert_null(m2);
	char b[8] = "";
	cr_assert_eq(pread(spool_msg_data_fd(m), b, 7, 0), 7);
	cr_assert_str_eq(b, "hello\r\n");
	spool_msg_unlock(m);
	cr_assert_eq(spool_is_locked(sp, id), 0, "unlock releases");
	cr_assert_eq(spool_lock(sp, id, &m, &e), 1);
	cr_assert_eq(spool_msg_done(m, &e), 0, "%s", e.msg);
	spool_msg_unlock(m);
	cr_assert_eq(spool_lock(sp, id, &m, &e), 0, "lock after done: gone");
	cr_assert_eq(count("data") + count("new") + count("deferred"), 0);
	cr_assert_eq(spool_lock(sp, "../new/0000000000", &m, &e), -1, "bad id");
	cr_assert_eq(spool_lock(sp, "0000000000000000000", &m, &e), 0, "no such message");
	spool_msg_unlock(NULL);
}

Test(spool, lock_refuses_strange_files)
{
	char p[256];
	struct spool_msg *m;
	struct err e = { 0 };

	snprintf(p, sizeof p, "%s/data/1111111111111111111", root);
	cr_assert_eq(symlink("/etc/passwd", p), 0);
	cr_assert_eq(spool_lock(sp, "1111111111111111111", &m, &e), -1, "symlink");
	snprintf(p, sizeof p, "%s/data/2222222222222222222", root);
	cr_assert_eq(mkfifo(p, 0660), 0);
	cr_assert_eq(spool_lock(sp, "2222222222222222222", &m, &e), -1, "fifo (and no hang)");
	cr_assert_not_null(strstr(e.msg, "not a plain file"), "%s", e.msg);
	char id[ENV_ID_LEN + 1], q[256];
	submit(id);
	snprintf(p, sizeof p, "%s/data/%s", root, id);
	snprintf(q, sizeof q, "%s/tmp/hardlink", root);
	cr_assert_eq(link(p, q), 0);
	cr_assert_eq(spool_lock(sp, id, &m, &e), -1, "two links");
}

/* A lock held by another process: the child holds it, we see busy; it dies, the lock is gone. */
Test(spool, lock_across_processes)
{
	char id[ENV_ID_LEN + 1];
	struct spool_msg *m;
	struct err e = { 0 };
	int p[2], q[2];

	submit(id);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pipe(q), 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		if (spool_lock(sp, id, &m, &e) != 1)
			_exit(1);
		if (write(p[1], "x", 1) != 1 || read(q[0], &c, 1) != 1)	/* wait for the parent... */
			_exit(2);
		_exit(0);			/* ...and die holding the lock */
	}
	char c;
	cr_assert_eq(read(p[0], &c, 1), 1);
	cr_assert_eq(spool_lock(sp, id, &m, &e), 0);
	cr_assert_eq(spool_is_locked(sp, id), 1);
	cr_assert_eq(write(q[1], "y", 1), 1);
	int status;
	waitpid(pid, &status, 0);
	cr_assert_eq(spool_lock(sp, id, &m, &e), 1, "a dead runner leaves nothing locked");
	spool_msg_unlock(m);
}

/* spool_msg_rewrite then spool_sync_rewrites, for two messages: after the rewrite the new envelope
 * is the one read although new/ID is still there; the sync removes the marks of exactly those. */
Test(spool, rewrite_then_sync_many)
{
	char a[ENV_ID_LEN + 1], b[ENV_ID_LEN + 1], c[ENV_ID_LEN + 1];
	struct spool_msg *m[2];
	struct envelope env;
	struct err e = { 0 };

	submit(a);
	submit(b);
	submit(c);
	cr_assert_eq(spool_lock(sp, a, &m[0], &e), 1);
	cr_assert_eq(spool_lock(sp, b, &m[1], &e), 1);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(spool_msg_env(m[i], &env, &e), 0, "%s", e.msg);
		env.rcpt[0].diag = xstrdup("rewritten");
		cr_assert_eq(spool_msg_rewrite(m[i], &env, &e), 0, "%s", e.msg);
		env_free(&env);
	}
	cr_assert(exists("new", a, NULL) && exists("new", b, NULL), "the marks stay until the sync");
	cr_assert(exists("deferred", a, NULL) && exists("deferred", b, NULL));
	cr_assert_eq(spool_msg_env(m[1], &env, &e), 0, "%s", e.msg);
	cr_assert_str_eq(env.rcpt[0].diag, "rewritten");
	env_free(&env);
	cr_assert_eq(spool_sync_rewrites(sp, m, 2, &e), 0, "%s", e.msg);
	cr_assert(!exists("new", a, NULL) && !exists("new", b, NULL));
	cr_assert(exists("new", c, NULL), "a message not rewritten keeps its mark");
	cr_assert(!exists("deferred", c, NULL));
	cr_assert_eq(count("tmp"), 0);
	cr_assert_eq(spool_sync_rewrites(sp, m, 0, &e), 0, "nothing to sync");
	spool_msg_unlock(m[0]);
	spool_msg_unlock(m[1]);
}

Test(spool, update_and_scan)
{
	char a[ENV_ID_LEN + 1], b[ENV_ID_LEN + 1], c[ENV_ID_LEN + 1];
	struct spool_entry *v;
	struct spool_msg *m;
	struct envelope env;
	struct err e = { 0 };
	size_t n;

	submit(a);
	submit(b);
	submit(c);
	cr_assert_eq(spool_lock(sp, b, &m, &e), 1);
	cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
	env.attempts = 1;
	env.rcpt[0].attempts = 1;
	env.rcpt[0].diag = xstrdup("connect to mx: Connection refused");
	cr_assert_eq(spool_msg_update(m, &env, &e), 0, "%s", e.msg);
	env_free(&env);
	cr_assert(!exists("new", b, NULL));
	cr_assert(exists("deferred", b, NULL));
	cr_assert_eq(count("tmp"), 0);
	cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
	cr_assert_str_eq(env.rcpt[0].diag, "connect to mx: Connection refused");
	/* an update of another message's envelope is refused */
	memcpy(env.id, a, ENV_ID_LEN + 1);
	cr_assert_eq(spool_msg_update(m, &env, &e), -1);
	env_free(&env);
	spool_msg_unlock(m);

	/* a crash between the rename and the unlink: both new/C and deferred/C */
	char p[256], q[256];
	snprintf(p, sizeof p, "cp %s/new/%s %s/deferred/%s", root, c, root, c);
	cr_assert_eq(system(p), 0);
	/* junk names are ignored */
	snprintf(p, sizeof p, "%s/new/not-an-id", root);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	snprintf(q, sizeof q, "%s/new/6566a1f20b12c9d3e7f", root);
	close(open(q, O_CREAT | O_WRONLY, 0600));

	cr_assert_eq(spool_scan(sp, &v, &n, &e), 0, "%s", e.msg);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(v[0].id, a);
	cr_assert_eq(v[0].state, SPOOL_NEW);
	cr_assert_str_eq(v[1].id, b);
	cr_assert_eq(v[1].state, SPOOL_DEFERRED);
	cr_assert(!v[1].stale_new);
	cr_assert_str_eq(v[2].id, c);
	cr_assert_eq(v[2].state, SPOOL_DEFERRED);
	cr_assert(v[2].stale_new);
	free(v);

	/* the stale new/C goes at the next sweep; the fresh files stay */
	cr_assert_eq(sweep((long long)time(NULL)), 1);
	cr_assert(!exists("new", c, NULL));
	cr_assert(exists("deferred", c, NULL));
	cr_assert(exists("new", a, NULL));
}

Test(spool, scan_empty)
{
	struct spool_entry *v;
	struct err e = { 0 };
	size_t n = 99;

	cr_assert_eq(spool_scan(sp, &v, &n, &e), 0);
	cr_assert_eq(n, 0);
	free(v);
}

Test(spool, sweep)
{
	char a[ENV_ID_LEN + 1], p[256];
	struct err e = { 0 };
	long long now = (long long)time(NULL);
	struct spool_tx *t = spool_tx_begin(sp, &e);

	submit(a);
	/* an orphan data file (crash between the two renames) */
	snprintf(p, sizeof p, "%s/data/0000000000000000000", root);
	int held = open(p, O_CREAT | O_WRONLY, 0600);
	cr_assert(held >= 0 && flock(held, LOCK_EX) == 0);
	cr_assert_eq(sweep(now), 0, "a held data file is a commit in progress; nothing is a day old");
	/* a message committed after the scan is not in it: the disk is asked again before anything goes */
	cr_assert_eq(spool_sweep(sp, now, NULL, 0, &e), 0);
	cr_assert(exists("data", a, NULL) && exists("new", a, NULL));
	close(held);	/* its submitter died */
	cr_assert_eq(sweep(now), 1, "an orphan nobody holds goes at once");
	cr_assert_eq(sweep(now + 2 * 86400), 1, "the day-old tmp file");
	cr_assert(!exists("tmp", spool_tx_id(t), ".data"));
	cr_assert(!exists("data", "0000000000000000000", NULL));
	cr_assert(exists("data", a, NULL), "a committed message is never swept");
	cr_assert(exists("new", a, NULL));
	spool_tx_abort(t);
}

Test(spool, read_env_corrupt)
{
	char a[ENV_ID_LEN + 1], p[256];
	struct envelope env;
	struct err e = { 0 };

	submit(a);
	snprintf(p, sizeof p, "printf 'VERSION 1\\n' > %s/new/%s", root, a);
	cr_assert_eq(system(p), 0);
	cr_assert_eq(spool_read_env(sp, a, &env, &e), -1);
	cr_assert_not_null(strstr(e.msg, a), "%s", e.msg);
	cr_assert_eq(spool_read_env(sp, "0000000000000000000", &env, &e), 0);
	cr_assert_eq(spool_read_env(sp, "../x", &env, &e), -1);
}

/* submit3 - a committed message to three recipients (a@x, b@x, c@x). */
static void submit3(char id[ENV_ID_LEN + 1])
{
	static struct env_rcpt r3[3] = { { .addr = (char *)"a@x" }, { .addr = (char *)"b@x" }, { .addr = (char *)"c@x" } };
	struct err e = { 0 };
	struct envelope env;
	struct spool_tx *t = spool_tx_begin(sp, &e);

	cr_assert_not_null(t, "%s", e.msg);
	cr_assert_eq(write(spool_tx_data_fd(t), "hello\r\n", 7), 7);
	memcpy(id, spool_tx_id(t), ENV_ID_LEN + 1);
	mkenv(&env, id, 7);
	env.rcpt = r3;
	env.nrcpt = 3;
	cr_assert_eq(spool_tx_commit(t, &env, &e), 0, "%s", e.msg);
	spool_tx_abort(t);
}

/* marked_states - the states as the next run reads them: "sdp" = sent failed pending, upper case when
 * spelled in place. */
static void marked_states(const char *id, char out[4], long long *next_try)
{
	struct envelope env;
	struct err e = { 0 };

	cr_assert_eq(spool_read_env(sp, id, &env, &e), 1, "%s", e.msg);
	for (size_t i = 0; i < 3; i++) {
		char c = "psf"[env.rcpt[i].state];
		out[i] = env.rcpt[i].inplace ? (char)(c - 'a' + 'A') : c;
	}
	out[3] = '\0';
	*next_try = env.next_try;
	env_free(&env);
}

/* A new message (envelope in the data file) and a deferred one (deferred/ID): states written in place
 * read back, the file keeps its size, a "delayed" recipient holds the message SPOOL_HOLD_SECONDS. */
Test(spool, mark_in_place)
{
	for (int deferred = 0; deferred < 2; deferred++) {
		char id[ENV_ID_LEN + 1], st[4], p[256];
		struct spool_msg *m;
		struct envelope env;
		struct err e = { 0 };
		struct stat before, after;
		long long next, now = (long long)time(NULL);

		submit3(id);
		if (deferred) {
			cr_assert_eq(spool_lock(sp, id, &m, &e), 1);
			cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
			cr_assert_eq(spool_msg_update(m, &env, &e), 0, "%s", e.msg);
			env_free(&env);
			spool_msg_unlock(m);
		}
		snprintf(p, sizeof p, "%s/%s/%s", root, deferred ? "deferred" : "data", id);
		cr_assert_eq(stat(p, &before), 0);
		cr_assert_eq(spool_lock(sp, id, &m, &e), 1);
		cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
		env.rcpt[0].state = RCPT_SENT;
		env.rcpt[1].state = RCPT_FAILED;
		cr_assert_eq(spool_msg_mark(m, env.rcpt, 2, false, &e), 0, "%s", e.msg);
		marked_states(id, st, &next);
		cr_assert_str_eq(st, "SFp", "deferred %d", deferred);
		cr_assert_eq(next, 0, "nothing delayed: due at once");
		cr_assert_eq(spool_msg_mark(m, env.rcpt, 3, true, &e), 0, "%s", e.msg);
		marked_states(id, st, &next);
		cr_assert_str_eq(st, "SFP");
		cr_assert_geq(next, now + SPOOL_HOLD_SECONDS, "a delayed recipient holds the message");
		cr_assert_leq(next, (long long)time(NULL) + SPOOL_HOLD_SECONDS);
		cr_assert_eq(stat(p, &after), 0);
		cr_assert_eq(after.st_size, before.st_size, "no byte added");
		cr_assert_eq(after.st_ino, before.st_ino, "the same file");
		/* once the envelope is rewritten, what was read can no longer be written */
		cr_assert_eq(spool_msg_update(m, &env, &e), 0, "%s", e.msg);
		cr_assert_eq(spool_msg_mark(m, env.rcpt, 3, false, &e), -1);
		env_free(&env);
		spool_msg_unlock(m);
	}
}

/* A canonical "sent" stays (already settled); a canonical "failed" cannot become "done---": -1 naming
 * the recipient, and the others are still written. */
Test(spool, mark_refuses_short_words)
{
	char id[ENV_ID_LEN + 1], st[4];
	struct spool_msg *m;
	struct envelope env;
	struct err e = { 0 };
	long long next;

	submit3(id);
	cr_assert_eq(spool_lock(sp, id, &m, &e), 1);
	cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
	env.rcpt[0].state = RCPT_SENT;
	env.rcpt[1].state = RCPT_FAILED;
	cr_assert_eq(spool_msg_update(m, &env, &e), 0, "%s", e.msg);
	env_free(&env);
	cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
	env.rcpt[1].state = RCPT_SENT;	/* its report went out */
	env.rcpt[2].state = RCPT_SENT;
	cr_assert_eq(spool_msg_mark(m, env.rcpt, 3, false, &e), -1);
	cr_assert_not_null(strstr(e.msg, "b@x"), "%s", e.msg);
	marked_states(id, st, &next);
	cr_assert_str_eq(st, "sfS");
	env_free(&env);
	spool_msg_unlock(m);
}

/* settle: new/ID goes at once (the message is no longer queued), the data file stays until done. */
Test(spool, settle_then_done)
{
	char id[ENV_ID_LEN + 1];
	struct spool_entry *v;
	struct spool_msg *m;
	struct envelope env;
	struct err e = { 0 };
	size_t n;

	submit(id);
	cr_assert_eq(spool_lock(sp, id, &m, &e), 1);
	cr_assert_eq(spool_msg_env(m, &env, &e), 0, "%s", e.msg);
	env_free(&env);
	cr_assert_eq(spool_msg_settle(m, &e), 0, "%s", e.msg);
	cr_assert(!exists("new", id, NULL));
	cr_assert(exists("data", id, NULL));
	cr_assert_eq(spool_scan(sp, &v, &n, &e), 0);
	cr_assert_eq(n, 0, "a settled message is not queued");
	free(v);
	cr_assert_eq(spool_msg_settle(m, &e), 0, "idempotent");
	cr_assert_eq(spool_msg_done(m, &e), 0, "%s", e.msg);
	cr_assert(!exists("data", id, NULL));
	spool_msg_unlock(m);
}

/* in_child - run fn in a child with a private mount namespace (root) and return its exit status;
 * skip when namespaces are not available. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root for a private mount namespace");
	if (system("unshare -m true 2>/dev/null") != 0)
		cr_skip_test("root without unshare -m");
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
			_exit(3);
		_exit(fn());
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3)
		cr_skip_test("cannot make a private mount namespace here");
	return WEXITSTATUS(status);
}

/* settle when new/ID cannot be unlinked (a file mounted over it: EBUSY, as EIO would be): every
 * recipient is marked done--- in place, so the next run only removes it. */
static int settle_unlink_fails(void)
{
	char id[ENV_ID_LEN + 1], p[256], st[4];
	struct spool_msg *m;
	struct envelope env;
	struct err e = { 0 };
	long long next;

	submit3(id);
	snprintf(p, sizeof p, "%s/new/%s", root, id);
	if (mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
		return 3;
	if (spool_lock(sp, id, &m, &e) != 1 || spool_msg_env(m, &env, &e) < 0)
		return 4;
	env_free(&env);
	if (spool_msg_settle(m, &e) != 0)
		return 5;
	marked_states(id, st, &next);
	if (strcmp(st, "SSS") != 0)
		return 6;
	if (spool_msg_done(m, &e) != -1 || strstr(e.msg, "settled") == NULL || exists("data", id, NULL) == false)
		return 7;	/* the data file would go only after its envelope */
	spool_msg_unlock(m);
	return 0;
}

Test(spool, settle_when_unlink_fails)
{
	int r = in_child(settle_unlink_fails);

	cr_assert_eq(r, 0, "step %d failed", r);
}

/* A full disk: the deferral cannot be written (ENOSPC), the states in place can, and the data file is
 * what the next run reads. The spool is a 256 KiB tmpfs in a private mount namespace. */
static int full_disk(void)
{
	char id[ENV_ID_LEN + 1], p[256], st[4], block[4096];
	struct spool_msg *m;
	struct envelope env;
	struct err e = { 0 };
	long long next;
	int fd;

	if (mount("tmpfs", root, "tmpfs", 0, "size=256k") < 0)
		return 3;
	spool_close(sp);
	if (spool_init(root, (gid_t)-1, &e) < 0 || (sp = spool_open(root, &e)) == NULL)
		return 4;
	submit3(id);
	snprintf(p, sizeof p, "%s/tmp/filler", root);
	if ((fd = open(p, O_CREAT | O_WRONLY, 0600)) < 0)
		return 5;
	memset(block, 'x', sizeof block);
	while (write(fd, block, sizeof block) > 0)
		;
	close(fd);
	if (spool_lock(sp, id, &m, &e) != 1 || spool_msg_env(m, &env, &e) < 0)
		return 6;
	env.rcpt[0].state = RCPT_SENT;
	env.attempts = 1;
	if (spool_msg_update(m, &env, &e) != -1 || strstr(e.msg, "No space left") == NULL)
		return 7;
	if (spool_msg_mark(m, env.rcpt, 3, true, &e) != 0)
		return 8;
	marked_states(id, st, &next);
	if (strcmp(st, "SPP") != 0 || next < (long long)time(NULL) + SPOOL_HOLD_SECONDS - 5)
		return 9;
	env_free(&env);
	spool_msg_unlock(m);
	return 0;
}

Test(spool, full_disk_marks_in_place)
{
	int r = in_child(full_disk);

	cr_assert_eq(r, 0, "step %d failed", r);
}

/* A leftover in tmp/ that nobody holds (a submitter killed by a signal) goes after an hour; a held
 * one (a submission still reading its caller) stays until it is a day old. */
Test(spool, sweep_tmp_unheld_after_an_hour)
{
	struct err e = { 0 };
	long long now = (long long)time(NULL);
	struct spool_tx *held = spool_tx_begin(sp, &e);
	char keep[ENV_ID_LEN + 1] = "";
	int p[2], status;
	pid_t pid;

	cr_assert_not_null(held, "%s", e.msg);
	cr_assert_eq(pipe(p), 0);
	if ((pid = fork()) == 0) {	/* a submitter that dies mid-way: its file stays, its lock goes */
		struct spool_tx *t = spool_tx_begin(sp, &e);

		_exit(t != NULL && write(p[1], spool_tx_id(t), ENV_ID_LEN) == ENV_ID_LEN ? 0 : 1);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_eq(read(p[0], keep, ENV_ID_LEN), ENV_ID_LEN);
	close(p[0]);
	close(p[1]);
	cr_assert(exists("tmp", keep, ".data"));
	cr_assert(exists("new", keep, NULL));
	cr_assert_eq(sweep(now + 30 * 60), 1, "within the hour, only the dead submitter's mark goes");
	cr_assert(!exists("new", keep, NULL));
	cr_assert(exists("new", spool_tx_id(held), NULL), "a held mark is a submission still running");
	cr_assert_eq(sweep(now + 2 * 3600), 1, "the unheld leftover goes after an hour");
	cr_assert(!exists("tmp", keep, ".data"));
	cr_assert(exists("tmp", spool_tx_id(held), ".data"), "a held file is a submission still running");
	cr_assert_eq(sweep(now + 2 * 86400), 1, "a held file a day old goes too");
	spool_tx_abort(held);
}

/* listed - mailq_print's listing mentions id. */
static bool listed(const char *id)
{
	struct err e = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool r;

	cr_assert_not_null(f);
	cr_assert_eq(mailq_print(sp, f, &e), 0, "%s", e.msg);
	fclose(f);
	r = strstr(out, id) != NULL;
	free(out);
	return r;
}

/* deliverable - a runner's scan sees id, and it can lock and read it. */
static bool deliverable(const char *id)
{
	struct spool_entry *v;
	struct spool_msg *m = NULL;
	struct envelope env;
	struct err e = { 0 };
	bool seen = false;
	size_t n, i;

	cr_assert_eq(spool_scan(sp, &v, &n, &e), 0, "%s", e.msg);
	for (i = 0; i < n; i++)
		seen = seen || strcmp(v[i].id, id) == 0;
	free(v);
	if (!seen || spool_lock(sp, id, &m, &e) != 1)
		return false;
	seen = spool_msg_env(m, &env, &e) == 0;
	if (seen)
		env_free(&env);
	spool_msg_unlock(m);
	return seen;
}

static char window_id[ENV_ID_LEN + 1];
static bool window_seen;	/* the check below ran */

/* in_window - inside the fsync of data/: the mark and the data file exist, but the commit is not
 * complete, so mailq does not list it and no runner can take it. */
static void in_window(void)
{
	struct spool_msg *m = NULL;
	struct err e = { 0 };
	char p[256];
	struct stat st;

	snprintf(p, sizeof p, "%s/new/%s", root, window_id);
	cr_assert_eq(stat(p, &st), 0, "the mark exists during the fsync");
	snprintf(p, sizeof p, "%s/data/%s", root, window_id);
	cr_assert_eq(stat(p, &st), 0, "the data file is in place during the fsync");
	cr_assert_eq(spool_committing(sp, window_id), 1);
	cr_assert(!listed(window_id), "mailq lists a message whose commit has not completed");
	cr_assert_eq(spool_lock(sp, window_id, &m, &e), 0, "a runner took a message being committed");
	window_seen = true;
}

/* The fsync of data/ fails after the data file was renamed there, beside its mark (the commit point).
 * The exit status and the queue must agree: -1 (75, "nothing queued") only when the message was taken
 * back (its mark or its data gone, so no runner delivers it and mailq does not list it); when neither
 * can be removed it stays queued and the commit says so (1), since a 75 would make a retrying caller
 * send it twice. */
Test(spool, commit_fsync_data_fails)
{
	static const struct {
		const char *name;
		int fsync_data, unlink_fail, want_r;
		bool want_queued, want_mark, want_data;
	} rows[] = {
		{ "fsync ok", 1, 0, 0, true, true, true },
		{ "fsync EIO, both removed", 2, 0, -1, false, false, false },
		{ "fsync EIO, the mark stays", 2, 1, -1, false, true, false },
		{ "fsync EIO, the data stays", 2, 2, -1, false, false, true },
		{ "fsync EIO, nothing can be removed", 2, 3, 1, true, true, true },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct err e = { 0 };
		struct envelope env;
		struct spool_tx *t = spool_tx_begin(sp, &e);
		char id[ENV_ID_LEN + 1];
		int r;

		cr_assert_not_null(t, "%s", e.msg);
		cr_assert_eq(write(spool_tx_data_fd(t), "hello\r\n", 7), 7);
		memcpy(id, spool_tx_id(t), sizeof id);
		memcpy(window_id, id, sizeof id);
		mkenv(&env, id, 7);
		window_seen = false;
		fault.folder = "data";
		fault.fsync_dir = rows[i].fsync_data;
		fault.unlink_fail = rows[i].unlink_fail;
		fault.during = in_window;
		r = spool_tx_commit(t, &env, &e);
		fault.fsync_dir = fault.unlink_fail = 0;
		fault.during = NULL;
		spool_tx_abort(t);
		cr_expect(window_seen, "%s: the window was not checked", rows[i].name);
		cr_expect_eq(r, rows[i].want_r, "%s: commit returned %d (%s)", rows[i].name, r, e.msg);
		if (r != 0)
			cr_expect_eq(e.code, EX_TEMPFAIL, "%s", rows[i].name);
		if (r == 1)
			cr_expect_not_null(strstr(e.msg, "stays queued"), "%s: %s", rows[i].name, e.msg);
		if (r == -1)
			cr_expect_not_null(strstr(e.msg, "Input/output error while syncing"), "%s: %s", rows[i].name,
					   e.msg);
		cr_expect_eq(listed(id), rows[i].want_queued, "%s: mailq", rows[i].name);
		cr_expect_eq(deliverable(id), rows[i].want_queued, "%s: runner", rows[i].name);
		cr_expect_eq(exists("new", id, NULL), rows[i].want_mark, "%s: new/", rows[i].name);
		cr_expect_eq(exists("data", id, NULL), rows[i].want_data, "%s: data/", rows[i].name);
		cr_expect(!exists("tmp", id, ".data") && !exists("tmp", id, ".new"), "%s: tmp/", rows[i].name);
		/* start each row from an empty spool */
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -f %s/new/* %s/data/*", root, root);
		cr_assert_eq(system(cmd), 0);
	}
}

/* The mark's fsync fails (before the commit point, whether the submitter synced it early with
 * spool_tx_mark or the commit did): nothing is queued (75), the data file never reaches data/, the
 * mark is taken away when it can be (a mark that stays is no message, and the sweep takes it once
 * nobody holds it), and a second attempt to sync does not pretend it worked. */
Test(spool, mark_fsync_fails)
{
	static const struct {
		const char *name;
		bool early;		/* spool_tx_mark called before the commit, as the submitter does */
		int unlink_fail;
		bool want_mark_left;
	} rows[] = {
		{ "early, mark removed", true, 0, false },
		{ "in the commit, mark removed", false, 0, false },
		{ "early, the mark cannot be removed", true, 1, true },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct err e = { 0 }, e2 = { 0 };
		struct envelope env;
		struct spool_tx *t = spool_tx_begin(sp, &e);
		char id[ENV_ID_LEN + 1];
		int r;

		cr_assert_not_null(t, "%s", e.msg);
		memcpy(id, spool_tx_id(t), sizeof id);
		cr_expect_eq(spool_committing(sp, id), 1, "%s: a mark being written is held", rows[i].name);
		cr_expect(!listed(id), "%s: mailq lists a message being written", rows[i].name);
		cr_assert_eq(write(spool_tx_data_fd(t), "hello\r\n", 7), 7);
		mkenv(&env, id, 7);
		fault.folder = "new";
		fault.fsync_dir = 2;
		fault.unlink_fail = rows[i].unlink_fail;
		if (rows[i].early) {
			cr_expect_eq(spool_tx_mark(t, &e2), -1, "%s", rows[i].name);
			fault.fsync_dir = 0;	/* the disk "recovers": the failure must stick all the same */
		}
		r = spool_tx_commit(t, &env, &e);
		fault.fsync_dir = fault.unlink_fail = 0;
		spool_tx_abort(t);
		cr_expect_eq(r, -1, "%s: commit returned %d", rows[i].name, r);
		cr_expect_eq(e.code, EX_TEMPFAIL, "%s", rows[i].name);
		cr_expect_not_null(strstr(e.msg, "Input/output error while syncing the mark of"), "%s: %s",
				   rows[i].name, e.msg);
		cr_expect(!listed(id) && !deliverable(id), "%s: queued", rows[i].name);
		cr_expect(!exists("data", id, NULL), "%s: data/", rows[i].name);
		cr_expect_eq(exists("new", id, NULL), rows[i].want_mark_left, "%s: new/", rows[i].name);
		cr_expect(!exists("tmp", id, ".data") && !exists("tmp", id, ".new"), "%s: tmp/", rows[i].name);
		if (rows[i].want_mark_left) {
			cr_expect_eq(spool_committing(sp, id), 0, "%s: the mark is still held", rows[i].name);
			cr_expect_eq(sweep(time(NULL)), 1, "%s: the sweep leaves a lone mark", rows[i].name);
			cr_expect(!exists("new", id, NULL), "%s: new/ after the sweep", rows[i].name);
		}
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -f %s/new/* %s/data/*", root, root);
		cr_assert_eq(system(cmd), 0);
	}
}
