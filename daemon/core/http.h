/* http: libmicrohttpd inside the poll loop (no threads), a route table,
 * and suspended requests so a webhook is answered only after the commit
 * that holds it. Two listeners share one router: TCP ([http] listen, staff
 * browsers and Meta) and a unix socket ([http] socket, simpulctl), whose
 * file permissions are its access control. */
#ifndef SIMPUL_HTTP_H
#define SIMPUL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct http;
struct http_req;
struct http_stream;

struct http_resp {
	int status;
	char *body; /* malloc'd; freed by http */
	size_t len;
	const char *content_type; /* static string */
	char *headers[8];	  /* malloc'd "Name: value" lines */
	int nheaders;
	const char *file;	    /* serve this file instead of body */
	struct http_stream *stream; /* an endless body (http_stream_start) */
};

enum http_route_flags {
	HTTP_PUBLIC = 1,   /* no session needed (login page, webhook) */
	HTTP_PREFIX = 2,   /* path matches as a prefix */
	HTTP_BIG_BODY = 4, /* accepts up to 3 MB (webhooks) */
};

enum { HTTP_DONE = 0, HTTP_SUSPEND = 1 };

/* Handlers fill resp and return HTTP_DONE, or keep req and return
 * HTTP_SUSPEND, then call http_resume(req, resp) later (same loop). */
typedef int (*http_handler)(void *ud, struct http_req *req,
			    struct http_resp *resp);
/* Decides whether a non-public, non-local request may go on; on refusal
 * fills resp (401/403). user gets the logged-in user name. */
typedef bool (*http_auth_cb)(void *ud, struct http_req *req,
			     struct http_resp *resp);

/* What one client may hold (http_guard.h has the deadlines). */
struct http_limits {
	unsigned per_address; /* TCP connections from one address; 0: any */
	unsigned head_s;      /* from connect (or the last answer) to the
				 end of the request head */
	unsigned request_s;   /* ... to the end of the request body */
	/* Bytes all request bodies being received may hold beyond their
	 * first 16 KiB each; a body without room is answered 503 (with
	 * Retry-After), before it is read when its length is announced. */
	size_t upload_memory;
};

struct http *http_new(struct loop *l, const char *listen, const char *sock,
		      const struct http_limits *lim, char *err, size_t errlen);
void http_free(struct http *h);
int http_route(struct http *h, const char *method, const char *path, int flags,
	       http_handler fn, void *ud);
/* Requests to that route without header (or with it empty) are answered
 * 401 as soon as their head is in, before their body is read: a forged
 * webhook costs no upload. 0, or -1 when no such route. */
int http_route_require(struct http *h, const char *method, const char *path,
		       const char *header);
void http_set_auth(struct http *h, http_auth_cb fn, void *ud);
/* The TCP port actually bound (for listen = host:0 in tests). */
int http_port(const struct http *h);
/* Every route as "METHOD path flags" lines (the security test walks it). */
char *http_routes_text(const struct http *h);

void http_resume(struct http_req *req, struct http_resp *resp);

/* An endless response body (Server-Sent Events). fill is called when the
 * client can take bytes and returns how many it wrote to buf (at most
 * max), or 0 when it has nothing to say: the connection is then
 * suspended, costing nothing (no timer, no wake-up) until
 * http_stream_wake. done is called once, when the connection is gone;
 * the stream must not be used after it. */
typedef size_t (*http_stream_fill)(void *ud, char *buf, size_t max);
struct http_stream *http_stream_start(struct http_req *req,
				      struct http_resp *resp,
				      http_stream_fill fill,
				      void (*done)(void *ud), void *ud);
void http_stream_wake(struct http_stream *s);

const char *http_method(const struct http_req *r);
const char *http_path(const struct http_req *r);
const char *http_header(const struct http_req *r, const char *name);
const char *http_arg(const struct http_req *r, const char *name);
const char *http_cookie(const struct http_req *r, const char *name);
const char *http_body(const struct http_req *r, size_t *len);
bool http_is_local(const struct http_req *r);
/* Reached over HTTPS: [http] https, or a trusted proxy's
 * X-Forwarded-Proto: https. */
bool http_is_https(const struct http_req *r);
/* trusted: addresses (comma or space separated) of reverse proxies whose
 * X-Forwarded-For and X-Forwarded-Proto are believed; from anyone else
 * those headers are ignored. https: the inbox is served over HTTPS. */
void http_set_proxy(struct http *h, const char *trusted, bool https);
/* Whether the TCP peer's own address (never a proxy header) is in list
 * (addresses separated by commas or spaces). */
bool http_tcp_peer_in(const struct http_req *r, const char *list);
const char *http_peer(const struct http_req *r);
void http_set_user(struct http_req *r, const char *user);
const char *http_user(const struct http_req *r);

/* Response helpers. */
void http_text(struct http_resp *resp, int status, const char *text);
void http_json(struct http_resp *resp, int status, char *json_owned);
/* Any body built elsewhere (open_memstream): takes body, len bytes. */
void http_take(struct http_resp *resp, int status, char *body, size_t len,
	       const char *content_type);
/* The same for a jansson value, which it takes (and frees); NULL gives
 * an empty body. */
struct json_t;
void http_reply_json(struct http_resp *resp, int status, struct json_t *j);
void http_error(struct http_resp *resp, int status, const char *message);
void http_add_header(struct http_resp *resp, const char *name,
		     const char *value);
/* A Retry-After header of so many seconds (RFC 9110 10.2.3), for a 429 or
 * a 503. */
void http_retry_after(struct http_resp *resp, int64_t seconds);

#endif
