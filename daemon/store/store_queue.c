/* store_queue: the outbound queue (outbox rows, their delivery status and
 * the TP-MR of every SMS part sent) and the parts of concatenated SMS
 * waiting for their group. Part of the store module (store_int.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- outbox ------------------------------------------------------------ */

int64_t store_outbox_enqueue(struct store *st, int64_t conversation_id,
			     int64_t contact_id, const char *channel,
			     const char *to, const char *body,
			     const char *author, int64_t now_ms)
{
	struct store_message m = {
	    .conversation_id = conversation_id,
	    .contact_id = contact_id,
	    .channel = channel,
	    .direction = "out",
	    .peer = to,
	    .body = body,
	    .at = now_ms,
	    .status = "queued",
	    .author = author,
	};
	int64_t id = 0;

	if (store_message_insert(st, &m, &id) != STORE_OK)
		return -1;
	sqlite3_stmt *s = store_stmt(st, "UPDATE messages SET next_at = ?"
					 " WHERE id = ?");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_done(st, s) ? -1 : id;
}

static const char SQL_OUT_NEXT[] =
    "SELECT id, conversation_id, contact_id, channel, peer, body, attempts,"
    " author, kind FROM messages INDEXED BY messages_queue"
    " WHERE direction = 'out' AND channel = ? AND " STORE_QUEUE_STATES
    " AND status = 'queued' AND next_at <= ? ORDER BY next_at, id LIMIT 1";

int store_outbox_next(struct store *st, const char *channel, int64_t now_ms,
		      struct store_out *out)
{
	sqlite3_stmt *s = store_stmt(st, SQL_OUT_NEXT);

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, channel);
	sqlite3_bind_int64(s, 2, now_ms);
	int r = store_step(st, s);
	if (r == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		out->conversation_id = sqlite3_column_int64(s, 1);
		out->contact_id = sqlite3_column_int64(s, 2);
		store_col_copy(s, 3, out->channel, sizeof(out->channel));
		store_col_copy(s, 4, out->to, sizeof(out->to));
		out->body = strdup((const char *)sqlite3_column_text(s, 5));
		out->attempts = sqlite3_column_int(s, 6);
		const unsigned char *a = sqlite3_column_text(s, 7);
		out->is_auto = a && strcmp((const char *)a, "auto") == 0;
		store_col_copy(s, 8, out->kind, sizeof(out->kind));
	}
	sqlite3_reset(s);
	return store_row_result(r);
}

int64_t store_outbox_next_due(struct store *st, const char *channel)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT min(next_at) FROM messages"
			   " INDEXED BY messages_queue"
			   " WHERE direction = 'out' AND channel = ?"
			   " AND " STORE_QUEUE_STATES " AND status = 'queued'");
	int64_t v = INT64_MAX;

	if (!s)
		return v;
	store_bind_text(s, 1, channel);
	if (store_step(st, s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return v;
}

int store_outbox_set(struct store *st, int64_t id, const char *status,
		     const char *external_id, const char *error,
		     int64_t next_at)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE messages SET status = ?,"
		" external_id = coalesce(?, external_id), error = ?,"
		" next_at = coalesce(?, next_at),"
		" attempts = attempts + (? = 'sending') WHERE id = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, status);
	store_bind_text(s, 2, external_id);
	store_bind_text(s, 3, error);
	if (next_at)
		sqlite3_bind_int64(s, 4, next_at);
	store_bind_text(s, 5, status);
	sqlite3_bind_int64(s, 6, id);
	return store_exec_done(st, s);
}

int store_outbox_set_unsynced(struct store *st, int64_t id, const char *status,
			      const char *external_id, const char *error,
			      int64_t next_at)
{
	if (store_begin_unsynced(st))
		return STORE_ERR;
	if (store_outbox_set(st, id, status, external_id, error, next_at)) {
		store_rollback(st);
		return STORE_ERR;
	}
	return store_commit(st);
}

int store_outbox_attempts(struct store *st, int64_t id)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT attempts FROM messages WHERE id = ?");
	int n = 0;

	if (!s)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	if (store_step(st, s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return n;
}

int store_outbox_change_channel(struct store *st, int64_t id,
				const char *channel, const char *to)
{
	sqlite3_stmt *s =
	    store_stmt(st, "UPDATE messages SET channel = ?, peer = ?,"
			   " status = 'queued', attempts = 0"
			   " WHERE id = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, channel);
	store_bind_text(s, 2, to);
	sqlite3_bind_int64(s, 3, id);
	return store_exec_done(st, s);
}

int store_outbox_recover(struct store *st)
{
	/* by channel, so messages_queue is sought, not scanned (a million
	 * messages made each start read half of them) */
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE messages INDEXED BY messages_queue"
		" SET status = 'queued' WHERE direction = 'out'"
		" AND channel IN ('sms', 'whatsapp')"
		" AND " STORE_QUEUE_STATES " AND status = 'sending'");

	if (!s || store_exec_done(st, s))
		return -1;
	return sqlite3_changes(store_db(st));
}

int store_message_by_external(struct store *st, const char *external_id,
			      int64_t *id, char *status, size_t statuslen)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, status FROM messages"
					 " WHERE external_id = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, external_id);
	int r = store_step(st, s);
	if (r == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		store_col_copy(s, 1, status, statuslen);
	}
	sqlite3_reset(s);
	return store_row_result(r);
}

int store_message_media(struct store *st, int64_t id, const char *media_json)
{
	static const char sql[] = "UPDATE messages SET media = ? WHERE id = ?";

	return store_set_text(st, sql, media_json, id);
}

int store_media_pending(struct store *st, int64_t since_ms,
			void (*cb)(void *ud, int64_t id, const char *media),
			void *ud)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT id, media FROM messages WHERE channel = 'whatsapp'"
		" AND direction = 'in' AND media IS NOT NULL"
		" AND json_extract(media, '$.file') IS NULL"
		" AND json_extract(media, '$.removed') IS NULL"
		" AND json_extract(media, '$.error') IS NULL AND at > ?");
	int n = 0;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, since_ms);
	while (store_step(st, s) == SQLITE_ROW) {
		cb(ud, sqlite3_column_int64(s, 0),
		   (const char *)sqlite3_column_text(s, 1));
		n++;
	}
	sqlite3_reset(s);
	return n;
}

int store_sms_mr_add(struct store *st, int64_t message_id, int part, int parts,
		     int mr, const char *to, int64_t now_ms)
{
	sqlite3_stmt *s =
	    store_stmt(st, "INSERT INTO sms_mr(mr, peer, message_id, at,"
			   " part, parts) VALUES(?, ?, ?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int(s, 1, mr);
	store_bind_text(s, 2, to);
	sqlite3_bind_int64(s, 3, message_id);
	sqlite3_bind_int64(s, 4, now_ms);
	sqlite3_bind_int(s, 5, part);
	sqlite3_bind_int(s, 6, parts);
	return store_exec_done(st, s);
}

/* Parts of message_id that the network took so far (one sms_mr row
 * each); 0 on error, so the whole message goes again. */
int store_sms_parts_sent(struct store *st, int64_t message_id)
{
	return (int)store_scalar64(
	    st, "SELECT count(*) FROM sms_mr WHERE message_id = ?", message_id,
	    0, NULL);
}

/* TP-MR is 0..255 and wraps: the newest send with that MR to that number
 * is the one a status report belongs to. */
static int64_t mr_row(struct store *st, int mr, const char *to,
		      int64_t *message_id)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT rowid, message_id FROM sms_mr"
					 " WHERE mr = ? AND peer = ?"
					 " ORDER BY at DESC LIMIT 1");
	int64_t row = -1;

	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, mr);
	store_bind_text(s, 2, to);
	if (store_step(st, s) == SQLITE_ROW) {
		row = sqlite3_column_int64(s, 0);
		*message_id = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	return row;
}

/* Parts not yet reported delivered (TP-ST 0..31). A part sent twice
 * (resent after a restart) counts once. Rows from before schema 15 have
 * no part count: as then, one report is enough. */
static int undelivered_parts(struct store *st, int64_t message_id)
{
	return (int)store_scalar64(
	    st,
	    "SELECT coalesce(max(parts) - count(DISTINCT CASE WHEN"
	    " tp_st < 32 THEN part END), 0) FROM sms_mr WHERE message_id = ?",
	    message_id, 0, NULL);
}

int64_t store_sms_report(struct store *st, int mr, const char *to, int tp_st,
			 int *undelivered)
{
	int64_t id = -1, row = mr_row(st, mr, to, &id);
	sqlite3_stmt *s;

	if (row < 0)
		return -1;
	s = store_stmt(st, "UPDATE sms_mr SET tp_st = ? WHERE rowid = ?");
	if (!s)
		return -1;
	sqlite3_bind_int(s, 1, tp_st);
	sqlite3_bind_int64(s, 2, row);
	if (store_exec_done(st, s) != STORE_OK)
		return -1;
	*undelivered = undelivered_parts(st, id);
	return id;
}

/* ---- concatenated SMS parts -------------------------------------------- */

int store_part_add(struct store *st, const char *source_id, const char *key,
		   const char *sender, int total, int seq, const char *text,
		   int64_t scts, int64_t now_ms)
{
	sqlite3_stmt *s =
	    store_stmt(st, "INSERT INTO sms_parts(source_id, key,"
			   " sender, total, seq, text, scts,"
			   " received_at) VALUES(?,?,?,?,?,?,?,?)");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, source_id);
	store_bind_text(s, 2, key);
	store_bind_text(s, 3, sender);
	sqlite3_bind_int(s, 4, total);
	sqlite3_bind_int(s, 5, seq);
	sqlite3_bind_text(s, 6, text ? text : "", -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 7, scts);
	sqlite3_bind_int64(s, 8, now_ms);
	return store_insert_done(st, s);
}

/* Distinct parts (a part stored twice under two source ids counts once)
 * of a group not yet assembled. */
int store_parts_get(struct store *st, const char *key,
		    struct store_part **parts)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT seq, text, min(scts) FROM sms_parts"
			   " WHERE key = ? AND message_id IS NULL"
			   " GROUP BY seq ORDER BY seq");
	int n = 0, cap = 0;

	*parts = NULL;
	if (!s)
		return -1;
	store_bind_text(s, 1, key);
	while (store_step(st, s) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct store_part *p =
			    realloc(*parts, (size_t)cap * sizeof(*p));
			if (!p)
				break;
			*parts = p;
		}
		(*parts)[n].seq = sqlite3_column_int(s, 0);
		(*parts)[n].text =
		    strdup((const char *)sqlite3_column_text(s, 1));
		(*parts)[n].scts = sqlite3_column_int64(s, 2);
		n++;
	}
	sqlite3_reset(s);
	return n;
}

void store_parts_free(struct store_part *parts, int n)
{
	for (int i = 0; i < n; i++)
		free(parts[i].text);
	free(parts);
}

/* Parts stay (with their message id) so a part read again after a crash
 * is still recognised as a duplicate. */
int store_parts_done(struct store *st, const char *key, int64_t message_id)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE sms_parts SET message_id = ?,"
					 " text = NULL WHERE key = ?"
					 " AND message_id IS NULL");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, message_id);
	store_bind_text(s, 2, key);
	return store_exec_done(st, s);
}

int store_parts_stale(struct store *st, int64_t before_ms, char keys[][128],
		      char senders[][64], int max)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT key, sender FROM sms_parts"
			   " WHERE message_id IS NULL GROUP BY key"
			   " HAVING min(received_at) < ? LIMIT ?");
	int n = 0;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, before_ms);
	sqlite3_bind_int(s, 2, max);
	while (n < max && store_step(st, s) == SQLITE_ROW) {
		store_col_copy(s, 0, keys[n], 128);
		store_col_copy(s, 1, senders[n], 64);
		n++;
	}
	sqlite3_reset(s);
	return n;
}
