/* autoreply: the rules engine in the daemon. Loads rules.d (refusing a
 * broken set and keeping the running one), registers as an inbox
 * responder, decides with the loop-proof history from the store, and
 * enqueues the reply in the inbound transaction. Also answers CEK <ticket>
 * and opens tickets with their due date. */
#ifndef SIMPUL_AUTOREPLY_H
#define SIMPUL_AUTOREPLY_H

#include <stddef.h>
#include <stdint.h>

struct app;
struct autoreply;
struct config;
struct diag;
struct rules;
struct store;

struct autoreply *autoreply_new(struct app *app);
void autoreply_free(struct autoreply *ar);
/* Reloads from app->cfg; on errors logs them and keeps the old rules.
 * Returns 0 when the new rules are in use. */
int autoreply_reload(struct autoreply *ar);
/* simpuld -n: every error of the rules (and holidays) the config names. */
void autoreply_check(const struct config *cfg, struct diag *d);
/* Called inside the inbound transaction when the matched rule asks for the
 * Ketua RT's confirmation (rt_confirm = yes). The RT module hooks in here;
 * service is the rule name. Return -1 on a store error. */
struct inbox_ctx;
typedef int (*autoreply_rt_hook)(void *ud, struct inbox_ctx *ctx,
				 const char *service, const char *ticket);
void autoreply_set_rt_hook(struct autoreply *ar, autoreply_rt_hook fn,
			   void *ud);

/* A ticket number for a new case ("KLS-2611-482913"): random, unused,
 * never derived from another ticket. 0, or -1 on a store error. */
int autoreply_new_ticket(const struct rules *r, struct store *st, int64_t now_s,
			 char *ref, size_t reflen);

#endif
