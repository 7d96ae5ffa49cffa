/* api: the JSON API under /api/v1 (web UI and simpulctl). */
#ifndef SIMPUL_API_H
#define SIMPUL_API_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct sms;

/* Registers the routes; sms (NULL when the modem is disabled) answers the
 * modem part of /api/v1/status. */
int api_init(struct app *app, const struct sms *sms);
/* Answers the requests it still holds suspended (logins being checked);
 * before http_free. */
void api_stop(void);
/* Frees what api_init made (call after http_free). */
void api_free(void);
/* Queues text to a conversation's resident on the channel they used last;
 * WhatsApp outside its 24-hour window goes by SMS when they have a
 * number. Returns the message id or -1 with why filled. */
int64_t api_reply(struct app *app, int64_t conversation_id, const char *text,
		  const char *author, char *why, size_t whylen);

#endif
