/* wa_parse: the WhatsApp Cloud API webhook, inbound side, with no I/O.
 *
 * wa_verify_signature() checks X-Hub-Signature-256 over the raw body,
 * wa_verify_subscribe() answers the GET handshake, wa_parse() turns one
 * POST body into flat lists of message, status and error events. Nothing
 * here knows HTTP or SQLite: the caller stores the events, and only then
 * answers 200 (doc/architecture.md: acknowledge after commit).
 *
 * Payload shapes follow Meta's "messages" webhook reference:
 * object / entry[] / changes[] / value { metadata, contacts[], messages[],
 * statuses[], errors[] }. A body that is not JSON, or not a
 * "whatsapp_business_account" object, is rejected (answer 400). Inside a
 * well-formed body, an element of an unexpected shape is skipped and
 * counted in wa_batch.nskipped; it never drops its neighbours. */
#ifndef SIMPUL_WA_PARSE_H
#define SIMPUL_WA_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 0 if header is "sha256=<64 hex>" and equals HMAC-SHA256(app_secret,
 * body); -1 if the header is missing, malformed or wrong. Constant time in
 * the comparison. An empty app_secret never verifies. */
int wa_verify_signature(const char *app_secret, const void *body, size_t len,
			const char *header);

/* GET /webhook/whatsapp?hub.mode=...&hub.verify_token=...&hub.challenge=...
 * 0 if mode is "subscribe", token equals verify_token (non-empty) and
 * challenge is non-empty: answer 200 with the challenge as the body.
 * -1 otherwise: answer 403. */
int wa_verify_subscribe(const char *mode, const char *token,
			const char *challenge, const char *verify_token);

enum wa_msg_type {
	WA_MSG_UNKNOWN, /* a type this code does not know yet: kept, raw */
	WA_MSG_TEXT,
	WA_MSG_IMAGE,
	WA_MSG_VIDEO,
	WA_MSG_AUDIO,
	WA_MSG_DOCUMENT,
	WA_MSG_STICKER,
	WA_MSG_LOCATION,
	WA_MSG_CONTACTS,
	WA_MSG_INTERACTIVE,
	WA_MSG_BUTTON,
	WA_MSG_REACTION,
	WA_MSG_SYSTEM,
	WA_MSG_UNSUPPORTED,
};

/* One entry of an errors[] array (value, message or status level). */
struct wa_error {
	long code;
	const char *title;   /* never NULL ("" if absent) */
	const char *message; /* never NULL */
	const char *details; /* error_data.details, never NULL */
};

/* Media fields of image/video/audio/document/sticker. sha256 is as Meta
 * sent it (wa_send's download accepts hex or base64). */
struct wa_media {
	const char *id; /* NULL if the message has no media */
	const char *mime_type;
	const char *sha256;
	const char *filename; /* documents only */
	bool voice;	      /* audio recorded as a voice note */
};

/* Every string is valid until wa_batch_free(); optional ones are NULL
 * when absent unless stated otherwise. */
struct wa_message {
	const char *phone_number_id; /* business number that received it */
	const char *wamid;	     /* never NULL: the source id */
	/* Sender. from is the phone number in digits (628...), NULL for a
	 * user who hides it behind a username: then wa_only is true and
	 * user_id (the business-scoped user id, "ID.1234...") is the only
	 * handle, and no SMS fallback is possible. */
	const char *from;
	const char *user_id;
	bool wa_only;
	const char *profile_name; /* contacts[].profile.name */
	const char *username;	  /* contacts[].profile.username */
	int64_t ts_ms;		  /* 0 if the payload had no timestamp */
	enum wa_msg_type type;
	const char *type_name; /* the "type" string as sent, never NULL */
	/* What the message says, for the inbox and the rules, never NULL:
	 * text body, media caption, button or list title, location and
	 * contacts rendered as one readable line, reaction emoji. Empty for
	 * media without caption (see media) and for unknown types. */
	const char *body;
	const char *reply_id;	 /* button payload / button or list row id */
	const char *context_id;	 /* wamid this message replies to */
	const char *reaction_to; /* reactions: wamid reacted to */
	struct wa_media media;
	struct wa_error error; /* unsupported etc.: errors[0]; code 0 if none */
	const char *raw;       /* the message object, compact JSON */
};

struct wa_status {
	const char *phone_number_id;
	const char *wamid;  /* never NULL */
	const char *status; /* sent, delivered, read, played, failed, ... */
	int64_t ts_ms;
	const char *recipient_id;      /* phone digits, NULL if hidden */
	const char *recipient_user_id; /* BSUID, if present */
	const char *conversation_id;
	const char *pricing_category;
	size_t nerrors;
	struct wa_error *errors;
};

struct wa_batch {
	size_t nmessages;
	struct wa_message *messages;
	size_t nstatuses;
	struct wa_status *statuses;
	/* value.errors[]: problems Meta reports about the account or app. */
	size_t nerrors;
	struct wa_error *errors;
	/* Elements skipped for their shape; warning describes the first. */
	size_t nskipped;
	char warning[160];
	void *priv;
};

/* Parses one webhook body. 0 and *out set (free with wa_batch_free), or -1
 * with a one-line reason in err (answer 400). */
int wa_parse(const char *body, size_t len, struct wa_batch **out, char *err,
	     size_t errlen);
void wa_batch_free(struct wa_batch *b);

const char *wa_msg_type_name(enum wa_msg_type t);
/* A short Bahasa Indonesia label for staff ("Gambar", "Pesan suara"). */
const char *wa_msg_label(const struct wa_message *m);

/* Status ordering, so a late or repeated webhook never downgrades a
 * message. Meta does not promise order, and a message to a user with
 * several devices can report "failed" from one and "delivered" from
 * another. The rule:
 *   sent < delivered < read < played; a higher one replaces a lower one;
 *   "failed" replaces only "sent" or nothing: once delivered, a failure is
 *     stale (another device) and is ignored;
 *   after "failed", only delivered/read/played replace it, since they prove
 *     the message arrived after all;
 *   "deleted" replaces anything and nothing replaces it;
 *   an unknown status never replaces a known one.
 * cur may be NULL (no status yet). */
bool wa_status_supersedes(const char *cur, const char *next);
/* 0 for unknown; sent 1, delivered 2, read 3, played 4; failed and deleted
 * rank outside this ladder (see above) and return -1 and 9. */
int wa_status_rank(const char *status);

#endif
