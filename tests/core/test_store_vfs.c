/* store/store_vfs: a commit's WAL frames are written in one call, and
 * yet every commit is in the file before anyone can read it, through
 * spills, rewrites of spilled pages, rollbacks and a crash. Another
 * connection opened with SQLite's default VFS (as another process, or
 * the tests' Python, opens the store) is the judge. */
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

#include "store.h"
#include "store_int.h"

#include "store_fixture.h"

static int setup(void **state)
{
	(void)state;
	return store_fixture_setup("vfs");
}

static void exec(struct store *st, const char *sql)
{
	if (store_exec(st, sql) != STORE_OK)
		fail_msg("%s: %s", sql, store_errmsg(st));
}

/* What a connection of SQLite's own (default VFS) reads from path. */
static int64_t plain_scalar(const char *path, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_type(s, 0) == SQLITE_TEXT
			? (strcmp((const char *)sqlite3_column_text(s, 0),
				  "ok") == 0)
			: sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

static void insert_rows(struct store *st, int first, int n, int size)
{
	char sql[200];

	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE k(i) AS (SELECT %d UNION ALL SELECT i + 1"
		 " FROM k WHERE i < %d) INSERT INTO t SELECT i, randomblob(%d)"
		 " FROM k",
		 first, first + n - 1, size);
	exec(st, sql);
}

/* synchronous=NORMAL, as the webhook groups commit (store_begin_unsynced):
 * no sync of the WAL at the commit, which would write the buffer out
 * anyway, so only the commit frame's page does. */
static struct store *open_t(void)
{
	struct store *st = open_db();

	exec(st, "PRAGMA synchronous=NORMAL");
	exec(st, "CREATE TABLE IF NOT EXISTS t(i INTEGER PRIMARY KEY, b)");
	return st;
}

/* 40 rows of 500 bytes are ~25 frames: 50 writes as SQLite makes them,
 * and here at most a few; the other connection reads all 40 at once. */
static void commit_written_at_once(void **state)
{
	struct store *st = open_t();

	(void)state;
	assert_string_equal(store_vfs(), "simpul");
	exec(st, "BEGIN IMMEDIATE");
	insert_rows(st, 1, 40, 500);
	unsigned long before = store_vfs_writes();
	exec(st, "COMMIT");
	unsigned long writes = store_vfs_writes() - before;
	print_message("commit of 40 rows: %lu writes to the WAL\n", writes);
	assert_true(writes >= 1 && writes <= 4);
	assert_int_equal(plain_scalar(db, "SELECT count(*) FROM t"), 40);
	store_close(st);
}

/* Commits of 1 to 200 rows (past the buffer: written in several calls),
 * each read back by the other connection as soon as it returns. */
static void every_commit_is_read_at_once(void **state)
{
	struct store *st = open_t();
	int n = 0;

	(void)state;
	srand(7);
	for (int c = 0; c < 120; c++) {
		int k = 1 + rand() % (c % 10 == 9 ? 200 : 20);
		exec(st, "BEGIN IMMEDIATE");
		insert_rows(st, n + 1, k, 100 + rand() % 900);
		exec(st, "COMMIT");
		n += k;
		assert_int_equal(plain_scalar(db, "SELECT count(*) FROM t"), n);
	}
	store_close(st);
}

/* Copies the store's files as a power cut would leave them: the WAL not
 * checkpointed, then opened by SQLite's own VFS, which recovers it. */
static void copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
	size_t n;

	assert_non_null(a);
	assert_non_null(b);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		assert_int_equal(fwrite(buf, 1, n, b), n);
	fclose(a);
	fclose(b);
}

static void crash_copy(char *out, size_t len)
{
	char from[320], to[320];

	snprintf(out, len, "%s.crash", db);
	copy_file(db, out);
	snprintf(from, sizeof(from), "%s-wal", db);
	snprintf(to, sizeof(to), "%s-wal", out);
	copy_file(from, to);
	snprintf(to, sizeof(to), "%s-shm", out);
	unlink(to);
}

static void remove_copy(const char *c)
{
	char p[320];

	unlink(c);
	snprintf(p, sizeof(p), "%s-wal", c);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", c);
	unlink(p);
}

/* A power cut now: the copy recovers every row committed (a frame whose
 * header is not in the file breaks the WAL's checksum chain there, and
 * recovery drops that commit and all after it). */
static void crashed_holds(int64_t rows)
{
	char copy[300];

	crash_copy(copy, sizeof(copy));
	assert_int_equal(plain_scalar(copy, "PRAGMA integrity_check"), 1);
	assert_int_equal(plain_scalar(copy, "SELECT count(*) FROM t"), rows);
	remove_copy(copy);
}

/* A cache of 10 pages makes SQLite spill pages to the WAL in the middle
 * of a transaction, write spilled pages again in place and rewrite the
 * checksums at the commit (wal.c, walRewriteChecksums), and throw spilled
 * frames away on ROLLBACK. The data is whole, for the other connection
 * and after a crash. */
static void spills_rewrites_and_rollbacks(void **state)
{
	struct store *st = open_t();

	(void)state;
	exec(st, "PRAGMA cache_size=10");
	exec(st, "BEGIN IMMEDIATE");
	insert_rows(st, 1, 400, 300);
	exec(st, "UPDATE t SET b = randomblob(310) WHERE i % 3 = 0");
	insert_rows(st, 401, 100, 300);
	exec(st, "COMMIT");
	crashed_holds(500); /* the rewritten checksums are in the file */
	exec(st, "BEGIN IMMEDIATE");
	insert_rows(st, 501, 400, 300);
	exec(st, "UPDATE t SET b = randomblob(200) WHERE i % 2 = 0");
	exec(st, "ROLLBACK");
	exec(st, "BEGIN IMMEDIATE");
	insert_rows(st, 501, 7, 300);
	exec(st, "COMMIT");
	assert_int_equal(plain_scalar(db, "SELECT count(*) FROM t"), 507);
	assert_int_equal(plain_scalar(db, "SELECT sum(length(b)) FROM t"),
			 507 * 300 + 133 * 10);
	crashed_holds(507);
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(commit_written_at_once, teardown),
	    cmocka_unit_test_teardown(every_commit_is_read_at_once, teardown),
	    cmocka_unit_test_teardown(spills_rewrites_and_rollbacks, teardown),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
