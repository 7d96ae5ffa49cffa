/* store_rt: the store's part for the Ketua RT confirmation workflow
 * (daemon/rt.c): requests, their state and an audit trail of every step.
 * Same module as store.c (SQL stays inside store*.c). */
#ifndef SIMPUL_STORE_RT_H
#define SIMPUL_STORE_RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"

/* Request states, as stored. Only "menunggu" is open. */
#define STORE_RT_OPEN "menunggu"

struct store_rt_req {
	int64_t id, conversation_id, contact_id;
	char service[32];
	char rt[8], rw[8]; /* "03", "05" ("" when no RW) */
	char head_name[64];
	char head_phone[24];  /* E.164 */
	char code[8];	      /* six digits */
	char state[16];	      /* menunggu|disetujui|ditolak|kedaluwarsa|batal */
	char reason[200];     /* the head's reason for TIDAK */
	char answer_raw[320]; /* the head's reply as received */
	char answered_by[24]; /* E.164 of who answered */
	char created_by[64];  /* staff user, "rule:<name>" or "simpulctl" */
	int64_t created_at, answered_at, remind_at, expire_at, reminded_at,
	    closed_at;
};

/* Inserts an open request (id, state and the times after created_at are
 * ignored). Returns the id; STORE_DUP (as -STORE_DUP) when the code is
 * already used by an open request; -1 on error. */
int64_t store_rt_insert(struct store *st, const struct store_rt_req *r);
int store_rt_get(struct store *st, int64_t id, struct store_rt_req *out);
bool store_rt_code_open(struct store *st, const char *code);
/* The open request of a conversation: STORE_OK or STORE_NOTFOUND. */
int store_rt_open_for_conversation(struct store *st, int64_t conversation_id,
				   struct store_rt_req *out);
/* Open requests of a head (E.164), oldest first; returns how many (up to
 * max are filled), -1 on error. */
int store_rt_open_by_head(struct store *st, const char *head_phone,
			  struct store_rt_req *out, int max);
/* The newest request with that code, any state: STORE_OK/NOTFOUND. */
int store_rt_by_code(struct store *st, const char *code,
		     struct store_rt_req *out);
/* Closes an open request: STORE_NOTFOUND when it was not open any more. */
int store_rt_close(struct store *st, int64_t id, const char *state,
		   const char *reason, const char *raw, const char *by,
		   int64_t now_ms);
int store_rt_set_reminded(struct store *st, int64_t id, int64_t now_ms);
/* Open requests whose reminder (not yet sent) or expiry is due at now;
 * returns how many (up to max filled), -1 on error. */
int store_rt_due(struct store *st, int64_t now_ms, struct store_rt_req *out,
		 int max);
/* The earliest reminder or expiry of an open request, or INT64_MAX. */
int64_t store_rt_next_due(struct store *st);
/* One line of the audit trail (request_id 0: not tied to a request). */
int store_rt_log(struct store *st, int64_t request_id, const char *event,
		 const char *actor, const char *detail, int64_t now_ms);
/* How many answers from actor since since_ms were refused (a wrong code
 * from a head, any code from a number that is not a head's). */
int store_rt_refused_since(struct store *st, const char *actor,
			   int64_t since_ms);
/* [{id, conversation, service, rt, rw, head_name, head_phone, code,
 * state, reason, answer_raw, answered_by, answered_at, created_by,
 * created_at, remind_at, expire_at, reminded_at, closed_at, ticket}],
 * newest first; *_at as ISO 8601 plus *_ms. open_only: state menunggu. */
json_t *store_rt_json(struct store *st, bool open_only, int64_t conversation_id,
		      int tz_offset_s);
/* The audit trail of a request, oldest first. */
json_t *store_rt_log_json(struct store *st, int64_t request_id,
			  int tz_offset_s);

#endif
