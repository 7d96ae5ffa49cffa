/* store_vfs: SQLite's own VFS (unix), with the writes of a commit to the
 * WAL file made as one write instead of two per page.
 *
 * SQLite writes each frame of a commit as two calls, its 24-byte header
 * and its page (wal.c, walWriteOneFrame): a group of webhooks wrote ~160
 * pwrite calls per commit, and on a Pi a system call costs more than the
 * copy it makes (perf under signed webhooks: ~17% of the loop's time in
 * sqlite3WalFrames, nearly all of it the calls themselves; issue 17).
 * Here the frames a commit appends are gathered in a buffer and written
 * once, when the commit's last page arrives, inside that page's write, so
 * an error is still the commit's error.
 *
 * When the frames reach the file matters, and is unchanged: readers (other
 * connections, other processes) read a frame only once the commit is
 * published in the wal-index, which SQLite does after these writes
 * return; nothing is acknowledged before the COMMIT returns (and then
 * core/walsync or synchronous=FULL syncs the file, after the write). So
 * the buffer is written out before it could be read or synced: at the
 * page after a commit frame's header (its bytes 4-7 are the database size,
 * non-zero only in a commit frame: https://www.sqlite.org/fileformat2.html
 * "WAL Frame Format"), and before any read, sync, truncate, size, lock or
 * close of the file. A write that does not continue the buffer writes it
 * out first; a lone header with the commit mark (the checksum rewrite
 * after a spilled page, wal.c walRewriteChecksums) is written at once.
 * Every other file (the database, its -shm, journals) is SQLite's own
 * unix file, untouched. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define VFS_NAME "simpul"
#define WAL_HDR	 24	      /* a frame's header */
#define BUF_CAP	 (128 * 1024) /* ~ one group commit of 1 KiB pages */

struct wal_file {
	sqlite3_file base;
	sqlite3_file *real; /* SQLite's own, just after this struct */
	unsigned char *buf;
	int len;
	sqlite3_int64 at; /* the file offset of buf[0] */
	bool commit;	  /* the last header buffered marks a commit */
};

static sqlite3_vfs vfs;
static sqlite3_vfs *unix_vfs;
static unsigned long real_writes; /* for tests: store_vfs_writes() */

static int flush(struct wal_file *w)
{
	int rc = SQLITE_OK;

	if (w->len > 0) {
		rc = w->real->pMethods->xWrite(w->real, w->buf, w->len, w->at);
		__atomic_add_fetch(&real_writes, 1, __ATOMIC_RELAXED);
	}
	w->len = 0;
	w->commit = false;
	return rc;
}

static bool marks_commit(const void *p, int n)
{
	const unsigned char *h = p;

	return n == WAL_HDR && (h[4] | h[5] | h[6] | h[7]) != 0;
}

static int write_through(struct wal_file *w, const void *p, int n,
			 sqlite3_int64 off)
{
	__atomic_add_fetch(&real_writes, 1, __ATOMIC_RELAXED);
	return w->real->pMethods->xWrite(w->real, p, n, off);
}

/* Flushing early is always safe (it is what SQLite does without this
 * file); what must hold is that after a commit frame's page nothing of
 * the commit waits in the buffer. */
static int wal_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	bool hdr = n == WAL_HDR, commit = marks_commit(p, n);
	int rc = SQLITE_OK;

	if (w->len > 0 && (off != w->at + w->len || w->len + n > BUF_CAP))
		rc = flush(w);
	if (rc != SQLITE_OK)
		return rc;
	if (!w->buf)
		w->buf = malloc(BUF_CAP);
	if (!w->buf || n > BUF_CAP || (w->len == 0 && commit)) {
		w->commit = commit; /* its page, if one follows, at once */
		return write_through(w, p, n, off);
	}
	if (w->len == 0)
		w->at = off;
	memcpy(w->buf + w->len, p, (size_t)n);
	w->len += n;
	if (hdr) {
		w->commit = commit;
		return SQLITE_OK;
	}
	return w->commit ? flush(w) : SQLITE_OK;
}

/* ---- the rest: written out first, then SQLite's own ------------------- */

#define REAL(f) (((struct wal_file *)(f))->real)

static int wal_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	int rc2 = w->real->pMethods->xClose(w->real);

	free(w->buf);
	w->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wal_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int wal_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int wal_sync(sqlite3_file *f, int flags)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int wal_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int wal_lock(sqlite3_file *f, int lock)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int wal_unlock(sqlite3_file *f, int lock)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int wal_reserved(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int wal_fcntl(sqlite3_file *f, int op, void *arg)
{
	int rc = flush((struct wal_file *)f);

	return rc ? rc : REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int wal_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int wal_device(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

/* Version 1: SQLite asks for no shared memory or mapping on a -wal. */
static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_reserved,
    .xFileControl = wal_fcntl,
    .xSectorSize = wal_sector,
    .xDeviceCharacteristics = wal_device,
};

/* A -wal file is wrapped; any other is SQLite's own unix file, opened in
 * the same space (szOsFile covers both). */
static int vfs_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f,
		    int flags, int *out)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	(void)v;
	if (!(flags & SQLITE_OPEN_WAL))
		return unix_vfs->xOpen(unix_vfs, name, f, flags, out);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	rc = unix_vfs->xOpen(unix_vfs, name, w->real, flags, out);
	w->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
	return rc;
}

static int vfs_delete(sqlite3_vfs *v, const char *name, int dir)
{
	(void)v;
	return unix_vfs->xDelete(unix_vfs, name, dir);
}

static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	(void)v;
	return unix_vfs->xAccess(unix_vfs, name, flags, out);
}

static int vfs_full(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return unix_vfs->xFullPathname(unix_vfs, name, n, out);
}

static int vfs_random(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return unix_vfs->xRandomness(unix_vfs, n, out);
}

static int vfs_sleep(sqlite3_vfs *v, int us)
{
	(void)v;
	return unix_vfs->xSleep(unix_vfs, us);
}

static int vfs_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return unix_vfs->xCurrentTime(unix_vfs, out);
}

static int vfs_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return unix_vfs->xGetLastError(unix_vfs, n, out);
}

static int vfs_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return unix_vfs->xCurrentTimeInt64(unix_vfs, out);
}

static void *vfs_dlopen(sqlite3_vfs *v, const char *name)
{
	(void)v;
	return unix_vfs->xDlOpen(unix_vfs, name);
}

static void vfs_dlerror(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	unix_vfs->xDlError(unix_vfs, n, out);
}

static void (*vfs_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	(void)v;
	return unix_vfs->xDlSym(unix_vfs, h, sym);
}

static void vfs_dlclose(sqlite3_vfs *v, void *h)
{
	(void)v;
	unix_vfs->xDlClose(unix_vfs, h);
}

static void do_register(void)
{
	unix_vfs = sqlite3_vfs_find("unix");
	if (!unix_vfs)
		return;
	vfs = (sqlite3_vfs){
	    .iVersion = 2,
	    .szOsFile = (int)sizeof(struct wal_file) + unix_vfs->szOsFile,
	    .mxPathname = unix_vfs->mxPathname,
	    .zName = VFS_NAME,
	    .xOpen = vfs_open,
	    .xDelete = vfs_delete,
	    .xAccess = vfs_access,
	    .xFullPathname = vfs_full,
	    .xDlOpen = vfs_dlopen,
	    .xDlError = vfs_dlerror,
	    .xDlSym = vfs_dlsym,
	    .xDlClose = vfs_dlclose,
	    .xRandomness = vfs_random,
	    .xSleep = vfs_sleep,
	    .xCurrentTime = vfs_time,
	    .xGetLastError = vfs_error,
	    .xCurrentTimeInt64 = vfs_time64,
	};
	if (sqlite3_vfs_register(&vfs, 0) != SQLITE_OK)
		unix_vfs = NULL;
}

const char *store_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, do_register);
	return unix_vfs ? VFS_NAME : NULL;
}

unsigned long store_vfs_writes(void)
{
	return __atomic_load_n(&real_writes, __ATOMIC_RELAXED);
}
