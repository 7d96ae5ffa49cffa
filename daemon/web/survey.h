/* survey: the satisfaction question after a conversation is resolved
 * ([survey] enabled, off by default). Resolving sends the resident one
 * "Balas 1-5" on the channel a staff reply would take; a reply of a
 * single digit 1 to 5 within [survey] hours is stored on that
 * conversation (and shown in the monthly report), thanked, and opens no
 * new conversation. */
#ifndef SIMPUL_SURVEY_H
#define SIMPUL_SURVEY_H

#include <stdint.h>

struct app;

/* Registers the responder for the answers (INBOX_STAGE_SURVEY). */
int survey_init(struct app *app);
/* After staff set the conversation to selesai: asks, if enabled. A
 * resident who cannot be reached is not asked. 0, or -1 on error. */
int survey_after_resolve(struct app *app, int64_t conversation_id);

#endif
