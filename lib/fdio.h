/*
 * fdio.h - the few descriptor loops several rooms need: write everything, read a line, read a whole
 * small file under a ceiling.
 *
 * Errors: fdio_write_all and fdio_read_line return -1 with errno set (EMSGSIZE when a line is over the
 * buffer's ceiling). fdio_read_file returns -1 with a one-line reason naming the file in struct err
 * (code as given by the caller) and errno set, so a caller can treat ENOENT as "no file".
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

/* fdio_read_line - one "\n"-terminated line into b (without the newline). 1: a line; 0: end of input
 * before any byte; -1: error, or end of input inside a line. */
int fdio_read_line(int fd, struct buf *b);

/* fdio_read_file - a regular file's bytes, at most max, into out (opened O_NONBLOCK, so a FIFO
 * cannot hang the caller). */
int fdio_read_file(const char *path, size_t max, struct buf *out, int code, struct err *e);

#endif
