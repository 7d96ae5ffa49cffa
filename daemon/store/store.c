/* SQLite store. Every statement goes through stmt() (prepared once, cached
 * by its SQL text) and step() (which honours the test failure hook). */
#include "store.h"
#include "store_int.h"

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

/* One cached statement per call site's SQL text (~125 today). The cache
 * grows as sites are first reached: a fixed size would make the first
 * statement past it fail, and with it the store, some weeks after start. */
struct cached {
	const char *sql;
	sqlite3_stmt *st;
};

#define STMT_HINTS 512

struct store {
	sqlite3 *db;
	struct cached *stmts;
	int nstmts, cap;
	uint16_t hint[STMT_HINTS]; /* cache_find: index + 1, 0 none */
	int fail_after;
	bool unsynced; /* in a store_begin_unsynced() transaction */
	/* Messages are indexed for search by the transaction that stores
	 * them, in one statement before its COMMIT (schema 14: no insert
	 * trigger): the first message id not yet indexed, 0 if none. */
	int64_t fts_from;
	bool fts_at_commit; /* schema >= 14 */
	/* Schema 19: search indexes written in batches (fts_index_waiting):
	 * about how many rows wait, counted as they are inserted. */
	bool fts_batched;
	bool counts_batched; /* schema >= 22: message_counts too */
	int fts_waiting;
	bool body_hashed; /* schema >= 17: messages.body_hash */
	int64_t ui_rev;	  /* store_ui_rev: moves with what the inbox shows */
	struct {	  /* store_on_wal */
		void (*fn)(void *arg, int frames);
		void *arg;
		int fallback;
	} wal;
	char err[256];
};

static int64_t fts_waiting_rows(struct store *st);

static void set_err(struct store *st, const char *what)
{
	snprintf(st->err, sizeof(st->err), "%s: %s", what,
		 st->db ? sqlite3_errmsg(st->db) : "no database");
}

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

const char *store_errmsg(struct store *st)
{
	return st->err;
}

static int cache_grow(struct store *st)
{
	int cap = st->cap ? 2 * st->cap : 128;
	struct cached *n = realloc(st->stmts, (size_t)cap * sizeof(*n));

	if (!n) {
		snprintf(st->err, sizeof(st->err), "prepare: out of memory");
		return -1;
	}
	st->stmts = n;
	st->cap = cap;
	return 0;
}

/* Where sql was last found in the cache: ~30 lookups per message over
 * ~150 statements were a walk each. A wrong or stale hint costs only the
 * walk. */
static unsigned hint_of(const char *sql)
{
	return (unsigned)(((uintptr_t)sql >> 3) % STMT_HINTS);
}

static int cache_find(struct store *st, const char *sql)
{
	unsigned h = hint_of(sql);
	int i = st->hint[h] - 1;

	if (i >= 0 && i < st->nstmts && st->stmts[i].sql == sql)
		return i;
	for (i = 0; i < st->nstmts; i++)
		if (st->stmts[i].sql == sql) {
			st->hint[h] = (uint16_t)(i + 1);
			return i;
		}
	return -1;
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	int i = cache_find(st, sql);

	if (i >= 0) {
		sqlite3_reset(st->stmts[i].st);
		sqlite3_clear_bindings(st->stmts[i].st);
		return st->stmts[i].st;
	}
	sqlite3_stmt *s = NULL;
	if (st->nstmts == st->cap && cache_grow(st))
		return NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		set_err(st, "prepare");
		return NULL;
	}
	st->hint[hint_of(sql)] = (uint16_t)(st->nstmts + 1);
	st->stmts[st->nstmts++] = (struct cached){sql, s};
	return s;
}

/* A statement of one fixed text (BEGIN, COMMIT, a savepoint, the
 * synchronous switch) prepared once: sqlite3_exec parsed each anew,
 * several per webhook group and two per message. hooked: through the
 * test failure hook, as store_exec is. */
static int exec_once(struct store *st, const char *sql, bool hooked)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	int r;

	if (!s)
		return STORE_ERR;
	r = hooked ? store_step(st, s) : sqlite3_step(s);
	bool ok = r == SQLITE_DONE || r == SQLITE_ROW;
	if (!ok)
		set_err(st, sql);
	sqlite3_reset(s);
	return ok ? STORE_OK : STORE_ERR;
}

int store_step(struct store *st, sqlite3_stmt *s)
{
	if (st->fail_after > 0 && --st->fail_after == 0)
		return SQLITE_IOERR; /* test hook: a disk error here */
	int r = sqlite3_step(s);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		set_err(st, "step");
	return r;
}

void store_fail_after(struct store *st, int n)
{
	st->fail_after = n;
}

void store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v && *v)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

void store_col_copy(sqlite3_stmt *s, int i, char *out, size_t outlen)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	snprintf(out, outlen, "%s", v ? (const char *)v : "");
}

int store_row_result(int r)
{
	return r == SQLITE_ROW	  ? STORE_OK
	       : r == SQLITE_DONE ? STORE_NOTFOUND
				  : STORE_ERR;
}

int store_exec_done(struct store *st, sqlite3_stmt *s)
{
	if (!s)
		return STORE_ERR;
	int r = store_step(st, s);
	sqlite3_reset(s);
	return r == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (st->fail_after > 0 && --st->fail_after == 0)
		return STORE_ERR;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(st->err, sizeof(st->err), "%s", msg ? msg : "exec");
		sqlite3_free(msg);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* FNV-1a (32 bits) of the bytes, kept to 31 so that SQLite stores it
 * in 4 bytes: a filter for the same-text count, whose bodies are still
 * compared (a collision costs one row read, never a wrong count). */
int64_t store_body_hash(const char *body)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)(body ? body : "");
	     *p; p++)
		h = (h ^ *p) * 16777619u;
	return (int64_t)(h & 0x7fffffffu);
}

int store_version(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* What a big migration freed goes back to the system (glibc keeps it
 * in its arenas otherwise). */
static void release_heap(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* Each migration and its user_version bump commit together, so a crash
 * mid-migration leaves the previous version intact. A new store commits
 * once (a crash leaves version 0): a fifth less CPU at a first start. */
static int migrate(struct store *st, int to)
{
	if (store_nmigrations != STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err),
			 "build error: %d migrations for schema version %d",
			 store_nmigrations, STORE_SCHEMA_VERSION);
		return STORE_ERR;
	}
	int from = store_version(st);

	if (from >= to)
		return STORE_OK;
	/* A migration's CREATE INDEX sorts the whole table: with the
	 * store's temp_store=MEMORY its sorter kept ~30 MB of heap at a
	 * million messages, held by the allocator until exit (RssAnon 31 MB
	 * against 4.5 after a plain start; issue 17). On disk it spills to
	 * SQLite's temporary files, once. */
	if (store_exec(st, "PRAGMA temp_store=DEFAULT"))
		return STORE_ERR;
	for (int v = from; v < to; v++) {
		char bump[64];
		bool begin = from > 0 || v == 0, end = from > 0 || v + 1 == to;
		snprintf(bump, sizeof(bump), "PRAGMA user_version=%d;", v + 1);
		if ((begin && store_exec(st, "BEGIN IMMEDIATE")) ||
		    store_exec(st, store_migrations[v]) ||
		    store_exec(st, bump) || (end && store_exec(st, "COMMIT"))) {
			char why[200];
			snprintf(why, sizeof(why), "%.199s", st->err);
			store_exec(st, "ROLLBACK");
			snprintf(st->err, sizeof(st->err),
				 "migration %d -> %d failed: %s", v, v + 1,
				 why);
			return STORE_ERR;
		}
	}
	release_heap();
	return store_exec(st, "PRAGMA temp_store=MEMORY");
}

/* SQLite's allocation statistics take a global mutex around every
 * sqlite3_malloc and sqlite3_free (SQLITE_CONFIG_MEMSTATUS, on by
 * default): ~3% of simpuld's CPU under a webhook flood, for figures
 * nothing here reads (no sqlite3_memory_used, no soft heap limit). Only
 * possible before SQLite initialises; later calls are refused harmlessly
 * (SQLITE_MISUSE). */
static void no_memstatus(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int64_t *store_ui_rev_slot(struct store *st)
{
	return &st->ui_rev;
}

struct store *store_open_version(const char *path, int to, char *err,
				 size_t errlen)
{
	struct store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	no_memstatus();
	/* Residents' messages are personal data: the database is created
	 * 0600 whatever the umask, and SQLite gives its -wal and -shm the
	 * database file's mode (unix VFS, robust_open). */
	if (strcmp(path, ":memory:") != 0 && strncmp(path, "file:", 5) != 0) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	if (sqlite3_open_v2(path, &st->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				SQLITE_OPEN_NOMUTEX,
			    store_vfs()) != SQLITE_OK) {
		set_err(st, path);
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/* temp_store=MEMORY: the statement journals of FTS5's per-statement
	 * flushes otherwise spill to /var/tmp, ~136 KB written per inbound
	 * SMS with its reply (the SD card on a Pi), and a statement journal
	 * is never read after a crash, so durability is unchanged. */
	/* page_size=1024 for a new store: a WAL frame is a whole page, and a
	 * commit touches one page in each of ~25 b-trees (the messages, the
	 * conversation and the contact with their indexes, FTS5), so 4 KiB
	 * pages wrote ~180 KB per inbound SMS with its reply and 1 KiB ~70
	 * KB (bench/README.md, issue 17). It must come before journal_mode:
	 * switching to WAL writes the header of an empty database. On a store
	 * that exists it does nothing (in WAL mode the page size is fixed
	 * without a VACUUM outside WAL), so old stores keep 4 KiB. */
	if (store_exec(st, "PRAGMA page_size=1024;"
			   "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			   "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"))
		goto fail;
	int v = store_version(st);
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof(st->err),
			 "%s: schema version %d is newer than this simpul "
			 "(%d); upgrade simpul or restore a backup",
			 path, v, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (migrate(st, to))
		goto fail;
	v = store_version(st);
	st->fts_at_commit = v >= 14;
	st->fts_batched = v >= 19;
	st->counts_batched = v >= 22;
	if (st->fts_batched)
		st->fts_waiting = (int)fts_waiting_rows(st);
	st->body_hashed = v >= 17;
	store_ui_rev_start(st);
	return st;
fail:
	snprintf(err, errlen, "%s", st->err);
	store_close(st);
	return NULL;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	return store_open_version(path, STORE_SCHEMA_VERSION, err, errlen);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->nstmts; i++)
		sqlite3_finalize(st->stmts[i].st);
	free(st->stmts);
	sqlite3_close(st->db);
	free(st);
}

int store_begin(struct store *st)
{
	return exec_once(st, "BEGIN IMMEDIATE", true);
}

/* ---- commits synced by the caller (core/walsync) ----------------------- */

const char *store_wal_path(struct store *st)
{
	const char *db = sqlite3_db_filename(st->db, "main");
	sqlite3_stmt *s = NULL;
	bool wal = false;

	if (!db || !db[0])
		return NULL; /* in memory: nothing to sync */
	/* journal_mode=WAL is refused where shared memory is not possible
	 * (https://www.sqlite.org/wal.html): then NORMAL would not be
	 * made durable by syncing a -wal file at all. */
	if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode", -1, &s, NULL) ==
		SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		wal = sqlite3_stricmp((const char *)sqlite3_column_text(s, 0),
				      "wal") == 0;
	sqlite3_finalize(s);
	return wal ? sqlite3_filename_wal(db) : NULL;
}

/* Runs after each commit. Past `fallback` frames (the checkpoint thread
 * never caught up, or it fails) the connection checkpoints itself as
 * SQLite's own hook does (sqlite3WalDefaultHook), so the WAL cannot grow
 * without end. */
static int on_wal(void *arg, sqlite3 *db, const char *name, int frames)
{
	struct store *st = arg;

	if (frames >= st->wal.fallback)
		sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
	else
		st->wal.fn(st->wal.arg, frames);
	return SQLITE_OK;
}

void store_on_wal(struct store *st, void (*fn)(void *arg, int frames),
		  void *arg, int fallback)
{
	st->wal.fn = fn;
	st->wal.arg = arg;
	st->wal.fallback = fallback;
	sqlite3_wal_hook(st->db, on_wal, st);
}

/* synchronous can only change outside a transaction ("Safety level may
 * not be changed inside a transaction", pragma.c), so around it. Not
 * through store_exec: the test failure hook must never leave the
 * connection at NORMAL for the commits that follow. */
static void resync(struct store *st)
{
	if (st->unsynced &&
	    exec_once(st, "PRAGMA synchronous=FULL", false) == 0)
		st->unsynced = false;
}

int store_begin_unsynced(struct store *st)
{
	resync(st);
	if (st->unsynced || exec_once(st, "PRAGMA synchronous=NORMAL", false))
		return STORE_ERR;
	st->unsynced = true;
	if (store_begin(st)) {
		resync(st);
		return STORE_ERR;
	}
	return STORE_OK;
}

/* Indexes for search the messages stored since the last call, in one
 * statement (bench/README.md "Findings" 1). With a trigger per INSERT,
 * SQLite 3.40's FTS5 wrote its pending terms as a new segment at every
 * statement (its xSavepoint flushes), so each message of a group commit
 * made a segment and merge work of its own. Every message is stored by
 * store_message_insert(), and ids only grow (INTEGER PRIMARY KEY takes
 * max + 1), so the rows with id >= fts_from are exactly the new ones;
 * a savepoint rolled back only leaves fewer of them. */
static int fts_index_new(struct store *st)
{
	static const char sql[] =
	    "INSERT INTO messages_fts(rowid, body)"
	    " SELECT id, body FROM messages WHERE id >= ?";

	if (!st->fts_from)
		return STORE_OK;
	sqlite3_stmt *s = store_stmt(st, sql);
	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, st->fts_from);
	if (store_exec_done(st, s))
		return STORE_ERR;
	st->fts_from = 0;
	return STORE_OK;
}

/* Schema 19 (store_schema.c 18 -> 19): the messages and contacts above
 * the marks in counters are indexed for search, and the marks raised to
 * the highest id, in the caller's transaction: a crash loses the index
 * and the marks together, and the rows wait for the next batch. */
static int fts_index_waiting(struct store *st)
{
	/* schema 22: message_counts counts up to the same mark */
	static const char counts[] =
	    "INSERT INTO message_counts SELECT channel, direction, count(*)"
	    " FROM messages WHERE id > (SELECT value FROM counters"
	    " WHERE name = 'fts_messages') AND kind != 'notice' GROUP BY 1, 2"
	    " ON CONFLICT(channel, direction) DO UPDATE SET n = n + excluded.n";
	static const char *const sql[] = {
	    "INSERT INTO messages_fts(rowid, body) SELECT id, body"
	    " FROM messages WHERE id > (SELECT value FROM counters"
	    " WHERE name = 'fts_messages')",
	    "UPDATE counters SET value = (SELECT coalesce(max(id), 0)"
	    " FROM messages) WHERE name = 'fts_messages'",
	    "INSERT INTO contacts_fts(rowid, name, raw) SELECT id, name, raw"
	    " FROM contacts WHERE id > (SELECT value FROM counters"
	    " WHERE name = 'fts_contacts')",
	    "UPDATE counters SET value = (SELECT coalesce(max(id), 0)"
	    " FROM contacts) WHERE name = 'fts_contacts'",
	};

	if (st->counts_batched &&
	    store_exec_done(st, store_stmt(st, counts)) != STORE_OK)
		return STORE_ERR;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s = store_stmt(st, sql[i]);
		if (!s || store_exec_done(st, s))
			return STORE_ERR;
	}
	st->fts_waiting = 0;
	return STORE_OK;
}

/* How many ids lie above the marks: the rows waiting, or more (ids a
 * rollback left unused). */
static int64_t fts_waiting_rows(struct store *st)
{
	static const char sql[] =
	    "SELECT (SELECT coalesce(max(id), 0) FROM messages)"
	    " - (SELECT value FROM counters WHERE name = 'fts_messages')"
	    " + (SELECT coalesce(max(id), 0) FROM contacts)"
	    " - (SELECT value FROM counters WHERE name = 'fts_contacts')";

	return store_scalar64(st, sql, 0, 0, NULL);
}

void store_fts_added(struct store *st)
{
	st->fts_waiting++;
}

/* Before a COMMIT: the new messages, at once (schema 14-18), or the
 * rows waiting once there are a batch of them (19). */
static int fts_before_commit(struct store *st)
{
	if (!st->fts_batched)
		return fts_index_new(st);
	if (st->fts_waiting < STORE_FTS_BATCH)
		return STORE_OK;
	return fts_index_waiting(st);
}

/* On its own, the batch commits without syncing the WAL: a search waits
 * for it with the loop held, and a sync is 10-50 ms on a Pi's SD card.
 * A batch lost to a power cut loses its marks with it, so its rows wait
 * again; the next synced commit makes it durable. */
static int fts_flush_alone(struct store *st)
{
	if (store_begin_unsynced(st))
		return STORE_ERR;
	if (fts_index_waiting(st)) {
		store_rollback(st);
		return STORE_ERR;
	}
	return store_commit(st);
}

/* In the caller's transaction, under a savepoint of its own. */
static int fts_flush_nested(struct store *st)
{
	if (store_exec(st, "SAVEPOINT fts"))
		return STORE_ERR;
	if (fts_index_waiting(st) == STORE_OK &&
	    store_exec(st, "RELEASE fts") == STORE_OK)
		return STORE_OK;
	int saved = st->fail_after;
	st->fail_after = 0;
	store_exec(st, "ROLLBACK TO fts; RELEASE fts");
	st->fail_after = saved;
	return STORE_ERR;
}

/* Asks the rows, not fts_waiting: a rolled back transaction may have
 * taken back a batch that it indexed. */
int store_fts_flush(struct store *st)
{
	if (!st->fts_batched || fts_waiting_rows(st) <= 0)
		return STORE_OK;
	return sqlite3_get_autocommit(st->db) ? fts_flush_alone(st)
					      : fts_flush_nested(st);
}

/* The index is written in the transaction of its messages, so a crash
 * loses both or neither: search never misses a stored message. */
bool store_in_unsynced(const struct store *st)
{
	return st->unsynced;
}

int store_commit(struct store *st)
{
	if (fts_before_commit(st) || exec_once(st, "COMMIT", true)) {
		store_rollback(st);
		return STORE_ERR;
	}
	resync(st);
	return STORE_OK;
}

int store_savepoint(struct store *st)
{
	return exec_once(st, "SAVEPOINT item", true);
}

int store_release(struct store *st)
{
	return exec_once(st, "RELEASE item", true);
}

void store_rollback_savepoint(struct store *st)
{
	int saved = st->fail_after;

	st->fail_after = 0;
	store_exec(st, "ROLLBACK TO item; RELEASE item");
	st->fail_after = saved;
}

void store_rollback(struct store *st)
{
	int saved = st->fail_after;

	st->fail_after = 0;
	if (!sqlite3_get_autocommit(st->db))
		store_exec(st, "ROLLBACK");
	st->fts_from = 0; /* its messages are gone */
	st->fail_after = saved;
	resync(st);
}

/* UPDATE ... SET <text column> = ?1 WHERE id = ?2 */
int store_set_text(struct store *st, const char *sql, const char *v, int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, v);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_done(st, s);
}

/* ---- conversations ----------------------------------------------------- */

#define CONV_COLS                                                              \
	"id, contact_id, status, category, ticket, assignee, due_at,"          \
	" opened_at, last_channel, last_in_at"

static void read_conv(sqlite3_stmt *s, struct store_conversation *c)
{
	c->id = sqlite3_column_int64(s, 0);
	c->contact_id = sqlite3_column_int64(s, 1);
	store_col_copy(s, 2, c->status, sizeof(c->status));
	store_col_copy(s, 3, c->category, sizeof(c->category));
	store_col_copy(s, 4, c->ticket, sizeof(c->ticket));
	store_col_copy(s, 5, c->assignee, sizeof(c->assignee));
	c->due_at = sqlite3_column_int64(s, 6);
	c->opened_at = sqlite3_column_int64(s, 7);
	store_col_copy(s, 8, c->last_channel, sizeof(c->last_channel));
	c->last_in_at = sqlite3_column_int64(s, 9);
}

static int conv_query(struct store *st, const char *sql, int64_t id,
		      const char *text, struct store_conversation *out)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return STORE_ERR;
	if (text)
		store_bind_text(s, 1, text);
	else
		sqlite3_bind_int64(s, 1, id);
	int r = store_step(st, s);
	if (r == SQLITE_ROW)
		read_conv(s, out);
	sqlite3_reset(s);
	return store_row_result(r);
}

/* The newest open one by max(id) from the contact's index entries, not
 * ORDER BY id DESC: that index is ordered by status within a contact, so
 * the ORDER BY built and sorted a temporary b-tree for each message. */
static const char SQL_CONV_OPEN[] =
    "SELECT " CONV_COLS " FROM conversations WHERE id ="
    " (SELECT max(id) FROM conversations WHERE contact_id = ?"
    " AND status != 'selesai')";
static const char SQL_CONV_ID[] =
    "SELECT " CONV_COLS " FROM conversations WHERE id = ?";
static const char SQL_CONV_TICKET[] =
    "SELECT " CONV_COLS " FROM conversations WHERE ticket = ? COLLATE NOCASE";
static const char SQL_CONV_NEW[] =
    "INSERT INTO conversations(contact_id, opened_at, updated_at)"
    " VALUES(?, ?, ?)";

int store_conversation_for(struct store *st, int64_t contact_id, int64_t now_ms,
			   struct store_conversation *out, bool *created)
{
	int r = conv_query(st, SQL_CONV_OPEN, contact_id, NULL, out);

	*created = false;
	if (r != STORE_NOTFOUND)
		return r;
	sqlite3_stmt *s = store_stmt(st, SQL_CONV_NEW);
	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_int64(s, 2, now_ms);
	sqlite3_bind_int64(s, 3, now_ms);
	if (store_exec_done(st, s))
		return STORE_ERR;
	*created = true;
	return conv_query(st, SQL_CONV_ID, sqlite3_last_insert_rowid(st->db),
			  NULL, out);
}

int store_conversation_get(struct store *st, int64_t id,
			   struct store_conversation *out)
{
	return conv_query(st, SQL_CONV_ID, id, NULL, out);
}

int store_ticket_find(struct store *st, const char *ticket,
		      struct store_conversation *out)
{
	return conv_query(st, SQL_CONV_TICKET, 0, ticket, out);
}

/* Only these columns may be set by name (the API passes user input). */
int store_conversation_set(struct store *st, int64_t id, const char *field,
			   const char *value, int64_t now_ms)
{
	static const char *const sqls[][2] = {
	    {"status", "UPDATE conversations SET status = ?, updated_at = ?,"
		       " closed_at = CASE WHEN ?1 = 'selesai' THEN ?2 END"
		       " WHERE id = ?3"},
	    {"category", "UPDATE conversations SET category = ?,"
			 " updated_at = ? WHERE id = ?"},
	    {"assignee", "UPDATE conversations SET assignee = ?,"
			 " updated_at = ? WHERE id = ?"},
	};
	for (size_t i = 0; i < sizeof(sqls) / sizeof(sqls[0]); i++) {
		if (strcmp(field, sqls[i][0]) != 0)
			continue;
		sqlite3_stmt *s = store_stmt(st, sqls[i][1]);
		if (!s)
			return STORE_ERR;
		store_bind_text(s, 1, value);
		sqlite3_bind_int64(s, 2, now_ms);
		sqlite3_bind_int64(s, 3, id);
		if (store_exec_done(st, s))
			return STORE_ERR;
		return sqlite3_changes(st->db) ? STORE_OK : STORE_NOTFOUND;
	}
	return STORE_ERR;
}

int store_conversation_ticket(struct store *st, int64_t id, const char *ticket,
			      const char *category, int64_t due_at)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE conversations SET ticket = coalesce(ticket, ?),"
		" category = coalesce(?, category),"
		" due_at = coalesce(due_at, ?) WHERE id = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, ticket);
	store_bind_text(s, 2, category);
	if (due_at)
		sqlite3_bind_int64(s, 3, due_at);
	sqlite3_bind_int64(s, 4, id);
	return store_exec_done(st, s);
}

/* ---- messages ---------------------------------------------------------- */

static const char SQL_MSG_INSERT[] =
    "INSERT INTO messages(conversation_id, contact_id, channel, direction,"
    " peer, body, at, source_id, status, kind, error, raw, media, author,"
    " created_at, body_hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
/* A store opened at an older schema (the migration tests) */
static const char SQL_MSG_INSERT_16[] =
    "INSERT INTO messages(conversation_id, contact_id, channel, direction,"
    " peer, body, at, source_id, status, kind, error, raw, media, author,"
    " created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_CONV_TOUCH_IN[] =
    "UPDATE conversations SET last_channel = ?, last_in_at = ?,"
    " unread = unread + 1, updated_at = ? WHERE id = ?";

static int conv_touch_in(struct store *st, const struct store_message *m)
{
	sqlite3_stmt *s = store_stmt(st, SQL_CONV_TOUCH_IN);

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, m->channel);
	sqlite3_bind_int64(s, 2, m->at);
	sqlite3_bind_int64(s, 3, m->at);
	sqlite3_bind_int64(s, 4, m->conversation_id);
	return store_exec_done(st, s);
}

static int message_insert(struct store *st, const struct store_message *m,
			  int64_t *id)
{
	sqlite3_stmt *s = store_stmt(st, st->body_hashed ? SQL_MSG_INSERT
							 : SQL_MSG_INSERT_16);

	if (!s)
		return STORE_ERR;
	if (st->body_hashed)
		sqlite3_bind_int64(s, 16, store_body_hash(m->body));
	sqlite3_bind_int64(s, 1, m->conversation_id);
	sqlite3_bind_int64(s, 2, m->contact_id);
	store_bind_text(s, 3, m->channel);
	store_bind_text(s, 4, m->direction);
	sqlite3_bind_text(s, 5, m->peer ? m->peer : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(s, 6, m->body ? m->body : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 7, m->at);
	store_bind_text(s, 8, m->source_id);
	store_bind_text(s, 9, m->status);
	store_bind_text(s, 10, m->kind ? m->kind : "text");
	store_bind_text(s, 11, m->error);
	store_bind_text(s, 12, m->raw);
	store_bind_text(s, 13, m->media);
	store_bind_text(s, 14, m->author);
	sqlite3_bind_int64(s, 15, m->at);
	int r = store_step(st, s);
	sqlite3_reset(s);
	if (r == SQLITE_CONSTRAINT)
		return STORE_DUP;
	if (r != SQLITE_DONE)
		return STORE_ERR;
	int64_t new_id = sqlite3_last_insert_rowid(st->db);
	if (id)
		*id = new_id;
	if (st->fts_batched)
		store_fts_added(st);
	else if (st->fts_at_commit && !st->fts_from)
		st->fts_from = new_id;
	if (strcmp(m->direction, "in") == 0 && conv_touch_in(st, m))
		return STORE_ERR;
	return STORE_OK;
}

/* Outside a transaction (a staff reply, a survey question), the row,
 * its conversation's touch and its search index commit together under
 * a savepoint, which outside BEGIN is a transaction of its own. */
int store_message_insert(struct store *st, const struct store_message *m,
			 int64_t *id)
{
	if (!sqlite3_get_autocommit(st->db))
		return message_insert(st, m, id);
	if (store_exec(st, "SAVEPOINT message"))
		return STORE_ERR;
	int r = message_insert(st, m, id);
	if (r == STORE_OK &&
	    (fts_before_commit(st) || store_exec(st, "RELEASE message")))
		r = STORE_ERR;
	if (r != STORE_OK) {
		int saved = st->fail_after;
		st->fail_after = 0;
		store_exec(st, "ROLLBACK TO message; RELEASE message");
		st->fail_after = saved;
		st->fts_from = 0;
	}
	return r;
}

bool store_message_seen(struct store *st, const char *channel,
			const char *source_id)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT 1 FROM messages WHERE channel = ?"
			   " AND source_id = ?");

	if (!s)
		return false;
	store_bind_text(s, 1, channel);
	store_bind_text(s, 2, source_id);
	bool seen = store_step(st, s) == SQLITE_ROW;
	sqlite3_reset(s);
	return seen;
}

int store_message_status(struct store *st, int64_t id, const char *status,
			 const char *error)
{
	sqlite3_stmt *s =
	    store_stmt(st, "UPDATE messages SET status = ?,"
			   " error = coalesce(?, error) WHERE id = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, status);
	store_bind_text(s, 2, error);
	sqlite3_bind_int64(s, 3, id);
	return store_exec_done(st, s);
}

int store_message_delivered(struct store *st, int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE messages SET status ="
					 " 'delivered' WHERE id = ?"
					 " AND status = 'sent'");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	return store_exec_done(st, s);
}

/* ---- loop-proof history ------------------------------------------------ */

int64_t store_scalar64(struct store *st, const char *sql, int64_t a, int64_t b,
		       const char *t)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	int64_t v = 0;

	if (!s)
		return 0;
	/* Bind only the parameters the statement has, so a query needs no
	 * dummy "?1 = ?1" to take this helper. */
	int np = sqlite3_bind_parameter_count(s);
	if (np >= 1)
		sqlite3_bind_int64(s, 1, a);
	if (np >= 2)
		sqlite3_bind_int64(s, 2, b);
	if (np >= 3 && t)
		store_bind_text(s, 3, t);
	if (store_step(st, s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int store_message_kind(struct store *st, int64_t id, const char *kind)
{
	static const char sql[] = "UPDATE messages SET kind = ? WHERE id = ?";

	return store_set_text(st, sql, kind, id);
}

int store_event(struct store *st, const char *kind, int64_t conversation_id,
		const char *detail, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO events(at, kind,"
					 " conversation_id, detail)"
					 " VALUES(?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms);
	store_bind_text(s, 2, kind);
	if (conversation_id > 0)
		sqlite3_bind_int64(s, 3, conversation_id);
	store_bind_text(s, 4, detail);
	return store_exec_done(st, s);
}

sqlite3_stmt *store_prepare(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int store_insert_done(struct store *st, sqlite3_stmt *s)
{
	int r = store_step(st, s);

	sqlite3_reset(s);
	if (r == SQLITE_CONSTRAINT)
		return STORE_DUP;
	return r == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

json_t *store_rows_json_end(sqlite3_stmt *s, int rc, json_t *arr)
{
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}
