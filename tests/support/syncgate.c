/* syncgate: an LD_PRELOAD shim for the integration tests. While the file
 * named by SIMPUL_TEST_SYNC_GATE exists, fsync and fdatasync of a file
 * whose name ends in "-wal" wait: a disk slow to sync, held as long as a
 * test needs, without timing anything. libsqlite3 and simpuld reach
 * libc's fsync/fdatasync through the PLT, so this copy is the one they
 * call (ld.so(8), LD_PRELOAD). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool is_wal(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 4)
		return false;
	path[n] = '\0';
	return strcmp(path + n - 4, "-wal") == 0;
}

static void hold(int fd)
{
	const char *gate = getenv("SIMPUL_TEST_SYNC_GATE");
	struct timespec pause = {0, 5 * 1000 * 1000};

	if (!gate || !is_wal(fd))
		return;
	while (access(gate, F_OK) == 0)
		nanosleep(&pause, NULL);
}

typedef int (*sync_fn)(int);

static int call(const char *name, int fd)
{
	sync_fn real = (sync_fn)dlsym(RTLD_NEXT, name);

	hold(fd);
	return real ? real(fd) : -1;
}

int fdatasync(int fd)
{
	return call("fdatasync", fd);
}

int fsync(int fd)
{
	return call("fsync", fd);
}
