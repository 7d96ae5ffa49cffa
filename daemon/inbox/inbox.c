#include "inbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#include "phone.h"
#include "rules.h"

struct responder {
	inbox_responder fn;
	void *ud;
};

struct inbox {
	struct store *st;
	struct responder resp[INBOX_STAGE_COUNT];
	void (*commit_fn)(void *);
	void *commit_ud;
	bool in_batch;
};

struct inbox *inbox_new(struct store *st)
{
	struct inbox *ib = calloc(1, sizeof(*ib));

	if (ib)
		ib->st = st;
	return ib;
}

void inbox_free(struct inbox *ib)
{
	free(ib);
}

void inbox_add_responder(struct inbox *ib, enum inbox_stage stage,
			 inbox_responder fn, void *ud)
{
	if (stage < INBOX_STAGE_COUNT)
		ib->resp[stage] = (struct responder){fn, ud};
}

void inbox_on_commit(struct inbox *ib, void (*fn)(void *ud), void *ud)
{
	ib->commit_fn = fn;
	ib->commit_ud = ud;
}

/* Who sent it: the same person on SMS (+62812...) and WhatsApp (62812...)
 * must land on one contact, so both become E.164 first. */
struct sender {
	char phone[24], wa_id[80], raw[64];
	const char *kind;
};

static void classify(const struct inbox_msg *m, struct sender *s)
{
	char norm[80];
	enum phone_kind k;

	memset(s, 0, sizeof(*s));
	if (strcmp(m->channel, "whatsapp") == 0) {
		snprintf(s->wa_id, sizeof(s->wa_id), "%s", m->from);
		if (m->wa_user_id) {
			s->kind = "wa_user";
			return;
		}
		char plus[84];
		snprintf(plus, sizeof(plus), "+%s", m->from);
		k = phone_normalize(plus, norm, sizeof(norm));
	} else if (m->from_alnum) {
		/* "81234567890" as a sender ID is a name, not a number: it
		 * must never reach a resident's, a head's or staff's contact */
		snprintf(norm, sizeof(norm), "%s", m->from);
		k = PHONE_ALNUM;
	} else {
		k = phone_normalize(m->from, norm, sizeof(norm));
	}
	s->kind = phone_kind_name(k);
	if (k == PHONE_MOBILE || k == PHONE_FIXED || k == PHONE_FOREIGN)
		snprintf(s->phone, sizeof(s->phone), "%.23s", norm);
	else
		snprintf(s->raw, sizeof(s->raw), "%.63s",
			 norm[0] ? norm : m->from);
	/* A message with no sender at all (empty TP-OA) is still a message:
	 * stored under a placeholder rather than failing at every drain. */
	if (!s->phone[0] && !s->wa_id[0] && !s->raw[0])
		snprintf(s->raw, sizeof(s->raw), "%s", "tidak-dikenal");
}

static int run_responders(struct inbox *ib, struct inbox_ctx *ctx)
{
	for (int i = 0; i < INBOX_STAGE_COUNT; i++) {
		if (!ib->resp[i].fn)
			continue;
		int r = ib->resp[i].fn(ib->resp[i].ud, ctx);
		if (r < 0)
			return -1;
		if (r > 0)
			break;
	}
	return 0;
}

static enum inbox_result add(struct inbox *ib, const struct inbox_msg *m,
			     int64_t *message_id)
{
	struct inbox_ctx ctx = {
	    .st = ib->st, .msg = m, .now_ms = clock_wall_ms()};
	struct sender s;
	bool created;

	if (m->source_id &&
	    store_message_seen(ib->st, m->channel, m->source_id))
		return INBOX_DUPLICATE;
	classify(m, &s);
	if (store_contact_upsert(ib->st, s.phone, s.wa_id, s.raw, s.kind,
				 m->name, ctx.now_ms,
				 &ctx.contact) != STORE_OK ||
	    store_conversation_for(ib->st, ctx.contact.id, ctx.now_ms,
				   &ctx.conv, &created))
		return INBOX_FAILED;
	ctx.peer = s.phone[0] ? s.phone : s.wa_id[0] ? s.wa_id : s.raw;
	ctx.sender_kind = s.kind;
	struct store_message row = {
	    .conversation_id = ctx.conv.id,
	    .contact_id = ctx.contact.id,
	    .channel = m->channel,
	    .direction = "in",
	    .peer = ctx.peer,
	    .body = m->body,
	    .at = m->at_ms ? m->at_ms : ctx.now_ms,
	    .source_id = m->source_id,
	    .status = m->status ? m->status : "received",
	    .kind = m->kind,
	    .error = m->error,
	    .raw = m->raw,
	    .media = m->media,
	};
	int r = store_message_insert(ib->st, &row, &ctx.message_id);
	if (r == STORE_DUP)
		return INBOX_DUPLICATE;
	if (r != STORE_OK || run_responders(ib, &ctx))
		return INBOX_FAILED;
	if (message_id)
		*message_id = ctx.message_id;
	return INBOX_STORED;
}

int inbox_begin(struct inbox *ib)
{
	if (store_begin(ib->st))
		return -1;
	ib->in_batch = true;
	return 0;
}

int inbox_begin_unsynced(struct inbox *ib)
{
	if (store_begin_unsynced(ib->st))
		return -1;
	ib->in_batch = true;
	return 0;
}

enum inbox_result inbox_add(struct inbox *ib, const struct inbox_msg *m,
			    int64_t *message_id)
{
	if (store_savepoint(ib->st))
		return INBOX_FAILED;
	enum inbox_result r = add(ib, m, message_id);
	if (r == INBOX_FAILED)
		store_rollback_savepoint(ib->st);
	else if (store_release(ib->st))
		return INBOX_FAILED;
	return r;
}

int inbox_commit(struct inbox *ib)
{
	ib->in_batch = false;
	if (store_commit(ib->st))
		return -1;
	if (ib->commit_fn)
		ib->commit_fn(ib->commit_ud);
	return 0;
}

void inbox_rollback(struct inbox *ib)
{
	ib->in_batch = false;
	store_rollback(ib->st);
}

int inbox_notice(struct inbox *ib, const char *kind, const char *text)
{
	return store_event(ib->st, kind, 0, text, clock_wall_ms());
}

struct spent {
	const struct rules *r;
	int64_t now_ms;
};

static bool budget_spent(void *ud, const struct store_history *h)
{
	const struct spent *s = ud;
	struct rules_input in = {.now = s->now_ms / 1000,
				 .auto_replies_last_hour = h->auto_last_hour,
				 .last_staff_reply = h->last_staff / 1000};

	return rules_budget_spent(s->r, &in);
}

int inbox_history(const struct inbox_ctx *ctx, const struct rules *r,
		  struct store_history *h)
{
	struct spent sp = {r, ctx->now_ms};
	struct store_history_q q = {
	    .now_ms = ctx->now_ms,
	    .since_ms = ctx->now_ms - rules_lookback(r) * 1000,
	    .same_text_ms = rules_limits(r)->same_text_minutes * 60000LL,
	    .same_text_max = rules_limits(r)->same_text_max,
	    .spent = budget_spent,
	    .ud = &sp,
	};
	return store_history(ctx->st, ctx->conv.id, ctx->msg->body, &q, h);
}
