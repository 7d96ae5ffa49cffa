/* libmicrohttpd in external-select mode with its own epoll fd, which the
 * poll loop watches; MHD_get_timeout feeds the loop's deadline. */
#include "http.h"

#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "counters.h"
#include "http_guard.h"
#include "loop.h"

#define SMALL_BODY (64 * 1024)
#define BIG_BODY   (3 * 1024 * 1024) /* Meta's webhook payloads stay below */
/* Every body may take this much without asking the upload budget
 * (connections x this is bounded by the connection limit), so a real
 * webhook of a few kB gets through while the budget is full. */
#define FREE_BODY (16 * 1024)

struct route {
	char method[8];
	char *path;
	char *required; /* a header without which the body is not read */
	int flags;
	http_handler fn;
	void *ud;
};

struct listener {
	struct MHD_Daemon *d;
	int fd; /* MHD's epoll fd */
	bool local;
	bool kick; /* a request was resumed: run MHD at once */
	struct http *h;
};

struct http {
	struct loop *loop;
	struct http_guard *guard;
	struct listener tcp, unix_;
	char *sock_path;
	int port;
	struct route *routes;
	size_t nroutes;
	http_auth_cb auth;
	void *auth_ud;
	struct http_stream *streams; /* open endless responses */
	bool stopping;		     /* http_free: streams end, never sleep */
	char trusted[256];
	bool https;
	size_t body_budget, body_used; /* request bodies beyond FREE_BODY */
};

struct http_req {
	struct http *h;
	struct listener *ls;
	struct MHD_Connection *conn;
	bool local;
	const struct route *route;
	char method[8];
	char *path;
	char *body;
	size_t len, cap, limit;
	size_t expect;	 /* Content-Length, 0 when not given */
	size_t reserved; /* taken from h->body_budget */
	bool too_big, no_room, suspended, answered;
	struct http_resp resp;
	char user[64];
	char peer[64];
	char tcp_peer[64]; /* the socket's address, before any proxy header */
	bool https;
};

/* ---- response helpers -------------------------------------------------- */

void http_add_header(struct http_resp *resp, const char *name,
		     const char *value)
{
	if (resp->nheaders < 8 && asprintf(&resp->headers[resp->nheaders],
					   "%s: %s", name, value) >= 0)
		resp->nheaders++;
}

void http_text(struct http_resp *resp, int status, const char *text)
{
	resp->status = status;
	free(resp->body);
	resp->body = strdup(text);
	resp->len = strlen(text);
	resp->content_type = "text/plain; charset=utf-8";
}

void http_take(struct http_resp *resp, int status, char *body, size_t len,
	       const char *content_type)
{
	resp->status = status;
	free(resp->body);
	resp->body = body;
	resp->len = len;
	resp->content_type = content_type;
}

void http_json(struct http_resp *resp, int status, char *json_owned)
{
	http_take(resp, status, json_owned, json_owned ? strlen(json_owned) : 0,
		  "application/json");
}

void http_error(struct http_resp *resp, int status, const char *message)
{
	char *s = NULL;
	size_t n = strlen(message);
	char esc[512];
	size_t j = 0;

	/* A minimal JSON string escape: messages are ours, but be safe. */
	for (size_t i = 0; i < n && j + 7 < sizeof(esc); i++) {
		unsigned char c = (unsigned char)message[i];
		if (c == '"' || c == '\\')
			esc[j++] = '\\', esc[j++] = (char)c;
		else if (c < 0x20)
			j += (size_t)snprintf(esc + j, 7, "\\u%04x", c);
		else
			esc[j++] = (char)c;
	}
	esc[j] = '\0';
	if (asprintf(&s, "{\"error\":\"%s\"}", esc) < 0)
		s = NULL;
	http_json(resp, status, s);
}

static void resp_clear(struct http_resp *r)
{
	free(r->body);
	for (int i = 0; i < r->nheaders; i++)
		free(r->headers[i]);
	memset(r, 0, sizeof(*r));
}

/* ---- request accessors ------------------------------------------------- */

const char *http_method(const struct http_req *r)
{
	return r->method;
}

const char *http_path(const struct http_req *r)
{
	return r->path;
}

const char *http_header(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_arg(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND,
					   name);
}

const char *http_cookie(const struct http_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

const char *http_body(const struct http_req *r, size_t *len)
{
	if (len)
		*len = r->len;
	return r->body ? r->body : "";
}

bool http_is_local(const struct http_req *r)
{
	return r->local;
}

const char *http_peer(const struct http_req *r)
{
	return r->peer;
}

void http_set_user(struct http_req *r, const char *user)
{
	snprintf(r->user, sizeof(r->user), "%s", user);
}

const char *http_user(const struct http_req *r)
{
	return r->local && !r->user[0] ? "simpulctl" : r->user;
}

/* ---- routing ----------------------------------------------------------- */

int http_route(struct http *h, const char *method, const char *path, int flags,
	       http_handler fn, void *ud)
{
	struct route *p =
	    realloc(h->routes, (h->nroutes + 1) * sizeof(*h->routes));

	if (!p)
		return -1;
	h->routes = p;
	struct route *r = &h->routes[h->nroutes++];
	snprintf(r->method, sizeof(r->method), "%s", method);
	r->path = strdup(path);
	r->required = NULL;
	r->flags = flags;
	r->fn = fn;
	r->ud = ud;
	return 0;
}

int http_route_require(struct http *h, const char *method, const char *path,
		       const char *header)
{
	for (size_t i = 0; i < h->nroutes; i++) {
		struct route *r = &h->routes[i];
		if (strcmp(r->method, method) || strcmp(r->path, path))
			continue;
		free(r->required);
		r->required = strdup(header);
		return r->required ? 0 : -1;
	}
	return -1;
}

void http_set_auth(struct http *h, http_auth_cb fn, void *ud)
{
	h->auth = fn;
	h->auth_ud = ud;
}

static bool path_matches(const struct route *r, const char *path)
{
	if (r->flags & HTTP_PREFIX)
		return strncmp(path, r->path, strlen(r->path)) == 0;
	return strcmp(path, r->path) == 0;
}

/* Longest matching route wins; *wrong_method tells 405 from 404. */
static const struct route *find_route(struct http *h, const char *method,
				      const char *path, bool *wrong_method)
{
	const struct route *best = NULL;
	size_t best_len = 0;

	*wrong_method = false;
	for (size_t i = 0; i < h->nroutes; i++) {
		const struct route *r = &h->routes[i];
		if (!path_matches(r, path))
			continue;
		if (strcmp(r->method, method) != 0) {
			*wrong_method = true;
			continue;
		}
		if (!best || strlen(r->path) > best_len) {
			best = r;
			best_len = strlen(r->path);
		}
	}
	if (best)
		*wrong_method = false;
	return best;
}

char *http_routes_text(const struct http *h)
{
	char *out = strdup("");

	for (size_t i = 0; i < h->nroutes && out; i++) {
		char *n = NULL;
		const struct route *r = &h->routes[i];
		if (asprintf(&n, "%s%s %s%s%s\n", out, r->method, r->path,
			     r->flags & HTTP_PREFIX ? "*" : "",
			     r->flags & HTTP_PUBLIC ? " public" : "") < 0)
			n = NULL;
		free(out);
		out = n;
	}
	return out;
}

/* ---- endless responses (SSE) ------------------------------------------ */

struct http_stream {
	struct http *h;
	struct http_stream *prev, *next;
	struct MHD_Connection *conn;
	struct listener *ls;
	http_stream_fill fill;
	void (*done)(void *ud);
	void *ud;
	bool asleep;
};

/* MHD may suspend the connection from inside its content reader; a
 * reader that returned 0 without suspending would be polled again at
 * once (a busy loop in external event mode). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *s = cls;
	size_t n = s->fill(s->ud, buf, max);

	(void)pos;
	/* At stop the last MHD_run (listener_stop) reads the woken streams
	 * again: one that slept now would be suspended when MHD_stop_daemon
	 * runs, and libmicrohttpd aborts on that. */
	if (n == 0 && s->h->stopping)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n == 0) {
		s->asleep = true;
		MHD_suspend_connection(s->conn);
	}
	return (ssize_t)n;
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;

	if (s->prev)
		s->prev->next = s->next;
	else
		s->h->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->done(s->ud);
	free(s);
}

static struct MHD_Response *stream_response(struct http_stream *s)
{
	return MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
						 stream_read, s, stream_free);
}

struct http_stream *http_stream_start(struct http_req *req,
				      struct http_resp *resp,
				      http_stream_fill fill,
				      void (*done)(void *ud), void *ud)
{
	struct http_stream *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	*s = (struct http_stream){.h = req->h,
				  .next = req->h->streams,
				  .conn = req->conn,
				  .ls = req->ls,
				  .fill = fill,
				  .done = done,
				  .ud = ud};
	if (s->next)
		s->next->prev = s;
	req->h->streams = s;
	resp->status = 200;
	resp->stream = s;
	return s;
}

void http_stream_wake(struct http_stream *s)
{
	if (!s->asleep)
		return;
	s->asleep = false;
	MHD_resume_connection(s->conn);
	s->ls->kick = true; /* as in http_resume: no fd tells MHD */
}

/* ---- MHD glue ---------------------------------------------------------- */

static enum MHD_Result queue(struct http_req *req)
{
	struct http_resp *r = &req->resp;
	struct MHD_Response *m;

	http_guard_busy(req->conn); /* the answer is ours to send now */

	if (r->stream) {
		m = stream_response(r->stream);
	} else if (r->file) {
		int fd = open(r->file, O_RDONLY | O_CLOEXEC);
		struct stat sb;
		if (fd < 0 || fstat(fd, &sb) < 0) {
			if (fd >= 0)
				close(fd);
			http_error(r, 404, "not found");
			r->file = NULL;
			return queue(req);
		}
		m = MHD_create_response_from_fd((uint64_t)sb.st_size, fd);
	} else {
		m = MHD_create_response_from_buffer(r->len, r->body,
						    MHD_RESPMEM_MUST_COPY);
	}
	if (!m) {
		if (r->stream)
			stream_free(r->stream);
		r->stream = NULL;
		return MHD_NO;
	}
	if (r->content_type)
		MHD_add_response_header(m, "Content-Type", r->content_type);
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	/* Every response, UI or API: no inline script, no framing. */
	MHD_add_response_header(m, "Content-Security-Policy",
				"default-src 'self'; script-src 'self'; "
				"object-src 'none'; frame-ancestors 'none'; "
				"base-uri 'none'; form-action 'self'");
	MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	for (int i = 0; i < r->nheaders; i++) {
		char *colon = strchr(r->headers[i], ':');
		if (!colon)
			continue;
		*colon = '\0';
		MHD_add_response_header(m, r->headers[i], colon + 2);
		*colon = ':';
	}
	enum MHD_Result res =
	    MHD_queue_response(req->conn, (unsigned)r->status, m);
	MHD_destroy_response(m);
	req->answered = true;
	return res;
}

void http_set_proxy(struct http *h, const char *trusted, bool https)
{
	snprintf(h->trusted, sizeof(h->trusted), "%s", trusted ? trusted : "");
	h->https = https;
}

bool http_is_https(const struct http_req *r)
{
	return r->https;
}

static bool in_list(const char *list, const char *addr)
{
	size_t n = strlen(addr);

	for (const char *p = list; *p;) {
		p += strspn(p, ", \t");
		size_t len = strcspn(p, ", \t");
		if (len == n && n && strncmp(p, addr, n) == 0)
			return true;
		p += len;
	}
	return false;
}

bool http_tcp_peer_in(const struct http_req *r, const char *list)
{
	return !r->local && list && r->tcp_peer[0] &&
	       in_list(list, r->tcp_peer);
}

/* Behind a trusted reverse proxy, the client is the last address of
 * X-Forwarded-For (the one the proxy itself saw; earlier ones are the
 * client's to write) and the scheme its X-Forwarded-Proto. */
static void note_proxy(struct http_req *req)
{
	const char *xff = MHD_lookup_connection_value(
	    req->conn, MHD_HEADER_KIND, "X-Forwarded-For");
	const char *proto = MHD_lookup_connection_value(
	    req->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");

	if (xff) {
		const char *last = strrchr(xff, ',');
		last = last ? last + 1 : xff;
		last += strspn(last, " \t");
		size_t len = strspn(last, "0123456789abcdefABCDEF.:");
		if (len > 0 && len < sizeof(req->peer))
			snprintf(req->peer, sizeof(req->peer), "%.*s", (int)len,
				 last);
	}
	if (proto && strcasecmp(proto, "https") == 0)
		req->https = true;
}

static void note_peer(struct http_req *req)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	snprintf(req->peer, sizeof(req->peer), "%s", "local");
	if (req->local || !ci || !ci->client_addr)
		return;
	getnameinfo(ci->client_addr,
		    ci->client_addr->sa_family == AF_INET6
			? sizeof(struct sockaddr_in6)
			: sizeof(struct sockaddr_in),
		    req->peer, sizeof(req->peer), NULL, 0, NI_NUMERICHOST);
	snprintf(req->tcp_peer, sizeof(req->tcp_peer), "%s", req->peer);
	req->https = req->h->https;
	if (req->h->trusted[0] && in_list(req->h->trusted, req->peer))
		note_proxy(req);
}

/* Memory for a body beyond FREE_BODY comes out of the upload budget;
 * false when the budget cannot give it. */
static bool body_reserve(struct http_req *req, size_t cap)
{
	struct http *h = req->h;
	size_t have = FREE_BODY + req->reserved;

	if (cap <= have)
		return true;
	if (h->body_used + (cap - have) > h->body_budget)
		return false;
	h->body_used += cap - have;
	req->reserved += cap - have;
	return true;
}

void http_retry_after(struct http_resp *resp, int64_t seconds)
{
	char ra[24];

	snprintf(ra, sizeof(ra), "%lld", (long long)seconds);
	http_add_header(resp, "Retry-After", ra);
}

static void busy(struct http_resp *resp)
{
	http_error(resp, 503, "busy, retry later");
	http_retry_after(resp, 5);
}

/* Decided from the head: a body larger than the route takes is not kept
 * (413 once it is in: clients that send the whole body before reading
 * the answer get to read it), one the upload budget has no room for now
 * is answered 503 before it is read. Neither costs memory. */
static void check_length(struct http_req *req)
{
	const char *cl = MHD_lookup_connection_value(
	    req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;

	if (!cl)
		return; /* chunked: reserved as it comes (append_body) */
	unsigned long long n = strtoull(cl, &end, 10);
	if (end == cl || *end)
		return; /* libmicrohttpd answers a malformed one itself */
	if (n > req->limit) {
		req->too_big = true;
	} else if (!body_reserve(req, (size_t)n + 1)) {
		counters_add("upload_busy");
		busy(&req->resp);
	} else {
		req->expect = (size_t)n;
	}
}

static struct http_req *req_new(struct listener *ls,
				struct MHD_Connection *conn, const char *method,
				const char *url)
{
	struct http_req *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->h = ls->h;
	req->ls = ls;
	req->conn = conn;
	req->local = ls->local;
	snprintf(req->method, sizeof(req->method), "%s", method);
	req->path = strdup(url);
	note_peer(req);
	bool wrong = false;
	req->route = find_route(ls->h, method, url, &wrong);
	req->limit = req->route && (req->route->flags & HTTP_BIG_BODY)
			 ? BIG_BODY
			 : SMALL_BODY;
	if (!req->route)
		http_error(&req->resp, wrong ? 405 : 404,
			   wrong ? "method not allowed" : "not found");
	else if (req->route->required) {
		const char *v = MHD_lookup_connection_value(
		    conn, MHD_HEADER_KIND, req->route->required);
		if (!v || !*v) {
			char msg[160];
			snprintf(msg, sizeof(msg), "missing %s",
				 req->route->required);
			http_error(&req->resp, 401, msg);
		}
	}
	if (!req->resp.status)
		check_length(req);
	return req;
}

/* Doubling, but never past the announced length or the route's limit. */
static size_t body_cap(const struct http_req *req, size_t need)
{
	size_t cap = need * 2;

	if (req->expect && cap > req->expect + 1)
		cap = req->expect + 1;
	if (cap > req->limit + 1)
		cap = req->limit + 1;
	return cap < need ? need : cap;
}

static void append_body(struct http_req *req, const char *data, size_t n)
{
	if (req->no_room)
		return;
	if (req->too_big || req->len + n > req->limit) {
		req->too_big = true;
		return;
	}
	if (req->len + n + 1 > req->cap) {
		size_t cap = body_cap(req, req->len + n + 1);
		if (!body_reserve(req, cap)) {
			req->no_room = true; /* dropped; answered 503 */
			free(req->body);
			req->body = NULL;
			req->len = req->cap = 0;
			return;
		}
		char *p = realloc(req->body, cap);
		if (!p) {
			req->too_big = true;
			return;
		}
		req->body = p;
		req->cap = cap;
	}
	memcpy(req->body + req->len, data, n);
	req->len += n;
	req->body[req->len] = '\0';
}

static bool authorised(struct http_req *req)
{
	if (req->local || (req->route->flags & HTTP_PUBLIC))
		return true;
	if (!req->h->auth) {
		http_error(&req->resp, 401, "login required");
		return false;
	}
	return req->h->auth(req->h->auth_ud, req, &req->resp);
}

static enum MHD_Result dispatch(struct http_req *req)
{
	if (req->resp.status || req->answered)
		return queue(req);
	if (req->too_big) {
		http_error(&req->resp, 413, "request body too large");
		return queue(req);
	}
	if (req->no_room) {
		counters_add("upload_busy");
		busy(&req->resp);
		return queue(req);
	}
	if (!authorised(req))
		return queue(req);
	if (req->route->fn(req->route->ud, req, &req->resp) == HTTP_SUSPEND) {
		req->suspended = true;
		http_guard_busy(req->conn);
		MHD_suspend_connection(req->conn);
		return MHD_YES;
	}
	return queue(req);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *data,
				  size_t *data_size, void **con_cls)
{
	struct listener *ls = cls;
	struct http_req *req = *con_cls;

	if (!req) {
		http_guard_head(conn);
		req = req_new(ls, conn, method, url);
		*con_cls = req;
		if (req && req->resp.status)
			return queue(req); /* refused before its body is read */
		return req ? MHD_YES : MHD_NO;
	}
	if (*data_size) {
		append_body(req, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	if (req->suspended) {
		/* Resumed: the handler has filled resp by now. */
		req->suspended = false;
		return queue(req);
	}
	return dispatch(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_req *req = *con_cls;

	http_guard_idle(conn);
	if (!req)
		return;
	req->h->body_used -= req->reserved;
	resp_clear(&req->resp);
	free(req->body);
	free(req->path);
	free(req);
	*con_cls = NULL;
}

void http_resume(struct http_req *req, struct http_resp *resp)
{
	resp_clear(&req->resp);
	req->resp = *resp;
	memset(resp, 0, sizeof(*resp));
	MHD_resume_connection(req->conn);
	/* No fd becomes readable on resume (no ITC in external epoll mode),
	 * so the next loop iteration must run MHD itself. */
	req->ls->kick = true;
}

/* ---- listeners in the loop --------------------------------------------- */

static void on_readable(struct loop *l, int fd, short revents, void *arg)
{
	struct listener *ls = arg;

	MHD_run(ls->d);
}

static uint64_t prepare(struct loop *l, void *arg)
{
	struct listener *ls = arg;
	MHD_UNSIGNED_LONG_LONG t;

	if (ls->kick)
		return loop_now_ms();
	if (MHD_get_timeout(ls->d, &t) != MHD_YES)
		return UINT64_MAX;
	return loop_now_ms() + t;
}

static void on_deadline(struct loop *l, void *arg)
{
	struct listener *ls = arg;

	ls->kick = false;
	MHD_run(ls->d);
}

/* per_address: libmicrohttpd accepts and at once closes a connection
 * from an address that already holds that many, so one client (however
 * slow its sockets) cannot take the CONNECTION_LIMIT from the others.
 * CONNECTION_TIMEOUT is only the idle limit of a response being sent:
 * the request's own deadlines are http_guard's. */
static int listener_start(struct http *h, struct listener *ls, int listen_fd,
			  unsigned per_address, char *err, size_t errlen)
{
	ls->h = h;
	ls->d = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
	    NULL, NULL, on_request, ls, MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, ls,
	    MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, h->guard,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address, MHD_OPTION_END);
	if (!ls->d) {
		snprintf(err, errlen, "libmicrohttpd failed to start");
		close(listen_fd);
		return -1;
	}
	const union MHD_DaemonInfo *di =
	    MHD_get_daemon_info(ls->d, MHD_DAEMON_INFO_EPOLL_FD);
	ls->fd = di->epoll_fd;
	loop_fd_add(h->loop, ls->fd, POLLIN, on_readable, ls);
	loop_prepare_add(h->loop, prepare, on_deadline, ls);
	return 0;
}

static int tcp_socket(const char *listen_addr, int *port, char *err,
		      size_t errlen)
{
	char host[128];
	const char *colon = strrchr(listen_addr, ':');
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
			*ai = NULL;

	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen_addr),
		 listen_addr);
	if (getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai) != 0) {
		snprintf(err, errlen, "[http] listen %s: cannot resolve",
			 listen_addr);
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* A deep accept queue: under a flood of connects the kernel completes
	 * them all, and libmicrohttpd takes each and closes those over the
	 * per-address limit at once. With a short queue the rest wait in SYN
	 * retries (up to 127 s), and so do the real clients among them. */
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "[http] listen %s: %s", listen_addr,
			 strerror(errno));
		freeaddrinfo(ai);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port = ntohs(ss.ss_family == AF_INET6
			  ? ((struct sockaddr_in6 *)&ss)->sin6_port
			  : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static int unix_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "[http] socket %s: path too long", path);
		goto fail;
	}
	strcpy(sa.sun_path, path);
	unlink(path); /* a stale socket from a killed daemon */
	mode_t old = umask(0117);
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(fd, 16) < 0) {
		snprintf(err, errlen, "[http] socket %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

struct http *http_new(struct loop *l, const char *listen_addr, const char *sock,
		      const struct http_limits *lim, char *err, size_t errlen)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->loop = l;
	h->unix_.local = true;
	h->body_budget = lim->upload_memory;
	h->guard = http_guard_new(l, lim->head_s, lim->request_s);
	if (!h->guard) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (listen_addr && *listen_addr) {
		int fd = tcp_socket(listen_addr, &h->port, err, errlen);
		if (fd < 0 || listener_start(h, &h->tcp, fd, lim->per_address,
					     err, errlen))
			goto fail;
	}
	if (sock && *sock) {
		int fd = unix_socket(sock, err, errlen);
		if (fd < 0 || listener_start(h, &h->unix_, fd, 0, err, errlen))
			goto fail;
		h->sock_path = strdup(sock);
	}
	return h;
fail:
	http_free(h);
	return NULL;
}

static void listener_stop(struct http *h, struct listener *ls)
{
	if (!ls->d)
		return;
	/* Requests answered while the features closed (logins, webhooks
	 * answered 503) get their answer sent, as far as the socket takes it
	 * at once, instead of a closed connection. */
	if (ls->kick)
		MHD_run(ls->d);
	loop_fd_del(h->loop, ls->fd);
	loop_prepare_del(h->loop, prepare, ls);
	MHD_stop_daemon(ls->d);
	ls->d = NULL;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	/* libmicrohttpd aborts when stopped with a suspended connection:
	 * wake every sleeping stream; stopping then closes them. */
	h->stopping = true;
	for (struct http_stream *s = h->streams; s; s = s->next)
		http_stream_wake(s);
	listener_stop(h, &h->tcp);
	listener_stop(h, &h->unix_);
	http_guard_free(h->guard);
	if (h->sock_path)
		unlink(h->sock_path);
	for (size_t i = 0; i < h->nroutes; i++) {
		free(h->routes[i].path);
		free(h->routes[i].required);
	}
	free(h->routes);
	free(h->sock_path);
	free(h);
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_reply_json(struct http_resp *resp, int status, json_t *j)
{
	http_json(resp, status, j ? json_dumps(j, JSON_COMPACT) : NULL);
	json_decref(j);
}
