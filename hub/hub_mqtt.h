/* hub_mqtt: the hub's MQTT subscriber. By default it subscribes to
 * "simpul/+/events" with a persistent session, so the broker keeps every
 * event for it while it is away, also across a broker restart. Several
 * hubs can then run side by side, each storing everything once (the
 * insert is idempotent). With a group set it joins a shared subscription
 * instead (MQTT 5 section 4.8.2, "$share/GROUP/simpul/+/events"), so the
 * hubs split the load; but mosquitto 2.0.11 drops what arrives for a shared
 * subscription between a broker restart and a member's reconnect (seen in
 * tests/integration/test_hub.py), so use that only where the broker keeps
 * shared sessions (see hub/README.md). Events are written to PostgreSQL in
 * batches, in arrival order. */
#ifndef SIMPUL_HUB_MQTT_H
#define SIMPUL_HUB_MQTT_H

#include <libpq-fe.h>
#include <signal.h>
#include <stdatomic.h>

struct hub_mqtt_config {
	const char *host;
	int port;
	const char *username, *password, *cafile;
	const char *client_id; /* unique per hub; the session persists */
	const char *group;     /* shared subscription group, or NULL */
	const char *topic_prefix;
	/* Set to 1 once the broker confirmed the subscription (SUBACK), from
	 * then on the broker keeps this hub's events; /healthz reports it. */
	atomic_int *subscribed;
};

/* Runs until *stop is set; returns 0, or -1 if it could not start. */
int hub_mqtt_run(const struct hub_mqtt_config *c, PGconn *db,
		 volatile sig_atomic_t *stop);

#endif
