/* store_call: the SQL of missed calls (see store_call.h). */
#include "store_call.h"

#include "store_int.h"

int64_t store_last_reply_of_kind(struct store *st, int64_t conversation_id,
				 const char *kind)
{
	return store_scalar64(
	    st,
	    "SELECT coalesce(max(at), 0) FROM messages"
	    " WHERE conversation_id = ?1 AND direction = 'out'"
	    " AND kind = ?3",
	    conversation_id, 0, kind);
}

int store_call_back(struct store *st, int64_t message_id, const char *user,
		    int64_t at_ms)
{
	sqlite3_stmt *s =
	    store_stmt(st, "INSERT INTO call_backs(message_id, user, at)"
			   " SELECT id, ?2, ?3 FROM messages"
			   " WHERE id = ?1 AND kind = 'missed_call'");

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, message_id);
	store_bind_text(s, 2, user);
	sqlite3_bind_int64(s, 3, at_ms);
	if (store_exec_done(st, s) != STORE_OK)
		return STORE_ERR;
	return sqlite3_changes(store_db(st)) ? STORE_OK : STORE_NOTFOUND;
}
