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

/* One pass over the conversation's rows (index messages_conv) for what
 * were five aggregate queries, each its own scan of them: this runs for
 * every inbound message that the rules may answer. A failed step leaves
 * the zeros, as each query did. */
static void history_counts(struct store *st, int64_t conv, const char *text,
			   int64_t now_ms, struct store_history *h)
{
	sqlite3_stmt *s = store_stmt(
	    st, "SELECT count(CASE WHEN direction = 'out' AND author = 'auto'"
		" AND at > ?2 THEN 1 END),"
		" coalesce(max(CASE WHEN direction = 'out'"
		" AND author = 'auto' THEN at END), 0),"
		" coalesce(max(CASE WHEN direction = 'out' AND author = 'auto'"
		" AND kind = 'closed' THEN at END), 0),"
		" coalesce(max(CASE WHEN direction = 'out'"
		" AND author IS NOT NULL AND author != 'auto'"
		" AND author != 'system' THEN at END), 0),"
		" count(CASE WHEN direction = 'in' AND at > ?3"
		" AND body = ?4 THEN 1 END)"
		" FROM messages WHERE conversation_id = ?1");

	if (!s)
		return;
	sqlite3_bind_int64(s, 1, conv);
	sqlite3_bind_int64(s, 2, now_ms - 3600000);
	sqlite3_bind_int64(s, 3, now_ms - 600000);
	store_bind_text(s, 4, text);
	if (store_step(st, s) == SQLITE_ROW) {
		h->auto_last_hour = sqlite3_column_int(s, 0);
		h->last_auto = sqlite3_column_int64(s, 1);
		h->last_closed_auto = sqlite3_column_int64(s, 2);
		h->last_staff = sqlite3_column_int64(s, 3);
		h->same_text_10min = sqlite3_column_int(s, 4);
	}
	sqlite3_reset(s);
}

int store_history(struct store *st, int64_t conv, const char *text,
		  int64_t now_ms, struct store_history *h)
{
	memset(h, 0, sizeof(*h));
	history_counts(st, conv, text, now_ms, h);
	sqlite3_stmt *s =
	    store_stmt(st, "SELECT body FROM messages"
			   " WHERE conversation_id = ?"
			   " AND direction = 'out' AND author = 'auto'"
			   " ORDER BY at DESC, id DESC LIMIT 1");
	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, conv);
	if (store_step(st, s) == SQLITE_ROW)
		store_col_copy(s, 0, h->last_auto_text,
			       sizeof(h->last_auto_text));
	sqlite3_reset(s);
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
