/* The office event log: an SQLite table with AUTOINCREMENT, so a sequence
 * number is never handed out twice (SQLite "AUTOINCREMENT" docs: rowids of
 * deleted rows are not reused), plus the broker's acknowledged watermark. */
#include "evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evlog {
	sqlite3 *db;
	bool allow_personal;
	sqlite3_stmt *ins, *sel, *ack_get, *ack_set, *last;
};

static const char *const kind_names[EVLOG_KIND_COUNT] = {
    "msg_in",	  "msg_out",	"ticket_open",
    "ticket_close", "rt_request", "rt_answer",
    "sla_breach", "modem",	"credit"};

/* Numbered migrations of the evlog tables, tracked in evlog_meta so they
 * stay independent of the store's own user_version. Only ever append. */
static const char *const migrations[] = {
    /* 0 -> 1: the log and the acknowledged watermark */
    "CREATE TABLE evlog("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL,"
    " kind TEXT NOT NULL, channel TEXT NOT NULL DEFAULT '',"
    " category TEXT NOT NULL DEFAULT '', ticket TEXT NOT NULL DEFAULT '',"
    " due_at INTEGER NOT NULL DEFAULT 0, value INTEGER NOT NULL DEFAULT 0,"
    " detail TEXT NOT NULL DEFAULT '');"
    "CREATE TABLE evlog_acked(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq INTEGER NOT NULL);"
    "INSERT INTO evlog_acked VALUES (1, 0);",
};

const char *evlog_kind_name(enum evlog_kind kind)
{
	return (unsigned)kind < EVLOG_KIND_COUNT ? kind_names[kind] : "?";
}

int evlog_kind_parse(const char *name)
{
	for (int i = 0; i < EVLOG_KIND_COUNT; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

static int schema_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "SELECT version FROM evlog_meta", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Runs the missing migrations, each in one transaction with its version. */
static int migrate(sqlite3 *db)
{
	int n = (int)(sizeof migrations / sizeof migrations[0]);
	int v;

	if (sqlite3_exec(db,
			 "CREATE TABLE IF NOT EXISTS evlog_meta(version INTEGER"
			 " NOT NULL); INSERT INTO evlog_meta SELECT 0 WHERE"
			 " NOT EXISTS (SELECT 1 FROM evlog_meta)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	v = schema_version(db);
	for (; v >= 0 && v < n; v++) {
		char bump[64];

		snprintf(bump, sizeof bump, "UPDATE evlog_meta SET version = %d",
			 v + 1);
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) ||
		    sqlite3_exec(db, migrations[v], NULL, NULL, NULL) ||
		    sqlite3_exec(db, bump, NULL, NULL, NULL) ||
		    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL)) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return v == n ? 0 : -1;
}

static int prepare_all(struct evlog *log)
{
	return sqlite3_prepare_v2(
		   log->db,
		   "INSERT INTO evlog(at, kind, channel, category, ticket,"
		   " due_at, value, detail) VALUES (?,?,?,?,?,?,?,?)",
		   -1, &log->ins, NULL) ||
	       sqlite3_prepare_v2(
		   log->db,
		   "SELECT seq, at, kind, channel, category, ticket, due_at,"
		   " value, detail FROM evlog WHERE seq > ? ORDER BY seq"
		   " LIMIT ?",
		   -1, &log->sel, NULL) ||
	       sqlite3_prepare_v2(log->db, "SELECT seq FROM evlog_acked", -1,
				  &log->ack_get, NULL) ||
	       sqlite3_prepare_v2(log->db,
				  "UPDATE evlog_acked SET seq = ? WHERE seq < ?",
				  -1, &log->ack_set, NULL) ||
	       sqlite3_prepare_v2(log->db,
				  "SELECT coalesce((SELECT seq FROM"
				  " sqlite_sequence WHERE name = 'evlog'), 0)",
				  -1, &log->last, NULL);
}

struct evlog *evlog_open(sqlite3 *db, bool allow_personal)
{
	struct evlog *log = calloc(1, sizeof *log);

	if (!log)
		return NULL;
	log->db = db;
	log->allow_personal = allow_personal;
	if (migrate(db) != 0 || prepare_all(log) != 0) {
		evlog_free(log);
		return NULL;
	}
	return log;
}

void evlog_free(struct evlog *log)
{
	if (!log)
		return;
	sqlite3_finalize(log->ins);
	sqlite3_finalize(log->sel);
	sqlite3_finalize(log->ack_get);
	sqlite3_finalize(log->ack_set);
	sqlite3_finalize(log->last);
	free(log);
}

int evlog_append(struct evlog *log, struct evlog_event *ev)
{
	sqlite3_stmt *st = log->ins;
	int rc;

	sqlite3_bind_int64(st, 1, ev->at_ms);
	sqlite3_bind_text(st, 2, evlog_kind_name(ev->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ev->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ev->ticket, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ev->due_ms);
	sqlite3_bind_int64(st, 7, ev->value);
	sqlite3_bind_text(st, 8, log->allow_personal ? ev->detail : "", -1,
			  SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return -1;
	ev->seq = sqlite3_last_insert_rowid(log->db);
	if (!log->allow_personal)
		ev->detail[0] = '\0';
	return 0;
}

static void copy_col(char *dst, size_t n, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	snprintf(dst, n, "%s", s ? (const char *)s : "");
}

static void row_to_event(sqlite3_stmt *st, struct evlog_event *ev)
{
	const unsigned char *kind = sqlite3_column_text(st, 2);
	int k = kind ? evlog_kind_parse((const char *)kind) : -1;

	memset(ev, 0, sizeof *ev);
	ev->seq = sqlite3_column_int64(st, 0);
	ev->at_ms = sqlite3_column_int64(st, 1);
	ev->kind = k < 0 ? EVLOG_MODEM : (enum evlog_kind)k;
	copy_col(ev->channel, sizeof ev->channel, st, 3);
	copy_col(ev->category, sizeof ev->category, st, 4);
	copy_col(ev->ticket, sizeof ev->ticket, st, 5);
	ev->due_ms = sqlite3_column_int64(st, 6);
	ev->value = sqlite3_column_int64(st, 7);
	copy_col(ev->detail, sizeof ev->detail, st, 8);
}

int evlog_read(struct evlog *log, int64_t after, struct evlog_event *out,
	       int max)
{
	sqlite3_stmt *st = log->sel;
	int n = 0, rc;

	sqlite3_bind_int64(st, 1, after);
	sqlite3_bind_int(st, 2, max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max)
		row_to_event(st, &out[n++]);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -1;
}

static int64_t one_int(sqlite3_stmt *st)
{
	int64_t v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

int64_t evlog_acked(struct evlog *log)
{
	return one_int(log->ack_get);
}

int64_t evlog_last(struct evlog *log)
{
	return one_int(log->last);
}

int evlog_set_acked(struct evlog *log, int64_t seq)
{
	sqlite3_stmt *st = log->ack_set;
	int rc;

	/* Only forward: a late PUBACK must not move the watermark back. */
	sqlite3_bind_int64(st, 1, seq);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int evlog_prune(struct evlog *log, int64_t before_ms)
{
	char *sql = sqlite3_mprintf(
	    "DELETE FROM evlog WHERE at < %lld AND seq <= (SELECT seq FROM"
	    " evlog_acked)",
	    (long long)before_ms);
	int rc;

	if (!sql)
		return -1;
	rc = sqlite3_exec(log->db, sql, NULL, NULL, NULL);
	sqlite3_free(sql);
	return rc == SQLITE_OK ? sqlite3_changes(log->db) : -1;
}
