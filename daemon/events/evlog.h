/* evlog: the office's ordered, idempotent event log for the city hub.
 *
 * Every event gets the next per-office sequence number (1, 2, 3, ...; never
 * reused, also not after pruning) and waits in SQLite until the broker has
 * acknowledged it (MQTT 3.1.1 section 4.3.2, QoS 1 PUBACK). The hub stores
 * (office, seq) once, so resending after a restart is harmless.
 *
 * Personal data stays on the Pi: the detail field (message text, phone
 * numbers) is dropped unless the log was opened with allow_personal. */
#ifndef SIMPUL_EVLOG_H
#define SIMPUL_EVLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

/* Event kinds; the names are the wire format (evlog_kind_name). */
enum evlog_kind {
	EVLOG_MSG_IN,
	EVLOG_MSG_OUT,
	EVLOG_TICKET_OPEN,
	EVLOG_TICKET_CLOSE,
	EVLOG_RT_REQUEST,
	EVLOG_RT_ANSWER,
	EVLOG_SLA_BREACH,
	EVLOG_MODEM,
	EVLOG_CREDIT,
	EVLOG_KIND_COUNT
};

struct evlog_event {
	int64_t seq;	      /* set by evlog_append */
	int64_t at_ms;	      /* wall clock, Unix ms */
	enum evlog_kind kind;
	char channel[16];     /* "sms", "wa" or "" */
	char category[32];    /* rule category, modem state, ... */
	char ticket[32];      /* ticket number or "" */
	int64_t due_ms;	      /* ticket due date, 0 if none */
	int64_t value;	      /* credit in rupiah, RT answer delay in s, ... */
	char detail[256];     /* personal data; kept only with allow_personal */
};

struct evlog;

/* Creates or migrates the evlog tables in db (which stays the caller's). */
struct evlog *evlog_open(sqlite3 *db, bool allow_personal);
void evlog_free(struct evlog *log);

const char *evlog_kind_name(enum evlog_kind kind);
/* Returns -1 for an unknown name. */
int evlog_kind_parse(const char *name);

/* Appends ev and sets ev->seq; returns 0, or -1 on a store error. */
int evlog_append(struct evlog *log, struct evlog_event *ev);

/* Up to max events with seq > after, in order; returns how many, or -1. */
int evlog_read(struct evlog *log, int64_t after, struct evlog_event *out,
	       int max);

/* The highest seq the broker acknowledged with everything before it. */
int64_t evlog_acked(struct evlog *log);
int evlog_set_acked(struct evlog *log, int64_t seq);
/* The highest seq appended so far (0 for none). */
int64_t evlog_last(struct evlog *log);

/* Drops acknowledged events older than before_ms; returns how many. */
int evlog_prune(struct evlog *log, int64_t before_ms);

#endif
