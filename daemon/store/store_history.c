/* store_history: what the auto-reply rules know of a conversation
 * before they answer its next message (store.h, struct store_history),
 * and the state they leave for the next one. */
#include <string.h>

#include "store.h"
#include "store_int.h"

static int conv_state_get(struct store *st, int64_t conv,
			  struct store_history *h)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT last_choices, closer_sent"
					 " FROM conv_state"
					 " WHERE conversation_id = ?");
	int rc;

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, conv);
	rc = store_step(st, s);
	if (rc == SQLITE_ROW) {
		store_col_copy(s, 0, h->last_choices, sizeof(h->last_choices));
		h->closer_sent = sqlite3_column_int(s, 1) != 0;
	}
	sqlite3_reset(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK : STORE_ERR;
}

/* The outbound rows since q->since_ms, from the partial index
 * messages_conv_out alone (schema 16): replies are few, and the index
 * holds every column asked, so no message row is read. A failed step
 * leaves the zeros. */
static void history_out(struct store *st, int64_t conv,
			const struct store_history_q *q,
			struct store_history *h)
{
	sqlite3_stmt *s = store_stmt(
	    st,
	    "SELECT count(CASE WHEN author = 'auto' AND at > ?3 THEN 1 END),"
	    " coalesce(max(CASE WHEN author = 'auto' THEN at END), 0),"
	    " coalesce(max(CASE WHEN author = 'auto' AND kind = 'closed'"
	    " THEN at END), 0),"
	    " coalesce(max(CASE WHEN author IS NOT NULL AND author != 'auto'"
	    " AND author != 'system' THEN at END), 0)"
	    " FROM messages INDEXED BY messages_conv_out"
	    " WHERE conversation_id = ?1 AND direction = 'out'"
	    " AND at > ?2");

	if (!s)
		return;
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int64(s, 2, q->since_ms);
	sqlite3_bind_int64(s, 3, q->now_ms - 3600000);
	if (store_step(st, s) == SQLITE_ROW) {
		h->auto_last_hour = sqlite3_column_int(s, 0);
		h->last_auto = sqlite3_column_int64(s, 1);
		h->last_closed_auto = sqlite3_column_int64(s, 2);
		h->last_staff = sqlite3_column_int64(s, 3);
	}
	sqlite3_reset(s);
}

/* Inbound rows with this same text in the loop breaker's window, newest
 * first, counted up to q->same_text_max: past it the answer is the same,
 * and a robot flooding one conversation would make each of its messages
 * read every other one of the window. */
static void history_same_text(struct store *st, int64_t conv, const char *text,
			      const struct store_history_q *q,
			      struct store_history *h)
{
	/* Schema 17: direction and body_hash are read from messages_conv,
	 * and a row is read (to compare its body) only when they match;
	 * rows without a hash (written before, or by another tool) are
	 * compared as they were. */
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT count(*) FROM (SELECT 1 FROM messages"
		" INDEXED BY messages_conv"
		" WHERE conversation_id = ?1 AND at > ?2 AND direction = 'in'"
		" AND (body_hash = ?5 OR body_hash IS NULL)"
		" AND body = ?3 ORDER BY at DESC LIMIT ?4)");

	if (!s)
		return;
	sqlite3_bind_int64(s, 5, store_body_hash(text));
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int64(s, 2, q->now_ms - q->same_text_ms);
	store_bind_text(s, 3, text);
	sqlite3_bind_int(s, 4, q->same_text_max > 0 ? q->same_text_max : -1);
	if (store_step(st, s) == SQLITE_ROW)
		h->same_text = sqlite3_column_int(s, 0);
	sqlite3_reset(s);
}

static int history_last_auto_text(struct store *st, int64_t conv,
				  const struct store_history_q *q,
				  struct store_history *h)
{
	/* The newest by id, an auto-reply's at being its insertion time:
	 * ORDER BY at, id sorted (the index holds author and kind between
	 * at and the rowid). */
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT body FROM messages WHERE id ="
		" (SELECT max(id) FROM messages INDEXED BY messages_conv_out"
		" WHERE conversation_id = ?1 AND direction = 'out'"
		" AND author = 'auto' AND at > ?2)");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int64(s, 2, q->since_ms);
	if (store_step(st, s) == SQLITE_ROW)
		store_col_copy(s, 0, h->last_auto_text,
			       sizeof(h->last_auto_text));
	sqlite3_reset(s);
	return STORE_OK;
}

int store_history(struct store *st, int64_t conv, const char *text,
		  const struct store_history_q *q, struct store_history *h)
{
	memset(h, 0, sizeof(*h));
	history_out(st, conv, q, h);
	if (!q->spent || !q->spent(q->ud, h)) {
		history_same_text(st, conv, text, q, h);
		if (history_last_auto_text(st, conv, q, h))
			return STORE_ERR;
	}
	return conv_state_get(st, conv, h);
}

int store_conv_state(struct store *st, int64_t conv, const char *choices,
		     bool closer_sent, int64_t now_ms)
{
	sqlite3_stmt *s = store_stmt(
	    st, "INSERT INTO conv_state(conversation_id, last_choices,"
		" closer_sent, updated_at) VALUES(?1, coalesce(?2, ''), ?3, ?4)"
		" ON CONFLICT(conversation_id) DO UPDATE SET"
		" last_choices = coalesce(?2, last_choices),"
		" closer_sent = max(closer_sent, ?3), updated_at = ?4");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, conv);
	store_bind_text(s, 2, choices);
	sqlite3_bind_int(s, 3, closer_sent);
	sqlite3_bind_int64(s, 4, now_ms);
	return store_exec_done(st, s) ? STORE_ERR : STORE_OK;
}
