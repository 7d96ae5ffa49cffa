/* store_announce: the SQL of announcements (see store_announce.h). */
#include "store_announce.h"

#include <stdio.h>
#include <string.h>

#include "store_int.h"

static int log_change(struct store *st, int64_t contact_id, const char *topic,
		      bool active, const char *channel, int64_t message_id,
		      int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO consent_log(contact_id, at, action, topic,"
		" channel, message_id) VALUES (?, ?, ?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_int64(s, 2, now_ms);
	store_bind_text(s, 3, active ? "daftar" : "berhenti");
	store_bind_text(s, 4, topic);
	store_bind_text(s, 5, channel);
	if (message_id > 0)
		sqlite3_bind_int64(s, 6, message_id);
	return store_exec_done(st, s);
}

static int subscribe(struct store *st, int64_t contact_id, int64_t conv_id,
		     const char *topic, const char *channel, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO subscriptions(contact_id, conversation_id, topic,"
		" channel, active, changed_at) VALUES (?1, ?2, ?3, ?4, 1, ?5)"
		" ON CONFLICT(contact_id, topic) DO UPDATE SET active = 1,"
		" channel = ?4, conversation_id = ?2, changed_at = ?5"
		" WHERE active = 0");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_int64(s, 2, conv_id);
	store_bind_text(s, 3, topic);
	store_bind_text(s, 4, channel);
	sqlite3_bind_int64(s, 5, now_ms);
	if (store_exec_done(st, s) != STORE_OK)
		return -1;
	return sqlite3_changes(store_db(st));
}

static int unsubscribe(struct store *st, int64_t contact_id, const char *topic,
		       int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE subscriptions SET active = 0, changed_at = ?3"
		" WHERE contact_id = ?1 AND active = 1"
		" AND (?2 IS NULL OR topic = ?2)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	store_bind_text(s, 2, topic);
	sqlite3_bind_int64(s, 3, now_ms);
	if (store_exec_done(st, s) != STORE_OK)
		return -1;
	return sqlite3_changes(store_db(st));
}

int store_sub_set(struct store *st, int64_t contact_id, int64_t conv_id,
		  const char *topic, bool active, const char *channel,
		  int64_t message_id, int64_t now_ms)
{
	int n = active
		    ? subscribe(st, contact_id, conv_id, topic, channel, now_ms)
		    : unsubscribe(st, contact_id, topic, now_ms);

	/* the request is consent evidence even when nothing changed */
	if (n < 0 || log_change(st, contact_id, topic ? topic : "*", active,
				channel, message_id, now_ms) != STORE_OK)
		return -1;
	return n;
}

int store_sub_topics(struct store *st, int64_t contact_id, char *buf, size_t n)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT group_concat(topic, ', ') FROM (SELECT topic FROM"
		" subscriptions WHERE contact_id = ? AND active = 1"
		" ORDER BY topic)");

	buf[0] = '\0';
	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, contact_id);
	int r = store_step(st, s);
	if (r == SQLITE_ROW)
		store_col_copy(s, 0, buf, n);
	sqlite3_reset(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

static json_t *rows(struct store *st, const char *sql, const char *const *names,
		    int ncols)
{
	sqlite3_stmt *s = store_stmt(st, sql);
	json_t *arr = json_array();

	if (!s)
		return arr;
	while (store_step(st, s) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < ncols; i++)
			json_object_set_new(o, names[i], store_col_json(s, i));
		json_array_append_new(arr, o);
	}
	sqlite3_reset(s);
	return arr;
}

json_t *store_subs_json(struct store *st)
{
	static const char *const sub[] = {"contact", "phone",	     "wa_id",
					  "name",    "topic",	     "channel",
					  "active",  "changed_at_ms"};
	static const char *const log[] = {"contact", "at_ms",	"action",
					  "topic",   "channel", "message"};

	return json_pack(
	    "{so so}", "subscriptions",
	    rows(st,
		 "SELECT s.contact_id, k.phone, k.wa_id, k.name, s.topic,"
		 " s.channel, s.active, s.changed_at FROM subscriptions s"
		 " JOIN contacts k ON k.id = s.contact_id"
		 " ORDER BY s.topic, s.contact_id",
		 sub, 8),
	    "consent_log",
	    rows(st,
		 "SELECT contact_id, at, action, topic, channel, message_id"
		 " FROM consent_log ORDER BY id",
		 log, 6));
}

int store_audience(struct store *st, const char *topic,
		   int (*cb)(void *ud, const struct store_recipient *r),
		   void *ud)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT contact_id, max(conversation_id) FROM subscriptions"
		" WHERE active = 1 AND (?1 = 'semua' OR topic = ?1)"
		" GROUP BY contact_id ORDER BY contact_id");
	int rc = STORE_OK, r;

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, topic);
	while ((r = store_step(st, s)) == SQLITE_ROW) {
		struct store_recipient rec = {sqlite3_column_int64(s, 0),
					      sqlite3_column_int64(s, 1)};
		if (cb(ud, &rec)) {
			rc = STORE_ERR;
			break;
		}
	}
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = STORE_ERR;
	sqlite3_reset(s);
	return rc;
}

int64_t store_announce_add(struct store *st, const char *body,
			   const char *audience, const char *by,
			   const char *state, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO announcements(body, audience, created_by,"
		" created_at, state) VALUES (?, ?, ?, ?, ?)");

	if (!s)
		return -1;
	store_bind_text(s, 1, body);
	store_bind_text(s, 2, audience);
	store_bind_text(s, 3, by);
	sqlite3_bind_int64(s, 4, now_ms);
	store_bind_text(s, 5, state);
	if (store_exec_done(st, s) != STORE_OK)
		return -1;
	return sqlite3_last_insert_rowid(store_db(st));
}

int store_announce_get(struct store *st, int64_t id,
		       struct store_announcement *out)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT id, body, audience, coalesce(created_by, ''), state"
		" FROM announcements WHERE id = ?");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	int r = store_step(st, s);
	if (r == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		store_col_copy(s, 1, out->body, sizeof(out->body));
		store_col_copy(s, 2, out->audience, sizeof(out->audience));
		store_col_copy(s, 3, out->created_by, sizeof(out->created_by));
		store_col_copy(s, 4, out->state, sizeof(out->state));
	}
	sqlite3_reset(s);
	return store_row_result(r);
}

int store_announce_approve(struct store *st, int64_t id, const char *by,
			   int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE announcements SET state = 'dikirim', approved_by = ?,"
		" approved_at = ? WHERE id = ?"
		" AND state = 'menunggu_persetujuan'");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, by);
	sqlite3_bind_int64(s, 2, now_ms);
	sqlite3_bind_int64(s, 3, id);
	if (store_exec_done(st, s) != STORE_OK)
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOTFOUND;
}

int store_announce_recipient(struct store *st, int64_t announcement_id,
			     int64_t contact_id, int64_t message_id)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO announcement_recipients(announcement_id,"
		" contact_id, message_id) VALUES (?, ?, ?)");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, announcement_id);
	sqlite3_bind_int64(s, 2, contact_id);
	sqlite3_bind_int64(s, 3, message_id);
	return store_exec_done(st, s);
}

json_t *store_announcements_json(struct store *st)
{
	static const char *const names[] = {
	    "id",	  "body",	   "audience",
	    "created_by", "created_at_ms", "recipients",
	    "queued",	  "sent",	   "delivered",
	    "failed",	  "state",	   "approved_by"};

	return rows(
	    st,
	    "SELECT a.id, a.body, a.audience, a.created_by, a.created_at,"
	    " count(r.message_id),"
	    " sum(m.status IN ('queued', 'sending')),"
	    " sum(m.status = 'sent'), sum(m.status IN ('delivered', 'read')),"
	    " sum(m.status = 'failed'), a.state, a.approved_by"
	    " FROM announcements a"
	    " LEFT JOIN announcement_recipients r ON r.announcement_id = a.id"
	    " LEFT JOIN messages m ON m.id = r.message_id"
	    " GROUP BY a.id ORDER BY a.id DESC",
	    names, 12);
}
