/* store: all of simpul's SQLite. Schema migrations by PRAGMA user_version,
 * prepared statements, WAL with synchronous=FULL. No SQL outside this
 * module: callers use the domain functions below. */
#ifndef SIMPUL_STORE_H
#define SIMPUL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct store;

enum { STORE_OK = 0, STORE_ERR = -1, STORE_DUP = 1, STORE_NOTFOUND = 2 };

#define STORE_SCHEMA_VERSION 22

/* Opens (creating and migrating) the database. err gets what failed. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Test hook: migrate only up to version `to`. */
struct store *store_open_version(const char *path, int to, char *err,
				 size_t errlen);
void store_close(struct store *st);
int store_version(struct store *st);
const char *store_errmsg(struct store *st);

int store_begin(struct store *st);
/* A transaction whose COMMIT writes the WAL without syncing it
 * (synchronous=NORMAL): the caller acknowledges nothing in it before
 * core/walsync has synced the WAL file. store_commit and store_rollback
 * set synchronous=FULL again, so every other commit stays synced. */
int store_begin_unsynced(struct store *st);
/* Whether the open transaction is such a one. */
bool store_in_unsynced(const struct store *st);
/* The "-wal" file to sync after such a commit; NULL when the store is
 * not in WAL mode (in memory, or WAL refused): then use store_begin. */
const char *store_wal_path(struct store *st);
/* Checkpoints off the loop (core/walsync): a connection of its own to
 * the store's database, for one thread other than the loop's. */
struct store_ckpt;
struct store_ckpt *store_ckpt_open(struct store *st, char *err, size_t errlen);
/* Copies the WAL's committed frames into the database without waiting
 * for the loop's connection (PASSIVE). 0 with the frames the WAL holds
 * and how many of them are now copied, or -1 with err set. */
int store_ckpt_run(struct store_ckpt *ck, int *log, int *copied, char *err,
		   size_t errlen);
void store_ckpt_close(struct store_ckpt *ck);
/* After each commit, fn(arg, frames): the frames the WAL holds. The
 * store's connection no longer checkpoints at 1,000 frames
 * (wal_autocheckpoint) but only past `fallback` (then itself, in the
 * commit: fn is not called). */
void store_on_wal(struct store *st, void (*fn)(void *arg, int frames),
		  void *arg, int fallback);
int store_page_size(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* Messages and contacts are indexed for search in batches (schema 19):
 * a commit indexes the rows waiting once there are this many, so each
 * commit does not write a segment of its own into both indexes. */
#define STORE_FTS_BATCH 64
/* Indexes whatever waits, in a transaction of its own that does not
 * sync the WAL (or as part of the caller's): before anything reads
 * messages_fts or contacts_fts, so a search finds every row stored.
 * STORE_OK or STORE_ERR. */
int store_fts_flush(struct store *st);
/* Nested savepoint inside a transaction (one per group-committed item). */
int store_savepoint(struct store *st);
int store_release(struct store *st);
void store_rollback_savepoint(struct store *st);
/* Test hook: the next n-th statement step fails (simulates a disk error
 * in the middle of a transaction). 0 disables. */
void store_fail_after(struct store *st, int n);

struct store_contact {
	int64_t id;
	char phone[24]; /* E.164 or "" */
	char wa_id[80]; /* WhatsApp id or "" */
	char raw[64];	/* alphanumeric / short code sender or "" */
	char kind[12];	/* phone_kind_name() */
	char name[128];
	char rt[16];
};

/* Finds the contact by phone, then wa_id, then raw, creating it if none;
 * fills in whichever of phone/wa_id/name is new. One person on SMS and
 * WhatsApp is one contact (their wa_id is their E.164 without '+'). */
int store_contact_upsert(struct store *st, const char *phone, const char *wa_id,
			 const char *raw, const char *kind, const char *name,
			 int64_t now_ms, struct store_contact *out);
int store_contact_get(struct store *st, int64_t id, struct store_contact *out);
int store_contact_set_rt(struct store *st, int64_t id, const char *rt);

struct store_conversation {
	int64_t id, contact_id;
	char status[16];
	char category[32];
	char ticket[32];
	char assignee[64];
	char last_channel[12];
	int64_t due_at, opened_at, last_in_at;
};

/* The contact's open conversation (status not 'selesai'), or a new one. */
int store_conversation_for(struct store *st, int64_t contact_id, int64_t now_ms,
			   struct store_conversation *out, bool *created);
int store_conversation_get(struct store *st, int64_t id,
			   struct store_conversation *out);
int store_conversation_set(struct store *st, int64_t id, const char *field,
			   const char *value, int64_t now_ms);
int store_conversation_ticket(struct store *st, int64_t id, const char *ticket,
			      const char *category, int64_t due_at);
int store_ticket_find(struct store *st, const char *ticket,
		      struct store_conversation *out);

struct store_message {
	int64_t id, conversation_id, contact_id;
	const char *channel;   /* "sms" | "whatsapp" */
	const char *direction; /* "in" | "out" */
	const char *peer;
	const char *body;
	int64_t at;	       /* ms since the epoch */
	const char *source_id; /* inbound dedupe key */
	const char *status;
	const char *kind; /* text, image, ..., notice */
	const char *error;
	const char *raw;    /* raw PDU / JSON */
	const char *media;  /* JSON of media metadata */
	const char *author; /* staff user, "auto", or NULL */
};

/* STORE_DUP when (channel, source_id) is already stored. */
int store_message_insert(struct store *st, const struct store_message *m,
			 int64_t *id);
bool store_message_seen(struct store *st, const char *channel,
			const char *source_id);

/* Outbound queue (outbound messages in the messages table). */
struct store_out {
	int64_t id, conversation_id, contact_id;
	char channel[12];
	char to[80];
	char *body;
	int attempts;
	bool is_auto;
	char kind[16]; /* "text", "announce", ... */
};
int64_t store_outbox_enqueue(struct store *st, int64_t conversation_id,
			     int64_t contact_id, const char *channel,
			     const char *to, const char *body,
			     const char *author, int64_t now_ms);
/* The oldest due queued message of the channel: STORE_NOTFOUND if none,
 * else STORE_OK; caller frees out->body. */
int store_outbox_next(struct store *st, const char *channel, int64_t now_ms,
		      struct store_out *out);
/* Earliest next_at of a queued message of the channel, or INT64_MAX. */
int64_t store_outbox_next_due(struct store *st, const char *channel);
int store_outbox_set(struct store *st, int64_t id, const char *status,
		     const char *external_id, const char *error,
		     int64_t next_at);
/* The same in a transaction of its own committed without a sync
 * (store_begin_unsynced): the caller waits for core/walsync. */
int store_outbox_set_unsynced(struct store *st, int64_t id, const char *status,
			      const char *external_id, const char *error,
			      int64_t next_at);
int store_outbox_attempts(struct store *st, int64_t id);
int store_outbox_change_channel(struct store *st, int64_t id,
				const char *channel, const char *to);
/* Messages left 'sending' by a crash go back to 'queued' (may repeat one
 * SMS: see README "Delivery guarantees"). Returns how many. */
int store_outbox_recover(struct store *st);
/* The outbound message with that external id and its status. */
int store_message_by_external(struct store *st, const char *external_id,
			      int64_t *id, char *status, size_t statuslen);
int store_message_media(struct store *st, int64_t id, const char *media_json);
/* WhatsApp messages since since_ms whose media was never downloaded
 * (crash or failure before the file was written): cb per message. */
int store_media_pending(struct store *st, int64_t since_ms,
			void (*cb)(void *ud, int64_t id, const char *media),
			void *ud);
/* Part part (0-based) of parts of message_id went out with that TP-MR. */
int store_sms_mr_add(struct store *st, int64_t message_id, int part, int parts,
		     int mr, const char *to, int64_t now_ms);
/* A status report's TP-ST, kept on the part it answers (the newest with
 * that TP-MR to that number). Returns that part's message id, -1 if
 * none; *undelivered: its parts with no "delivered" report yet. */
int64_t store_sms_report(struct store *st, int mr, const char *to, int tp_st,
			 int *undelivered);
/* Delivered only if sent: a report for a part never undoes a retry. */
int store_message_delivered(struct store *st, int64_t id);
int store_sms_parts_sent(struct store *st, int64_t message_id);
int store_message_kind(struct store *st, int64_t id, const char *kind);
int store_message_status(struct store *st, int64_t id, const char *status,
			 const char *error);

/* Concatenated SMS parts, persisted until their message is complete. */
struct store_part {
	int seq;
	char *text;
	int64_t scts;
};
/* STORE_DUP when this part was seen before (also after assembly). */
int store_part_add(struct store *st, const char *source_id, const char *key,
		   const char *sender, int total, int seq, const char *text,
		   int64_t scts, int64_t now_ms);
/* Parts of key in seq order; returns count. Caller frees with
 * store_parts_free. */
int store_parts_get(struct store *st, const char *key,
		    struct store_part **parts);
void store_parts_free(struct store_part *parts, int n);
int store_parts_done(struct store *st, const char *key, int64_t message_id);
/* Keys of groups whose first part is older than before_ms (incomplete). */
int store_parts_stale(struct store *st, int64_t before_ms, char keys[][128],
		      char senders[][64], int max);

/* History for the loop-proof rules: what they look back on, and what it
 * held. Only rows after since_ms are read (rules_lookback): the rows a
 * long conversation piled up over years cannot change the answer, and
 * this runs for every inbound message. Times are 0 when none. */
struct store_history;
struct store_history_q {
	int64_t now_ms;
	int64_t since_ms;     /* older rows are not looked at */
	int64_t same_text_ms; /* the loop breaker's window, same_text_minutes */
	int same_text_max;    /* counted no further (same_text_max); 0: all */
	/* When set and true for the replies read (auto_last_hour,
	 * last_staff...), the loop breakers' same_text and last_auto_text
	 * are not read: they would change no decision
	 * (rules_budget_spent). */
	bool (*spent)(void *ud, const struct store_history *h);
	void *ud;
};
struct store_history {
	int auto_last_hour;
	int64_t last_auto, last_closed_auto, last_staff;
	char last_auto_text[512];
	int same_text; /* inbound with this text in the window, itself too,
			* at most same_text_max */
	/* the auto-reply's state of this conversation (store_conv_state) */
	char last_choices[96];
	bool closer_sent;
};
int store_history(struct store *st, int64_t conversation_id, const char *text,
		  const struct store_history_q *q, struct store_history *h);
/* Remembers for the conversation what a digit answers next (choices:
 * "kk,drainase", "menu"; NULL or "" keeps the last) and that a closer was sent
 * (closer_sent true sticks until the conversation ends). Read back by
 * store_history. */
int store_conv_state(struct store *st, int64_t conversation_id,
		     const char *choices, bool closer_sent, int64_t now_ms);

/* JSON views for the API (jansson). tz_offset_s renders "at" in the office
 * time zone. */
json_t *store_inbox_json(struct store *st, int limit, int64_t before_id,
			 int tz_offset_s);
json_t *store_conversation_json(struct store *st, int64_t id, int tz_offset_s);
json_t *store_status_json(struct store *st);

/* Notices for staff (low credit, token expired, ...). */
int store_event(struct store *st, const char *kind, int64_t conversation_id,
		const char *detail, int64_t now_ms);

void store_iso8601(int64_t ms, int tz_offset_s, char *out, size_t outlen);

#endif
