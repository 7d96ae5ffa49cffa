/* store_list: the conversation list of the staff inbox, its filters, its
 * search and its pages (see store_list.h for why each is bounded). */
#include "store_list.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phone.h"
#include "store_int.h"

/* A list query still running after this long is cut off: the poll loop
 * (SMS, webhooks, /healthz) waits on it. A safety net only; the queries
 * below are bounded well under it. */
#define LIST_BUDGET_MS 1000

/* Turns what staff typed into an FTS5 query that cannot be a syntax
 * error: every word quoted ("word", or "word"* with star, a prefix), all
 * ANDed. A word of one or two bytes stays whole: as a prefix it begins
 * so many words that FTS5 merges a large part of the index (at a million
 * messages "s"* ~230 ms, "sa"* ~50 ms), and finds little of use. */
#define FTS_MIN_PREFIX 3

static char *fts_query(const char *q, bool star)
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
		const char *w = p;
		for (; *p && *p != ' ' && *p != '\t'; p++) {
			if (*p == '"')
				*o++ = '"';
			*o++ = *p;
		}
		*o++ = '"';
		if (star && p - w >= FTS_MIN_PREFIX)
			*o++ = '*';
	}
	*o = '\0';
	return out;
}

/* The whole text as one FTS5 phrase: for the trigram index of contacts
 * a phrase is a substring. */
static char *fts_phrase(const char *q)
{
	char *out = malloc(strlen(q) * 2 + 3), *o = out;

	if (!out)
		return NULL;
	*o++ = '"';
	for (const char *p = q; *p; p++) {
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	*o++ = '"';
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

/* The list order; the keyset cursor and every index below follow it. */
#define LIST_ORDER " ORDER BY c.updated_at DESC, c.id DESC"

struct sqlbuf {
	char with[1024];  /* search: WITH hit(id) AS (candidate ids) */
	const char *from; /* the listed conversations, c */
	char sql[2048];	  /* WHERE ... */
	size_t len;
	const char *text[16]; /* the '?' in order: with's, then sql's */
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
	"c.contact_id IN (SELECT id FROM contacts INDEXED BY contacts_kind"    \
	" WHERE " STORE_NOT_PEOPLE ")"

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

/* A number: the people whose number begins with it, by the unique
 * indexes on phone and wa_id (digits sort before ':'), and senders that
 * are not numbers ("3636") by any part of their raw form (trigram). A
 * format: %d is STORE_SEARCH_CONTACTS. */
#define HIT_NUMBER                                                             \
	"WITH hm(id) AS (SELECT 0 WHERE 0),"                                   \
	" hit(id) AS MATERIALIZED (SELECT id FROM conversations"               \
	" WHERE contact_id IN (SELECT id FROM contacts"                        \
	" WHERE phone BETWEEN '+' || ? AND '+' || ? || ':'"                    \
	" UNION SELECT id FROM contacts WHERE wa_id BETWEEN ? AND ? || ':'"    \
	" UNION SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?"     \
	" LIMIT %d))"

/* Words: hm, the newest matching messages (FTS5 walks its rowids
 * backwards and stops); hit, their conversations and those of the people
 * whose name or raw sender contains the text. A format: the limit of hm,
 * the people's query and its limit. */
#define HIT_WORDS                                                              \
	"WITH hm(id) AS MATERIALIZED (SELECT rowid FROM messages_fts"          \
	" WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT %d),"           \
	" hit(id) AS MATERIALIZED (SELECT conversation_id FROM messages"       \
	" WHERE id IN (SELECT id FROM hm) UNION SELECT id FROM conversations"  \
	" WHERE contact_id IN (%s LIMIT %d))"

/* People by the trigram index; fewer than three characters make no
 * trigram, so those read every contact (a small table). */
#define PEOPLE_TRIGRAM                                                         \
	"SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?"
#define PEOPLE_SHORT                                                           \
	"SELECT id FROM contacts WHERE coalesce(name, '') LIKE"                \
	" '%' || ? || '%' OR raw LIKE '%' || ? || '%'"

struct search {
	char digits[72];
	char *fts;    /* the FTS5 query for messages_fts */
	char *people; /* the phrase for contacts_fts */
};

static void add_search(struct sqlbuf *b, const struct store_conv_filter *f,
		       const struct search *q)
{
	if (*q->digits) {
		snprintf(b->with, sizeof(b->with), HIT_NUMBER,
			 STORE_SEARCH_CONTACTS);
		for (int i = 0; i < 4; i++)
			b->text[b->ntext++] = q->digits;
		b->text[b->ntext++] = q->people;
	} else if (q->fts) {
		bool tri = strlen(f->q) >= 3;
		snprintf(b->with, sizeof(b->with), HIT_WORDS, STORE_SEARCH_MSGS,
			 tri ? PEOPLE_TRIGRAM : PEOPLE_SHORT,
			 STORE_SEARCH_CONTACTS);
		b->text[b->ntext++] = q->fts;
		b->text[b->ntext++] = tri ? q->people : f->q;
		if (!tri)
			b->text[b->ntext++] = f->q;
	} else {
		return;
	}
	/* from the few candidates, never by walking every conversation of
	 * a status and testing it (CROSS JOIN fixes the loop order) */
	b->from = "hit CROSS JOIN conversations c ON c.id = hit.id";
}

static void add_category(struct sqlbuf *b, const char *category)
{
	/* a slug ("layanan/ktp") by the category index; a last part
	 * ("ktp") also matches any group's */
	if (strchr(category, '/')) {
		sql_add(b, "c.category = ?", category);
		return;
	}
	sql_add(b, "(c.category = ? OR c.category LIKE '%/' || ?)", category);
	b->text[b->ntext++] = category;
}

static void build_where(struct sqlbuf *b, const struct store_conv_filter *f,
			const struct search *q)
{
	b->len = (size_t)snprintf(b->sql, sizeof(b->sql), " WHERE 1");
	b->from = "conversations c";
	add_search(b, f, q);
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
	if (f->category && *f->category)
		add_category(b, f->category);
	if (f->assignee && strcmp(f->assignee, "none") == 0)
		sql_add(b, "coalesce(c.assignee, '') = ''", NULL);
	else if (f->assignee && *f->assignee)
		sql_add(b, "c.assignee = ?", f->assignee);
	/* the terms of the conversations_due index's WHERE, as written
	 * there, so the planner may use it */
	if (f->overdue)
		sql_add(b,
			"c.due_at IS NOT NULL AND c.status != 'selesai'"
			" AND c.due_at < :now",
			NULL);
}

/* Binds the texts in order of their '?', and the named values. */
static void bind_where(sqlite3_stmt *s, const struct sqlbuf *b,
		       const struct store_conv_filter *f)
{
	int t = 0, n = sqlite3_bind_parameter_count(s);

	for (int i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		if (name && strcmp(name, ":now") == 0)
			sqlite3_bind_int64(s, i, f->now_ms);
		else if (name && strcmp(name, ":bat") == 0)
			sqlite3_bind_int64(s, i, f->before_at);
		else if (name && strcmp(name, ":bid") == 0)
			sqlite3_bind_int64(s, i, f->before_id);
		else if (t < b->ntext)
			store_bind_text(s, i, b->text[t++]);
	}
}

/* The count stops after the cap; in no particular order, so the planner
 * may read an index that holds every column the filter needs instead of
 * walking the list order through the table. The second column is how
 * many messages search looked at. */
static void count_sql(const struct sqlbuf *b, char *sql, size_t len)
{
	snprintf(sql, len,
		 "%s SELECT count(*), %s FROM (SELECT 1 FROM %s%s LIMIT %d)",
		 b->with, *b->with ? "(SELECT count(*) FROM hm)" : "0", b->from,
		 b->sql, STORE_LIST_COUNT_CAP + 1);
}

/* One more row than the page, to know whether there is a next one. The
 * page's ids first, and only then their columns: SQLite computes a row's
 * columns (the subqueries for channels and the last message) before it
 * sorts, so a search's few hundred candidates would each pay for them.
 * The last message by the (conversation_id, at) index. */
static void page_sql(const struct sqlbuf *b, const struct store_conv_filter *f,
		     char *sql, size_t len)
{
	snprintf(sql, len,
		 "%s SELECT " LIST_COLS
		 " FROM (SELECT c.id AS pid FROM %s%s%s" LIST_ORDER
		 " LIMIT %d OFFSET %d) p"
		 " CROSS JOIN conversations c ON c.id = p.pid"
		 " JOIN contacts k ON k.id = c.contact_id"
		 " LEFT JOIN messages lm ON lm.id = (SELECT id FROM messages"
		 "  WHERE conversation_id = c.id"
		 "  ORDER BY direction = 'in' DESC, at DESC, id DESC"
		 "  LIMIT 1)" LIST_ORDER,
		 b->with, b->from, b->sql,
		 f->before_id > 0 ? " AND (c.updated_at, c.id) < (:bat, :bid)"
				  : "",
		 f->limit + 1, f->offset);
}

/* How many messages match fts, counting up to STORE_SEARCH_MSGS. */
static int64_t fts_hits(struct store *st, const char *fts)
{
	static const char sql[] =
	    "SELECT count(*) FROM (SELECT rowid FROM messages_fts"
	    " WHERE messages_fts MATCH ?3 LIMIT ?1)";

	return store_scalar64(st, sql, STORE_SEARCH_MSGS, 0, fts);
}

/* What to look for. Whole words first: FTS5 reads a word's rowids
 * lazily, so the newest STORE_SEARCH_MSGS cost well under a millisecond.
 * A prefix ("kucing" for "Kucingku") makes FTS5 merge the rowids of every
 * word it begins, which for a common one ("ktp"*) costs tens of ms: only
 * when whole words do not already fill the search. */
static int search_init(struct store *st, const struct store_conv_filter *f,
		       struct search *q)
{
	memset(q, 0, sizeof(*q));
	if (!f->q || !*f->q)
		return 0;
	number_digits(f->q, q->digits, sizeof(q->digits));
	q->people = fts_phrase(f->q);
	if (!q->people)
		return -1;
	if (*q->digits)
		return 0;
	q->fts = fts_query(f->q, false);
	if (!q->fts)
		return -1;
	if (!*q->fts) { /* only blanks */
		free(q->fts);
		q->fts = NULL;
		return 0;
	}
	if (fts_hits(st, q->fts) >= STORE_SEARCH_MSGS)
		return 0;
	free(q->fts);
	q->fts = fts_query(f->q, true);
	return q->fts ? 0 : -1;
}

static void search_free(struct search *q)
{
	free(q->fts);
	free(q->people);
}

/* ---- the time budget ---------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* sqlite3_progress_handler: non-zero interrupts the statement. */
static int past_deadline(void *ud)
{
	return mono_ms() > *(const int64_t *)ud;
}

static void budget_on(struct store *st, int64_t *deadline)
{
	*deadline = mono_ms() + LIST_BUDGET_MS;
	sqlite3_progress_handler(store_db(st), 4000, past_deadline, deadline);
}

static void budget_off(struct store *st)
{
	sqlite3_progress_handler(store_db(st), 0, NULL, NULL);
}

/* ---- the answer --------------------------------------------------------- */

static json_t *list_contact(sqlite3_stmt *s)
{
	return json_pack("{sI so so so so so so}", "id",
			 (json_int_t)sqlite3_column_int64(s, 10), "name",
			 store_col_json(s, 11), "phone", store_col_json(s, 12),
			 "wa_id", store_col_json(s, 13), "raw",
			 store_col_json(s, 14), "rt", store_col_json(s, 15),
			 "kind", store_col_json(s, 23));
}

static json_t *list_last(sqlite3_stmt *s, int tz)
{
	if (sqlite3_column_type(s, 21) == SQLITE_NULL)
		return json_null();
	return json_pack("{so so so so so so}", "body", store_col_json(s, 17),
			 "direction", store_col_json(s, 18), "channel",
			 store_col_json(s, 19), "at", store_col_iso(s, 20, tz),
			 "kind", store_col_json(s, 21), "status",
			 store_col_json(s, 22));
}

static json_t *list_row(sqlite3_stmt *s, int64_t now_ms, int tz)
{
	bool has_due = sqlite3_column_type(s, 5) != SQLITE_NULL;
	int64_t due = sqlite3_column_int64(s, 5);
	const char *status = (const char *)sqlite3_column_text(s, 1);
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
	json_object_set_new(o, "status", store_col_json(s, 1));
	json_object_set_new(o, "category", store_col_json(s, 2));
	json_object_set_new(o, "assignee", store_col_json(s, 3));
	json_object_set_new(o, "ticket", store_col_json(s, 4));
	json_object_set_new(o, "due_at", store_col_iso(s, 5, tz));
	json_object_set_new(o, "due_at_ms", store_col_json(s, 5));
	json_object_set_new(o, "overdue",
			    json_boolean(has_due && due < now_ms && status &&
					 strcmp(status, "selesai") != 0));
	json_object_set_new(o, "unread",
			    json_integer(sqlite3_column_int(s, 6)));
	json_object_set_new(o, "last_channel", store_col_json(s, 7));
	json_object_set_new(o, "updated_at", store_col_iso(s, 8, tz));
	json_object_set_new(o, "last_in_at", store_col_iso(s, 9, tz));
	json_object_set_new(o, "contact", list_contact(s));
	json_object_set_new(
	    o, "channels",
	    store_channels_json((const char *)sqlite3_column_text(s, 16)));
	json_object_set_new(o, "last", list_last(s, tz));
	return o;
}

/* The count, capped, and how many messages search looked at; -1 on
 * error. */
static int64_t count_where(struct store *st, const struct sqlbuf *b,
			   const struct store_conv_filter *f, int64_t *msgs)
{
	char sql[3400];
	int64_t n = -1;

	count_sql(b, sql, sizeof(sql));
	sqlite3_stmt *s = store_prepare(st, sql);
	if (!s)
		return -1;
	bind_where(s, b, f);
	if (store_step(st, s) == SQLITE_ROW) {
		n = sqlite3_column_int64(s, 0);
		*msgs = sqlite3_column_int64(s, 1);
	}
	sqlite3_finalize(s);
	return n;
}

/* The page's rows into items; sets *next to the cursor of the row after
 * the page, if there is one. SQLITE_DONE or an error code. */
static int page_rows(struct store *st, sqlite3_stmt *s,
		     const struct store_conv_filter *f, int tz, json_t *items,
		     json_t **next)
{
	int r, n = 0;
	int64_t at = 0, id = 0;

	while ((r = store_step(st, s)) == SQLITE_ROW) {
		if (n++ == f->limit) {
			char cur[48];
			snprintf(cur, sizeof(cur), "%" PRId64 ".%" PRId64, at,
				 id);
			*next = json_string(cur);
			return SQLITE_DONE;
		}
		at = sqlite3_column_int64(s, 8);
		id = sqlite3_column_int64(s, 0);
		json_array_append_new(items, list_row(s, f->now_ms, tz));
	}
	return r;
}

json_t *store_conversations_json(struct store *st,
				 const struct store_conv_filter *f, int tz)
{
	struct sqlbuf b = {0};
	struct search q;
	char sql[4400];
	int64_t deadline, msgs = 0, total = -1;
	json_t *items = json_array(), *next = json_null(), *out = NULL;
	sqlite3_stmt *s = NULL;

	/* The rows not yet indexed (schema 19 indexes in batches), before
	 * the time budget. If that fails, search answers from the index as
	 * it is: the clerk still sees every older hit. */
	if (f->q && *f->q)
		store_fts_flush(st);
	budget_on(st, &deadline);
	if (search_init(st, f, &q) == 0) {
		build_where(&b, f, &q);
		total = count_where(st, &b, f, &msgs);
	}
	/* beyond the cap, or search stopped before older messages */
	bool more = total > STORE_LIST_COUNT_CAP || msgs >= STORE_SEARCH_MSGS;
	if (total < 0)
		goto done;
	page_sql(&b, f, sql, sizeof(sql));
	s = store_prepare(st, sql);
	if (!s)
		goto done;
	bind_where(s, &b, f);
	if (page_rows(st, s, f, tz, items, &next) != SQLITE_DONE)
		goto done;
	if (total > STORE_LIST_COUNT_CAP)
		total = STORE_LIST_COUNT_CAP;
	out = json_pack("{sO sI sb si si sO}", "items", items, "total",
			(json_int_t)total, "more", more, "limit", f->limit,
			"offset", f->offset, "next", next);
done:
	budget_off(st);
	sqlite3_finalize(s);
	json_decref(items);
	json_decref(next);
	search_free(&q);
	return out;
}

bool store_conv_cursor(const char *s, struct store_conv_filter *f)
{
	char *end;
	long long at = strtoll(s, &end, 10);

	if (end == s || *end != '.')
		return false;
	const char *p = end + 1;
	long long id = strtoll(p, &end, 10);
	if (end == p || *end || id <= 0)
		return false;
	f->before_at = at;
	f->before_id = id;
	return true;
}

/* ---- query plans, for the test ------------------------------------------ */

static bool plan_of(struct store *st, const char *sql, FILE *out)
{
	char eqp[4600];

	snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *s = store_prepare(st, eqp);
	if (!s)
		return false;
	while (sqlite3_step(s) == SQLITE_ROW)
		fprintf(out, "%s\n", (const char *)sqlite3_column_text(s, 3));
	sqlite3_finalize(s);
	return true;
}

char *store_conv_plans(struct store *st, const struct store_conv_filter *f)
{
	struct sqlbuf b = {0};
	struct search q = {0};
	char sql[4400], *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	bool ok = out && search_init(st, f, &q) == 0;

	if (ok) {
		build_where(&b, f, &q);
		count_sql(&b, sql, sizeof(sql));
		ok = plan_of(st, sql, out);
		page_sql(&b, f, sql, sizeof(sql));
		ok = ok && plan_of(st, sql, out);
	}
	search_free(&q);
	if (out)
		fclose(out);
	if (!ok) {
		free(buf);
		return NULL;
	}
	return buf;
}
