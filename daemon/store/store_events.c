/* The office event log in SQLite (tables from migration 7 -> 8). */
#include "store_events.h"

#include <stdio.h>
#include <string.h>

#include "store_int.h"

static const char *const kind_names[STORE_EV_KIND_COUNT] = {
    "msg_in",	 "msg_out",    "ticket_open", "ticket_close", "rt_request",
    "rt_answer", "sla_breach", "modem",	      "credit"};

const char *store_events_kind_name(enum store_event_kind kind)
{
	return (unsigned)kind < STORE_EV_KIND_COUNT ? kind_names[kind] : "?";
}

int store_events_kind_parse(const char *name)
{
	for (int i = 0; i < STORE_EV_KIND_COUNT; i++)
		if (strcmp(name, kind_names[i]) == 0)
			return i;
	return -1;
}

/* The evlog columns are NOT NULL: "" stays "" (store_bind_text would bind
 * NULL for it). */
static void bind_str(sqlite3_stmt *s, int i, const char *v)
{
	sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

int store_events_append(struct store *st, struct store_event *ev,
			bool allow_personal)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO evlog(at, kind, channel, category, ticket,"
		" due_at, value, detail) VALUES (?,?,?,?,?,?,?,?)");

	if (!s)
		return STORE_ERR;
	if (!allow_personal)
		ev->detail[0] = '\0';
	sqlite3_bind_int64(s, 1, ev->at_ms);
	bind_str(s, 2, store_events_kind_name(ev->kind));
	bind_str(s, 3, ev->channel);
	bind_str(s, 4, ev->category);
	bind_str(s, 5, ev->ticket);
	sqlite3_bind_int64(s, 6, ev->due_ms);
	sqlite3_bind_int64(s, 7, ev->value);
	bind_str(s, 8, ev->detail);
	if (store_exec_done(st, s) != STORE_OK)
		return STORE_ERR;
	ev->seq = sqlite3_last_insert_rowid(store_db(st));
	return STORE_OK;
}

static void row_to_event(sqlite3_stmt *s, struct store_event *ev)
{
	const unsigned char *kind = sqlite3_column_text(s, 2);
	int k = kind ? store_events_kind_parse((const char *)kind) : -1;

	memset(ev, 0, sizeof *ev);
	ev->seq = sqlite3_column_int64(s, 0);
	ev->at_ms = sqlite3_column_int64(s, 1);
	ev->kind = k < 0 ? STORE_EV_MODEM : (enum store_event_kind)k;
	store_col_copy(s, 3, ev->channel, sizeof ev->channel);
	store_col_copy(s, 4, ev->category, sizeof ev->category);
	store_col_copy(s, 5, ev->ticket, sizeof ev->ticket);
	ev->due_ms = sqlite3_column_int64(s, 6);
	ev->value = sqlite3_column_int64(s, 7);
	store_col_copy(s, 8, ev->detail, sizeof ev->detail);
}

int store_events_read(struct store *st, int64_t after, struct store_event *out,
		      int max)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT seq, at, kind, channel, category, ticket, due_at,"
		" value, detail FROM evlog WHERE seq > ? ORDER BY seq LIMIT ?");
	int n = 0, rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int(s, 2, max);
	while (n < max && (rc = store_step(st, s)) == SQLITE_ROW)
		row_to_event(s, &out[n++]);
	if (n < max && rc != SQLITE_DONE)
		n = -1;
	sqlite3_reset(s);
	return n;
}

int64_t store_events_acked(struct store *st)
{
	return store_scalar64(st, "SELECT seq FROM evlog_acked", 0, 0, NULL);
}

int64_t store_events_last(struct store *st)
{
	return store_scalar64(st,
			      "SELECT coalesce((SELECT seq FROM sqlite_sequence"
			      " WHERE name = 'evlog'), 0)",
			      0, 0, NULL);
}

int store_events_set_acked(struct store *st, int64_t seq)
{
	/* Only forward: a late PUBACK must not move the watermark back. */
	sqlite3_stmt *s =
	    store_stmt(st, "UPDATE evlog_acked SET seq = ?1 WHERE seq < ?1");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, seq);
	return store_exec_done(st, s);
}

int store_events_prune(struct store *st, int64_t before_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "DELETE FROM evlog WHERE at < ? AND seq <= (SELECT seq FROM"
		" evlog_acked)");

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, before_ms);
	if (store_exec_done(st, s) != STORE_OK)
		return -1;
	return sqlite3_changes(store_db(st));
}

/* --- capture: the other tables into events ------------------------------ */

static int64_t cursor_get(struct store *st, const char *name)
{
	return store_scalar64(
	    st, "SELECT value FROM evlog_cursor WHERE name = ?3", 0, 0, name);
}

static int cursor_set(struct store *st, const char *name, int64_t v)
{
	sqlite3_stmt *s = store_stmt(
	    st, "UPDATE evlog_cursor SET value = ?1 WHERE name = ?2");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, v);
	store_bind_text(s, 2, name);
	return store_exec_done(st, s);
}

/* New message rows: msg_in / msg_out with channel and the conversation's
 * category; the peer only with allow_personal. */
static int capture_messages(struct store *st, bool personal, int max)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT m.id, m.at, m.direction, m.channel,"
		" coalesce(c.category, ''), coalesce(c.ticket, ''), m.peer"
		" FROM messages m JOIN conversations c"
		" ON c.id = m.conversation_id WHERE m.id > ?1 ORDER BY m.id"
		" LIMIT ?2");
	int64_t last = cursor_get(st, "messages");
	int n = 0, rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, last);
	sqlite3_bind_int(s, 2, max);
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		struct store_event ev = {.at_ms = sqlite3_column_int64(s, 1)};
		const unsigned char *dir = sqlite3_column_text(s, 2);

		last = sqlite3_column_int64(s, 0);
		ev.kind = dir && strcmp((const char *)dir, "in") == 0
			      ? STORE_EV_MSG_IN
			      : STORE_EV_MSG_OUT;
		store_col_copy(s, 3, ev.channel, sizeof ev.channel);
		store_col_copy(s, 4, ev.category, sizeof ev.category);
		store_col_copy(s, 5, ev.ticket, sizeof ev.ticket);
		store_col_copy(s, 6, ev.detail, sizeof ev.detail);
		if (store_events_append(st, &ev, personal) != STORE_OK)
			break;
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return -1;
	return cursor_set(st, "messages", last) == STORE_OK ? n : -1;
}

/* Tickets: opened (first seen), closed (closed_at set), and an SLA
 * breach once when an open ticket passes its due date. evlog_tickets
 * remembers what was already told. */
static int capture_tickets(struct store *st, int64_t now_ms, int max)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT c.id, c.ticket, coalesce(c.due_at, 0),"
		" coalesce(c.category, ''), coalesce(c.closed_at, 0),"
		" t.conversation_id IS NULL, c.opened_at"
		" FROM conversations c LEFT JOIN evlog_tickets t"
		" ON t.conversation_id = c.id WHERE c.ticket IS NOT NULL AND"
		" (t.conversation_id IS NULL OR (c.closed_at IS NOT NULL AND"
		" t.closed = 0) OR (c.closed_at IS NULL AND t.breached = 0 AND"
		" c.due_at < ?1)) ORDER BY c.id LIMIT ?2");
	sqlite3_stmt *mark = store_stmt(
	    st, "INSERT INTO evlog_tickets(conversation_id, closed, breached)"
		" VALUES (?1, ?2, ?3) ON CONFLICT(conversation_id) DO UPDATE"
		" SET closed = max(closed, ?2), breached = max(breached, ?3)");
	int n = 0, rc;

	if (!s || !mark)
		return -1;
	sqlite3_bind_int64(s, 1, now_ms);
	sqlite3_bind_int(s, 2, max);
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		struct store_event ev = {.due_ms = sqlite3_column_int64(s, 2)};
		int64_t closed = sqlite3_column_int64(s, 4);
		bool fresh = sqlite3_column_int(s, 5);
		bool breach = !closed && ev.due_ms && ev.due_ms < now_ms;

		store_col_copy(s, 1, ev.ticket, sizeof ev.ticket);
		store_col_copy(s, 3, ev.category, sizeof ev.category);
		if (fresh) {
			ev.kind = STORE_EV_TICKET_OPEN;
			ev.at_ms = sqlite3_column_int64(s, 6);
			if (store_events_append(st, &ev, false) != STORE_OK)
				break;
			n++;
		}
		ev.kind = closed ? STORE_EV_TICKET_CLOSE : STORE_EV_SLA_BREACH;
		ev.at_ms = closed ? closed : now_ms;
		if ((closed || breach) &&
		    store_events_append(st, &ev, false) != STORE_OK)
			break;
		n += closed || breach;
		sqlite3_bind_int64(mark, 1, sqlite3_column_int64(s, 0));
		sqlite3_bind_int(mark, 2, closed != 0);
		sqlite3_bind_int(mark, 3, breach);
		if (store_exec_done(st, mark) != STORE_OK)
			break;
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? n : -1;
}

/* RT confirmations: each new request, and each answer with how long the
 * head took (value, seconds). */
static int capture_rt(struct store *st, int max)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT id, created_at, 0, service, 0 FROM rt_requests"
		" WHERE id > ?1 UNION ALL SELECT id, answered_at, 1, service,"
		" (answered_at - created_at) / 1000 FROM rt_requests"
		" WHERE answered_at > ?2 ORDER BY 2, 1 LIMIT ?3");
	int64_t req = cursor_get(st, "rt_requests");
	int64_t ans = cursor_get(st, "rt_answered_at");
	int n = 0, rc;

	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, req);
	sqlite3_bind_int64(s, 2, ans);
	sqlite3_bind_int(s, 3, max);
	while ((rc = store_step(st, s)) == SQLITE_ROW) {
		struct store_event ev = {.at_ms = sqlite3_column_int64(s, 1)};
		bool answer = sqlite3_column_int(s, 2);

		ev.kind = answer ? STORE_EV_RT_ANSWER : STORE_EV_RT_REQUEST;
		ev.value = sqlite3_column_int64(s, 4);
		store_col_copy(s, 3, ev.category, sizeof ev.category);
		if (answer && ev.at_ms > ans)
			ans = ev.at_ms;
		if (!answer && sqlite3_column_int64(s, 0) > req)
			req = sqlite3_column_int64(s, 0);
		if (store_events_append(st, &ev, false) != STORE_OK)
			break;
		n++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return -1;
	return cursor_set(st, "rt_requests", req) == STORE_OK &&
		       cursor_set(st, "rt_answered_at", ans) == STORE_OK
		   ? n
		   : -1;
}

int store_events_capture(struct store *st, int64_t now_ms, bool allow_personal,
			 int max)
{
	int a, b, c;

	if (store_begin(st) != STORE_OK)
		return -1;
	a = capture_messages(st, allow_personal, max);
	b = a < 0 ? -1 : capture_tickets(st, now_ms, max);
	c = b < 0 ? -1 : capture_rt(st, max);
	if (c < 0 || store_commit(st) != STORE_OK) {
		store_rollback(st);
		return -1;
	}
	return a + b + c;
}
