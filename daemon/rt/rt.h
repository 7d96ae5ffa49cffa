/* rt: the Ketua RT confirmation workflow. A request (service, resident,
 * RT) is opened by a rule with rt_confirm = yes, by staff in the inbox or
 * by `simpulctl rt request`; the head gets an SMS with a six-digit code
 * and answers YA/TIDAK; the resident is told; one reminder and then expiry
 * (and escalation) on the office calendar. Everything a step changes is
 * written in one transaction with its audit line (rt_log). */
#ifndef SIMPUL_RT_H
#define SIMPUL_RT_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct config;
struct diag;
struct inbox_ctx;
struct rt;

/* Loads [rt] file, registers the inbox responder (create it before
 * autoreply_new: a head's answer must be consumed before the auto-reply
 * rules see it), the API routes and the follow-up timer. A registry with
 * errors is logged and replaced by an empty one (no RT confirmation until
 * it is fixed and reloaded). */
struct rt *rt_new(struct app *app);
void rt_free(struct rt *rt);
/* SIGHUP: reloads the registry from app->cfg; keeps the old one on any
 * error. Returns 0 when the new one is in use. */
int rt_reload(struct rt *rt);
/* simpuld -n: every error of the registry the config names. */
void rt_check(const struct config *cfg, struct diag *d);

/* autoreply_rt_hook: a rule with rt_confirm = yes matched inside the
 * inbound transaction. Opens the request when the resident's RT is known
 * (contact or message text), else leaves a note for staff. */
int rt_autoreply_hook(void *ud, struct inbox_ctx *ctx, const char *service,
		      const char *ticket);

/* Staff or simpulctl: opens a request for a conversation in its own
 * transaction. Returns the request id; 0 with why when it cannot be opened
 * (RT unknown, not registered, already open); -1 on a store error. */
int64_t rt_request(struct rt *rt, int64_t conversation_id, const char *service,
		   const char *actor, char *why, size_t whylen);

#endif
