/*
 * rerun.h - run the front door (or any program) again as a child: the one fork/pipe/exec of postern.
 *
 * Used for the bounces and delay warnings of the runner (postern runs SENDMAIL_PATH), the -oem notice
 * and each message of -bs (the front door runs itself), the queue runs a submission starts (-odi in the
 * foreground, the detached one otherwise) and sendmail -q (the front door runs POSTERN_PATH, the last
 * in place, rerun_exec). One place that:
 * execs by an absolute path (never a PATH search; RERUN_SELF is this very binary), with a clean
 * environment (PATH fixed, TZ kept only when it was already in ours: the front door validated it), with
 * every descriptor above 2 closed; feeds the child's stdin without ever dying of SIGPIPE and without
 * blocking forever on a child that has stopped reading (it exits: the write fails with EPIPE, and the
 * exit status is what counts); collects its stderr alongside (bounded by RERUN_STDERR_MAX) so that a
 * chatty child cannot deadlock us; retries every call on EINTR; and reports how the child ended as a
 * sysexits code (EX_SOFTWARE when it died of a signal), which rerun_status_name() names.
 *
 * Untrusted inputs: none of its own (argv and the message are the caller's). Errors: -1 with a one-line
 * reason in struct err (code EX_OSERR for fork/pipe failures) when no child could be started.
 */
#ifndef POSTERN_RERUN_H
#define POSTERN_RERUN_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/buf.h"
#include "lib/err.h"

/* RERUN_SELF - the running binary, whatever name it was called by. */
#define RERUN_SELF "/proc/self/exe"

/* POSTERN_PATH, SENDMAIL_PATH - the queue side and the front door where make install puts them (the
 * Makefile sets both from SBINDIR). Compiled in, never taken from PATH, the environment or the folder
 * of the running binary: the set-group-id front door hands its group to the postern it starts, so
 * that must be the installed one, not one next to a hard link in a caller's folder. Tests make these
 * paths resolve to the build inside their mount namespace (tests/integration/run.sh). */
#ifndef POSTERN_PATH
#define POSTERN_PATH "/usr/sbin/postern"
#endif
#ifndef SENDMAIL_PATH
#define SENDMAIL_PATH "/usr/sbin/sendmail"
#endif

/* RERUN_STDERR_MAX - what is kept of a child's stderr with RERUN_ERR_CAPTURE; the rest is read and
 * dropped (the child's complaints are one-liners; this only bounds a broken one). */
#define RERUN_STDERR_MAX (64 * 1024)

/* rerun_stderr - what becomes of the child's stderr. */
enum rerun_stderr {
	RERUN_ERR_INHERIT,	/* ours */
	RERUN_ERR_CAPTURE,	/* read into a buffer; rerun_finish hands it over */
	RERUN_ERR_NULL,		/* /dev/null */
};

/* struct rerun_cmd - what to run. Borrowed strings; argv ends with NULL and argv[0] is the name the
 * child sees (its personality). */
struct rerun_cmd {
	const char *prog;		/* absolute path; NULL means RERUN_SELF */
	const char *const *argv;
	enum rerun_stderr err;
};

struct rerun;

/* rerun_start - fork and exec cmd with a pipe on its stdin. NULL (reason in e) if it could not be
 * started; an exec failure shows as exit status EX_OSERR from rerun_finish. */
struct rerun *rerun_start(const struct rerun_cmd *cmd, struct err *e);

/* rerun_write - n bytes to the child's stdin (polling, so its stderr is drained meanwhile). -1 with
 * errno EPIPE once the child no longer reads; further writes then fail at once. */
int rerun_write(struct rerun *r, const void *p, size_t n);

/* rerun_finish - close the child's stdin, read the rest of its stderr, wait for it, free r. Returns its
 * sysexits code (its exit status; EX_SOFTWARE if a signal killed it). errout (may be NULL): with
 * RERUN_ERR_CAPTURE, what the child wrote on stderr is appended, up to RERUN_STDERR_MAX. */
int rerun_finish(struct rerun *r, struct buf *errout);

/* rerun_submit - start cmd, write msg, finish: the child's sysexits code, or -1 (reason in e) when it
 * could not be started. *fed (may be NULL): whether the child took the whole message. */
int rerun_submit(const struct rerun_cmd *cmd, const void *msg, size_t len, bool *fed, struct err *e);

/* rerun_mode - how rerun_spawn runs its child. */
enum rerun_mode {
	RERUN_WAIT,	/* in the foreground, our stdio, waited for */
	RERUN_DETACH,	/* its own session, stdio on /dev/null, nobody's child (double fork) */
};

/* rerun_spawn - run cmd with stdin on /dev/null. RERUN_WAIT: the child's sysexits code (its stderr is
 * ours, or /dev/null with RERUN_ERR_NULL; RERUN_ERR_CAPTURE counts as ours); RERUN_DETACH: 0 once it is
 * on its way (its fate is not known). -1 (reason in e) when it could not be started. */
int rerun_spawn(const struct rerun_cmd *cmd, enum rerun_mode mode, struct err *e);

/* rerun_output - run cmd with stdin on /dev/null and its stdout read into out (up to out->max bytes),
 * until it ends or `deadline` (lib/clock.h's now_ms clock) passes. Its sysexits code once it has
 * closed its output and exited in time; -1 with e when it could not be started, or when it was killed
 * (EX_TEMPFAIL: it was still running at the deadline, or said more than out holds). */
int rerun_output(const struct rerun_cmd *cmd, struct buf *out, long long deadline, struct err *e);

/* rerun_exec - replace this process with cmd (stdio and descriptors as they are, signal mask cleared,
 * the same clean environment as a child's). Returns only on failure: -1 with e (EX_OSFILE when the
 * program does not exist, EX_OSERR otherwise). */
int rerun_exec(const struct rerun_cmd *cmd, struct err *e);

/* rerun_status_name - "EX_TEMPFAIL" for 75, "EX_OK" for 0; "exit N" for a code sysexits.h does not
 * name (buf holds at least RERUN_NAME_MAX bytes and is used only then). */
#define RERUN_NAME_MAX 16
const char *rerun_status_name(int code, char buf[RERUN_NAME_MAX]);

#endif
