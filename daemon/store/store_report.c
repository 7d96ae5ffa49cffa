#include "store_report.h"

#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define DAY_MS 86400000LL

/* Authors that are not a person: the rules, the RT workflow. */
#define NOT_STAFF "('auto', 'system', 'sistem', 'survey')"

static int64_t median(const int64_t *v, int n)
{
	if (n <= 0)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* [{"date":"2026-11-01","sms_in","sms_out","wa_in","wa_out"}] for every
 * day of the month, zeros included (a chart needs the gaps). */
static json_t *per_day(struct store *st, int64_t from, int64_t to, int tz)
{
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT (at + ?3) / 86400000 - (?1 + ?3) / 86400000,"
			   " channel, direction, count(*) FROM messages"
			   " WHERE at >= ?1 AND at < ?2 AND kind != 'notice'"
			   " GROUP BY 1, 2, 3");
	int ndays = (int)((to - from + DAY_MS / 2) / DAY_MS);
	json_t *arr = json_array();
	int r;

	if (!s)
		return NULL;
	for (int d = 0; d < ndays; d++) {
		char iso[40];
		store_iso8601(from + d * DAY_MS, tz, iso, sizeof(iso));
		iso[10] = '\0';
		json_array_append_new(
		    arr, json_pack("{ss si si si si}", "date", iso, "sms_in", 0,
				   "sms_out", 0, "wa_in", 0, "wa_out", 0));
	}
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	sqlite3_bind_int64(s, 3, (int64_t)tz * 1000);
	while ((r = store_step(st, s)) == SQLITE_ROW) {
		json_t *day = json_array_get(arr, sqlite3_column_int(s, 0));
		const char *ch = (const char *)sqlite3_column_text(s, 1);
		const char *dir = (const char *)sqlite3_column_text(s, 2);
		char key[16];
		if (!day || !ch || !dir)
			continue;
		snprintf(key, sizeof(key), "%s_%s",
			 strcmp(ch, "whatsapp") == 0 ? "wa" : "sms", dir);
		json_object_set_new(day, key,
				    json_integer(sqlite3_column_int(s, 3)));
	}
	return store_rows_json_end(s, r, arr);
}

static json_t *by_category(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT coalesce(category, ''), count(*) FROM conversations"
		" WHERE opened_at >= ?1 AND opened_at < ?2"
		" GROUP BY 1 ORDER BY 2 DESC, 1");
	json_t *arr = json_array();
	int r;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	while ((r = store_step(st, s)) == SQLITE_ROW)
		json_array_append_new(
		    arr, json_pack("{ss si}", "category",
				   (const char *)sqlite3_column_text(s, 0),
				   "count", sqlite3_column_int(s, 1)));
	return store_rows_json_end(s, r, arr);
}

static json_t *tickets(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *s = store_stmt(
	    st,
	    "SELECT"
	    " (SELECT count(*) FROM conversations WHERE ticket IS NOT NULL"
	    "  AND opened_at >= ?1 AND opened_at < ?2),"
	    " count(*), coalesce(sum(closed_at <= due_at), 0)"
	    " FROM conversations WHERE ticket IS NOT NULL"
	    " AND status = 'selesai' AND closed_at >= ?1 AND closed_at < ?2");
	json_t *o = NULL;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	if (store_step(st, s) == SQLITE_ROW) {
		int closed = sqlite3_column_int(s, 1);
		int in_time = sqlite3_column_int(s, 2);
		o = json_pack("{si si si si}", "opened",
			      sqlite3_column_int(s, 0), "closed", closed,
			      "closed_in_time", in_time, "percent_in_time",
			      closed ? (in_time * 100 + closed / 2) / closed
				     : 0);
	}
	sqlite3_reset(s);
	return o;
}

/* Per staff member: the time from a conversation's first message from
 * the resident to the first reply of a person, for conversations opened
 * in the month. Rows come sorted by author, then by time. */
static json_t *first_response(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT o.author, o.at - i.at FROM conversations c"
		" JOIN messages i ON i.id = (SELECT id FROM messages"
		"  WHERE conversation_id = c.id AND direction = 'in'"
		"  ORDER BY at, id LIMIT 1)"
		" JOIN messages o ON o.id = (SELECT id FROM messages"
		"  WHERE conversation_id = c.id AND direction = 'out'"
		"  AND author IS NOT NULL AND author NOT IN " NOT_STAFF
		"  AND at >= i.at ORDER BY at, id LIMIT 1)"
		" WHERE c.opened_at >= ?1 AND c.opened_at < ?2"
		" ORDER BY 1, 2");
	json_t *arr = json_array();
	int64_t *v = NULL;
	int n = 0, cap = 0, r;
	char who[64] = "";

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	for (;;) {
		r = store_step(st, s);
		const char *a = r == SQLITE_ROW
				    ? (const char *)sqlite3_column_text(s, 0)
				    : NULL;
		if (n && (!a || strcmp(a, who) != 0)) {
			json_array_append_new(
			    arr, json_pack("{ss si sI}", "user", who, "count",
					   n, "median_minutes",
					   (json_int_t)((median(v, n) + 30000) /
							60000)));
			n = 0;
		}
		if (!a)
			break;
		snprintf(who, sizeof(who), "%s", a);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			int64_t *nv = realloc(v, (size_t)cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		v[n++] = sqlite3_column_int64(s, 1);
	}
	free(v);
	return store_rows_json_end(s, r == SQLITE_ROW ? SQLITE_NOMEM : r, arr);
}

static json_t *rt_requests(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT state, answered_at - created_at FROM rt_requests"
		" WHERE created_at >= ?1 AND created_at < ?2"
		" ORDER BY answered_at IS NULL, 2");
	int64_t *v = NULL;
	int asked = 0, yes = 0, no = 0, expired = 0, n = 0, r;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	while ((r = store_step(st, s)) == SQLITE_ROW) {
		const char *state = (const char *)sqlite3_column_text(s, 0);
		asked++;
		yes += strcmp(state, "disetujui") == 0;
		no += strcmp(state, "ditolak") == 0;
		expired += strcmp(state, "kedaluwarsa") == 0;
		if (sqlite3_column_type(s, 1) == SQLITE_NULL)
			continue;
		int64_t *nv = realloc(v, (size_t)(n + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n++] = sqlite3_column_int64(s, 1);
	}
	json_t *o = json_pack("{si si si si si sI}", "asked", asked, "answered",
			      yes + no, "approved", yes, "rejected", no,
			      "expired", expired, "median_minutes",
			      (json_int_t)((median(v, n) + 30000) / 60000));
	free(v);
	sqlite3_reset(s);
	if (r != SQLITE_DONE) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Asked in the month, answered, the average in tenths and the count of
 * each score. */
static json_t *satisfaction(struct store *st, int64_t from, int64_t to)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT coalesce(satisfaction, 0), count(*) FROM conversations"
		" WHERE survey_at >= ?1 AND survey_at < ?2 GROUP BY 1");
	int n[6] = {0}, asked = 0, answered = 0, sum = 0, r;

	if (!s)
		return NULL;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	while ((r = store_step(st, s)) == SQLITE_ROW) {
		int score = sqlite3_column_int(s, 0),
		    k = sqlite3_column_int(s, 1);
		asked += k;
		if (score < 1 || score > 5)
			continue;
		n[score] += k;
		answered += k;
		sum += score * k;
	}
	sqlite3_reset(s);
	if (r != SQLITE_DONE)
		return NULL;
	return json_pack("{si si si si si si si si}", "asked", asked,
			 "answered", answered, "average_tenths",
			 answered ? (sum * 10 + answered / 2) / answered : 0,
			 "s1", n[1], "s2", n[2], "s3", n[3], "s4", n[4], "s5",
			 n[5]);
}

json_t *store_report_json(struct store *st, int64_t from_ms, int64_t to_ms,
			  int tz_offset_s)
{
	json_t *parts[6] = {
	    per_day(st, from_ms, to_ms, tz_offset_s),
	    by_category(st, from_ms, to_ms),
	    tickets(st, from_ms, to_ms),
	    first_response(st, from_ms, to_ms),
	    rt_requests(st, from_ms, to_ms),
	    satisfaction(st, from_ms, to_ms),
	};
	for (int i = 0; i < 6; i++)
		if (!parts[i]) {
			for (int j = 0; j < 6; j++)
				json_decref(parts[j]);
			return NULL;
		}
	return json_pack("{so so so so so so}", "days", parts[0], "categories",
			 parts[1], "tickets", parts[2], "first_response",
			 parts[3], "rt", parts[4], "satisfaction", parts[5]);
}
