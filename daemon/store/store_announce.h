/* store_announce: announcements residents subscribe to — subscriptions
 * per contact and topic with the consent log, announcements and their
 * recipients (one outbox row each). */
#ifndef SIMPUL_STORE_ANNOUNCE_H
#define SIMPUL_STORE_ANNOUNCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct store;

/* Subscribes (active) or unsubscribes contact to topic and logs the
 * change with its time, channel and the message that asked. topic NULL
 * with !active: every topic of the contact. Returns how many
 * subscriptions changed (0: already so), or -1 on a store error. */
int store_sub_set(struct store *st, int64_t contact_id, int64_t conv_id,
		  const char *topic, bool active, const char *channel,
		  int64_t message_id, int64_t now_ms);
/* The active topics of a contact, comma separated, into buf. */
int store_sub_topics(struct store *st, int64_t contact_id, char *buf, size_t n);
/* Every subscription and the consent log, for the API. */
json_t *store_subs_json(struct store *st);

struct store_recipient {
	int64_t contact_id, conversation_id;
};
/* Contacts with an active subscription to topic ("semua": any topic). */
int store_audience(struct store *st, const char *topic,
		   int (*cb)(void *ud, const struct store_recipient *r),
		   void *ud);
/* state: "dikirim" (rows follow in the same transaction) or
 * "menunggu_persetujuan" (a second admin must approve it first). */
int64_t store_announce_add(struct store *st, const char *body,
			   const char *audience, const char *by,
			   const char *state, int64_t now_ms);
struct store_announcement {
	int64_t id;
	char body[2048], audience[40], created_by[64], state[32];
};
int store_announce_get(struct store *st, int64_t id,
		       struct store_announcement *out);
/* Marks a waiting announcement approved by by: STORE_OK, or
 * STORE_NOTFOUND when it is not waiting. */
int store_announce_approve(struct store *st, int64_t id, const char *by,
			   int64_t now_ms);
int store_announce_recipient(struct store *st, int64_t announcement_id,
			     int64_t contact_id, int64_t message_id);
/* Announcements, newest first, each with its recipients per status. */
json_t *store_announcements_json(struct store *st);

#endif
