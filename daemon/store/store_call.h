/* store_call: missed calls — when a kind of auto-reply last went to a
 * conversation, and who called a missed caller back and when. */
#ifndef SIMPUL_STORE_CALL_H
#define SIMPUL_STORE_CALL_H

#include <stdint.h>

struct store;

/* Time (ms) of the newest outgoing message of kind in the conversation,
 * 0 if none. */
int64_t store_last_reply_of_kind(struct store *st, int64_t conversation_id,
				 const char *kind);
/* Records that user called back the caller of missed-call message id.
 * STORE_OK, STORE_NOTFOUND (no such missed call) or STORE_ERR. */
int store_call_back(struct store *st, int64_t message_id, const char *user,
		    int64_t at_ms);

#endif
