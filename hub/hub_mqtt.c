/* The subscriber. Runs on the hub's main thread with libmosquitto's own
 * blocking loop: the hub does nothing else on this thread (the dashboard
 * has its own), so waiting on the broker or on PostgreSQL here is fine. */
#include "hub_mqtt.h"

#include <jansson.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hub_db.h"
#include "hub_log.h"

#define BATCH_MAX    512
#define BATCH_AGE_MS 100

struct sub {
	const struct hub_mqtt_config *c;
	PGconn *db;
	volatile sig_atomic_t *stop;
	char filter[192];
	struct hub_event batch[BATCH_MAX];
	int n;
	int64_t first_ms;
	uint64_t got, stored, bad;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void clear_batch(struct sub *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->batch[i].detail);
	s->n = 0;
}

/* Stores the batch; while PostgreSQL is away it keeps the batch and
 * retries, and the broker holds everything after it (TCP back-pressure
 * and the session's queue). */
static void flush(struct sub *s)
{
	int added;

	while (s->n > 0 && (added = hub_db_insert(s->db, s->batch, s->n)) < 0) {
		if (*s->stop)
			return;
		sleep(1);
		hub_db_reset(s->db);
	}
	if (s->n > 0)
		s->stored += (uint64_t)added;
	clear_batch(s);
}

static void copy_str(char *dst, size_t n, json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	snprintf(dst, n, "%s", v ? v : "");
}

static int64_t get_int(json_t *o, const char *key)
{
	return (int64_t)json_integer_value(json_object_get(o, key));
}

/* The office in the topic must be the one in the payload: with a broker
 * ACL "pattern write simpul/%u/events" an office cannot write into
 * another office's stream. */
static bool topic_matches(const struct sub *s, const char *topic,
			  const char *office)
{
	char want[192];

	snprintf(want, sizeof want, "%s/%s/events", s->c->topic_prefix, office);
	return strcmp(topic, want) == 0;
}

static bool parse(struct sub *s, const struct mosquitto_message *m,
		  struct hub_event *e)
{
	json_t *o = json_loadb(m->payload, (size_t)m->payloadlen, 0, NULL);
	const char *detail;
	bool good;

	if (!o)
		return false;
	memset(e, 0, sizeof *e);
	copy_str(e->office, sizeof e->office, o, "office");
	copy_str(e->kind, sizeof e->kind, o, "kind");
	copy_str(e->channel, sizeof e->channel, o, "channel");
	copy_str(e->category, sizeof e->category, o, "category");
	copy_str(e->ticket, sizeof e->ticket, o, "ticket");
	e->seq = get_int(o, "seq");
	e->at_ms = get_int(o, "at");
	e->due_ms = get_int(o, "due");
	e->value = get_int(o, "value");
	detail = json_string_value(json_object_get(o, "detail"));
	e->detail = detail ? strdup(detail) : NULL;
	good = e->seq > 0 && e->kind[0] && e->office[0] &&
	       topic_matches(s, m->topic, e->office);
	json_decref(o);
	if (!good)
		free(e->detail);
	return good;
}

static void on_message(struct mosquitto *m, void *arg,
		       const struct mosquitto_message *msg)
{
	struct sub *s = arg;

	s->got++;
	if (!parse(s, msg, &s->batch[s->n])) {
		s->bad++;
		return;
	}
	if (s->n++ == 0)
		s->first_ms = now_ms();
	if (s->n == BATCH_MAX)
		flush(s);
}

static void on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct sub *s = arg;

	if (rc != 0) {
		hub_log("mqtt: broker refused: %s",
			mosquitto_connack_string(rc));
		return;
	}
	hub_log("mqtt: connected, subscribing to %s", s->filter);
	mosquitto_subscribe(m, NULL, s->filter, 1);
}

static void on_subscribe(struct mosquitto *m, void *arg, int mid, int n,
			 const int *granted)
{
	struct sub *s = arg;

	/* 0x80 in the SUBACK is a refusal (MQTT 3.1.1 section 3.9.3). */
	if (n == 1 && granted[0] == 1) {
		atomic_store(s->c->subscribed, 1);
		hub_log("mqtt: subscribed");
	} else {
		hub_log("mqtt: the broker refused the subscription");
	}
}

static struct mosquitto *make_client(struct sub *s)
{
	const struct hub_mqtt_config *c = s->c;
	/* clean_session false: while this hub is away the broker keeps its
	 * share of the events for it (mosquitto: persistence true and
	 * max_queued_messages 0, see hub/README.md). */
	struct mosquitto *m = mosquitto_new(c->client_id, false, s);

	if (!m)
		return NULL;
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_message_callback_set(m, on_message);
	mosquitto_subscribe_callback_set(m, on_subscribe);
	mosquitto_max_inflight_messages_set(m, 0);
	if ((c->username &&
	     mosquitto_username_pw_set(m, c->username, c->password)) ||
	    (c->cafile &&
	     mosquitto_tls_set(m, c->cafile, NULL, NULL, NULL, NULL))) {
		mosquitto_destroy(m);
		return NULL;
	}
	return m;
}

static void loop(struct sub *s, struct mosquitto *m)
{
	int backoff = 0, rc = mosquitto_connect(m, s->c->host, s->c->port, 30);

	while (!*s->stop) {
		uint64_t before = s->got;

		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop(m, BATCH_AGE_MS, 1);
		if (s->n > 0 && (s->got == before ||
				 now_ms() - s->first_ms >= BATCH_AGE_MS))
			flush(s);
		if (rc == MOSQ_ERR_SUCCESS) {
			backoff = 0;
			continue;
		}
		if (backoff == 0)
			hub_log("mqtt: not connected (%s), retrying",
				mosquitto_strerror(rc));
		backoff = backoff ? (backoff < 8 ? backoff * 2 : 8) : 1;
		for (int i = 0; i < backoff * 4 && !*s->stop; i++)
			usleep(250000);
		rc = mosquitto_reconnect(m);
	}
	flush(s);
}

int hub_mqtt_run(const struct hub_mqtt_config *c, PGconn *db,
		 volatile sig_atomic_t *stop)
{
	struct sub *s = calloc(1, sizeof *s);
	struct mosquitto *m;

	if (!s)
		return -1;
	s->c = c;
	s->db = db;
	s->stop = stop;
	if (c->group)
		snprintf(s->filter, sizeof s->filter, "$share/%s/%s/+/events",
			 c->group, c->topic_prefix);
	else
		snprintf(s->filter, sizeof s->filter, "%s/+/events",
			 c->topic_prefix);
	mosquitto_lib_init();
	m = make_client(s);
	if (!m) {
		free(s);
		return -1;
	}
	loop(s, m);
	hub_log("mqtt: %llu messages, %llu new events, %llu malformed",
		(unsigned long long)s->got, (unsigned long long)s->stored,
		(unsigned long long)s->bad);
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	free(s);
	return 0;
}
