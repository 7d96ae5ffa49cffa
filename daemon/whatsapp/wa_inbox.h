/* wa_inbox: what a parsed webhook does to the store, inside the caller's
 * transaction (whatsapp.c answers 200 only after it commits). Separate
 * from the HTTP side so the fuzzer and tests call what the daemon runs. */
#ifndef SIMPUL_WA_INBOX_H
#define SIMPUL_WA_INBOX_H

#include <stdint.h>

#include "inbox.h"

struct store;
struct wa_message;
struct wa_status;

/* One message as an inbox message (media described as JSON, fetched
 * later by the caller); a redelivered wamid is INBOX_DUPLICATE. */
enum inbox_result wa_inbox_message(struct inbox *ib, const struct wa_message *m,
				   int64_t *id);
/* A status (sent/delivered/read/failed) for one of our messages: never
 * downgrades (read stays read); a wamid not ours is ignored. 0, or -1 on
 * a store error. */
int wa_inbox_status(struct store *st, const struct wa_status *s);

#endif
