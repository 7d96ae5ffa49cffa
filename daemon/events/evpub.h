/* evpub: sends the event log to an MQTT broker from inside the poll loop.
 *
 * QoS 1 (MQTT 3.1.1 section 4.3.2): an event counts as delivered only when
 * the broker's PUBACK for it has arrived; the watermark of acknowledged
 * events is kept in the store (store_events_set_acked), so after a restart or a
 * week offline the backlog goes out in order from the first unacknowledged
 * event. A few events may be sent twice (those in flight when the link
 * dropped); the hub stores each (office, seq) once.
 *
 * libmosquitto runs without its thread: its socket sits in our loop and is
 * driven with mosquitto_loop_read/write/misc; connecting is asynchronous.
 * Only the broker's name lookup (getaddrinfo inside libmosquitto) can block,
 * so configure the broker as an address or a name in /etc/hosts. */
#ifndef SIMPUL_EVPUB_H
#define SIMPUL_EVPUB_H

#include <stdbool.h>
#include <stdint.h>

#include "store_events.h"

struct loop;

struct evpub_config {
	const char *host;
	int port;	      /* 1883, or 8883 with TLS */
	const char *office;   /* office id: [a-z0-9._-], 1-64 chars */
	const char *username; /* per-office credentials, or NULL */
	const char *password;
	const char *cafile;   /* TLS when set */
	const char *certfile; /* client certificate, optional */
	const char *keyfile;
	const char *topic_prefix; /* "simpul" if NULL */
	int keepalive_s;	  /* 60 if 0 */
	int window;		  /* events in flight, 64 if 0 */
	int retry_max_ms;	  /* reconnect back-off ceiling, 30000 if 0 */
};

struct evpub;

/* Copies what it needs from c; connects at once. NULL on a bad config. */
struct evpub *evpub_new(struct loop *l, struct store *st,
			const struct evpub_config *c);
void evpub_free(struct evpub *p);

/* New events were appended: send them if connected. */
void evpub_kick(struct evpub *p);

bool evpub_connected(const struct evpub *p);
/* Counters for ops: PUBACKs seen and connections made. */
uint64_t evpub_acks(const struct evpub *p);
uint64_t evpub_connects(const struct evpub *p);

/* True for a usable office id (also a safe MQTT topic level). */
bool evpub_office_ok(const char *office);

#endif
