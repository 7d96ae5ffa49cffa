#include "survey.h"

#include <ctype.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "inbox.h"
#include "log.h"
#include "outbox.h"
#include "store.h"
#include "store_people.h"

/* One GSM-7 segment, no office name needed. */
static const char ASK[] =
    "Terima kasih sudah menghubungi kami. Seberapa puas Anda dengan "
    "pelayanan kami? Balas angka 1-5 (1 = tidak puas, 5 = sangat puas).";
static const char THANKS[] = "Terima kasih atas penilaian Anda.";

#define HOUR_MS 3600000LL

int survey_after_resolve(struct app *app, int64_t conversation_id)
{
	struct store_conversation c;
	struct store_contact k;
	const char *to;
	char why[160];
	int64_t now = app_now_ms(app);

	if (!app->cfg->survey_enabled)
		return 0;
	if (store_conversation_get(app->st, conversation_id, &c) != STORE_OK ||
	    store_contact_get(app->st, c.contact_id, &k) != STORE_OK)
		return -1;
	if (strcmp(k.kind, "mobile") && strcmp(k.kind, "wa_user"))
		return 0; /* promos, short codes, landlines */
	const char *ch = outbox_route(&c, &k, now, &to, why, sizeof(why));
	if (!ch) {
		log_msg(LOG_INFO, "no survey for conversation %lld: %s",
			(long long)conversation_id, why);
		return 0;
	}
	if (store_outbox_enqueue(app->st, c.id, k.id, ch, to, ASK, "survey",
				 now) < 0 ||
	    store_survey_asked(app->st, c.id, now))
		return -1;
	outbox_kick(app->ob);
	return 0;
}

/* "5", " 4 ", "5." count; "5 hari" does not. */
static int score_of(const char *body)
{
	int score = 0;

	for (; body && *body; body++) {
		if (isspace((unsigned char)*body) || *body == '.' ||
		    *body == '!')
			continue;
		if (score || *body < '1' || *body > '5')
			return 0;
		score = *body - '0';
	}
	return score;
}

static int respond(void *ud, struct inbox_ctx *ctx)
{
	struct app *app = ud;
	int score = score_of(ctx->msg->body);

	if (!score || !app->cfg->survey_enabled)
		return 0;
	int64_t conv = store_survey_waiting(
	    ctx->st, ctx->contact.id,
	    ctx->now_ms - app->cfg->survey_hours * HOUR_MS);
	if (conv <= 0)
		return (int)conv; /* 0: not an answer; -1: error */
	if (store_survey_answer(ctx->st, conv, score, ctx->message_id,
				ctx->conv.id) ||
	    store_outbox_enqueue(ctx->st, conv, ctx->contact.id,
				 ctx->msg->channel, ctx->peer, THANKS, "survey",
				 ctx->now_ms) < 0)
		return -1;
	log_msg(LOG_INFO, "survey: conversation %lld scored %d",
		(long long)conv, score);
	return 1;
}

int survey_init(struct app *app)
{
	inbox_add_responder(app->ib, INBOX_STAGE_SURVEY, respond, app);
	return 0;
}
