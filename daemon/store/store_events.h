/* store_events: the office's ordered, idempotent event log for the city
 * hub (issue 20; the publisher is daemon/events/evpub.c).
 *
 * Every event gets the next per-office sequence number (1, 2, 3, ...; never
 * reused, also not after pruning: AUTOINCREMENT) and waits in the store
 * until the broker has acknowledged it (MQTT 3.1.1 section 4.3.2, QoS 1
 * PUBACK). The hub stores (office, seq) once, so resending is harmless.
 *
 * Personal data stays on the Pi: the detail field (message text, phone
 * numbers) is dropped unless the caller passes allow_personal. */
#ifndef SIMPUL_STORE_EVENTS_H
#define SIMPUL_STORE_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Event kinds; the names are the wire format (store_events_kind_name). */
enum store_event_kind {
	STORE_EV_MSG_IN,
	STORE_EV_MSG_OUT,
	STORE_EV_TICKET_OPEN,
	STORE_EV_TICKET_CLOSE,
	STORE_EV_RT_REQUEST,
	STORE_EV_RT_ANSWER,
	STORE_EV_SLA_BREACH,
	STORE_EV_MODEM,
	STORE_EV_CREDIT,
	STORE_EV_KIND_COUNT
};

struct store_event {
	int64_t seq;   /* set by store_events_append */
	int64_t at_ms; /* wall clock, Unix ms */
	enum store_event_kind kind;
	char channel[16];  /* "sms", "whatsapp" or "" */
	char category[32]; /* rule category, modem state, ... */
	char ticket[32];   /* ticket number or "" */
	int64_t due_ms;	   /* ticket due date, 0 if none */
	int64_t value;	   /* credit in rupiah, RT answer delay in s, ... */
	char detail[256];  /* personal data; kept only with allow_personal */
};

const char *store_events_kind_name(enum store_event_kind kind);
/* Returns -1 for an unknown name. */
int store_events_kind_parse(const char *name);

/* Appends ev and sets ev->seq; STORE_OK or STORE_ERR. */
int store_events_append(struct store *st, struct store_event *ev,
			bool allow_personal);
/* Up to max events with seq > after, in order; returns how many, or -1. */
int store_events_read(struct store *st, int64_t after, struct store_event *out,
		      int max);
/* The highest seq the broker acknowledged with everything before it. */
int64_t store_events_acked(struct store *st);
/* Moves the watermark forward only; STORE_OK or STORE_ERR. */
int store_events_set_acked(struct store *st, int64_t seq);
/* The highest seq appended so far (0 for none). */
int64_t store_events_last(struct store *st);
/* Turns what happened since the last call into events, in one
 * transaction: new messages (msg_in/msg_out), tickets opened, closed or
 * past their due date (sla_breach), RT requests and answers; at most max
 * of each sort per call. Returns how many events were added, or -1. */
int store_events_capture(struct store *st, int64_t now_ms, bool allow_personal,
			 int max);
/* Drops acknowledged events older than before_ms; how many, or -1. */
int store_events_prune(struct store *st, int64_t before_ms);

#endif
