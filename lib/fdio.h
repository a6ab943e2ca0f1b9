/*
 * fdio.h - the few descriptor loops several rooms need: write everything, read up to a size, wait
 * for a descriptor until a deadline, read a whole small file under a ceiling, close every descriptor
 * above stderr.
 *
 * Errors: fdio_write_all, fdio_pwrite_all and fdio_pread_all return -1 with errno set. fdio_read_file
 * returns -1 with a one-line reason naming the file in struct err (code as given by the caller) and
 * errno set, so a caller can treat ENOENT as "no file".
 */
#ifndef POSTERN_FDIO_H
#define POSTERN_FDIO_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/buf.h"
#include "lib/err.h"

int fdio_write_all(int fd, const void *p, size_t n);
/* fdio_pwrite_all - all n bytes at offset off (pwrite, retried on EINTR and short writes). */
int fdio_pwrite_all(int fd, const void *p, size_t n, off_t off);
/* fdio_pread_all - up to n bytes from offset off; fewer only at end of file. -1 on error. */
ssize_t fdio_pread_all(int fd, void *p, size_t n, off_t off);

/* FDIO_WAIT_SLICE_MS - the longest single poll of fdio_wait (poll takes an int of milliseconds; the
 * deadline is checked again after each slice). */
#define FDIO_WAIT_SLICE_MS 1000000

/* fdio_wait - poll fd for `events` (POLLIN, POLLOUT) until `deadline`, a time on lib/clock.h's
 * now_ms clock: the one deadline poll of the tree. Retried on EINTR, so a signal never shortens or
 * lengthens the wait. 1: ready (or an error or hang-up to be read), 0: the deadline passed (at once
 * when it already had), -1: poll failed (errno). */
int fdio_wait(int fd, short events, long long deadline);

/* fdio_read_file - a regular file's bytes, at most max, into out (opened O_NONBLOCK, so a FIFO
 * cannot hang the caller). */
int fdio_read_file(const char *path, size_t max, struct buf *out, int code, struct err *e);

/* fdio_close_from - close every descriptor from `low` up, before an exec: close_range(2), made as a
 * raw system call so the front door builds on a libc without the wrapper (musl), with a close loop
 * where the kernel lacks it. Async-signal-safe: a forked child may call it. */
void fdio_close_from(int low);

#endif
