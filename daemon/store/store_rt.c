/* store_rt: SQL of the Ketua RT confirmation workflow. */
#include "store_rt.h"

#include <stdio.h>
#include <string.h>

#include "store_int.h"

#define RT_COLS                                                                \
	"r.id, r.conversation_id, r.contact_id, r.service, r.rt,"              \
	" coalesce(r.rw, ''), coalesce(r.head_name, ''), r.head_phone,"        \
	" r.code, r.state, coalesce(r.reason, ''),"                            \
	" coalesce(r.answer_raw, ''), coalesce(r.answered_by, ''),"            \
	" coalesce(r.created_by, ''), r.created_at,"                           \
	" coalesce(r.answered_at, 0), r.remind_at, r.expire_at,"               \
	" coalesce(r.reminded_at, 0), coalesce(r.closed_at, 0)"

static void read_req(sqlite3_stmt *s, struct store_rt_req *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->conversation_id = sqlite3_column_int64(s, 1);
	r->contact_id = sqlite3_column_int64(s, 2);
	store_col_copy(s, 3, r->service, sizeof(r->service));
	store_col_copy(s, 4, r->rt, sizeof(r->rt));
	store_col_copy(s, 5, r->rw, sizeof(r->rw));
	store_col_copy(s, 6, r->head_name, sizeof(r->head_name));
	store_col_copy(s, 7, r->head_phone, sizeof(r->head_phone));
	store_col_copy(s, 8, r->code, sizeof(r->code));
	store_col_copy(s, 9, r->state, sizeof(r->state));
	store_col_copy(s, 10, r->reason, sizeof(r->reason));
	store_col_copy(s, 11, r->answer_raw, sizeof(r->answer_raw));
	store_col_copy(s, 12, r->answered_by, sizeof(r->answered_by));
	store_col_copy(s, 13, r->created_by, sizeof(r->created_by));
	r->created_at = sqlite3_column_int64(s, 14);
	r->answered_at = sqlite3_column_int64(s, 15);
	r->remind_at = sqlite3_column_int64(s, 16);
	r->expire_at = sqlite3_column_int64(s, 17);
	r->reminded_at = sqlite3_column_int64(s, 18);
	r->closed_at = sqlite3_column_int64(s, 19);
}

/* Steps s expecting one row: STORE_OK with out filled, or NOTFOUND/ERR. */
static int one(struct store *st, sqlite3_stmt *s, struct store_rt_req *out)
{
	int r = store_step(st, s);

	if (r == SQLITE_ROW)
		read_req(s, out);
	sqlite3_reset(s);
	return r == SQLITE_ROW	  ? STORE_OK
	       : r == SQLITE_DONE ? STORE_NOTFOUND
				  : STORE_ERR;
}

/* Steps s collecting up to max rows; returns the row count or -1. */
static int many(struct store *st, sqlite3_stmt *s, struct store_rt_req *out,
		int max)
{
	int n = 0, r;

	while ((r = store_step(st, s)) == SQLITE_ROW) {
		if (n < max)
			read_req(s, &out[n]);
		n++;
	}
	sqlite3_reset(s);
	return r == SQLITE_DONE ? n : -1;
}

int64_t store_rt_insert(struct store *st, const struct store_rt_req *r)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO rt_requests(conversation_id, contact_id,"
		" service, rt, rw, head_name, head_phone, code, created_by,"
		" created_at, remind_at, expire_at)"
		" VALUES(?, ?, ?, ?, nullif(?, ''), ?, ?, ?, ?, ?, ?, ?)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, r->conversation_id);
	sqlite3_bind_int64(s, 2, r->contact_id);
	store_bind_text(s, 3, r->service);
	store_bind_text(s, 4, r->rt);
	store_bind_text(s, 5, r->rw);
	store_bind_text(s, 6, r->head_name);
	store_bind_text(s, 7, r->head_phone);
	store_bind_text(s, 8, r->code);
	store_bind_text(s, 9, r->created_by);
	sqlite3_bind_int64(s, 10, r->created_at);
	sqlite3_bind_int64(s, 11, r->remind_at);
	sqlite3_bind_int64(s, 12, r->expire_at);
	int rc = store_step(st, s);
	int ext = sqlite3_extended_errcode(store_db(st));
	sqlite3_reset(s);
	if (rc == SQLITE_CONSTRAINT && ext == SQLITE_CONSTRAINT_UNIQUE)
		return -STORE_DUP;
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_last_insert_rowid(store_db(st));
}

int store_rt_get(struct store *st, int64_t id, struct store_rt_req *out)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT " RT_COLS
					 " FROM rt_requests r WHERE r.id = ?");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	return one(st, s, out);
}

bool store_rt_code_open(struct store *st, const char *code)
{
	return store_scalar64(st,
			      "SELECT count(*) FROM rt_requests WHERE code = ?3"
			      " AND state = 'menunggu'",
			      0, 0, code) > 0;
}

int store_rt_open_for_conversation(struct store *st, int64_t conversation_id,
				   struct store_rt_req *out)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT " RT_COLS " FROM rt_requests r"
		" WHERE r.conversation_id = ? AND r.state = 'menunggu'"
		" ORDER BY r.id DESC LIMIT 1");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, conversation_id);
	return one(st, s, out);
}

int store_rt_open_by_head(struct store *st, const char *head_phone,
			  struct store_rt_req *out, int max)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT " RT_COLS " FROM rt_requests r"
			   " WHERE r.head_phone = ? AND r.state = 'menunggu'"
			   " ORDER BY r.id");

	if (!s)
		return -1;
	store_bind_text(s, 1, head_phone);
	return many(st, s, out, max);
}

int store_rt_by_code(struct store *st, const char *code,
		     struct store_rt_req *out)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT " RT_COLS " FROM rt_requests r WHERE r.code = ?"
		" ORDER BY r.state = 'menunggu' DESC, r.id DESC LIMIT 1");

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, code);
	return one(st, s, out);
}

int store_rt_close(struct store *st, int64_t id, const char *state,
		   const char *reason, const char *raw, const char *by,
		   int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE rt_requests SET state = ?2, reason = ?3,"
		" answer_raw = ?4, answered_by = ?5,"
		" answered_at = CASE WHEN ?5 IS NULL THEN NULL ELSE ?6 END,"
		" closed_at = ?6 WHERE id = ?1 AND state = 'menunggu'");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	store_bind_text(s, 2, state);
	store_bind_text(s, 3, reason && *reason ? reason : NULL);
	store_bind_text(s, 4, raw);
	store_bind_text(s, 5, by);
	sqlite3_bind_int64(s, 6, now_ms);
	if (store_exec_done(st, s))
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOTFOUND;
}

int store_rt_set_reminded(struct store *st, int64_t id, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE rt_requests SET reminded_at = ? WHERE id = ?");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int64(s, 2, id);
	return store_exec_done(st, s);
}

int store_rt_due(struct store *st, int64_t now_ms, struct store_rt_req *out,
		 int max)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT " RT_COLS " FROM rt_requests r"
			   " WHERE r.state = 'menunggu' AND (r.expire_at <= ?1"
			   " OR (r.reminded_at IS NULL AND r.remind_at <= ?1))"
			   " ORDER BY r.id");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	return many(st, s, out, max);
}

int64_t store_rt_next_due(struct store *st)
{
	return store_scalar64(
	    st,
	    "SELECT coalesce(min(CASE WHEN reminded_at IS NULL"
	    " THEN min(remind_at, expire_at) ELSE expire_at END),"
	    " 9223372036854775807) FROM rt_requests"
	    " WHERE state = 'menunggu'",
	    0, 0, NULL);
}

int store_rt_refused_since(struct store *st, const char *actor,
			   int64_t since_ms)
{
	return (int)store_scalar64(
	    st,
	    "SELECT count(*) FROM rt_log WHERE at >= ?1 AND actor = ?3"
	    " AND event IN ('wrong_code', 'foreign_answer')",
	    since_ms, 0, actor);
}

int store_rt_log(struct store *st, int64_t request_id, const char *event,
		 const char *actor, const char *detail, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO rt_log(request_id, at, event, actor, detail)"
		" VALUES(?, ?, ?, ?, ?)");

	if (!s)
		return STORE_ERR;
	if (request_id > 0)
		sqlite3_bind_int64(s, 1, request_id);
	else
		sqlite3_bind_null(s, 1);
	sqlite3_bind_int64(s, 2, now_ms);
	store_bind_text(s, 3, event);
	store_bind_text(s, 4, actor);
	store_bind_text(s, 5, detail);
	return store_exec_done(st, s);
}

static void set_time(json_t *j, const char *key, int64_t ms, int tz)
{
	char iso[40], k[40];

	snprintf(k, sizeof(k), "%s_ms", key);
	if (!ms) {
		json_object_set_new(j, key, json_null());
		json_object_set_new(j, k, json_null());
		return;
	}
	store_iso8601(ms, tz, iso, sizeof(iso));
	json_object_set_new(j, key, json_string(iso));
	json_object_set_new(j, k, json_integer(ms));
}

static json_t *req_json(const struct store_rt_req *r, const char *ticket,
			int tz)
{
	json_t *j = json_pack(
	    "{sI sI ss ss ss ss ss ss ss ss ss ss ss}", "id", (json_int_t)r->id,
	    "conversation", (json_int_t)r->conversation_id, "service",
	    r->service, "rt", r->rt, "rw", r->rw, "head_name", r->head_name,
	    "head_phone", r->head_phone, "code", r->code, "state", r->state,
	    "reason", r->reason, "answer_raw", r->answer_raw, "answered_by",
	    r->answered_by, "created_by", r->created_by);

	if (!j)
		return NULL;
	json_object_set_new(j, "ticket", json_string(ticket));
	set_time(j, "created_at", r->created_at, tz);
	set_time(j, "answered_at", r->answered_at, tz);
	set_time(j, "remind_at", r->remind_at, tz);
	set_time(j, "expire_at", r->expire_at, tz);
	set_time(j, "reminded_at", r->reminded_at, tz);
	set_time(j, "closed_at", r->closed_at, tz);
	return j;
}

json_t *store_rt_json(struct store *st, bool open_only, int64_t conversation_id,
		      int tz_offset_s)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT " RT_COLS ", coalesce(c.ticket, '')"
			   " FROM rt_requests r"
			   " JOIN conversations c ON c.id = r.conversation_id"
			   " WHERE (?1 = 0 OR r.state = 'menunggu')"
			   " AND (?2 = 0 OR r.conversation_id = ?2)"
			   " ORDER BY r.id DESC LIMIT 1000");
	json_t *arr = json_array();
	struct store_rt_req r;
	char ticket[32];
	int rc;

	if (!s || !arr) {
		json_decref(arr);
		return NULL;
	}
	sqlite3_bind_int(s, 1, open_only);
	sqlite3_bind_int64(s, 2, conversation_id);
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		read_req(s, &r);
		store_col_copy(s, 20, ticket, sizeof(ticket));
		json_array_append_new(arr, req_json(&r, ticket, tz_offset_s));
	}
	return store_rows_json_end(s, rc, arr);
}

json_t *store_rt_log_json(struct store *st, int64_t request_id, int tz_offset_s)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT at, event, coalesce(actor, ''),"
			   " coalesce(detail, '') FROM rt_log"
			   " WHERE request_id = ? ORDER BY at, id");
	json_t *arr = json_array();
	char iso[40];
	int rc;

	if (!s || !arr) {
		json_decref(arr);
		return NULL;
	}
	sqlite3_bind_int64(s, 1, request_id);
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		store_iso8601(sqlite3_column_int64(s, 0), tz_offset_s, iso,
			      sizeof(iso));
		json_array_append_new(
		    arr,
		    json_pack("{ss ss ss ss}", "at", iso, "event",
			      (const char *)sqlite3_column_text(s, 1), "actor",
			      (const char *)sqlite3_column_text(s, 2), "detail",
			      (const char *)sqlite3_column_text(s, 3)));
	}
	return store_rows_json_end(s, rc, arr);
}
