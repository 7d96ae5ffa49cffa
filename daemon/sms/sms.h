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
/* The modem's facts for status, doctor and metrics, typed: state name
 * (modem_state_name), health (signal, registration, credit...) and the
 * last reason it recovered or went FATAL ("" if none). The pointers stay
 * valid until the next loop turn. */
struct modem_health;
struct sms_status {
	const char *state;
	const struct modem_health *health;
	const char *reason;
};
void sms_status(const struct sms *s, struct sms_status *out);
const char *sms_state_name(const struct sms *s);
/* The same as JSON for the API's /status. */
struct json_t;
struct json_t *sms_status_json(const struct sms *s);

#endif
