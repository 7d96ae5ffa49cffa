/* events: the city-hub feature of simpuld (issue 20). Every interval it
 * turns what happened in the store (messages, tickets, SLA breaches, RT
 * requests and answers) and on the modem (state, credit) into the ordered
 * event log (store_events), and evpub sends the log to the MQTT broker.
 * Off unless [events] enabled = yes. */
#ifndef SIMPUL_EVENTS_H
#define SIMPUL_EVENTS_H

struct app;
struct sms;
struct events;

/* NULL with *err set when the config is wrong; NULL and no error when the
 * feature is off. sms may be NULL (no modem events). */
struct events *events_new(struct app *app, struct sms *sms, const char **err);
void events_free(struct events *ev);

#endif
