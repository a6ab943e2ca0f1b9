/*
 * faultfs.c - an LD_PRELOAD shim for the integration tests: storage failures on demand.
 *
 * FAULTFS_UNLINK_EIO=PATH[:PATH...]: unlinkat() of a name in one of these directories fails with EIO (as on a disk going bad), nothing removed. Built by the test that uses it
 * (cc -shared -fPIC); never linked into postern: production has no hook for it.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int unlinkat(int dirfd, const char *name, int flags);

/* postern clears its environment first thing: the setting is read before main. */
static char want_dirs[4096];

__attribute__((constructor)) static void faultfs_init(void)
{
	const char *v = getenv("FAULTFS_UNLINK_EIO");

	if (v != NULL && strlen(v) < sizeof want_dirs)
		memcpy(want_dirs, v, strlen(v) + 1);
}

/* failing_dir - dirfd is one of the listed folders (compared by device and inode: a runner that has
 * changed its user cannot read /proc/self/fd). */
static int failing_dir(int dirfd)
{
	const char *want = want_dirs;
	struct stat d, w;
	char path[4096];

	if (want[0] == '\0' || dirfd == AT_FDCWD || fstat(dirfd, &d) < 0)
		return 0;
	while (*want != '\0') {
		size_t len = strcspn(want, ":");

		if (len < sizeof path) {
			memcpy(path, want, len);
			path[len] = '\0';
			if (stat(path, &w) == 0 && w.st_dev == d.st_dev && w.st_ino == d.st_ino)
				return 1;
		}
		want += len + (want[len] == ':');
	}
	return 0;
}

int unlinkat(int dirfd, const char *name, int flags)
{
	static int (*real)(int, const char *, int);

	if (failing_dir(dirfd)) {
		errno = EIO;
		return -1;
	}
	if (real == NULL)
		real = (int (*)(int, const char *, int))dlsym(RTLD_NEXT, "unlinkat");
	return real(dirfd, name, flags);
}
