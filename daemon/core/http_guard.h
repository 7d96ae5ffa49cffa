/* http_guard: deadlines for a connection's request, so slow clients
 * (slowloris: a head sent one byte at a time, a body never finished)
 * cannot hold connections for ever. libmicrohttpd's own timeout restarts
 * on every byte received; these do not. A connection must bring its
 * request head within head_s, and its whole request (head and body)
 * within request_s, counted from its connect or from the end of its
 * previous answer; while it is answered (a suspended webhook, a
 * Server-Sent Events stream, a response being sent) no deadline runs.
 * A late connection is shut down and libmicrohttpd closes it. */
#ifndef SIMPUL_HTTP_GUARD_H
#define SIMPUL_HTTP_GUARD_H

#include <microhttpd.h>

struct loop;
struct http_guard;

struct http_guard *http_guard_new(struct loop *l, unsigned head_s,
				  unsigned request_s);
/* After MHD_stop_daemon (which reports every connection closed). */
void http_guard_free(struct http_guard *g);

/* MHD_OPTION_NOTIFY_CONNECTION, with the guard as its closure. */
void http_guard_notify(void *cls, struct MHD_Connection *c,
		       void **socket_context,
		       enum MHD_ConnectionNotificationCode code);
/* The request's head is in: the request deadline applies. */
void http_guard_head(struct MHD_Connection *c);
/* The request is in and being answered: no deadline. */
void http_guard_busy(struct MHD_Connection *c);
/* Answered: the next request's head is awaited from now. */
void http_guard_idle(struct MHD_Connection *c);

#endif
