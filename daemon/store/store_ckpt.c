/* store_ckpt: the WAL copied into the database by a connection of its
 * own, on a thread other than the loop's (core/walsync runs it).
 *
 * SQLite checkpoints in the COMMIT that crosses wal_autocheckpoint
 * (1,000 frames): the loop then copied the pages and waited for the
 * database file's fsync (10-50 ms on a Pi's SD card), and no request was
 * read meanwhile. A PASSIVE checkpoint on another connection takes no
 * lock a writer needs (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html),
 * so the loop keeps committing while it runs, and the WAL starts over at
 * the first write after it caught up (wal.c, walRestartLog). Durability
 * is the checkpoint's as before: it syncs the WAL before it copies
 * frames, and the database before the WAL may be overwritten. */
#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "store_int.h"

struct store_ckpt {
	sqlite3 *db;
};

struct store_ckpt *store_ckpt_open(struct store *st, char *err, size_t errlen)
{
	const char *path = sqlite3_db_filename(store_db(st), "main");
	struct store_ckpt *ck = calloc(1, sizeof(*ck));

	if (!ck) {
		snprintf(err, errlen, "no memory");
		return NULL;
	}
	/* synchronous=FULL: the checkpoint syncs the WAL before copying
	 * (the loop's group commits leave it unsynced until core/walsync
	 * does) and the database after (pragma.html#pragma_synchronous). */
	if (!path || !path[0] ||
	    sqlite3_open_v2(path, &ck->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
			    store_vfs()) != SQLITE_OK ||
	    sqlite3_exec(ck->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL) !=
		SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s for checkpoints: %s",
			 path ? path : "(memory)",
			 ck->db ? sqlite3_errmsg(ck->db) : "no database");
		store_ckpt_close(ck);
		return NULL;
	}
	return ck;
}

int store_ckpt_run(struct store_ckpt *ck, int *log, int *copied, char *err,
		   size_t errlen)
{
	int rc = sqlite3_wal_checkpoint_v2(
	    ck->db, "main", SQLITE_CHECKPOINT_PASSIVE, log, copied);

	/* BUSY: another checkpoint runs (the loop's fallback, a backup);
	 * this one's frames are copied by the next. */
	if (rc == SQLITE_OK || rc == SQLITE_BUSY)
		return 0;
	snprintf(err, errlen, "checkpoint of %s: %s",
		 sqlite3_db_filename(ck->db, "main"), sqlite3_errmsg(ck->db));
	return -1;
}

void store_ckpt_close(struct store_ckpt *ck)
{
	if (!ck)
		return;
	sqlite3_close(ck->db);
	free(ck);
}

int store_page_size(struct store *st)
{
	return (int)store_scalar64(st, "PRAGMA page_size", 0, 0, NULL);
}
