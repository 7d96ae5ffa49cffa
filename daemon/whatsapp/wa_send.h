/* wa_send: the outbound side of the WhatsApp Cloud API, through curlm.
 *
 * Sends text messages (POST {graph_url}/{phone_number_id}/messages),
 * downloads inbound media (GET {graph_url}/{media-id}, then the URL it
 * names, both with the bearer token) into a file the caller opened, and
 * classifies every answer into what the outbox must do next. Knows
 * nothing of the store: the caller keeps the queue and names, syncs and
 * removes the files. */
#ifndef SIMPUL_WA_SEND_H
#define SIMPUL_WA_SEND_H

#include <stddef.h>
#include <stdint.h>

struct curlm;
struct wa_client;

struct wa_client_cfg {
	const char *graph_url;	     /* "https://graph.facebook.com/v21.0" */
	const char *access_token;    /* bearer token */
	const char *phone_number_id; /* business phone number id */
	long timeout_ms;	     /* per request; 0: 30 s */
};

enum wa_result {
	WA_OK,
	/* 131047 (24-hour window closed), 131026 (not on WhatsApp or
	 * cannot receive): send by SMS instead, if the peer has a number. */
	WA_FALLBACK_SMS,
	/* 130429, 131056, 80007, 131016, HTTP 5xx/429, network errors:
	 * try again after retry_after_ms. */
	WA_RETRY,
	/* 190: the access token expired or was revoked. Nothing will send
	 * until an admin replaces it: alert staff, hold the queue. */
	WA_TOKEN_EXPIRED,
	/* Anything else: permanent for this message; error_code and
	 * error_text say why. */
	WA_FAILED,
	/* The request went out in full and no answer came (a timeout, a
	 * connection cut): Meta may have sent it. Sending it again by itself
	 * could give the resident a second copy; staff decide. */
	WA_UNKNOWN,
};

struct wa_outcome {
	enum wa_result result;
	char wamid[192];	 /* WA_OK: messages[0].id */
	long http_status;	 /* 0 if no HTTP answer */
	long error_code;	 /* Graph error.code, 0 if none */
	long error_subcode;	 /* error.error_subcode */
	char error_text[320];	 /* "code: message (details)" or curl's text */
	uint64_t retry_after_ms; /* WA_RETRY: suggested wait */
};

const char *wa_result_name(enum wa_result r);

struct wa_client *wa_client_new(struct curlm *cm,
				const struct wa_client_cfg *cfg);
void wa_client_free(struct wa_client *c);

/* The JSON body of a text message. to: digits (628...) or a BSUID;
 * NULL on bad input. Caller frees. */
char *wa_text_body(const char *to, const char *text);

/* Classifies one Graph API answer (pure; used by wa_send_text and
 * exported for tests and for other message kinds). curl_error is the
 * transport error or NULL. */
void wa_classify(long http_status, const char *body, size_t len,
		 const char *curl_error, struct wa_outcome *out);

typedef void (*wa_send_cb)(const struct wa_outcome *o, void *arg);

/* Queues one text message; cb runs once from the loop. 0, or -1 if the
 * request could not be started (then cb is not called). */
int wa_send_text(struct wa_client *c, const char *to, const char *text,
		 wa_send_cb cb, void *arg);

struct wa_media_res {
	enum wa_result result;	 /* WA_OK, WA_RETRY, WA_TOKEN_EXPIRED,
				  * WA_FAILED */
	size_t len;		 /* bytes written to the file */
	const char *mime_type;	 /* from the media metadata, may be NULL */
	char error[400];	 /* why, when not WA_OK */
	struct wa_outcome graph; /* details of a Graph error, if any */
};

typedef void (*wa_media_cb)(const struct wa_media_res *r, void *arg);

/* Downloads media_id into fd, an empty file the caller opened and still
 * owns: the bytes are written as they arrive (never all in memory), and
 * their SHA-256 is computed on the way. The size Meta announces is
 * checked against max_bytes before the download and the download is cut
 * off past it; the SHA-256 must equal the one in the metadata and, if
 * expect_sha256 is given (the webhook's), that one too. Hashes are
 * accepted as 64 hex digits or base64. Unless the result is WA_OK the
 * file holds garbage (a part, a wrong file): the caller removes it. A
 * file that cannot be written is WA_RETRY. 0, or -1 (cb not called). */
int wa_media_fetch(struct wa_client *c, const char *media_id,
		   const char *expect_sha256, size_t max_bytes, int fd,
		   wa_media_cb cb, void *arg);

/* 0 if sha256_text (hex or base64) is the SHA-256 of data, else -1. */
int wa_sha256_check(const void *data, size_t len, const char *sha256_text);

/* Per-recipient pacing: WhatsApp penalises bursts to one user (131056),
 * so at most one message per interval to the same recipient. */
struct wa_pacer;
struct wa_pacer *wa_pacer_new(uint64_t interval_ms); /* e.g. 6000 */
void wa_pacer_free(struct wa_pacer *p);
/* now_ms is monotonic (loop_now_ms()). Returns 0 and books the slot if a
 * message to `to` may go now, else the ms to wait (nothing booked). */
uint64_t wa_pacer_take(struct wa_pacer *p, const char *to, uint64_t now_ms);

#endif
