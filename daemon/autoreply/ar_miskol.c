/* ar_miskol: the reply to a missed call (see ar_miskol.h). */
#include "ar_miskol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "counters.h"
#include "diag.h"
#include "gsm.h"
#include "hours.h"
#include "inbox.h"
#include "log.h"
#include "rules.h"
#include "store.h"
#include "store_call.h"
#include "template.h"

/* The default: the menu, and that staff will call back. */
#define CALL_BACK_NOTE "Petugas akan menelepon balik pada jam kerja."

bool ar_miskol_is_call(const struct inbox_msg *m)
{
	return m->kind && strcmp(m->kind, "missed_call") == 0;
}

static char *render(const struct app *app, const struct rules *r,
		    const struct inbox_ctx *ctx)
{
	const char *cfg = app->cfg->miskol_reply;
	const char *menu = rules_menu_text(r, "sms");
	int64_t now = ctx->now_ms / 1000;
	char today[128], next[64], err[8], *text = NULL, *out;

	if (cfg && *cfg && template_check(cfg, err, sizeof(err)) == 0)
		text = strdup(cfg); /* else simpuld -n reported it */
	else if (asprintf(&text, "%s%s%s", menu ? menu : "", menu ? "\n" : "",
			  CALL_BACK_NOTE) < 0)
		text = NULL;
	if (!text)
		return NULL;
	hours_today(rules_hours(r), now, today, sizeof(today));
	hours_format_next_open(rules_hours(r), now, next, sizeof(next));
	struct template_vars v = {
	    {rules_office_name(r), today, next, "-",
	     ctx->contact.name[0] ? ctx->contact.name : NULL,
	     ctx->contact.rt[0] ? ctx->contact.rt : NULL, NULL}};
	out = template_render(text, &v);
	free(text);
	if (out)
		gsm_transliterate(out); /* an SMS: GSM-7 where it can be */
	return out;
}

static const char store_failed[] = "store error";

/* Why no reply goes to this call, or NULL. */
static const char *suppressed(const struct app *app, const struct rules *r,
			      struct inbox_ctx *ctx, char *buf, size_t n)
{
	struct store_history h;
	int hours = app->cfg->miskol_reply_hours;

	if (strcmp(ctx->sender_kind, "mobile") != 0 &&
	    strcmp(ctx->sender_kind, "fixed") != 0)
		return "withheld or not a phone number: recorded, never "
		       "answered";
	if (inbox_history(ctx, r, &h))
		return store_failed;
	struct rules_input in = {
	    .channel = "sms",
	    .from = ctx->peer,
	    .kind = RULES_MOBILE,
	    .text = ctx->msg->body,
	    .now = ctx->now_ms / 1000,
	    .auto_replies_last_hour = h.auto_last_hour,
	    .last_staff_reply = h.last_staff / 1000,
	    .last_auto_reply = h.last_auto / 1000,
	    .last_auto_reply_text = h.last_auto_text,
	    /* repeated calls are the point of a miskol, not a robot:
	     * reply_hours below is their budget */
	    .same_text_count = 1,
	};
	const char *why = rules_suppressed(r, &in, buf, n);
	if (why)
		return why;
	int64_t last =
	    store_last_reply_of_kind(ctx->st, ctx->conv.id, "miskol");
	if (last > 0 && ctx->now_ms - last < (int64_t)hours * 3600000) {
		snprintf(buf, n,
			 "a missed-call reply went %lld min ago (one per %d h, "
			 "[miskol] reply_hours)",
			 (long long)(ctx->now_ms - last) / 60000, hours);
		return buf;
	}
	return NULL;
}

void ar_miskol_check(const struct config *cfg, struct diag *d)
{
	char err[200];

	if (cfg->miskol_reply && *cfg->miskol_reply &&
	    template_check(cfg->miskol_reply, err, sizeof(err)))
		diag_add(d, DIAG_ERROR, cfg->path, 0, "miskol", "reply", "%s",
			 err);
}

int ar_miskol_respond(struct app *app, const struct rules *r,
		      struct inbox_ctx *ctx)
{
	char buf[200];
	const char *why = suppressed(app, r, ctx, buf, sizeof(buf));

	if (why == store_failed)
		return -1;
	if (why) {
		counters_add("miskol_suppressed");
		log_msg(LOG_INFO, "no reply to the missed call from %s: %s",
			ctx->peer, why);
		return 1;
	}
	char *text = render(app, r, ctx);
	if (!text)
		return -1;
	int64_t id =
	    store_outbox_enqueue(ctx->st, ctx->conv.id, ctx->contact.id, "sms",
				 ctx->peer, text, "auto", ctx->now_ms);
	free(text);
	if (id < 0 || store_message_kind(ctx->st, id, "miskol"))
		return -1;
	counters_add("miskol_reply");
	return 1;
}
