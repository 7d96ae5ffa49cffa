#include "sse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "loop.h"
#include "store_ui.h"

/* Coalesces the commits of one burst (a group commit of webhooks, an
 * outbox round) into one event. */
#define SSE_SETTLE_MS 50

struct client {
	struct sse *sse;
	struct http_stream *stream;
	struct client *prev, *next;
	int64_t sent_rev; /* -1: nothing sent yet */
	bool hello, beat;
};

struct sse {
	struct app *app;
	struct client *clients;
	int nclients;
	int64_t rev;
	uint64_t check_timer, beat_timer;
};

static void wake_all(struct sse *s)
{
	for (struct client *c = s->clients; c; c = c->next)
		http_stream_wake(c->stream);
}

static void on_beat(struct loop *l, void *arg)
{
	struct sse *s = arg;

	s->beat_timer = 0;
	if (!s->clients)
		return;
	for (struct client *c = s->clients; c; c = c->next)
		c->beat = true;
	wake_all(s);
	s->beat_timer = loop_timer_add(l, SSE_HEARTBEAT_MS, on_beat, s);
}

static void on_check(struct loop *l, void *arg)
{
	struct sse *s = arg;
	int64_t rev = store_ui_rev(s->app->st);

	s->check_timer = 0;
	if (rev != s->rev) {
		s->rev = rev;
		wake_all(s);
	}
}

/* Inside the store's commit: only note that something may have moved. */
static int on_commit(void *ud)
{
	struct sse *s = ud;

	if (s->clients && !s->check_timer)
		s->check_timer =
		    loop_timer_add(s->app->loop, SSE_SETTLE_MS, on_check, s);
	return 0;
}

static size_t fill(void *ud, char *buf, size_t max)
{
	struct client *c = ud;
	struct sse *s = c->sse;
	int n = 0;

	if (c->hello) {
		/* how soon the browser reconnects after the daemon restarts */
		n = snprintf(buf, max, "retry: 3000\n\n");
		c->hello = false;
	} else if (c->sent_rev != s->rev) {
		n = snprintf(
		    buf, max,
		    "id: %lld\nevent: change\ndata: {\"rev\":%lld}\n\n",
		    (long long)s->rev, (long long)s->rev);
		c->sent_rev = s->rev;
	} else if (c->beat) {
		n = snprintf(buf, max, ": hb\n\n");
		c->beat = false;
	}
	return n > 0 && (size_t)n < max ? (size_t)n : 0;
}

static void done(void *ud)
{
	struct client *c = ud;
	struct sse *s = c->sse;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nclients--;
	free(c);
	if (!s->clients && s->beat_timer) {
		loop_timer_cancel(s->app->loop, s->beat_timer);
		s->beat_timer = 0;
	}
}

static int get_events(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct sse *s = ud;
	struct client *c = calloc(1, sizeof(*c));
	const char *last = http_header(req, "Last-Event-ID");

	if (!c) {
		http_error(resp, 503, "out of memory");
		return HTTP_DONE;
	}
	s->rev = store_ui_rev(s->app->st);
	*c = (struct client){.sse = s, .hello = true, .sent_rev = -1};
	if (last && *last)
		c->sent_rev = strtoll(last, NULL, 10);
	c->stream = http_stream_start(req, resp, fill, done, c);
	if (!c->stream) {
		free(c);
		http_error(resp, 503, "out of memory");
		return HTTP_DONE;
	}
	resp->content_type = "text/event-stream";
	http_add_header(resp, "Cache-Control", "no-store");
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	s->clients = c;
	s->nclients++;
	if (!s->beat_timer)
		s->beat_timer =
		    loop_timer_add(s->app->loop, SSE_HEARTBEAT_MS, on_beat, s);
	return HTTP_DONE;
}

struct sse *sse_new(struct app *app)
{
	struct sse *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->app = app;
	s->rev = store_ui_rev(app->st);
	store_on_commit(app->st, on_commit, s);
	if (http_route(app->http, "GET", "/api/v1/events", 0, get_events, s)) {
		store_on_commit(app->st, NULL, NULL);
		free(s);
		return NULL;
	}
	return s;
}

void sse_free(struct sse *s)
{
	if (!s)
		return;
	store_on_commit(s->app->st, NULL, NULL);
	if (s->check_timer)
		loop_timer_cancel(s->app->loop, s->check_timer);
	if (s->beat_timer)
		loop_timer_cancel(s->app->loop, s->beat_timer);
	/* streams still open (MHD stopped without closing them): unlink */
	while (s->clients) {
		struct client *c = s->clients;
		s->clients = c->next;
		free(c);
	}
	free(s);
}

int sse_clients(const struct sse *s)
{
	return s ? s->nclients : 0;
}
