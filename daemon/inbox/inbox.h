/* inbox: turns one inbound message from any channel into contact,
 * conversation and message rows, and runs the responders (auto-reply
 * rules, RT confirmation) inside the SAME transaction, so a crash leaves
 * all of it or none of it. The caller acknowledges the source (SIM delete,
 * webhook 200) only after inbox_commit() succeeded. */
#ifndef SIMPUL_INBOX_H
#define SIMPUL_INBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

struct inbox;

struct inbox_msg {
	const char *channel; /* "sms" | "whatsapp" */
	const char *from;    /* as received: "+62812...", "TELKOMSEL",
				WhatsApp "62812..." or a BSUID */
	bool wa_user_id;     /* from is a business-scoped user id */
	bool from_alnum;     /* SMS TP-OA of type alphanumeric: never a
				phone number, whatever its characters */
	const char *name;    /* WhatsApp profile name */
	const char *body;
	int64_t at_ms;	       /* source time */
	const char *source_id; /* wamid, or hash of the SMS identity */
	const char *kind;      /* text, image, ..., or NULL */
	const char *status;    /* "received" (default), "partial", "error" */
	const char *error;
	const char *raw;
	const char *media;
};

/* What a responder sees; it may enqueue replies with store_outbox_*. */
struct inbox_ctx {
	struct store *st;
	const struct inbox_msg *msg;
	struct store_contact contact;
	struct store_conversation conv;
	const char *peer;	 /* where replies go on msg->channel */
	const char *sender_kind; /* phone_kind_name() or "wa_user" */
	int64_t message_id;
	int64_t now_ms;
};

struct rules;
/* The contact's history the rules' limits look at (store_history), read
 * back only as far as they look (rules_lookback). */
int inbox_history(const struct inbox_ctx *ctx, const struct rules *r,
		  struct store_history *h);

/* Returns 0 to let later responders run, 1 when it consumed the message
 * (no auto-reply after it), -1 on a store error (aborts the transaction). */
typedef int (*inbox_responder)(void *ud, struct inbox_ctx *ctx);

struct inbox *inbox_new(struct store *st);
void inbox_free(struct inbox *ib);
/* The order in which responders see an inbound message, declared here and
 * nowhere else: a Ketua RT's "YA 482193" must be consumed by rt/ before
 * the auto-reply rules see it (they would answer it as a resident's
 * message). One responder per stage. */
enum inbox_stage {
	INBOX_STAGE_RT,	       /* rt/rt.c: a head's answer */
	INBOX_STAGE_SURVEY,    /* web/survey.c: "5" after "Balas 1-5" */
	INBOX_STAGE_ANNOUNCE,  /* announce/: DAFTAR, BERHENTI, STOP */
	INBOX_STAGE_AUTOREPLY, /* autoreply/: rules, tickets, CEK */
	INBOX_STAGE_COUNT,
};
void inbox_add_responder(struct inbox *ib, enum inbox_stage stage,
			 inbox_responder fn, void *ud);
/* Called after every successful commit that enqueued replies. */
void inbox_on_commit(struct inbox *ib, void (*fn)(void *ud), void *ud);

enum inbox_result { INBOX_STORED, INBOX_DUPLICATE, INBOX_FAILED };

/* Group commit: several adds share one transaction (webhooks arriving
 * together). Each add runs in a savepoint, so one failing message does not
 * take the others with it. */
int inbox_begin(struct inbox *ib);
/* The same, committed without syncing the WAL (store_begin_unsynced):
 * nothing in it is acknowledged before core/walsync reports it synced. */
int inbox_begin_unsynced(struct inbox *ib);
enum inbox_result inbox_add(struct inbox *ib, const struct inbox_msg *m,
			    int64_t *message_id);
int inbox_commit(struct inbox *ib);
void inbox_rollback(struct inbox *ib);

/* A notice for staff in the inbox (low credit, token expired...). */
int inbox_notice(struct inbox *ib, const char *kind, const char *text);

#endif
