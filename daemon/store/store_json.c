/* store_json: messages and the store's counts as JSON for the API (the
 * inbox, one conversation, /status) and the time columns they carry.
 * Part of the store module (store_int.h). */
#include <stdio.h>
#include <time.h>

#include "store_int.h"

void store_iso8601(int64_t ms, int tz, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000) + tz;
	struct tm tm;
	int a = tz < 0 ? -tz : tz;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, tz < 0 ? '-' : '+', a / 3600,
		 (a / 60) % 60);
}

/* A time column (ms) as ISO 8601 in the office's zone, or null. */
json_t *store_col_iso(sqlite3_stmt *s, int i, int tz)
{
	char iso[40];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	store_iso8601(sqlite3_column_int64(s, i), tz, iso, sizeof(iso));
	return json_string(iso);
}

json_t *store_col_json(sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		return json_integer(sqlite3_column_int64(s, i));
	case SQLITE_NULL:
		return json_null();
	default:
		return json_string((const char *)sqlite3_column_text(s, i));
	}
}

#define MSG_COLS                                                               \
	"m.id, m.channel, m.direction, m.peer, m.body, m.at, m.source_id,"     \
	" m.status, m.conversation_id, m.kind, m.error, m.author, m.media,"    \
	" m.external_id,"                                                      \
	" (SELECT user FROM call_backs WHERE message_id = m.id"                \
	"  ORDER BY id DESC LIMIT 1),"                                         \
	" (SELECT max(at) FROM call_backs WHERE message_id = m.id)"

static json_t *message_row(sqlite3_stmt *s, int tz)
{
	static const char *const names[] = {"id",
					    "channel",
					    "direction",
					    "peer",
					    "body",
					    "at",
					    "source_id",
					    "status",
					    "conversation",
					    "kind",
					    "error",
					    "author",
					    "media",
					    "external_id",
					    "called_back_by",
					    "called_back_at_ms"};
	json_t *o = json_object();
	char iso[40];

	for (int i = 0; i < 16; i++)
		json_object_set_new(o, names[i], store_col_json(s, i));
	store_iso8601(sqlite3_column_int64(s, 5), tz, iso, sizeof(iso));
	json_object_set_new(o, "at", json_string(iso));
	json_object_set_new(o, "at_ms",
			    json_integer(sqlite3_column_int64(s, 5)));
	return o;
}

static json_t *rows_json(struct store *st, sqlite3_stmt *s, int tz)
{
	json_t *arr = json_array();

	while (store_step(st, s) == SQLITE_ROW)
		json_array_append_new(arr, message_row(s, tz));
	sqlite3_reset(s);
	return arr;
}

json_t *store_inbox_json(struct store *st, int limit, int64_t before_id, int tz)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT " MSG_COLS " FROM messages m"
			   " WHERE m.id < ? ORDER BY m.id DESC LIMIT ?");

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, before_id > 0 ? before_id : INT64_MAX);
	sqlite3_bind_int(s, 2, limit > 0 ? limit : 100);
	return rows_json(st, s, tz);
}

json_t *store_conversation_json(struct store *st, int64_t id, int tz)
{
	struct store_conversation c;
	struct store_contact k;

	if (store_conversation_get(st, id, &c) != STORE_OK ||
	    store_contact_get(st, c.contact_id, &k) != STORE_OK)
		return NULL;
	sqlite3_stmt *s = store_stmt(st, "SELECT " MSG_COLS " FROM messages m"
					 " WHERE m.conversation_id = ?"
					 " ORDER BY m.at, m.id");
	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	json_t *msgs = rows_json(st, s, tz);
	return json_pack("{sI s{sI ss ss ss ss ss ss} ss ss ss ss sI so}", "id",
			 (json_int_t)c.id, "contact", "id", (json_int_t)k.id,
			 "phone", k.phone, "wa_id", k.wa_id, "raw", k.raw,
			 "kind", k.kind, "name", k.name, "rt", k.rt, "status",
			 c.status, "category", c.category, "ticket", c.ticket,
			 "assignee", c.assignee, "due_at", (json_int_t)c.due_at,
			 "messages", msgs);
}

/* None reads the messages themselves: at a million messages the counts
 * by direction and status were scans of the table, 1.5 s with the loop
 * held (SMS and webhooks waiting) for each `simpulctl status`. The
 * totals are message_totals' (message_counts, schema 16, and the few
 * messages above its mark, schema 22; staff notices are not counted);
 * the queue's statuses are seeks in messages_queue, by channel (sms or
 * whatsapp: the only two, checked where a message is made). */
json_t *store_status_json(struct store *st)
{
	static const char *const q[][2] = {
	    {"messages_in", "SELECT coalesce(sum(n), 0) FROM message_totals"
			    " WHERE direction = 'in'"},
	    {"messages_out", "SELECT coalesce(sum(n), 0) FROM message_totals"
			     " WHERE direction = 'out'"},
	    {"queued",
	     "SELECT count(*) FROM messages"
	     " INDEXED BY messages_queue WHERE direction = 'out'"
	     " AND channel IN ('sms', 'whatsapp')"
	     " AND " STORE_QUEUE_STATES " AND status IN ('queued', 'sending')"},
	    {"failed", "SELECT count(*) FROM messages"
		       " INDEXED BY messages_queue WHERE direction = 'out'"
		       " AND channel IN ('sms', 'whatsapp')"
		       " AND " STORE_QUEUE_STATES " AND status = 'failed'"},
	    {"conversations_open", "SELECT count(*) FROM conversations"
				   " WHERE status != 'selesai'"},
	    {"parts_pending", "SELECT count(DISTINCT key) FROM sms_parts"
			      " WHERE message_id IS NULL"},
	};
	json_t *o = json_object();

	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		json_object_set_new(
		    o, q[i][0],
		    json_integer(store_scalar64(st, q[i][1], 0, 0, NULL)));
	return o;
}
