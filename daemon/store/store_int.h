/* store_int: what the files of the store module (store*.c) share. Not for
 * use outside the store module: everyone else calls the store_* domain API
 * in store.h. */
#ifndef SIMPUL_STORE_INT_H
#define SIMPUL_STORE_INT_H

#include <jansson.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The WHERE of the messages_queue index (schema 18), as written there: a
 * statement that seeks the index has this term too, so the planner can
 * prove the index holds its rows (sqlite.org/partialindex.html 2.1). */
#define STORE_QUEUE_STATES "status IN ('queued', 'sending', 'failed')"

/* Senders that are not people (operator promos, short codes): the WHERE
 * of the contacts_kind index (schema 20), as written there. */
#define STORE_NOT_PEOPLE "kind IN ('alnum', 'shortcode', 'invalid')"
/* A sender known by its raw text only: the WHERE of contacts_raw
 * (schema 20), as written there. */
#define STORE_RAW_ONLY "phone IS NULL AND wa_id IS NULL"

extern const char *const store_migrations[];
extern const int store_nmigrations;

/* Prepared once and cached by the address of sql: pass a static string. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
/* sqlite3_step honouring the test failure hook. */
int store_step(struct store *st, sqlite3_stmt *s);
void store_bind_text(sqlite3_stmt *s, int i, const char *v);
void store_col_copy(sqlite3_stmt *s, int i, char *out, size_t outlen);
json_t *store_col_json(sqlite3_stmt *s, int i);
json_t *store_col_iso(sqlite3_stmt *s, int i, int tz);
/* A step result as STORE_OK (a row), STORE_NOTFOUND (none), STORE_ERR. */
int store_row_result(int sqlite_rc);
/* Steps a statement that returns no rows: STORE_OK or STORE_ERR. */
int store_exec_done(struct store *st, sqlite3_stmt *s);
int store_exec(struct store *st, const char *sql);
/* Steps an INSERT: STORE_OK, STORE_DUP on a UNIQUE conflict, STORE_ERR. */
int store_insert_done(struct store *st, sqlite3_stmt *s);
/* After a loop of rows into arr ended with rc: arr, or NULL (and arr
 * freed) unless the statement ran to SQLITE_DONE. Resets s. */
json_t *store_rows_json_end(sqlite3_stmt *s, int rc, json_t *arr);
/* One integer from sql bound with ?1 = a, ?2 = b and ?3 = t (if t). */
int64_t store_scalar64(struct store *st, const char *sql, int64_t a, int64_t b,
		       const char *t);
sqlite3 *store_db(struct store *st);
/* UPDATE ... SET <text column> = ?1 WHERE id = ?2 */
int store_set_text(struct store *st, const char *sql, const char *v,
		   int64_t id);
/* A one-off statement (not cached) for SQL built at run time; NULL on a
 * syntax error. The caller finalizes it. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql);
/* ["sms","whatsapp"] from group_concat's "sms,whatsapp" (or NULL). */
json_t *store_channels_json(const char *list);

/* A message or contact was inserted: one more row for the next batch of
 * the search indexes (schema 19, store_fts_flush). */
void store_fts_added(struct store *st);

/* The inbox's revision (store_ui_rev), kept in struct store and counted
 * by store_ui.c's update hook, which store_ui_rev_start sets at open. */
int64_t *store_ui_rev_slot(struct store *st);
void store_ui_rev_start(struct store *st);

/* The hash of a message body in messages.body_hash (schema 17). */
int64_t store_body_hash(const char *body);

/* The VFS that store connections open with (store_vfs.c): SQLite's
 * unix VFS writing a commit's WAL frames at once. NULL: SQLite's default
 * (the unix VFS missing, never on Linux). */
const char *store_vfs(void);
/* For tests: the writes made to -wal files through it so far. */
unsigned long store_vfs_writes(void);

/* For tests: fn for each statement prepared on the store that stepped
 * through a table or an index with no search term since it was prepared
 * (SQLITE_STMTSTATUS_FULLSCAN_STEP), with its SQL and its steps. */
/* For tests: fn for each statement prepared on the store whose
 * sqlite3_stmt_status(op) is not 0 (SQLITE_STMTSTATUS_SORT: it sorted). */
void store_stmt_counts(struct store *st, int op,
		       void (*fn)(void *ud, const char *sql, int n), void *ud);
void store_fullscans(struct store *st,
		     void (*fn)(void *ud, const char *sql, int steps),
		     void *ud);

#endif
