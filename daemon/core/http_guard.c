/* http_guard: every open TCP connection in a list, swept once a second
 * while there are any (a few hundred at most: the connection limit). */
#include "http_guard.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "counters.h"
#include "loop.h"

enum conn_state { C_HEAD, C_BODY, C_BUSY };

struct conn {
	struct conn *prev, *next;
	struct MHD_Connection *mc;
	enum conn_state state;
	uint64_t since; /* monotonic ms: connect, or the last answer's end */
	bool shut;
};

struct http_guard {
	struct loop *loop;
	uint64_t head_ms, request_ms;
	struct conn *conns;
	uint64_t timer;
};

#define SWEEP_MS 1000

static void sweep(struct loop *l, void *arg);

static void arm(struct http_guard *g)
{
	if (!g->timer && g->conns)
		g->timer = loop_timer_add(g->loop, SWEEP_MS, sweep, g);
}

static bool late(const struct http_guard *g, const struct conn *c, uint64_t now)
{
	if (c->shut || c->state == C_BUSY)
		return false;
	return now - c->since >
	       (c->state == C_HEAD ? g->head_ms : g->request_ms);
}

/* shutdown(), not close(): the fd stays libmicrohttpd's, which sees the
 * end of the stream at its next run (the socket wakes its epoll fd) and
 * closes the connection itself. */
static void cut(struct conn *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c->mc, MHD_CONNECTION_INFO_CONNECTION_FD);

	c->shut = true;
	if (ci)
		shutdown(ci->connect_fd, SHUT_RDWR);
	counters_add("http_deadline");
}

static void sweep(struct loop *l, void *arg)
{
	struct http_guard *g = arg;
	uint64_t now = loop_now_ms();

	(void)l;
	g->timer = 0;
	for (struct conn *c = g->conns; c; c = c->next)
		if (late(g, c, now))
			cut(c);
	arm(g);
}

static struct conn *conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void conn_start(struct http_guard *g, struct MHD_Connection *mc,
		       void **socket_context)
{
	struct conn *c = calloc(1, sizeof(*c));

	*socket_context = c;
	if (!c)
		return; /* unguarded: MHD's own timeout still applies */
	*c = (struct conn){.mc = mc,
			   .state = C_HEAD,
			   .since = loop_now_ms(),
			   .next = g->conns};
	if (c->next)
		c->next->prev = c;
	g->conns = c;
	arm(g);
}

static void conn_end(struct http_guard *g, struct conn *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		g->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

void http_guard_notify(void *cls, struct MHD_Connection *mc,
		       void **socket_context,
		       enum MHD_ConnectionNotificationCode code)
{
	struct http_guard *g = cls;

	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		conn_start(g, mc, socket_context);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		conn_end(g, *socket_context);
}

static void set_state(struct MHD_Connection *mc, enum conn_state s,
		      bool restart)
{
	struct conn *c = conn_of(mc);

	if (!c)
		return;
	c->state = s;
	if (restart)
		c->since = loop_now_ms();
}

void http_guard_head(struct MHD_Connection *mc)
{
	set_state(mc, C_BODY, false);
}

void http_guard_busy(struct MHD_Connection *mc)
{
	set_state(mc, C_BUSY, false);
}

void http_guard_idle(struct MHD_Connection *mc)
{
	set_state(mc, C_HEAD, true);
}

struct http_guard *http_guard_new(struct loop *l, unsigned head_s,
				  unsigned request_s)
{
	struct http_guard *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->loop = l;
	g->head_ms = (uint64_t)head_s * 1000;
	g->request_ms = (uint64_t)request_s * 1000;
	return g;
}

void http_guard_free(struct http_guard *g)
{
	if (!g)
		return;
	if (g->timer)
		loop_timer_cancel(g->loop, g->timer);
	while (g->conns)
		conn_end(g, g->conns);
	free(g);
}
