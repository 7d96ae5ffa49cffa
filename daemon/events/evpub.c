/* The MQTT publisher of the event log, driven by the daemon's poll loop. */
#include "evpub.h"

#include <jansson.h>
#include <mosquitto.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "log.h"
#include "loop.h"

#define EVPUB_WINDOW_MAX	 256
#define EVPUB_CONNECT_TIMEOUT_MS 30000
#define EVPUB_MISC_MS		 1000

struct slot {
	int mid;
	bool done;
};

struct evpub {
	struct loop *loop;
	struct store *st;
	struct mosquitto *mosq;
	char *host, *office, *user, *pass, *cafile, *certfile, *keyfile;
	char topic[160];
	int port, keepalive, window, retry_max_ms, retry_ms;
	int fd;
	bool connected, lost;
	uint64_t retry_timer, connect_deadline;
	int64_t acked; /* watermark: everything <= acked has a PUBACK */
	int64_t sent;  /* highest seq published on this connection */
	bool acked_dirty;
	struct slot slots[EVPUB_WINDOW_MAX]; /* seq % window -> its PUBACK */
	uint64_t n_acks, n_connects;
};

static void start_connect(struct evpub *p);

bool evpub_office_ok(const char *office)
{
	size_t n = office ? strlen(office) : 0;

	if (n == 0 || n > 64)
		return false;
	/* No '/', '+' or '#': the id is one topic level (MQTT 3.1.1 4.7). */
	for (size_t i = 0; i < n; i++) {
		char c = office[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* The wire format, one JSON object per event; see hub/README.md. */
static char *payload(const struct evpub *p, const struct store_event *ev)
{
	json_t *o = json_pack(
	    "{s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:I, s:I}", "office",
	    p->office, "seq", (json_int_t)ev->seq, "at", (json_int_t)ev->at_ms,
	    "kind", store_events_kind_name(ev->kind), "channel", ev->channel,
	    "category", ev->category, "ticket", ev->ticket, "due",
	    (json_int_t)ev->due_ms, "value", (json_int_t)ev->value);
	char *s;

	if (!o)
		return NULL;
	if (ev->detail[0])
		json_object_set_new(o, "detail", json_string(ev->detail));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static int publish_one(struct evpub *p, const struct store_event *ev)
{
	char *s = payload(p, ev);
	int mid = 0, rc;

	if (!s)
		return -1;
	rc = mosquitto_publish(p->mosq, &mid, p->topic, (int)strlen(s), s, 1,
			       false);
	free(s);
	if (rc != MOSQ_ERR_SUCCESS)
		return -1;
	p->slots[ev->seq % p->window] = (struct slot){.mid = mid};
	p->sent = ev->seq;
	return 0;
}

/* Fills the window with the next events, oldest first. */
static void pump(struct evpub *p)
{
	struct store_event evs[32];

	while (p->connected && !p->lost && p->sent - p->acked < p->window) {
		int room = p->window - (int)(p->sent - p->acked);
		int n = store_events_read(p->st, p->sent, evs,
					  room < 32 ? room : 32);

		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			if (publish_one(p, &evs[i]) != 0) {
				p->lost = true;
				return;
			}
	}
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct evpub *p = arg;

	if (rc != 0) {
		log_msg(LOG_WARN, "events: broker refused the connection: %s",
			mosquitto_connack_string(rc));
		p->lost = true;
		return;
	}
	p->connected = true;
	p->n_connects++;
	counters_add("events_broker_connects");
	p->retry_ms = 0;
	p->sent = p->acked;
	log_msg(LOG_INFO, "events: connected, resending from %lld",
		(long long)p->acked + 1);
}

static void on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct evpub *p = arg;

	for (int64_t s = p->acked + 1; s <= p->sent; s++)
		if (p->slots[s % p->window].mid == mid)
			p->slots[s % p->window].done = true;
	/* QoS 1 PUBACKs come in order on one connection, but move the
	 * watermark only over a contiguous run to be safe. */
	while (p->acked < p->sent &&
	       p->slots[(p->acked + 1) % p->window].done) {
		p->slots[(p->acked + 1) % p->window].done = false;
		p->acked++;
		p->acked_dirty = true;
		p->n_acks++;
		counters_add("events_acked"); /* on /metrics */
	}
}

static void on_disconnect(struct mosquitto *m, void *arg, int rc)
{
	struct evpub *p = arg;

	p->lost = true;
}

static void save_acked(struct evpub *p)
{
	if (p->acked_dirty && store_events_set_acked(p->st, p->acked) == 0)
		p->acked_dirty = false;
}

/* Drops the connection and its library state (so no stale message ids
 * survive into the next session) and schedules a reconnect. */
static void retry_cb(struct loop *l, void *arg)
{
	struct evpub *p = arg;

	p->retry_timer = 0;
	start_connect(p);
}

static void drop(struct evpub *p)
{
	if (p->fd >= 0)
		loop_fd_del(p->loop, p->fd);
	p->fd = -1;
	if (p->mosq)
		mosquitto_destroy(p->mosq);
	p->mosq = NULL;
	if (p->connected)
		log_msg(LOG_WARN, "events: connection to the broker lost");
	p->connected = false;
	p->lost = false;
	p->sent = p->acked;
	p->retry_ms = p->retry_ms ? p->retry_ms * 2 : 500;
	if (p->retry_ms > p->retry_max_ms)
		p->retry_ms = p->retry_max_ms;
	p->retry_timer =
	    loop_timer_add(p->loop, (uint64_t)p->retry_ms, retry_cb, p);
}

static void after_io(struct evpub *p)
{
	save_acked(p);
	if (p->lost || (p->mosq && mosquitto_socket(p->mosq) != p->fd))
		drop(p);
	else
		pump(p);
}

static void fd_cb(struct loop *l, int fd, short revents, void *arg)
{
	struct evpub *p = arg;
	int rc = MOSQ_ERR_SUCCESS;

	if (revents & (POLLIN | POLLHUP | POLLERR))
		rc = mosquitto_loop_read(p->mosq, 1);
	if (rc == MOSQ_ERR_SUCCESS && p->mosq && (revents & POLLOUT))
		rc = mosquitto_loop_write(p->mosq, 1);
	if (rc != MOSQ_ERR_SUCCESS)
		p->lost = true;
	after_io(p);
}

static uint64_t prepare_cb(struct loop *l, void *arg)
{
	struct evpub *p = arg;

	if (p->fd < 0)
		return UINT64_MAX;
	loop_fd_events(l, p->fd,
		       POLLIN | (mosquitto_want_write(p->mosq) ? POLLOUT : 0));
	return loop_now_ms() + EVPUB_MISC_MS;
}

/* Keepalive PINGREQ and the connect timeout, once a second. */
static void dispatch_cb(struct loop *l, void *arg)
{
	struct evpub *p = arg;

	if (p->fd < 0)
		return;
	if (mosquitto_loop_misc(p->mosq) != MOSQ_ERR_SUCCESS)
		p->lost = true;
	if (!p->connected && loop_now_ms() > p->connect_deadline)
		p->lost = true;
	after_io(p);
}

static int configure(struct evpub *p)
{
	p->mosq = mosquitto_new(NULL, true, p);
	if (!p->mosq)
		return -1;
	mosquitto_connect_callback_set(p->mosq, on_connect);
	mosquitto_publish_callback_set(p->mosq, on_publish);
	mosquitto_disconnect_callback_set(p->mosq, on_disconnect);
	mosquitto_max_inflight_messages_set(p->mosq, (unsigned)p->window);
	if (p->user &&
	    mosquitto_username_pw_set(p->mosq, p->user, p->pass) != 0)
		return -1;
	if (p->cafile && mosquitto_tls_set(p->mosq, p->cafile, NULL,
					   p->certfile, p->keyfile, NULL) != 0)
		return -1;
	return 0;
}

static void start_connect(struct evpub *p)
{
	int rc;

	if (configure(p) != 0) {
		drop(p);
		return;
	}
	rc = mosquitto_connect_async(p->mosq, p->host, p->port, p->keepalive);
	p->fd = mosquitto_socket(p->mosq);
	if ((rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_CONN_PENDING) ||
	    p->fd < 0 ||
	    loop_fd_add(p->loop, p->fd, POLLIN | POLLOUT, fd_cb, p)) {
		p->fd = -1;
		drop(p);
		return;
	}
	p->connect_deadline = loop_now_ms() + EVPUB_CONNECT_TIMEOUT_MS;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

struct evpub *evpub_new(struct loop *l, struct store *st,
			const struct evpub_config *c)
{
	struct evpub *p;

	if (!evpub_office_ok(c->office) || !c->host || c->port <= 0)
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	mosquitto_lib_init();
	p->loop = l;
	p->st = st;
	p->fd = -1;
	p->host = strdup(c->host);
	p->office = strdup(c->office);
	p->user = dup_or_null(c->username);
	p->pass = dup_or_null(c->password);
	p->cafile = dup_or_null(c->cafile);
	p->certfile = dup_or_null(c->certfile);
	p->keyfile = dup_or_null(c->keyfile);
	p->port = c->port;
	p->keepalive = c->keepalive_s > 0 ? c->keepalive_s : 60;
	p->window =
	    c->window > 0 && c->window <= EVPUB_WINDOW_MAX ? c->window : 64;
	p->retry_max_ms = c->retry_max_ms > 0 ? c->retry_max_ms : 30000;
	snprintf(p->topic, sizeof p->topic, "%s/%s/events",
		 c->topic_prefix ? c->topic_prefix : "simpul", c->office);
	p->acked = store_events_acked(st);
	p->sent = p->acked;
	if (p->acked < 0 ||
	    loop_prepare_add(l, prepare_cb, dispatch_cb, p) != 0) {
		evpub_free(p);
		return NULL;
	}
	start_connect(p);
	return p;
}

void evpub_free(struct evpub *p)
{
	if (!p)
		return;
	save_acked(p);
	loop_prepare_del(p->loop, prepare_cb, p);
	if (p->retry_timer)
		loop_timer_cancel(p->loop, p->retry_timer);
	if (p->fd >= 0)
		loop_fd_del(p->loop, p->fd);
	if (p->mosq) {
		mosquitto_disconnect(p->mosq);
		mosquitto_destroy(p->mosq);
	}
	free(p->host);
	free(p->office);
	free(p->user);
	free(p->pass);
	free(p->cafile);
	free(p->certfile);
	free(p->keyfile);
	free(p);
	mosquitto_lib_cleanup();
}

void evpub_kick(struct evpub *p)
{
	pump(p);
}

bool evpub_connected(const struct evpub *p)
{
	return p->connected;
}

uint64_t evpub_acks(const struct evpub *p)
{
	return p->n_acks;
}

uint64_t evpub_connects(const struct evpub *p)
{
	return p->n_connects;
}
