/* fdio.c - see fdio.h */
#include "lib/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"

#define FDIO_CHUNK 8192	/* what one read() of a file takes */
#define FDIO_SHOWN_MAX 300	/* a file name as shown in an error, escaped */
#define FDIO_CLOSE_LOOP_MAX 65536	/* where a kernel without close_range makes us loop */

/* put_all - all n bytes, with write (off < 0) or pwrite at off; retried on EINTR and short writes. */
static int put_all(int fd, const void *p, size_t n, off_t off)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = off < 0 ? write(fd, s, n) : pwrite(fd, s, n, off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		s += w;
		n -= (size_t)w;
		if (off >= 0)
			off += w;
	}
	return 0;
}

int fdio_write_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, -1);
}

int fdio_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	return off < 0 ? (errno = EINVAL, -1) : put_all(fd, p, n, off);
}

ssize_t fdio_pread_all(int fd, void *p, size_t n, off_t off)
{
	char *s = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, s + got, n - got, off + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* fdio_wait - see fdio.h */
int fdio_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	long long left;
	int r;

	do {
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		r = poll(&pfd, 1, left > FDIO_WAIT_SLICE_MS ? FDIO_WAIT_SLICE_MS : (int)left);
	} while ((r < 0 && errno == EINTR) || (r == 0 && now_ms() < deadline));
	return r < 0 ? -1 : r > 0 ? 1 : 0;
}

int fdio_read_file(const char *path, size_t max, struct buf *out, int code, struct err *e)
{
	char tmp[FDIO_CHUNK], shown[FDIO_SHOWN_MAX];
	struct stat st;
	ssize_t n;
	int fd, saved;

	(void)log_safe(shown, sizeof shown, path, strlen(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		saved = errno;
		err_set(e, code, "%s: %s", shown, strerror(saved));
		errno = saved;
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		err_set(e, code, "%s: not a regular file", shown);
		errno = EINVAL;
		return -1;
	}
	buf_init(out, max);
	while ((n = read(fd, tmp, sizeof tmp)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_add(out, tmp, (size_t)n) < 0) {
			saved = n < 0 ? errno : EFBIG;
			(void)close(fd);
			buf_free(out);
			if (saved != EFBIG)
				err_set(e, code, "%s: %s", shown, strerror(saved));
			else
				err_set(e, code, "%s: larger than %zu bytes", shown, max);
			errno = saved;
			return -1;
		}
	}
	(void)close(fd);
	return 0;
}

/* fdio_close_from - see fdio.h */
void fdio_close_from(int low)
{
	long max;
	int fd;

	if (syscall(SYS_close_range, (unsigned)low, ~0U, 0U) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > FDIO_CLOSE_LOOP_MAX)
		max = FDIO_CLOSE_LOOP_MAX;
	for (fd = low; fd < max; fd++)
		(void)close(fd);
}
