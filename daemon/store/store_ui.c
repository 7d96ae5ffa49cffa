/* store_ui: users, sessions, notes, audit, the conversation list and
 * search for the staff inbox. */
#include "store_ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
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

/* ---- the conversation list --------------------------------------------- */

/* Turns what staff typed into an FTS5 query that cannot be a syntax
 * error: every word becomes a quoted prefix term ("word"*), all ANDed. */
static char *fts_query(const char *q)
{
	size_t n = strlen(q);
	/* worst case: one-character words, each '"' doubled, quoted and
	 * starred with a separating space: 3 bytes per input byte + 4 */
	char *out = malloc(n * 3 + 8), *o = out;
	const char *p = q;

	if (!out)
		return NULL;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (o != out)
			*o++ = ' ';
		*o++ = '"';
		for (; *p && *p != ' ' && *p != '\t'; p++) {
			if (*p == '"')
				*o++ = '"';
			*o++ = *p;
		}
		*o++ = '"';
		*o++ = '*';
	}
	*o = '\0';
	return out;
}

#define LIST_COLS                                                              \
	"c.id, c.status, c.category, c.assignee, c.ticket, c.due_at,"          \
	" c.unread, c.last_channel, c.updated_at, c.last_in_at,"               \
	" k.id, k.name, k.phone, k.wa_id, k.raw, k.rt,"                        \
	" (SELECT group_concat(ch) FROM (SELECT DISTINCT channel AS ch"        \
	"   FROM messages WHERE conversation_id = c.id)),"                     \
	" lm.body, lm.direction, lm.channel, lm.at, lm.kind, lm.status,"       \
	" k.kind"

struct sqlbuf {
	char sql[2048];
	size_t len;
	const char *text[12];
	int ntext;
};

static void sql_add(struct sqlbuf *b, const char *clause, const char *arg)
{
	b->len += (size_t)snprintf(b->sql + b->len, sizeof(b->sql) - b->len,
				   " AND %s", clause);
	if (arg)
		b->text[b->ntext++] = arg;
}

/* Senders that are not people (operator promos, short codes) have their
 * own box, "Lainnya", out of the clerk's queue. */
#define NOT_PEOPLE                                                             \
	"c.contact_id IN (SELECT id FROM contacts WHERE kind IN"               \
	" ('alnum', 'shortcode', 'invalid'))"

static void add_box(struct sqlbuf *b, const char *box)
{
	if (!box || !*box)
		return;
	if (strcmp(box, "lainnya") == 0) {
		sql_add(b, NOT_PEOPLE, NULL);
		return;
	}
	sql_add(b, "NOT " NOT_PEOPLE, NULL);
	if (strcmp(box, "otomatis") == 0)
		sql_add(b, "c.status = 'otomatis'", NULL);
	else /* kerja: what a person still has to look at */
		sql_add(b, "c.status NOT IN ('otomatis', 'selesai')", NULL);
}

/* A number in any written form (0813.., 62813.., +62 813..), also only
 * its beginning: the digits as they would follow "+" in E.164. common/
 * phone.c normalises a whole number; a beginning is completed by hand
 * the same way (0 -> 62). Empty when q is not a number. */
static void number_digits(const char *q, char *out, size_t outlen)
{
	char e164[64], d[64];
	size_t n = 0;

	out[0] = '\0';
	for (const char *p = q; *p; p++) {
		if (*p >= '0' && *p <= '9') {
			if (n + 1 < sizeof(d))
				d[n++] = *p;
		} else if (!strchr(" +-.()", *p)) {
			return;
		}
	}
	d[n] = '\0';
	if (n < 3)
		return;
	enum phone_kind k = phone_normalize(q, e164, sizeof(e164));
	if (k == PHONE_MOBILE || k == PHONE_FIXED || k == PHONE_FOREIGN)
		snprintf(out, outlen, "%s", e164 + 1);
	else if (d[0] == '0')
		snprintf(out, outlen, "62%s", d + 1);
	else
		snprintf(out, outlen, "%s", d);
}

static void add_search(struct sqlbuf *b, const struct store_conv_filter *f,
		       const char *fts, const char *digits)
{
	if (*digits) {
		sql_add(b,
			"c.contact_id IN (SELECT id FROM contacts WHERE"
			" phone LIKE '+' || ? || '%' OR wa_id LIKE ? || '%'"
			" OR raw LIKE '%' || ? || '%')",
			digits);
		b->text[b->ntext++] = digits;
		b->text[b->ntext++] = digits;
		return;
	}
	if (!fts)
		return;
	sql_add(b,
		"(c.id IN (SELECT m.conversation_id FROM messages m"
		" WHERE m.id IN (SELECT rowid FROM messages_fts"
		" WHERE messages_fts MATCH ?)) OR c.contact_id IN (SELECT id"
		" FROM contacts WHERE coalesce(name, '') LIKE"
		" '%' || ? || '%' OR raw LIKE '%' || ? || '%'))",
		fts);
	b->text[b->ntext++] = f->q;
	b->text[b->ntext++] = f->q;
}

static void build_where(struct sqlbuf *b, const struct store_conv_filter *f,
			const char *fts, const char *digits)
{
	b->len = (size_t)snprintf(b->sql, sizeof(b->sql), " WHERE 1");
	add_box(b, f->box);
	if (f->status && strcmp(f->status, "open") == 0)
		sql_add(b, "c.status != 'selesai'", NULL);
	else if (f->status && *f->status)
		sql_add(b, "c.status = ?", f->status);
	if (f->channel && *f->channel)
		sql_add(b,
			"EXISTS (SELECT 1 FROM messages x WHERE"
			" x.conversation_id = c.id AND x.channel = ?)",
			f->channel);
	if (f->category && *f->category) {
		/* the slug ("layanan/ktp") or its last part ("ktp") */
		sql_add(b, "(c.category = ? OR c.category LIKE '%/' || ?)",
			f->category);
		b->text[b->ntext++] = f->category;
	}
	if (f->assignee && strcmp(f->assignee, "none") == 0)
		sql_add(b, "coalesce(c.assignee, '') = ''", NULL);
	else if (f->assignee && *f->assignee)
		sql_add(b, "c.assignee = ?", f->assignee);
	if (f->overdue)
		sql_add(b,
			"c.due_at IS NOT NULL AND c.due_at < :now"
			" AND c.status != 'selesai'",
			NULL);
	add_search(b, f, fts, digits);
}

/* Binds the texts in order of their '?' and :now by name. */
static void bind_where(sqlite3_stmt *s, const struct sqlbuf *b, int64_t now_ms)
{
	int t = 0, n = sqlite3_bind_parameter_count(s);

	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		if (name && strcmp(name, ":now") == 0)
			sqlite3_bind_int64(s, i, now_ms);
		else if (t < b->ntext)
			store_bind_text(s, i, b->text[t++]);
	}
}

static json_t *col_or_null(sqlite3_stmt *s, int i)
{
	return store_col_json(s, i);
}

static json_t *iso_or_null(sqlite3_stmt *s, int i, int tz)
{
	char iso[40];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	store_iso8601(sqlite3_column_int64(s, i), tz, iso, sizeof(iso));
	return json_string(iso);
}

static json_t *channels_json(const char *list)
{
	json_t *a = json_array();
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *save, *t = strtok_r(buf, ",", &save); t;
	     t = strtok_r(NULL, ",", &save))
		json_array_append_new(a, json_string(t));
	return a;
}

static json_t *list_row(sqlite3_stmt *s, int64_t now_ms, int tz)
{
	bool has_due = sqlite3_column_type(s, 5) != SQLITE_NULL;
	int64_t due = sqlite3_column_int64(s, 5);
	const char *status = (const char *)sqlite3_column_text(s, 1);
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "status", col_or_null(s, 1));
	json_object_set_new(o, "category", col_or_null(s, 2));
	json_object_set_new(o, "assignee", col_or_null(s, 3));
	json_object_set_new(o, "ticket", col_or_null(s, 4));
	json_object_set_new(o, "due_at", iso_or_null(s, 5, tz));
	json_object_set_new(o, "due_at_ms", col_or_null(s, 5));
	json_object_set_new(o, "overdue",
			    json_boolean(has_due && due < now_ms && status &&
					 strcmp(status, "selesai") != 0));
	json_object_set_new(o, "unread",
			    json_integer(sqlite3_column_int(s, 6)));
	json_object_set_new(o, "last_channel", col_or_null(s, 7));
	json_object_set_new(o, "updated_at", iso_or_null(s, 8, tz));
	json_object_set_new(o, "last_in_at", iso_or_null(s, 9, tz));
	json_object_set_new(
	    o, "contact",
	    json_pack("{sI so so so so so so}", "id",
		      (json_int_t)sqlite3_column_int64(s, 10), "name",
		      col_or_null(s, 11), "phone", col_or_null(s, 12), "wa_id",
		      col_or_null(s, 13), "raw", col_or_null(s, 14), "rt",
		      col_or_null(s, 15), "kind", col_or_null(s, 23)));
	json_object_set_new(
	    o, "channels",
	    channels_json((const char *)sqlite3_column_text(s, 16)));
	if (sqlite3_column_type(s, 21) == SQLITE_NULL)
		json_object_set_new(o, "last", json_null());
	else
		json_object_set_new(
		    o, "last",
		    json_pack("{so so so so so so}", "body", col_or_null(s, 17),
			      "direction", col_or_null(s, 18), "channel",
			      col_or_null(s, 19), "at", iso_or_null(s, 20, tz),
			      "kind", col_or_null(s, 21), "status",
			      col_or_null(s, 22)));
	return o;
}

static int64_t count_where(struct store *st, const struct sqlbuf *b,
			   int64_t now_ms)
{
	char sql[2200];
	int64_t n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM conversations c%s",
		 b->sql);
	sqlite3_stmt *s = store_prepare(st, sql);
	if (!s)
		return -1;
	bind_where(s, b, now_ms);
	if (store_step(st, s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

json_t *store_conversations_json(struct store *st,
				 const struct store_conv_filter *f, int tz)
{
	struct sqlbuf b = {0};
	char sql[4096];
	char *fts = f->q && *f->q ? fts_query(f->q) : NULL;
	json_t *items = NULL, *out = NULL;

	char digits[72] = "";

	if (f->q && *f->q)
		number_digits(f->q, digits, sizeof(digits));
	build_where(&b, f, fts && *fts ? fts : NULL, digits);
	int64_t total = count_where(st, &b, f->now_ms);
	/* The last message by the (conversation_id, at) index. */
	snprintf(sql, sizeof(sql),
		 "SELECT " LIST_COLS " FROM conversations c"
		 " JOIN contacts k ON k.id = c.contact_id"
		 " LEFT JOIN messages lm ON lm.id = (SELECT id FROM messages"
		 "  WHERE conversation_id = c.id"
		 "  ORDER BY direction = 'in' DESC, at DESC, id DESC LIMIT 1)"
		 "%s ORDER BY c.updated_at DESC, c.id DESC LIMIT %d OFFSET %d",
		 b.sql, f->limit, f->offset);
	sqlite3_stmt *s = total >= 0 ? store_prepare(st, sql) : NULL;
	if (!s)
		goto done;
	bind_where(s, &b, f->now_ms);
	items = json_array();
	int r;
	while ((r = store_step(st, s)) == SQLITE_ROW)
		json_array_append_new(items, list_row(s, f->now_ms, tz));
	sqlite3_finalize(s);
	if (r != SQLITE_DONE)
		goto done;
	out = json_pack("{sO sI si si}", "items", items, "total",
			(json_int_t)total, "limit", f->limit, "offset",
			f->offset);
done:
	json_decref(items);
	free(fts);
	return out;
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
		    arr,
		    json_pack("{sI so so so sI}", "id",
			      (json_int_t)sqlite3_column_int64(s, 0), "author",
			      store_col_json(s, 1), "body",
			      store_col_json(s, 2), "at", iso_or_null(s, 3, tz),
			      "at_ms", (json_int_t)sqlite3_column_int64(s, 3)));
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
		json_object_set_new(j, "last_in_at", iso_or_null(s, 1, tz));
		json_object_set_new(j, "last_in_at_ms", store_col_json(s, 1));
		json_object_set_new(j, "last_channel", store_col_json(s, 2));
		json_object_set_new(j, "due_at_ms", store_col_json(s, 3));
		json_object_set_new(j, "due_at", iso_or_null(s, 3, tz));
		json_object_set_new(
		    j, "overdue",
		    json_boolean(has_due &&
				 sqlite3_column_int64(s, 3) < now_ms &&
				 status && strcmp(status, "selesai")));
		json_object_set_new(
		    j, "channels",
		    channels_json((const char *)sqlite3_column_text(s, 5)));
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

int64_t store_ui_rev(struct store *st)
{
	return store_scalar64(st,
			      "SELECT coalesce((SELECT value FROM counters"
			      " WHERE name = 'ui_rev'), 0) + ?1 + ?2",
			      0, 0, NULL);
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
