/* libcurl multi interface driven by the poll loop (see curlm.h). */
#include "curlm.h"
#include "loop.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_RESPONSE (1024 * 1024)
#define DEFAULT_TIMEOUT_MS   30000

struct xfer {
	struct curlm *c;
	CURL *easy;
	struct curl_slist *hdrs;
	char *reqbody;
	size_t reqlen;
	char *buf;
	size_t len, cap, max;
	bool too_big;
	int (*sink)(const void *data, size_t len, void *arg);
	void *sink_arg;
	size_t sunk;
	bool sink_failed;
	curlm_done_cb cb;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	char errtext[CURL_ERROR_SIZE + 64];
	struct xfer *prev, *next;
};

struct curlm {
	struct loop *l;
	CURLM *multi;
	uint64_t timer_id;
	struct xfer *list;
	size_t n;
	bool closing;
};

static void xfer_free(struct xfer *x)
{
	if (x->easy)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	free(x->reqbody);
	free(x->buf);
	free(x);
}

static void unlink_xfer(struct curlm *c, struct xfer *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		c->list = x->next;
	if (x->next)
		x->next->prev = x->prev;
	c->n--;
}

/* Did the whole request (headers and body) leave us? Then the server may
 * have acted on it, whatever came back. */
static int request_sent(struct xfer *x)
{
	curl_off_t up = 0;
	long head = 0;

	curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &head);
	curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	return head > 0 && (curl_off_t)x->reqlen <= up;
}

/* Runs the callback of a finished transfer and frees it. */
static void finish(struct curlm *c, struct xfer *x, CURLcode rc)
{
	struct curlm_res res = {0};
	char *ct = NULL;

	curl_multi_remove_handle(c->multi, x->easy);
	unlink_xfer(c, x);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
	curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &ct);
	res.content_type = ct;
	res.body_sent = request_sent(x);
	res.body = x->buf ? x->buf : "";
	res.len = x->len;
	res.sunk = x->sunk;
	if (x->too_big) {
		snprintf(x->errtext, sizeof(x->errtext),
			 "response larger than %zu bytes: refused", x->max);
		res.error = x->errtext;
		res.too_large = 1;
	} else if (x->sink_failed) {
		res.error = "the receiver could not take the response";
		res.sink_failed = 1;
	} else if (rc != CURLE_OK) {
		snprintf(x->errtext, sizeof(x->errtext), "%s",
			 x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		res.error = x->errtext;
	}
	x->cb(&res, x->arg);
	xfer_free(x);
}

static void check_done(struct curlm *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct xfer *x = NULL;
		CURLcode rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &x);
		if (x)
			finish(c, x, rc);
	}
}

static void on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct curlm *c = arg;
	int flags = 0, running;

	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	check_done(c);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct curlm *c = userp;
	short ev = 0;

	if (what == CURL_POLL_REMOVE) {
		loop_fd_del(c->l, s);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= POLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= POLLOUT;
	if (loop_fd_events(c->l, s, ev) == 0)
		return 0;
	return loop_fd_add(c->l, s, ev, on_fd, c) == 0 ? 0 : -1;
}

static void on_timer(struct loop *l, void *arg)
{
	struct curlm *c = arg;
	int running;

	c->timer_id = 0;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* curl must not be re-entered from its own callback, so even a zero
 * timeout goes through a loop timer. */
static int timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct curlm *c = userp;

	if (c->timer_id)
		loop_timer_cancel(c->l, c->timer_id);
	c->timer_id = 0;
	if (timeout_ms >= 0) {
		c->timer_id =
		    loop_timer_add(c->l, (uint64_t)timeout_ms, on_timer, c);
		if (!c->timer_id)
			return -1;
	}
	return 0;
}

struct curlm *curlm_new(struct loop *l)
{
	struct curlm *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(c);
		return NULL;
	}
	c->l = l;
	c->multi = curl_multi_init();
	if (!c->multi) {
		curl_global_cleanup();
		free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	return c;
}

void curlm_free(struct curlm *c)
{
	if (!c)
		return;
	c->closing = true;
	while (c->list) {
		struct xfer *x = c->list;
		curl_multi_remove_handle(c->multi, x->easy);
		unlink_xfer(c, x);
		struct curlm_res res = {.body = "", .error = "cancelled"};
		x->cb(&res, x->arg);
		xfer_free(x);
	}
	if (c->timer_id)
		loop_timer_cancel(c->l, c->timer_id);
	curl_multi_cleanup(c->multi);
	curl_global_cleanup();
	free(c);
}

size_t curlm_pending(const struct curlm *c)
{
	return c->n;
}

/* Only a 2xx body goes to the sink: an error answer is read by the
 * caller, and curl does not hand over the bodies of redirects it
 * follows. */
static bool to_sink(struct xfer *x)
{
	long status = 0;

	if (!x->sink)
		return false;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status < 300;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	bool sink = to_sink(x);

	if (n > x->max - x->len - x->sunk ||
	    (x->sink && !sink && x->len + n > DEFAULT_MAX_RESPONSE)) {
		x->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (sink) {
		if (x->sink(data, n, x->sink_arg) != 0) {
			x->sink_failed = true;
			return 0;
		}
		x->sunk += n;
		return n;
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		while (cap < x->len + n + 1)
			cap *= 2;
		char *p = realloc(x->buf, cap);
		if (!p)
			return 0;
		x->buf = p;
		x->cap = cap;
	}
	memcpy(x->buf + x->len, data, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return n;
}

static int setup_easy(struct xfer *x, const struct curlm_req *req)
{
	CURL *e = x->easy;
	const char *method = req->method ? req->method : "GET";

	for (const char *const *h = req->headers; h && *h; h++) {
		struct curl_slist *n = curl_slist_append(x->hdrs, *h);
		if (!n)
			return -1;
		x->hdrs = n;
	}
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 req->timeout_ms > 0 ? req->timeout_ms
					     : (long)DEFAULT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_USERAGENT,
			 "simpul/"
			 "0.1");
	if (req->follow_redirects) {
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
		curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	}
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		return 0;
	}
	if (req->body) {
		/* Copied: the caller's buffer may be gone before the send. */
		x->reqbody = malloc(req->body_len + 1);
		if (!x->reqbody)
			return -1;
		memcpy(x->reqbody, req->body, req->body_len);
		x->reqlen = req->body_len;
		x->reqbody[req->body_len] = '\0';
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->reqbody);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	}
	if (strcmp(method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	else if (!req->body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	if (strcmp(method, "POST") == 0 && !req->body)
		curl_easy_setopt(e, CURLOPT_POST, 1L);
	return 0;
}

int curlm_request(struct curlm *c, const struct curlm_req *req,
		  curlm_done_cb cb, void *arg)
{
	struct xfer *x;

	if (!c || c->closing || !req || !req->url || !cb)
		return -1;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -1;
	x->c = c;
	x->cb = cb;
	x->arg = arg;
	x->max = req->max_response ? req->max_response : DEFAULT_MAX_RESPONSE;
	x->sink = req->sink;
	x->sink_arg = req->sink_arg;
	x->easy = curl_easy_init();
	if (!x->easy || setup_easy(x, req) < 0) {
		xfer_free(x);
		return -1;
	}
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK) {
		xfer_free(x);
		return -1;
	}
	x->next = c->list;
	if (c->list)
		c->list->prev = x;
	c->list = x;
	c->n++;
	return 0;
}
