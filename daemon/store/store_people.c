/* store_people: the staff-editable facts of a contact and the contact
 * page. */
#include "store_people.h"

#include <string.h>

#include "store_int.h"

static int set_one(struct store *st, const char *sql, const char *v, int64_t id)
{
	if (!v)
		return STORE_OK;
	return store_set_text(st, sql, *v ? v : NULL, id);
}

int store_contact_edit(struct store *st, int64_t id,
		       const struct store_contact_edit *e, int64_t now_ms)
{
	/* A staff name is also the name; without one the profile name the
	 * trigger kept comes back. */
	static const char name[] =
	    "UPDATE contacts SET profile_name = coalesce(profile_name, name),"
	    " staff_name = ?1, name = CASE WHEN ?1 IS NULL"
	    " THEN coalesce(profile_name, name) ELSE ?1 END WHERE id = ?2";
	static const char rt[] = "UPDATE contacts SET rt = ? WHERE id = ?";
	static const char rw[] = "UPDATE contacts SET rw = ? WHERE id = ?";
	static const char notes[] =
	    "UPDATE contacts SET notes = ? WHERE id = ?";
	struct store_contact k;
	int r = store_contact_get(st, id, &k);

	if (r != STORE_OK)
		return r;
	if (set_one(st, name, e->name, id) || set_one(st, rt, e->rt, id) ||
	    set_one(st, rw, e->rw, id) || set_one(st, notes, e->notes, id))
		return STORE_ERR;
	(void)now_ms;
	return STORE_OK;
}

static json_t *iso(sqlite3_stmt *s, int i, int tz)
{
	char buf[40];

	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return json_null();
	store_iso8601(sqlite3_column_int64(s, i), tz, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *contact_json(struct store *st, int64_t id)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT id, name, coalesce(profile_name, name), phone, wa_id,"
		" raw, kind, rt, rw, notes FROM contacts WHERE id = ?");
	static const char *const keys[] = {
	    "id",  "name", "profile_name", "phone", "wa_id",
	    "raw", "kind", "rt",	   "rw",    "notes"};
	json_t *o = NULL;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, id);
	if (store_step(st, s) == SQLITE_ROW) {
		o = json_object();
		for (int i = 0; i < 10; i++)
			json_object_set_new(o, keys[i], store_col_json(s, i));
	}
	sqlite3_reset(s);
	return o;
}

static json_t *channels(const char *list)
{
	json_t *a = json_array();
	const char *p = list ? list : "";

	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		json_array_append_new(a, json_stringn(p, n));
		p += n + (e ? 1 : 0);
	}
	return a;
}

/* The resident's last words: the last inbound message, else the last. */
static json_t *conv_row(sqlite3_stmt *s, int tz)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "status", store_col_json(s, 1));
	json_object_set_new(o, "category", store_col_json(s, 2));
	json_object_set_new(o, "ticket", store_col_json(s, 3));
	json_object_set_new(o, "opened_at", iso(s, 4, tz));
	json_object_set_new(o, "updated_at", iso(s, 5, tz));
	json_object_set_new(o, "channels",
			    channels((const char *)sqlite3_column_text(s, 6)));
	json_object_set_new(o, "last", store_col_json(s, 7));
	return o;
}

json_t *store_contact_page_json(struct store *st, int64_t id, int tz)
{
	json_t *k = contact_json(st, id);
	sqlite3_stmt *s;
	int r;

	if (!k)
		return NULL;
	s = store_stmt(
	    st, "SELECT c.id, c.status, c.category, c.ticket, c.opened_at,"
		" c.updated_at, (SELECT group_concat(ch) FROM (SELECT DISTINCT"
		" channel AS ch FROM messages WHERE conversation_id = c.id)),"
		" (SELECT body FROM messages WHERE conversation_id = c.id"
		"  ORDER BY direction = 'in' DESC, at DESC, id DESC LIMIT 1)"
		" FROM conversations c WHERE c.contact_id = ?"
		" ORDER BY c.updated_at DESC, c.id DESC");
	if (!s) {
		json_decref(k);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, id);
	json_t *arr = json_array();
	while ((r = store_step(st, s)) == SQLITE_ROW)
		json_array_append_new(arr, conv_row(s, tz));
	arr = store_rows_json_end(s, r, arr);
	if (!arr) {
		json_decref(k);
		return NULL;
	}
	return json_pack("{so so}", "contact", k, "conversations", arr);
}

json_t *store_categories_json(struct store *st)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT category, count(*) FROM conversations"
		" WHERE coalesce(category, '') != '' GROUP BY category"
		" ORDER BY count(*) DESC, category");
	json_t *arr = json_array();
	int r;

	if (!s)
		return NULL;
	while ((r = store_step(st, s)) == SQLITE_ROW)
		json_array_append_new(
		    arr,
		    json_pack("{so sI}", "slug", store_col_json(s, 0), "count",
			      (json_int_t)sqlite3_column_int64(s, 1)));
	return store_rows_json_end(s, r, arr);
}

/* ---- the satisfaction survey --------------------------------------------- */

int store_survey_asked(struct store *st, int64_t conv_id, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(st, "UPDATE conversations SET"
					 " survey_at = ?, satisfaction = NULL"
					 " WHERE id = ?");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, conv_id);
	return store_exec_done(st, s);
}

int64_t store_survey_waiting(struct store *st, int64_t contact_id,
			     int64_t since_ms)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT id FROM conversations WHERE contact_id = ?"
			   " AND survey_at >= ? AND satisfaction IS NULL"
			   " ORDER BY survey_at DESC LIMIT 1");
	int64_t id = 0;
	int r;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_int64(s, 2, since_ms);
	r = store_step(st, s);
	if (r == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return r == SQLITE_ROW || r == SQLITE_DONE ? id : -1;
}

int store_survey_answer(struct store *st, int64_t conv_id, int score,
			int64_t message_id, int64_t opened_conv_id)
{
	static const char score_sql[] =
	    "UPDATE conversations SET satisfaction = ? WHERE id = ?";
	static const char move_sql[] =
	    "UPDATE messages SET conversation_id = ? WHERE id = ?";
	static const char drop_sql[] =
	    "DELETE FROM conversations WHERE id = ?1 AND id != ?2"
	    " AND NOT EXISTS (SELECT 1 FROM messages"
	    "  WHERE conversation_id = ?1)";
	sqlite3_stmt *a = store_stmt(st, score_sql);
	sqlite3_stmt *b = store_stmt(st, move_sql);
	sqlite3_stmt *c = store_stmt(st, drop_sql);

	if (!a || !b || !c)
		return STORE_ERR;
	sqlite3_bind_int(a, 1, score);
	sqlite3_bind_int64(a, 2, conv_id);
	sqlite3_bind_int64(b, 1, conv_id);
	sqlite3_bind_int64(b, 2, message_id);
	sqlite3_bind_int64(c, 1, opened_conv_id);
	sqlite3_bind_int64(c, 2, conv_id);
	if (store_exec_done(st, a) || store_exec_done(st, b) ||
	    store_exec_done(st, c))
		return STORE_ERR;
	return STORE_OK;
}
