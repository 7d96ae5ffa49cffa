/* ar_miskol: the one SMS back for a missed call (kind "missed_call", see
 * sms/sms_call.h), under the rules' loop protection and budgets plus
 * [miskol] reply_hours: one missed-call reply per contact per that many
 * hours. Withheld numbers are never answered. */
#ifndef SIMPUL_AR_MISKOL_H
#define SIMPUL_AR_MISKOL_H

#include <stdbool.h>

struct app;
struct config;
struct diag;
struct inbox_ctx;
struct inbox_msg;
struct rules;

bool ar_miskol_is_call(const struct inbox_msg *m);
/* simpuld -n: an error if [miskol] reply is not a valid template (the
 * daemon then sends the default reply). */
void ar_miskol_check(const struct config *cfg, struct diag *d);
/* Inside the inbound transaction: queues the reply or logs why not.
 * Returns 1 (consumed: no rule answers a missed call), -1 on a store
 * error. */
int ar_miskol_respond(struct app *app, const struct rules *r,
		      struct inbox_ctx *ctx);

#endif
