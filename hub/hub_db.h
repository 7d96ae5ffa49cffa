/* hub_db: the hub's PostgreSQL side (libpq): schema migrations, the
 * idempotent event insert, dashboard numbers, staff users and sessions. */
#ifndef SIMPUL_HUB_DB_H
#define SIMPUL_HUB_DB_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* One event as it arrived over MQTT (see daemon/events/evpub.c). */
struct hub_event {
	char office[65];
	int64_t seq, at_ms, due_ms, value;
	char kind[16], channel[16], category[32], ticket[32];
	char *detail; /* NULL unless the office sends personal data */
};

/* Dashboard numbers of one office. */
struct hub_stats {
	char office[65];
	int64_t events, last_seq, msg_in, msg_out, open, overdue, closed,
	    closed_ok, rt_req, rt_ans, rt_avg_s, breaches;
};

/* Connects and runs the missing migrations; NULL (and a log line) if not. */
PGconn *hub_db_open(const char *conninfo);

/* Reconnects after a lost connection; 0 when usable again. */
int hub_db_reset(PGconn *db);

/* Inserts n events in one transaction, in the given order; an event whose
 * (office, seq) is already stored is skipped. Returns how many were new,
 * or -1 (nothing stored) on a database error. */
int hub_db_insert(PGconn *db, const struct hub_event *evs, int n);

/* Fills up to max offices, ordered by office id; returns the count or -1. */
int hub_db_stats(PGconn *db, struct hub_stats *out, int max);

int hub_db_add_user(PGconn *db, const char *name, const char *hash);
/* Copies the stored hash of an enabled user; 0 if found, -1 if not. */
int hub_db_user_hash(PGconn *db, const char *name, char *hash, size_t n);
int hub_db_session_new(PGconn *db, const char *token_hash, const char *name,
		       int ttl_s);
/* 0 and the user's name if the session is valid, -1 if not. */
int hub_db_session_get(PGconn *db, const char *token_hash, char *name,
		       size_t n);
int hub_db_session_end(PGconn *db, const char *token_hash);

#endif
