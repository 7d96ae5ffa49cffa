/* core/walsync: makes SQLite's write-ahead log durable off the loop.
 *
 * A commit made with PRAGMA synchronous=NORMAL writes its WAL frames but
 * does not sync them (https://www.sqlite.org/pragma.html#pragma_synchronous):
 * a power cut may undo it. Its caller takes a ticket right after such a
 * COMMIT, and waits for it: a worker thread fdatasyncs the WAL file, and a
 * ticket is reported durable only by a sync that STARTED after its commit
 * returned. Meanwhile the loop keeps reading, parsing and committing; the
 * commits made while a sync runs wait for the next one (one sync covers
 * them all).
 *
 * Why syncing the WAL is enough: every frame of a committed transaction
 * is in the WAL file or, once a checkpoint copied it, in the database
 * file, which the checkpoint synced (after syncing the WAL) before the WAL
 * is reset and overwritten (https://www.sqlite.org/wal.html, "Checkpointing").
 *
 * The ticket arithmetic (struct walsync_tickets) is separate from the
 * thread, so that a unit test can drive it. */
#ifndef SIMPUL_WALSYNC_H
#define SIMPUL_WALSYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct walsync;

/* ---- tickets: pure, no I/O --------------------------------------------- */

struct walsync_tickets {
	uint64_t committed; /* the last ticket handed out */
	uint64_t covering;  /* the newest ticket the running sync covers */
	uint64_t durable;   /* every ticket <= durable is on disk */
	uint64_t failed;    /* tickets in (durable, failed] lost their sync */
	bool running;
};

/* After a COMMIT returned: that commit's ticket. */
uint64_t walsync_tk_commit(struct walsync_tickets *t);
/* Whether a sync should start now (none runs and some commit is not yet
 * durable); if so it is marked running and covers every ticket so far. */
bool walsync_tk_start(struct walsync_tickets *t);
/* The running sync ended: ok or not. */
void walsync_tk_done(struct walsync_tickets *t, bool ok);
/* 1: durable, -1: its sync failed, 0: still waiting. */
int walsync_tk_state(const struct walsync_tickets *t, uint64_t ticket);

/* ---- the syncer -------------------------------------------------------- */

/* ok is false when the sync that covered the ticket failed (the commit
 * may not survive a power cut: do not acknowledge it). */
typedef void (*walsync_cb)(void *arg, bool ok);

/* wal_path: the database's "-wal" file (store_wal_path). NULL on error. */
struct walsync *walsync_new(struct loop *l, const char *wal_path);
/* Right after a synchronous=NORMAL COMMIT returned: cb(arg, ok) runs on
 * the loop once a sync that started after now has ended. -1 when no
 * memory (then cb never runs). */
int walsync_after_commit(struct walsync *ws, walsync_cb cb, void *arg);
/* Waiters not yet called back. */
int walsync_waiting(const struct walsync *ws);
/* A checkpoint catches up with the WAL's last frames: a commit that can
 * wait (a webhook group) should, or the WAL cannot start over (see
 * walsync.c, the checkpointer). */
bool walsync_hold(const struct walsync *ws);
/* At stop: lets the running sync end and syncs on the calling thread
 * until every waiter was called back; later commits are synced on the
 * calling thread at once. */
void walsync_stop(struct walsync *ws);
/* ---- the checkpointer -------------------------------------------------- */

/* Runs on the checkpoint thread: 0 with the frames the WAL holds and
 * how many of them are copied, or -1 with err set. */
typedef int (*walsync_ckpt_fn)(void *ctx, int *log, int *copied, char *err,
			       size_t errlen);
/* Checkpoints on a thread of their own: run(ctx) whenever a commit left
 * at least `frames` frames in the WAL, one at a time. -1: no thread. */
int walsync_checkpoint_by(struct walsync *ws, walsync_ckpt_fn run, void *ctx,
			  int frames);
/* The store's WAL hook (store_on_wal), on the loop after each commit. */
void walsync_wal_frames(void *ws, int frames);
/* A checkpoint runs now. */
bool walsync_checkpointing(const struct walsync *ws);

/* walsync_stop, then frees (after the running checkpoint ended). */
void walsync_free(struct walsync *ws);

#endif
