/* sms_call: missed calls (miskol) into the inbox. A call the modem hung up
 * (or the caller gave up) and an operator's missed-call notice SMS ("Anda
 * mendapat panggilan tak terjawab dari 0812...") both become one message
 * of kind "missed_call" on the caller's conversation, channel sms; the
 * reply, if any, is the auto-reply responder's (autoreply/ar_miskol.c).
 * A withheld number is recorded under MISSED_CALL_HIDDEN. */
#ifndef SIMPUL_SMS_CALL_H
#define SIMPUL_SMS_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MISSED_CALL_HIDDEN "TERSEMBUNYI"

struct inbox;
struct modem_ring;
struct modem_sms;

/* Stores the missed call in its own transaction. 0, or -1 (logged). */
int sms_call_missed(struct inbox *ib, const struct modem_ring *r,
		    int64_t now_ms);
/* Inside an inbox_begin() transaction: if p is an operator's missed-call
 * notice matching one of patterns ('|' separated, "" for the built-in
 * ones), stores the missed call for the real caller and returns 1; 0 when
 * it is not one; -1 on a store error. */
int sms_call_from_notice(struct inbox *ib, const char *patterns,
			 const struct modem_sms *p);
/* The number a notice names, or false: pattern matching alone, for tests
 * and `simpuld -n`. Patterns: literal text (case and runs of spaces
 * ignored) with {nomor} where the caller's number stands. */
bool sms_call_match(const char *patterns, const char *text, char *num,
		    size_t numlen);

#endif
