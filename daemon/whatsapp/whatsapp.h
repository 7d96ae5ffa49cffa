/* whatsapp: the WhatsApp channel in the daemon. The webhook at
 * /webhook/whatsapp (signature checked before parsing; answered 200 only
 * after the commit that holds its events, several webhooks sharing one
 * commit), statuses, media download into the media directory, and the
 * outbox driver that sends through the Graph API. */
#ifndef SIMPUL_WHATSAPP_H
#define SIMPUL_WHATSAPP_H

struct app;
struct wa;

/* NULL when WhatsApp is not configured (then the webhook answers 404). */
struct wa *wa_new(struct app *app);
void wa_free(struct wa *w);
void wa_reconfigure(struct wa *w);

#endif
