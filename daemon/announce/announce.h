/* announce: announcements residents ask for. An inbox responder takes
 * DAFTAR / BERHENTI / STOP on either channel, records the consent with
 * its time and confirms it; admins compose an announcement for all
 * subscribers, one RT or one topic (POST /api/v1/announcements), which
 * becomes one outbox row per recipient in one transaction, so a restart
 * resumes it and nobody gets it twice. An outbox hold keeps the rows back
 * between 21.00 and 06.00 office time and while the SIM's credit is below
 * [modem] low_credit. */
#ifndef SIMPUL_ANNOUNCE_H
#define SIMPUL_ANNOUNCE_H

struct announce;
struct app;
struct sms;

/* sms: the modem channel for its credit, or NULL. */
struct announce *announce_new(struct app *app, struct sms *sms);
void announce_free(struct announce *a);

#endif
