/* curlm: libcurl's multi interface inside the simpuld poll loop.
 *
 * curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION ->
 * loop_fd_add/loop_fd_events/loop_fd_del) and when it next needs a call
 * (CURLMOPT_TIMERFUNCTION -> a loop timer); the loop hands readiness back
 * through curl_multi_socket_action(). No call here blocks, DNS included
 * (libcurl's threaded resolver). One callback per request, always called
 * exactly once, from the loop, never from inside curlm_request(). */
#ifndef SIMPUL_CURLM_H
#define SIMPUL_CURLM_H

#include <stddef.h>

struct loop;
struct curlm;

struct curlm_req {
	const char *method;	    /* "GET", "POST", ...; NULL: GET */
	const char *url;	    /* required */
	const char *const *headers; /* NULL-terminated, "Name: value" */
	const char *body;	    /* request body, may be NULL */
	size_t body_len;	    /* bytes of body */
	size_t max_response;	    /* 0: 1 MiB; larger answers fail */
	long timeout_ms;	    /* whole transfer; 0: 30 s */
	int follow_redirects;	    /* media URLs may redirect */
	/* Set for large downloads: the body of a 2xx answer goes here, piece
	 * by piece as it arrives, instead of into memory (res->body stays
	 * empty). Returns 0, or -1 to abort the transfer. max_response
	 * still bounds the whole body; any other answer is kept in memory
	 * as usual, up to 1 MiB. */
	int (*sink)(const void *data, size_t len, void *arg);
	void *sink_arg;
};

struct curlm_res {
	long status;	   /* HTTP status, 0 if no response */
	const char *body;  /* NUL-terminated, valid during the callback */
	size_t len;	   /* bytes of body (may contain NULs) */
	const char *error; /* NULL on a complete HTTP exchange (any status),
			    * else what failed: timeout, refused, too big... */
	const char *content_type; /* may be NULL */
	int too_large; /* the answer passed max_response (error says so) */
	int body_sent; /* the whole request went out: with an error, the
			* server may still have acted on it */

	size_t sunk;	 /* bytes handed to req->sink */
	int sink_failed; /* the sink returned -1 (error says so) */
};

typedef void (*curlm_done_cb)(const struct curlm_res *res, void *arg);

struct curlm *curlm_new(struct loop *l);
/* Cancels requests still under way; their callbacks run with error
 * "cancelled" (so callers free what they own) and must not start new
 * requests. */
void curlm_free(struct curlm *c);

/* Starts a request. 0, or -1 if it could not even be queued (bad
 * arguments, out of memory): then cb is not called. */
int curlm_request(struct curlm *c, const struct curlm_req *req,
		  curlm_done_cb cb, void *arg);
/* Requests under way. */
size_t curlm_pending(const struct curlm *c);

#endif
