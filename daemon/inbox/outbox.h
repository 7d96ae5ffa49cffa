/* outbox: the durable send queue. Messages are rows in the store with
 * status queued -> sending -> sent -> delivered (-> read), or failed with a
 * reason. One message per channel is in flight at a time; channels are
 * paced; transient failures back off exponentially.
 *
 * After a crash, a message found 'sending' is queued again: we cannot know
 * whether the modem or Graph API took it, and a resident getting a reply
 * twice is better than not at all (README, "Delivery guarantees"). */
#ifndef SIMPUL_OUTBOX_H
#define SIMPUL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct store;
struct outbox;

struct outbox_driver {
	const char *channel;
	/* Ready to take a message now (modem registered, token set...). */
	bool (*ready)(void *ud);
	/* Starts sending; the result comes later through outbox_sent/
	 * outbox_retry/outbox_failed. Returns 0 started, > 0 "not before
	 * this many ms" (pacing per recipient), < 0 failed at once. */
	int (*send)(void *ud, int64_t id, const char *to, const char *body);
	int interval_ms; /* pause between two sends on this channel */
	void *ud;
};

struct outbox *outbox_new(struct loop *l, struct store *st, int retry_max,
			  int retry_base_ms);
void outbox_free(struct outbox *ob);
/* Claims ('sending') and 'sent' are then committed without a sync on
 * the loop; a message leaves only once its claim is synced. */
struct walsync;
void outbox_use_walsync(struct outbox *ob, struct walsync *ws);
void outbox_add_driver(struct outbox *ob, const struct outbox_driver *drv);
/* A driver for that channel was added (e.g. the modem is enabled). */
bool outbox_has_channel(struct outbox *ob, const char *channel);
void outbox_set_pacing(struct outbox *ob, const char *channel, int ms);
/* A feature may hold messages back (announcements at night, on low
 * credit): asked for each due message before it is sent, returns 0 to
 * send it, or the wall-clock time (ms) before which it must not go, with
 * why filled; the message stays queued until then. One hook. */
struct store_out;
typedef int64_t (*outbox_hold_fn)(void *ud, const struct store_out *m,
				  int64_t now_ms, char *why, size_t whylen);
void outbox_set_hold(struct outbox *ob, outbox_hold_fn fn, void *ud);
/* Look at the queue now (after a commit that enqueued, or a channel that
 * became ready). */
void outbox_kick(struct outbox *ob);
/* Inside an open transaction: marks 'sending' the message each idle
 * channel would start next, in that transaction. Only for a transaction
 * whose COMMIT is durable when it returns (synchronous=FULL, as
 * store_commit): the next outbox_kick() after that COMMIT sends them
 * without a commit of their own. If the transaction is rolled back,
 * outbox_unclaim() before anything else. */
void outbox_claim(struct outbox *ob);
void outbox_unclaim(struct outbox *ob);

void outbox_sent(struct outbox *ob, int64_t id, const char *external_id);
/* outbox_sent() with also(ud) (the driver's own rows) written in the
 * same transaction as 'sent'; also returns 0 when done. If that fails,
 * also(ud) is called again and 'sent' written, each on its own. */
void outbox_sent_also(struct outbox *ob, int64_t id, const char *external_id,
		      int (*also)(void *ud), void *ud);
void outbox_retry(struct outbox *ob, int64_t id, const char *reason,
		  int64_t delay_ms);
void outbox_failed(struct outbox *ob, int64_t id, const char *reason);
/* Moves the message to another channel and queues it there (WhatsApp
 * 24-hour window closed -> SMS). */
void outbox_reroute(struct outbox *ob, int64_t id, const char *channel,
		    const char *to, const char *why);
/* Shutting down: outcomes are still recorded, nothing new starts. */
void outbox_stop(struct outbox *ob);
/* Messages in flight (for a clean stop). */
int outbox_inflight(const struct outbox *ob);

/* The WhatsApp customer service window: a free-form reply is allowed
 * only within 24 hours of the resident's last message (Cloud API). */
#define OUTBOX_WA_WINDOW_MS (24LL * 3600 * 1000)

struct store_conversation;
struct store_contact;

/* The one place that decides which channel a reply to a resident takes
 * (staff replies, RT outcomes): the channel they wrote on last; WhatsApp
 * only inside its 24-hour window and with a WhatsApp id, else SMS when
 * they have a number. Returns "sms" or "whatsapp" with *to set to the
 * address on it, or NULL with why filled when they cannot be reached. */
const char *outbox_route(const struct store_conversation *c,
			 const struct store_contact *k, int64_t now_ms,
			 const char **to, char *why, size_t whylen);

#endif
