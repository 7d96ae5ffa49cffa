/* WhatsApp Cloud API requests: send text, download media, classify. */
#include "wa_send.h"
#include "curlm.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TEXT 4096 /* Cloud API limit on text.body, in characters */
/* Writeback of a download is started every this many bytes, so the
 * fsync at its end has about this much left to wait for. */
#define WRITEBACK_STEP (1024 * 1024)

struct wa_client {
	struct curlm *cm;
	char *base; /* graph_url without a trailing '/' */
	char *auth; /* "Authorization: Bearer ..." */
	char *pnid;
	long timeout_ms;
};

const char *wa_result_name(enum wa_result r)
{
	switch (r) {
	case WA_OK:
		return "ok";
	case WA_FALLBACK_SMS:
		return "fallback_sms";
	case WA_RETRY:
		return "retry";
	case WA_TOKEN_EXPIRED:
		return "token_expired";
	case WA_FAILED:
		return "failed";
	case WA_UNKNOWN:
		return "unknown";
	}
	return "?";
}

/* Graph ids are digits; media ids too. Refusing anything else keeps a
 * hostile webhook from steering our bearer token to another path. */
static bool id_ok(const char *s)
{
	if (!s || !*s || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == '-' ||
		      *s == '.'))
			return false;
	return true;
}

struct wa_client *wa_client_new(struct curlm *cm,
				const struct wa_client_cfg *cfg)
{
	struct wa_client *c;

	if (!cm || !cfg || !cfg->graph_url || !*cfg->graph_url ||
	    !cfg->access_token || !*cfg->access_token ||
	    !id_ok(cfg->phone_number_id))
		return NULL;
	if (sodium_init() < 0) /* idempotent; needed before hashing */
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cm = cm;
	c->timeout_ms = cfg->timeout_ms;
	c->base = strdup(cfg->graph_url);
	c->pnid = strdup(cfg->phone_number_id);
	if (asprintf(&c->auth, "Authorization: Bearer %s", cfg->access_token) <
	    0)
		c->auth = NULL;
	if (!c->base || !c->pnid || !c->auth) {
		wa_client_free(c);
		return NULL;
	}
	size_t n = strlen(c->base);
	while (n > 0 && c->base[n - 1] == '/')
		c->base[--n] = '\0';
	return c;
}

void wa_client_free(struct wa_client *c)
{
	if (!c)
		return;
	free(c->base);
	if (c->auth)
		sodium_memzero(c->auth, strlen(c->auth));
	free(c->auth);
	free(c->pnid);
	free(c);
}

char *wa_text_body(const char *to, const char *text)
{
	json_t *o;
	char *s;

	if (!to || !*to || !text || !*text)
		return NULL;
	o = json_pack("{s:s, s:s, s:s, s:s, s:{s:b, s:s}}", "messaging_product",
		      "whatsapp", "recipient_type", "individual", "to", to,
		      "type", "text", "text", "preview_url", 0, "body", text);
	if (!o)
		return NULL; /* also: text not valid UTF-8 */
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ---- classification ---- */

static void set_retry(struct wa_outcome *o, uint64_t ms)
{
	o->result = WA_RETRY;
	o->retry_after_ms = ms;
}

/* Meta's error codes (Cloud API "error codes" reference). */
static void classify_code(struct wa_outcome *o)
{
	switch (o->error_code) {
	case 190: /* access token expired / invalid */
		o->result = WA_TOKEN_EXPIRED;
		break;
	case 131047: /* more than 24 h since the user last wrote */
	case 131026: /* not a WhatsApp user, or cannot receive */
		o->result = WA_FALLBACK_SMS;
		break;
	case 130429: /* throughput (messages per second) reached */
		set_retry(o, 5000);
		break;
	case 131056: /* too many messages to this user in a short time */
		set_retry(o, 15000);
		break;
	case 131016: /* service unavailable */
	case 2:	     /* temporary API outage */
		set_retry(o, 30000);
		break;
	case 80007: /* WABA rate limit */
	case 4:	    /* app call rate limit */
		set_retry(o, 60000);
		break;
	default:
		if (o->http_status >= 500 || o->http_status == 429)
			set_retry(o, 30000);
		else
			o->result = WA_FAILED;
	}
}

void wa_classify(long http_status, const char *body, size_t len,
		 const char *curl_error, struct wa_outcome *o)
{
	json_t *root = NULL, *err;

	memset(o, 0, sizeof(*o));
	o->http_status = http_status;
	/* A transfer error is retried here; on_sent makes it WA_UNKNOWN
	 * when the whole request had gone out (it may have been sent). */
	if (curl_error) {
		set_retry(o, 30000);
		snprintf(o->error_text, sizeof(o->error_text),
			 "Graph API request failed: %s", curl_error);
		return;
	}
	if (body && len)
		root = json_loadb(body, len, 0, NULL);
	err = json_object_get(root, "error");
	if (http_status >= 200 && http_status < 300 && !err) {
		json_t *m =
		    json_array_get(json_object_get(root, "messages"), 0);
		const char *id = json_string_value(json_object_get(m, "id"));
		if (id && strlen(id) < sizeof(o->wamid)) {
			o->result = WA_OK;
			snprintf(o->wamid, sizeof(o->wamid), "%s", id);
		} else {
			/* Accepted but unreadable: sending again could
			 * duplicate it, so report it and do not retry. */
			o->result = WA_FAILED;
			snprintf(o->error_text, sizeof(o->error_text),
				 "HTTP %ld without messages[0].id in the "
				 "answer",
				 http_status);
		}
		json_decref(root);
		return;
	}
	if (json_is_object(err)) {
		const char *msg =
		    json_string_value(json_object_get(err, "message"));
		const char *det = json_string_value(json_object_get(
		    json_object_get(err, "error_data"), "details"));
		o->error_code =
		    (long)json_integer_value(json_object_get(err, "code"));
		o->error_subcode = (long)json_integer_value(
		    json_object_get(err, "error_subcode"));
		snprintf(o->error_text, sizeof(o->error_text), "%ld: %s%s%s%s",
			 o->error_code, msg ? msg : "(no message)",
			 det ? " (" : "", det ? det : "", det ? ")" : "");
	} else {
		snprintf(o->error_text, sizeof(o->error_text),
			 "HTTP %ld with no Graph error object", http_status);
	}
	classify_code(o);
	json_decref(root);
}

/* ---- sending text ---- */

struct send_ctx {
	wa_send_cb cb;
	void *arg;
};

static void on_sent(const struct curlm_res *res, void *arg)
{
	struct send_ctx *s = arg;
	struct wa_outcome o;

	wa_classify(res->status, res->body, res->len, res->error, &o);
	if (res->error && res->body_sent &&
	    (res->status == 0 || (res->status >= 200 && res->status < 300))) {
		o.result = WA_UNKNOWN;
		o.retry_after_ms = 0;
	}
	s->cb(&o, s->arg);
	free(s);
}

int wa_send_text(struct wa_client *c, const char *to, const char *text,
		 wa_send_cb cb, void *arg)
{
	char *url = NULL, *body = NULL;
	struct send_ctx *s = NULL;
	int rc = -1;

	if (!c || !cb || !text || !*text)
		return -1;
	body = wa_text_body(to, text);
	s = calloc(1, sizeof(*s));
	if (!body || !s ||
	    asprintf(&url, "%s/%s/messages", c->base, c->pnid) < 0)
		goto out;
	s->cb = cb;
	s->arg = arg;
	const char *hdrs[] = {c->auth, "Content-Type: application/json", NULL};
	struct curlm_req req = {.method = "POST",
				.url = url,
				.headers = hdrs,
				.body = body,
				.body_len = strlen(body),
				.max_response = 64 * 1024,
				.timeout_ms = c->timeout_ms};
	if (curlm_request(c->cm, &req, on_sent, s) == 0) {
		s = NULL;
		rc = 0;
	}
out:
	free(s);
	free(body);
	free(url);
	return rc;
}

/* ---- media ---- */

/* 0 if text (hex or base64) names the digest got, else -1. */
static int sha256_matches(const unsigned char *got, const char *text)
{
	unsigned char want[crypto_hash_sha256_BYTES];
	size_t n = 0;
	const char *end = NULL;

	if (!text)
		return -1;
	size_t tl = strlen(text);
	int r = -1;
	if (tl == 2 * sizeof(want))
		r = sodium_hex2bin(want, sizeof(want), text, tl, NULL, &n,
				   &end);
	else if (tl == 44 || tl == 43)
		r = sodium_base642bin(
		    want, sizeof(want), text, tl, NULL, &n, &end,
		    tl == 44 ? sodium_base64_VARIANT_ORIGINAL
			     : sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	if (r != 0 || n != sizeof(want) || (end && *end))
		return -1;
	return sodium_memcmp(want, got, sizeof(want)) == 0 ? 0 : -1;
}

int wa_sha256_check(const void *data, size_t len, const char *text)
{
	unsigned char got[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(got, data, len);
	return sha256_matches(got, text);
}

/* Holds copies, not the client: the client may be freed and replaced
 * (config reload) while a download is between its two requests. */
struct media_ctx {
	struct curlm *cm;
	char *auth;
	long timeout_ms;
	wa_media_cb cb;
	void *arg;
	size_t max;
	char *expect;
	char *meta_sha;
	char *mime;
	int fd;
	crypto_hash_sha256_state sha; /* of the bytes written so far */
	size_t written, flushed;
	int werr; /* errno of a failed write */
};

static void media_done(struct media_ctx *m, struct wa_media_res *r)
{
	m->cb(r, m->arg);
	free(m->auth);
	free(m->expect);
	free(m->meta_sha);
	free(m->mime);
	free(m);
}

static void media_fail(struct media_ctx *m, enum wa_result res, const char *why,
		       const char *detail)
{
	struct wa_media_res r = {.result = res, .mime_type = m->mime};

	snprintf(r.error, sizeof(r.error), "%s%s%s", why, detail ? ": " : "",
		 detail ? detail : "");
	media_done(m, &r);
}

/* A Graph answer that is not a 200: classify like a send, but a
 * "fallback to SMS" means nothing for a download. */
static void media_graph_fail(struct media_ctx *m, const char *step,
			     const struct curlm_res *res)
{
	struct wa_media_res r = {.mime_type = m->mime};

	wa_classify(res->status, res->body, res->len, res->error, &r.graph);
	r.result = r.graph.result == WA_OK || r.graph.result == WA_FALLBACK_SMS
		       ? WA_FAILED
		       : r.graph.result;
	snprintf(r.error, sizeof(r.error), "%s: HTTP %ld, %s", step,
		 res->status, r.graph.error_text);
	media_done(m, &r);
}

/* Starts writeback of what has piled up, without waiting for it: the
 * dirty pages of a 100 MB file would otherwise all wait for the one
 * fsync at the end, on the loop. */
static void start_writeback(struct media_ctx *m)
{
	if (m->written - m->flushed < WRITEBACK_STEP)
		return;
	sync_file_range(m->fd, (off_t)m->flushed,
			(off_t)(m->written - m->flushed),
			SYNC_FILE_RANGE_WRITE);
	m->flushed = m->written;
}

/* The download's bytes, as curl receives them (16 KiB at most at a
 * time: the loop is held for one small write, not for the file). */
static int media_sink(const void *data, size_t len, void *arg)
{
	struct media_ctx *m = arg;
	const unsigned char *p = data;

	crypto_hash_sha256_update(&m->sha, p, len);
	while (len > 0) {
		ssize_t n = write(m->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			m->werr = n < 0 ? errno : EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		m->written += (size_t)n;
	}
	start_writeback(m);
	return 0;
}

static void on_media_bytes(const struct curlm_res *res, void *arg)
{
	struct media_ctx *m = arg;
	unsigned char got[crypto_hash_sha256_BYTES];

	if (res->too_large) {
		/* Meta announced a smaller file_size: trying again would
		 * only fetch the same oversized file. */
		media_fail(m, WA_FAILED, "media file too large", res->error);
		return;
	}
	if (res->sink_failed) {
		media_fail(m, WA_RETRY, "cannot write the media file",
			   strerror(m->werr));
		return;
	}
	if (res->error || res->status != 200) {
		media_graph_fail(m, "media download", res);
		return;
	}
	crypto_hash_sha256_final(&m->sha, got);
	if (sha256_matches(got, m->meta_sha) != 0) {
		media_fail(m, WA_FAILED,
			   "downloaded media does not match the SHA-256 Meta "
			   "announced (corrupt or truncated)",
			   m->meta_sha);
		return;
	}
	if (m->expect && sha256_matches(got, m->expect)) {
		media_fail(m, WA_FAILED,
			   "downloaded media does not match the SHA-256 in "
			   "the webhook",
			   m->expect);
		return;
	}
	struct wa_media_res r = {
	    .result = WA_OK, .len = m->written, .mime_type = m->mime};
	media_done(m, &r);
}

static void on_media_meta(const struct curlm_res *res, void *arg)
{
	struct media_ctx *m = arg;
	json_t *root = NULL;

	if (res->error || res->status != 200) {
		media_graph_fail(m, "media metadata", res);
		return;
	}
	root = json_loadb(res->body, res->len, 0, NULL);
	const char *url = json_string_value(json_object_get(root, "url"));
	const char *sha = json_string_value(json_object_get(root, "sha256"));
	const char *mime =
	    json_string_value(json_object_get(root, "mime_type"));
	json_t *fs = json_object_get(root, "file_size");
	json_int_t size = json_is_integer(fs) ? json_integer_value(fs)
			  : json_is_string(fs)
			      ? strtoll(json_string_value(fs), NULL, 10)
			      : -1;
	if (!url || !sha) {
		json_decref(root);
		media_fail(m, WA_FAILED, "media metadata without url or sha256",
			   NULL);
		return;
	}
	m->meta_sha = strdup(sha);
	m->mime = mime ? strdup(mime) : NULL;
	if (size >= 0 && (size_t)size > m->max) {
		char why[96];
		snprintf(why, sizeof(why), "%lld bytes, limit %zu",
			 (long long)size, m->max);
		json_decref(root);
		media_fail(m, WA_FAILED, "media file too large", why);
		return;
	}
	const char *hdrs[] = {m->auth, NULL};
	struct curlm_req req = {.url = url,
				.headers = hdrs,
				.max_response = m->max,
				.timeout_ms =
				    m->timeout_ms ? m->timeout_ms * 4 : 120000,
				.follow_redirects = 1,
				.sink = media_sink,
				.sink_arg = m};
	crypto_hash_sha256_init(&m->sha);
	int rc =
	    m->meta_sha ? curlm_request(m->cm, &req, on_media_bytes, m) : -1;
	json_decref(root);
	if (rc != 0)
		media_fail(m, WA_RETRY, "could not start the media download",
			   NULL);
}

int wa_media_fetch(struct wa_client *c, const char *media_id,
		   const char *expect_sha256, size_t max_bytes, int fd,
		   wa_media_cb cb, void *arg)
{
	struct media_ctx *m;
	char *url = NULL;

	if (!c || !cb || !id_ok(media_id) || !max_bytes || fd < 0)
		return -1;
	m = calloc(1, sizeof(*m));
	if (!m || asprintf(&url, "%s/%s", c->base, media_id) < 0) {
		free(m);
		return -1;
	}
	m->cm = c->cm;
	m->timeout_ms = c->timeout_ms;
	m->cb = cb;
	m->arg = arg;
	m->max = max_bytes;
	m->fd = fd;
	m->auth = strdup(c->auth);
	m->expect = expect_sha256 ? strdup(expect_sha256) : NULL;
	if (!m->auth || (expect_sha256 && !m->expect)) {
		free(url);
		free(m->auth);
		free(m->expect);
		free(m);
		return -1;
	}
	const char *hdrs[] = {c->auth, NULL};
	struct curlm_req req = {.url = url,
				.headers = hdrs,
				.max_response = 64 * 1024,
				.timeout_ms = c->timeout_ms};
	int rc = curlm_request(c->cm, &req, on_media_meta, m);
	free(url);
	if (rc != 0) {
		free(m->auth);
		free(m->expect);
		free(m);
	}
	return rc;
}

/* ---- per-recipient pacing ---- */

struct pace {
	char *to;
	uint64_t next;
};

struct wa_pacer {
	uint64_t interval;
	struct pace *v;
	size_t n, cap;
};

struct wa_pacer *wa_pacer_new(uint64_t interval_ms)
{
	struct wa_pacer *p = calloc(1, sizeof(*p));

	if (p)
		p->interval = interval_ms;
	return p;
}

void wa_pacer_free(struct wa_pacer *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].to);
	free(p->v);
	free(p);
}

/* Entries whose slot has passed carry no information: drop them, so the
 * table holds only recipients messaged in the last interval. */
static void pacer_purge(struct wa_pacer *p, uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].next <= now)
			free(p->v[i].to);
		else
			p->v[j++] = p->v[i];
	}
	p->n = j;
}

uint64_t wa_pacer_take(struct wa_pacer *p, const char *to, uint64_t now)
{
	pacer_purge(p, now);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].to, to) == 0)
			return p->v[i].next - now;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct pace *v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return p->interval; /* cannot book: wait and retry */
		p->v = v;
		p->cap = cap;
	}
	char *t = strdup(to);
	if (!t)
		return p->interval;
	p->v[p->n++] = (struct pace){t, now + p->interval};
	return 0;
}
