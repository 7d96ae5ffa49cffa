/* core/walsync: a commit made without a sync is reported durable only by
 * a sync that started after it; a failed sync never reports durable; the
 * store goes back to synchronous=FULL after such a commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loop.h"
#include "store.h"
#include "store_int.h"
#include "walsync.h"

#include "store_fixture.h"

static int setup(void **state)
{
	(void)state;
	return store_fixture_setup("walsync");
}

/* ---- tickets ----------------------------------------------------------- */

static void nothing_to_sync_starts_nothing(void **state)
{
	struct walsync_tickets t = {0};

	(void)state;
	assert_false(walsync_tk_start(&t));
}

static void commit_during_a_sync_waits_for_the_next(void **state)
{
	struct walsync_tickets t = {0};

	(void)state;
	uint64_t a = walsync_tk_commit(&t);
	assert_int_equal(walsync_tk_state(&t, a), 0);
	assert_true(walsync_tk_start(&t));
	uint64_t b = walsync_tk_commit(&t); /* while the sync runs */
	assert_false(walsync_tk_start(&t)); /* one sync at a time */
	walsync_tk_done(&t, true);
	assert_int_equal(walsync_tk_state(&t, a), 1);
	assert_int_equal(walsync_tk_state(&t, b), 0); /* not by that sync */
	assert_true(walsync_tk_start(&t));
	walsync_tk_done(&t, true);
	assert_int_equal(walsync_tk_state(&t, b), 1);
	assert_false(walsync_tk_start(&t));
}

static void failed_sync_is_never_durable(void **state)
{
	struct walsync_tickets t = {0};

	(void)state;
	uint64_t a = walsync_tk_commit(&t);
	assert_true(walsync_tk_start(&t));
	uint64_t b = walsync_tk_commit(&t);
	walsync_tk_done(&t, false);
	assert_int_equal(walsync_tk_state(&t, a), -1);
	assert_int_equal(walsync_tk_state(&t, b), 0);
	assert_true(walsync_tk_start(&t));
	walsync_tk_done(&t, true);
	assert_int_equal(walsync_tk_state(&t, b), 1);
}

/* ---- the syncer, on a real loop and a real store ----------------------- */

struct seen {
	int calls;
	bool ok;
};

static void note(void *arg, bool ok)
{
	struct seen *s = arg;

	s->calls++;
	s->ok = ok;
}

static int synchronous(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	sqlite3_prepare_v2(store_db(st), "PRAGMA synchronous", -1, &s, NULL);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void unsynced_commit_then_full_again(void **state)
{
	struct store *st = open_db();
	char want[300];

	(void)state;
	snprintf(want, sizeof(want), "%s-wal", db);
	assert_string_equal(store_wal_path(st), want);
	assert_int_equal(synchronous(st), 2); /* FULL */
	assert_int_equal(store_begin_unsynced(st), STORE_OK);
	assert_int_equal(synchronous(st), 1); /* NORMAL */
	assert_int_equal(store_exec(st, "CREATE TABLE t(x)"), STORE_OK);
	assert_int_equal(store_commit(st), STORE_OK);
	assert_int_equal(synchronous(st), 2);
	assert_int_equal(store_begin_unsynced(st), STORE_OK);
	store_rollback(st);
	assert_int_equal(synchronous(st), 2);
	store_close(st);
}

static void answered_after_the_sync(void **state)
{
	struct store *st = open_db();
	struct loop *l = loop_new();
	struct walsync *ws = walsync_new(l, store_wal_path(st));
	struct seen s = {0};

	(void)state;
	assert_non_null(ws);
	assert_int_equal(store_begin_unsynced(st), STORE_OK);
	assert_int_equal(store_exec(st, "CREATE TABLE t(x)"), STORE_OK);
	assert_int_equal(store_commit(st), STORE_OK);
	assert_int_equal(walsync_after_commit(ws, note, &s), 0);
	assert_int_equal(s.calls, 0); /* never inside the commit's caller */
	while (s.calls == 0)
		loop_run_once(l, 1000);
	assert_int_equal(s.calls, 1);
	assert_true(s.ok);
	assert_int_equal(walsync_waiting(ws), 0);
	walsync_free(ws);
	loop_free(l);
	store_close(st);
}

/* At stop, a commit still waiting is synced on the caller's thread and
 * reported before walsync_free returns. */
static void stop_syncs_what_waits(void **state)
{
	struct store *st = open_db();
	struct loop *l = loop_new();
	struct walsync *ws = walsync_new(l, store_wal_path(st));
	struct seen a = {0}, b = {0};

	(void)state;
	assert_int_equal(walsync_after_commit(ws, note, &a), 0);
	assert_int_equal(walsync_after_commit(ws, note, &b), 0);
	walsync_free(ws);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_true(a.ok && b.ok);
	loop_free(l);
	store_close(st);
}

/* A sync that cannot happen (the WAL's directory is gone) is reported as
 * failed: its caller must not acknowledge. */
static void failed_sync_reported(void **state)
{
	struct loop *l = loop_new();
	struct walsync *ws = walsync_new(l, "/nonexistent-simpul/x.db-wal");
	struct seen s = {0};

	(void)state;
	assert_non_null(ws);
	assert_int_equal(walsync_after_commit(ws, note, &s), 0);
	while (s.calls == 0)
		loop_run_once(l, 1000);
	assert_false(s.ok);
	walsync_free(ws);
	loop_free(l);
}

/* ---- the checkpointer, on a real loop and a real store ----------------- */

struct wal_seen {
	struct walsync *ws;
	int frames, max, restarts;
};

/* The store's WAL hook, as simpuld wires it, noting what the WAL held. */
static void wal_frames(void *arg, int frames)
{
	struct wal_seen *w = arg;

	if (frames < w->frames)
		w->restarts++;
	w->frames = frames;
	if (frames > w->max)
		w->max = frames;
	if (w->ws)
		walsync_wal_frames(w->ws, frames);
}

static int run_ckpt(void *ck, int *log, int *copied, char *err, size_t len)
{
	return store_ckpt_run(ck, log, copied, err, len);
}

/* One group of four rows, committed as the webhook groups are: unsynced,
 * and not while walsync_hold() says the checkpoint is catching up. */
static void commit_group(struct store *st, struct walsync *ws, int i)
{
	char sql[128];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO t SELECT %d, randomblob(700)"
		 " FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"
		 " UNION ALL SELECT 4)",
		 i);
	assert_int_equal(store_begin_unsynced(st), STORE_OK);
	assert_int_equal(store_exec(st, sql), STORE_OK);
	assert_int_equal(store_commit(st), STORE_OK);
	static struct seen synced;

	if (ws)
		assert_int_equal(walsync_after_commit(ws, note, &synced), 0);
}

static int64_t rows(struct store *st)
{
	return store_scalar64(st, "SELECT count(*) FROM t", 0, 0, NULL);
}

/* Commits keep coming while the WAL is copied on the checkpoint thread,
 * and yet the WAL starts over again and again (it grew to the fallback
 * before the catch-up phase: a PASSIVE checkpoint racing the loop never
 * finds a moment with every frame copied), and what was committed is all
 * there, intact. */
static void checkpoints_start_the_wal_over(void **state)
{
	struct store *st = open_db();
	struct loop *l = loop_new();
	struct walsync *ws = walsync_new(l, store_wal_path(st));
	char err[256];
	struct store_ckpt *ck = store_ckpt_open(st, err, sizeof(err));
	struct wal_seen w = {.ws = ws};
	int n = 0;

	(void)state;
	assert_non_null(ck);
	assert_int_equal(walsync_checkpoint_by(ws, run_ckpt, ck, 200), 0);
	store_on_wal(st, wal_frames, &w, 1000000);
	assert_int_equal(store_exec(st, "CREATE TABLE t(i, b)"), STORE_OK);
	while (w.restarts < 5 && n < 3000) {
		loop_run_once(l, walsync_hold(ws) ? 5 : 0);
		if (!walsync_hold(ws))
			commit_group(st, ws, n++);
	}
	print_message("%d groups, %d restarts, at most %d frames\n", n,
		      w.restarts, w.max);
	assert_true(w.restarts >= 5);
	while (walsync_checkpointing(ws) || walsync_waiting(ws))
		loop_run_once(l, 100);
	walsync_free(ws);
	store_ckpt_close(ck);
	assert_int_equal(rows(st), 4 * (int64_t)n);
	sqlite3_stmt *q = store_prepare(st, "PRAGMA integrity_check");
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	loop_free(l);
	store_close(st);
}

/* Without a checkpoint thread that keeps up, the store's connection
 * checkpoints itself past the fallback: the WAL never holds much more. */
static void fallback_checkpoints_in_the_loop(void **state)
{
	struct store *st = open_db();
	struct wal_seen w = {0};

	(void)state;
	store_on_wal(st, wal_frames, &w, 100);
	assert_int_equal(store_exec(st, "CREATE TABLE t(i, b)"), STORE_OK);
	for (int i = 0; i < 300; i++)
		commit_group(st, NULL, i);
	print_message("%d restarts, at most %d frames\n", w.restarts, w.max);
	assert_true(w.restarts >= 5);
	assert_true(w.max < 100); /* the hook is not called past it */
	assert_int_equal(rows(st), 1200);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(nothing_to_sync_starts_nothing),
	    cmocka_unit_test(commit_during_a_sync_waits_for_the_next),
	    cmocka_unit_test(failed_sync_is_never_durable),
	    cmocka_unit_test_teardown(unsynced_commit_then_full_again,
				      teardown),
	    cmocka_unit_test_teardown(answered_after_the_sync, teardown),
	    cmocka_unit_test_teardown(stop_syncs_what_waits, teardown),
	    cmocka_unit_test(failed_sync_reported),
	    cmocka_unit_test_teardown(checkpoints_start_the_wal_over, teardown),
	    cmocka_unit_test_teardown(fallback_checkpoints_in_the_loop,
				      teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
