/* store_ui: users, sessions, notes, audit, the conversation list and
 * search for the staff inbox. */
#include "store_ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_int.h"

/* ---- users ------------------------------------------------------------- */

int store_user_add(struct store *st, const char *name, const char *role,
		   const char *hash, int64_t now_ms)
{
	sqlite3_stmt *s =
	    store_stmt(st, "INSERT INTO users(name, role, hash, created_at)"
			   " VALUES (?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, role);
	store_bind_text(s, 3, hash);
	sqlite3_bind_int64(s, 4, now_ms);
	return store_insert_done(st, s);
}

static int end_sessions(struct store *st, const char *name)
{
	sqlite3_stmt *s =
	    store_stmt(st, "DELETE FROM sessions WHERE user_id IN"
			   " (SELECT id FROM users WHERE name = ?)");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, name);
	return store_exec_done(st, s) ? STORE_ERR : STORE_OK;
}

int store_user_update(struct store *st, const char *name, const char *role,
		      const char *hash)
{
	sqlite3_stmt *s =
	    store_stmt(st, "UPDATE users SET role = ?, hash = ?, disabled = 0"
			   " WHERE name = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, role);
	store_bind_text(s, 2, hash);
	store_bind_text(s, 3, name);
	if (store_exec_done(st, s))
		return STORE_ERR;
	if (!sqlite3_changes(store_db(st)))
		return STORE_NOTFOUND;
	/* a new password ends every session opened with the old one */
	return end_sessions(st, name);
}

int store_user_disable(struct store *st, const char *name)
{
	sqlite3_stmt *s =
	    store_stmt(st, "UPDATE users SET disabled = 1 WHERE name = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, name);
	if (store_exec_done(st, s))
		return STORE_ERR;
	if (!sqlite3_changes(store_db(st)))
		return STORE_NOTFOUND;
	return end_sessions(st, name);
}

int store_user_delete(struct store *st, const char *name)
{
	if (end_sessions(st, name))
		return STORE_ERR;
	sqlite3_stmt *s = store_stmt(st, "DELETE FROM users WHERE name = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, name);
	if (store_exec_done(st, s))
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOTFOUND;
}

static void read_user(sqlite3_stmt *s, int col, struct store_user *u)
{
	u->id = sqlite3_column_int64(s, col);
	store_col_copy(s, col + 1, u->name, sizeof(u->name));
	store_col_copy(s, col + 2, u->role, sizeof(u->role));
	store_col_copy(s, col + 3, u->hash, sizeof(u->hash));
	u->disabled = sqlite3_column_int(s, col + 4) != 0;
}

int store_user_get(struct store *st, const char *name, struct store_user *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, name, role, hash, disabled"
					 " FROM users WHERE name = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, name);
	int r = store_step(st, s);
	if (r == SQLITE_ROW)
		read_user(s, 0, out);
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return STORE_OK;
	return r == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

json_t *store_users_json(struct store *st, bool all)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT name, role, disabled FROM users"
			   " WHERE disabled = 0 OR ?"
			   " ORDER BY name");
	json_t *arr = json_array();

	if (!s)
		return arr;
	sqlite3_bind_int(s, 1, all);
	while (store_step(st, s) == SQLITE_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{ss ss sb}", "name",
			      (const char *)sqlite3_column_text(s, 0), "role",
			      (const char *)sqlite3_column_text(s, 1),
			      "disabled", sqlite3_column_int(s, 2) != 0));
	sqlite3_reset(s);
	return arr;
}

/* ---- sessions ---------------------------------------------------------- */

int store_session_add(struct store *st, const char *token_hash, int64_t user_id,
		      const char *csrf, const char *peer, int64_t now_ms,
		      int64_t expires_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO sessions(token_hash, user_id, csrf, peer,"
		" created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, token_hash);
	sqlite3_bind_int64(s, 2, user_id);
	store_bind_text(s, 3, csrf);
	store_bind_text(s, 4, peer);
	sqlite3_bind_int64(s, 5, now_ms);
	sqlite3_bind_int64(s, 6, expires_ms);
	return store_exec_done(st, s);
}

int store_session_get(struct store *st, const char *token_hash, int64_t now_ms,
		      struct store_user *user, char *csrf, size_t csrflen)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT s.csrf, u.id, u.name, u.role, u.hash, u.disabled"
		" FROM sessions s JOIN users u ON u.id = s.user_id"
		" WHERE s.token_hash = ? AND s.expires_at > ?"
		" AND u.disabled = 0");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, token_hash);
	sqlite3_bind_int64(s, 2, now_ms);
	int r = store_step(st, s);
	if (r == SQLITE_ROW) {
		store_col_copy(s, 0, csrf, csrflen);
		read_user(s, 1, user);
	}
	sqlite3_reset(s);
	if (r == SQLITE_ROW)
		return STORE_OK;
	return r == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERR;
}

int store_session_del(struct store *st, const char *token_hash)
{
	sqlite3_stmt *s =
	    store_stmt(st, "DELETE FROM sessions WHERE token_hash = ?");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, token_hash);
	return store_exec_done(st, s);
}

int store_session_purge(struct store *st, int64_t now_ms)
{
	sqlite3_stmt *s =
	    store_stmt(st, "DELETE FROM sessions WHERE expires_at <= ?");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms);
	if (store_exec_done(st, s))
		return STORE_ERR;
	return sqlite3_changes(store_db(st));
}

/* ---- notes and audit --------------------------------------------------- */

int64_t store_note_add(struct store *st, int64_t conversation_id,
		       const char *author, const char *body, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO notes(conversation_id, author, body, at)"
		" SELECT id, ?, ?, ? FROM conversations WHERE id = ?");

	if (!s)
		return -1;
	store_bind_text(s, 1, author);
	store_bind_text(s, 2, body);
	sqlite3_bind_int64(s, 3, now_ms);
	sqlite3_bind_int64(s, 4, conversation_id);
	if (store_exec_done(st, s) || sqlite3_changes(store_db(st)) == 0)
		return -1;
	return sqlite3_last_insert_rowid(store_db(st));
}

/* Whether the newest note of the conversation is body by author. Index
 * notes_conv (conversation_id, at) ends in the rowid, so the order needs
 * no sort. */
static int last_note_is(struct store *st, int64_t conversation_id,
			const char *author, const char *body)
{
	sqlite3_stmt *s = store_stmt(
	    st,
	    "SELECT author = ?1 AND body = ?2 FROM notes"
	    " WHERE conversation_id = ?3 ORDER BY at DESC, id DESC LIMIT 1");
	int rc;

	if (!s)
		return -1;
	store_bind_text(s, 1, author);
	store_bind_text(s, 2, body);
	sqlite3_bind_int64(s, 3, conversation_id);
	rc = store_step(st, s);
	int same = rc == SQLITE_ROW && sqlite3_column_int(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? same : -1;
}

int64_t store_note_add_once(struct store *st, int64_t conversation_id,
			    const char *author, const char *body,
			    int64_t now_ms)
{
	int same = last_note_is(st, conversation_id, author, body);

	if (same)
		return same < 0 ? -1 : 0;
	return store_note_add(st, conversation_id, author, body, now_ms);
}

int store_audit(struct store *st, const char *user, const char *action,
		int64_t conversation_id, const char *detail, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO audit(at, user, action, conversation_id,"
		" detail) VALUES (?, ?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms);
	store_bind_text(s, 2, user);
	store_bind_text(s, 3, action);
	if (conversation_id > 0)
		sqlite3_bind_int64(s, 4, conversation_id);
	else
		sqlite3_bind_null(s, 4);
	store_bind_text(s, 5, detail);
	return store_exec_done(st, s);
}

json_t *store_channels_json(const char *list)
{
	json_t *a = json_array();
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *save, *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	return a;
}

/* ---- one conversation -------------------------------------------------- */

static json_t *notes_json(struct store *st, int64_t id, int tz)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT id, author, body, at FROM"
					 " notes WHERE conversation_id = ?"
					 " ORDER BY at, id");
	json_t *arr = json_array();

	if (!s)
		return arr;
	sqlite3_bind_int64(s, 1, id);
	while (store_step(st, s) == SQLITE_ROW)
		json_array_append_new(
		    arr, json_pack("{sI so so so sI}", "id",
				   (json_int_t)sqlite3_column_int64(s, 0),
				   "author", store_col_json(s, 1), "body",
				   store_col_json(s, 2), "at",
				   store_col_iso(s, 3, tz), "at_ms",
				   (json_int_t)sqlite3_column_int64(s, 3)));
	sqlite3_reset(s);
	return arr;
}

json_t *store_conversation_ui_json(struct store *st, int64_t id, int64_t now_ms,
				   int tz)
{
	json_t *j = store_conversation_json(st, id, tz);
	sqlite3_stmt *s;

	if (!j)
		return NULL;
	s = store_stmt(st, "SELECT unread, last_in_at, last_channel, due_at,"
			   " status, (SELECT group_concat(ch) FROM (SELECT"
			   " DISTINCT channel AS ch FROM messages WHERE"
			   " conversation_id = ?1)) FROM conversations"
			   " WHERE id = ?1");
	if (!s)
		return j;
	sqlite3_bind_int64(s, 1, id);
	if (store_step(st, s) == SQLITE_ROW) {
		bool has_due = sqlite3_column_type(s, 3) != SQLITE_NULL;
		const char *status = (const char *)sqlite3_column_text(s, 4);
		json_object_set_new(j, "unread",
				    json_integer(sqlite3_column_int(s, 0)));
		json_object_set_new(j, "last_in_at", store_col_iso(s, 1, tz));
		json_object_set_new(j, "last_in_at_ms", store_col_json(s, 1));
		json_object_set_new(j, "last_channel", store_col_json(s, 2));
		json_object_set_new(j, "due_at_ms", store_col_json(s, 3));
		json_object_set_new(j, "due_at", store_col_iso(s, 3, tz));
		json_object_set_new(
		    j, "overdue",
		    json_boolean(has_due &&
				 sqlite3_column_int64(s, 3) < now_ms &&
				 status && strcmp(status, "selesai")));
		json_object_set_new(
		    j, "channels",
		    store_channels_json(
			(const char *)sqlite3_column_text(s, 5)));
	}
	sqlite3_reset(s);
	json_object_set_new(j, "notes", notes_json(st, id, tz));
	/* the daemon's clock, which the page measures ages against */
	json_object_set_new(j, "now_ms", json_integer(now_ms));
	return j;
}

int store_conversation_read(struct store *st, int64_t id)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE conversations SET unread = 0"
					 " WHERE id = ? AND unread != 0");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	return store_exec_done(st, s);
}

int store_message_media_file(struct store *st, int64_t id, char *file,
			     size_t filelen, char *mime, size_t mimelen,
			     char *name, size_t namelen)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT media FROM messages WHERE id = ?");
	json_t *m = NULL;
	int rc = STORE_NOTFOUND;

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	if (store_step(st, s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) == SQLITE_TEXT)
		m = json_loads((const char *)sqlite3_column_text(s, 0), 0,
			       NULL);
	sqlite3_reset(s);
	const char *f = json_string_value(json_object_get(m, "file"));
	const char *t = json_string_value(json_object_get(m, "mime_type"));
	const char *n = json_string_value(json_object_get(m, "filename"));
	if (f && *f) {
		snprintf(file, filelen, "%s", f);
		snprintf(mime, mimelen, "%s", t ? t : "");
		snprintf(name, namelen, "%s", n ? n : "");
		rc = STORE_OK;
	}
	json_decref(m);
	return rc;
}

int64_t store_conversation_inbound(struct store *st, int64_t id)
{
	return store_scalar64(st,
			      "SELECT count(*) FROM messages WHERE"
			      " conversation_id = ?1 AND direction = 'in'",
			      id, 0, NULL);
}

/* The tables the staff inbox shows (rows of FTS5's own tables and the
 * queue's bookkeeping are not among them). */
static bool shown(const char *table)
{
	static const char *const names[] = {"messages",	   "conversations",
					    "contacts",	   "notes",
					    "rt_requests", "call_backs"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(table, names[i]) == 0)
			return true;
	return false;
}

/* SQLite's update hook: a row of this connection changed (triggers'
 * rows too). Until schema 21 triggers counted in a row of counters,
 * which put that table's page into every commit: ~3 of the ~40 pages an
 * SMS with its reply writes. A rolled back change counts too: the
 * inbox only looks again. */
static void on_row(void *arg, int op, const char *db, const char *table,
		   sqlite3_int64 rowid)
{
	int64_t *rev = arg;

	(void)op, (void)db, (void)rowid;
	if (shown(table))
		(*rev)++;
}

int64_t store_ui_rev(struct store *st)
{
	return *store_ui_rev_slot(st);
}

/* The revision starts at the wall clock in microseconds' scale, so the
 * next start does not hand out a number an open tab already saw (the
 * inbox compares for equality, web/ui/net.js); 1.8e15 stays within a
 * JavaScript number's 2^53. */
void store_ui_rev_start(struct store *st)
{
	struct timespec ts;
	int64_t *rev = store_ui_rev_slot(st);

	clock_gettime(CLOCK_REALTIME, &ts);
	*rev = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) * 1000;
	sqlite3_update_hook(store_db(st), on_row, rev);
}

void store_on_commit(struct store *st, int (*fn)(void *ud), void *ud)
{
	sqlite3_commit_hook(store_db(st), fn, ud);
}

bool store_user_is_admin(struct store *st, const char *name)
{
	struct store_user su;

	return store_user_get(st, name, &su) == STORE_OK &&
	       strcmp(su.role, "admin") == 0;
}
