/* sms: the SMS channel. Ties the modem library to the inbox (each SMS
 * committed before the modem deletes it), joins concatenated SMS from
 * parts persisted in the store, feeds the outbox's SMS driver and maps
 * status reports to our messages. */
#ifndef SIMPUL_SMS_H
#define SIMPUL_SMS_H

#include <stdbool.h>

struct app;
struct sms;

struct sms *sms_new(struct app *app);
void sms_free(struct sms *s);
/* Applies a reloaded config (device, PIN, USSD...): reopens the modem
 * only if a modem setting changed. */
void sms_reconfigure(struct sms *s);
/* JSON-ready facts for status/doctor/metrics. */
const char *sms_state_name(const struct sms *s);
struct json_t;
struct json_t *sms_status_json(const struct sms *s);

#endif
