/* triage: where a conversation goes after the rules saw a resident's
 * message. A question the rules answered in full ("jam buka?", "syarat
 * ktp") needs no clerk: the conversation becomes "otomatis" and leaves the
 * clerk's queue. It comes back as "baru" as soon as the resident writes
 * something the rules did not answer in full, or asks for a person ("mau
 * bicara dengan petugas", "tidak paham"). Conversations staff already
 * work on (diproses, menunggu_rt) are left alone. */
#ifndef SIMPUL_TRIAGE_H
#define SIMPUL_TRIAGE_H

#include <stdbool.h>

#include "inbox.h"
#include "rules.h"

/* res: what the rules decided, NULL when they did not look at the message
 * (a photo, our own number). 0, or -1 on a store error. */
int triage_after_rules(struct inbox_ctx *ctx, const struct rules_result *res);
/* The resident asks for a person, or says the answer did not help. */
bool triage_wants_person(const char *text);

#endif
