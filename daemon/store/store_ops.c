/* Operations queries. They run rarely (a scrape, a doctor run, a daily
 * sweep), so they prepare and finalize their own statements instead of
 * taking slots in the statement cache. */
#include "store_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

struct store_backup {
	sqlite3 *dest;
	sqlite3_backup *bk;
};

int store_ping(struct store *st)
{
	sqlite3_stmt *s =
	    store_prepare(st, "SELECT count(*) FROM sqlite_master");
	int r = s ? sqlite3_step(s) : SQLITE_ERROR;

	sqlite3_finalize(s);
	return r == SQLITE_ROW ? STORE_OK : STORE_ERR;
}

int store_quick_check(struct store *st, char *out, size_t outlen)
{
	sqlite3_stmt *s = store_prepare(st, "PRAGMA quick_check(5)");
	int rc = STORE_ERR;

	if (!s) {
		snprintf(out, outlen, "%s", sqlite3_errmsg(store_db(st)));
		return STORE_ERR;
	}
	int r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(s, 0);
		snprintf(out, outlen, "%s", v ? v : "");
		rc = v && strcmp(v, "ok") == 0 ? STORE_OK : STORE_ERR;
	} else {
		snprintf(out, outlen, "%s", sqlite3_errmsg(store_db(st)));
	}
	sqlite3_finalize(s);
	return rc;
}

static int count_rows(struct store *st, const char *sql, store_count_cb fn,
		      void *ud)
{
	sqlite3_stmt *s = store_prepare(st, sql);
	int r;

	if (!s)
		return STORE_ERR;
	while ((r = sqlite3_step(s)) == SQLITE_ROW)
		fn(ud, (const char *)sqlite3_column_text(s, 0),
		   (const char *)sqlite3_column_text(s, 1),
		   sqlite3_column_int64(s, 2));
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

int store_count_messages(struct store *st, store_count_cb fn, void *ud)
{
	/* Staff notices (kind 'notice') are not messages on a channel; the
	 * counts are kept in batches (schema 22), and message_totals adds
	 * the messages of the batch still open. */
	return count_rows(st,
			  "SELECT channel, direction, n FROM message_totals"
			  " ORDER BY 1, 2",
			  fn, ud);
}

/* The queue's statuses only, sought in messages_queue by channel (sms or
 * whatsapp, the only two): sent and delivered grow with the years, and
 * counting them read every outbound message. */
int store_count_outbox(struct store *st, store_count_cb fn, void *ud)
{
	return count_rows(st,
			  "SELECT channel, status, count(*) FROM messages"
			  " INDEXED BY messages_queue WHERE direction = 'out'"
			  " AND channel IN ('sms', 'whatsapp')"
			  " AND " STORE_QUEUE_STATES " AND kind != 'notice'"
			  " GROUP BY channel, status ORDER BY 1, 2",
			  fn, ud);
}

struct store_backup *store_backup_start(struct store *st, const char *dest,
					char *err, size_t errlen)
{
	struct store_backup *b = calloc(1, sizeof(*b));

	if (!b) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (sqlite3_open_v2(dest, &b->dest,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", dest,
			 b->dest ? sqlite3_errmsg(b->dest) : "out of memory");
		goto fail;
	}
	b->bk = sqlite3_backup_init(b->dest, "main", store_db(st), "main");
	if (!b->bk) {
		snprintf(err, errlen, "backup to %s: %s", dest,
			 sqlite3_errmsg(b->dest));
		goto fail;
	}
	return b;
fail:
	sqlite3_close(b->dest);
	free(b);
	return NULL;
}

int store_backup_step(struct store_backup *b, int pages, char *err,
		      size_t errlen)
{
	int r = sqlite3_backup_step(b->bk, pages);

	switch (r) {
	case SQLITE_DONE:
		return 1;
	case SQLITE_OK:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return 0;
	default:
		snprintf(err, errlen, "backup step: %s", sqlite3_errstr(r));
		return -1;
	}
}

void store_backup_progress(const struct store_backup *b, int *remaining,
			   int *total)
{
	*remaining = sqlite3_backup_remaining(b->bk);
	*total = sqlite3_backup_pagecount(b->bk);
}

int store_backup_finish(struct store_backup *b, char *err, size_t errlen)
{
	int rc = 0;

	if (!b)
		return 0;
	int r = sqlite3_backup_finish(b->bk);
	if (r != SQLITE_OK) {
		snprintf(err, errlen, "backup: %s", sqlite3_errstr(r));
		rc = -1;
	}
	/* A WAL source leaves the copy in WAL mode; a backup file should be
	 * one self-contained file. */
	if (rc == 0 && sqlite3_exec(b->dest, "PRAGMA journal_mode=DELETE", NULL,
				    NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "backup: journal mode: %s",
			 sqlite3_errmsg(b->dest));
		rc = -1;
	}
	if (sqlite3_close(b->dest) != SQLITE_OK && rc == 0) {
		snprintf(err, errlen, "backup: closing the copy failed");
		rc = -1;
	}
	free(b);
	return rc;
}

int store_media_expired(struct store *st, int64_t before_ms, int64_t *ids,
			char (*files)[512], int max)
{
	sqlite3_stmt *s = store_prepare(
	    st, "SELECT id, json_extract(media, '$.file') FROM messages"
		" WHERE media IS NOT NULL AND json_valid(media)"
		" AND json_extract(media, '$.file') IS NOT NULL"
		" AND at < ?1 ORDER BY id LIMIT ?2");
	int n = 0, r;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, before_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (r = sqlite3_step(s)) == SQLITE_ROW) {
		ids[n] = sqlite3_column_int64(s, 0);
		store_col_copy(s, 1, files[n], sizeof(files[n]));
		n++;
	}
	if (n < max && r != SQLITE_DONE)
		n = -1;
	sqlite3_finalize(s);
	return n;
}

int store_media_mark_deleted(struct store *st, int64_t id, const char *note,
			     int64_t now_ms)
{
	sqlite3_stmt *s = store_prepare(
	    st, "UPDATE messages SET media = json_set(json_remove(media,"
		" '$.file'), '$.deleted', ?1, '$.deleted_at', ?2)"
		" WHERE id = ?3 AND json_valid(media)");
	int r;

	if (!s)
		return STORE_ERR;
	sqlite3_bind_text(s, 1, note, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 2, now_ms);
	sqlite3_bind_int64(s, 3, id);
	r = sqlite3_step(s);
	sqlite3_finalize(s);
	return r == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* ---- for tests -------------------------------------------------------- */

void store_stmt_counts(struct store *st, int op,
		       void (*fn)(void *ud, const char *sql, int n), void *ud)
{
	for (sqlite3_stmt *s = sqlite3_next_stmt(store_db(st), NULL); s;
	     s = sqlite3_next_stmt(store_db(st), s)) {
		int n = sqlite3_stmt_status(s, op, 0);
		if (n > 0)
			fn(ud, sqlite3_sql(s), n);
	}
}

void store_fullscans(struct store *st,
		     void (*fn)(void *ud, const char *sql, int steps), void *ud)
{
	store_stmt_counts(st, SQLITE_STMTSTATUS_FULLSCAN_STEP, fn, ud);
}
