/* sse: live updates for the staff inbox as Server-Sent Events on
 * GET /api/v1/events. One stream per browser tab; each stream sleeps as a
 * suspended connection (http_stream) and is woken only when the store
 * commits a change the UI shows (the ui_rev counter moved) or for the
 * heartbeat every SSE_HEARTBEAT_MS, so idle tabs cost the Pi nothing.
 * Every event carries the revision as its id: a reconnecting EventSource
 * sends it back as Last-Event-ID and hears at once if it missed one. */
#ifndef SIMPUL_SSE_H
#define SIMPUL_SSE_H

#define SSE_HEARTBEAT_MS 25000

struct app;
struct sse;

/* Registers the route and the store's commit hook. */
struct sse *sse_new(struct app *app);
/* After http_free: the streams are gone by then. */
void sse_free(struct sse *s);
/* Open streams (for the tests and /metrics). */
int sse_clients(const struct sse *s);

#endif
