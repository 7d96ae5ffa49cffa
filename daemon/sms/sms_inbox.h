/* sms_inbox: an SMS from the modem to the inbox (see sms_inbox.c).
 *
 * Source ids are hashes of what identifies one SMS on the network (sender,
 * SMSC time stamp, concatenation reference, part) plus its text, so a SIM
 * re-read after a crash stores nothing twice. An undecodable PDU is kept
 * as "[SMS tidak dapat dibaca]" with the reason. */
#ifndef SIMPUL_SMS_INBOX_H
#define SIMPUL_SMS_INBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct inbox;
struct store;
struct modem_sms;

/* Inside an inbox_begin() transaction: a whole SMS as a message, or a
 * part of a concatenated one persisted (TS 23.040 9.2.3.24.1) and, once
 * its group is complete, the joined message. 0, or -1 on a store error
 * (roll back and leave it on the SIM). */
int sms_inbox_add(struct inbox *ib, struct store *st, const struct modem_sms *p,
		  int64_t now_ms);
/* Stores the group of key as one message: when complete, or with force
 * (the part timeout) with "[...bagian hilang...]" where parts are
 * missing. 0 also when nothing is stored yet; -1 on a store error. */
int sms_inbox_assemble(struct inbox *ib, struct store *st, const char *key,
		       const char *sender, int total, bool force);

/* A source id: prefix and the hex of a hash of the formatted text (the
 * identity of one SMS, or of one missed call). */
void sms_inbox_hash_id(char *out, size_t outlen, const char *prefix,
		       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
