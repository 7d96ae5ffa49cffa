/* announce: subscriptions, announcements, and their sending hours (see
 * announce.h). */
#include "announce.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "announce_parse.h"
#include "app.h"
#include "config.h"
#include "counters.h"
#include "gsm.h"
#include "http.h"
#include "inbox.h"
#include "log.h"
#include "modem.h"
#include "outbox.h"
#include "rules.h"
#include "sms.h"
#include "store.h"
#include "store_announce.h"
#include "store_call.h"
#include "store_ui.h"

/* No announcement goes out between these office hours (doc/field.md:
 * residents must not be woken by the office). */
#define QUIET_FROM_H	  21
#define QUIET_TO_H	  6
#define CREDIT_RETRY_MS	  (10 * 60 * 1000)
#define ANNOUNCE_TEXT_MAX 1000 /* seven SMS segments; the store keeps 2048 */

struct announce {
	struct app *app;
	struct sms *sms;
	char held[120]; /* the last reason logged, so it is logged once */
};

static const char *office(const struct announce *a)
{
	return a->app->calendar ? rules_office_name(a->app->calendar)
				: "kantor kelurahan";
}

/* ---- DAFTAR / BERHENTI ------------------------------------------------- */

static char *confirm_text(struct announce *a, enum announce_cmd cmd,
			  const char *topic, int changed, int64_t contact)
{
	char label[40], what[64], left[200], *out = NULL;
	int r;

	announce_topic_label(topic, label, sizeof(label));
	snprintf(what, sizeof(what), "pengumuman%s%s", *label ? " " : "",
		 label);
	if (cmd == ANNOUNCE_UNKNOWN_TOPIC)
		r = asprintf(&out,
			     "Topik tidak dikenal. Ketik DAFTAR (semua "
			     "pengumuman), DAFTAR RT 03 (nomor RT Anda) atau "
			     "DAFTAR dan salah satu: %s.",
			     a->app->cfg->announce_topics);
	else if (cmd == ANNOUNCE_JOIN)
		r = asprintf(&out,
			     "Terima kasih, Anda terdaftar untuk menerima %s "
			     "dari %s. Ketik BERHENTI untuk berhenti.",
			     what, office(a));
	else if (!changed)
		r = asprintf(&out,
			     "Anda tidak terdaftar untuk %s. Ketik DAFTAR "
			     "untuk mendaftar.",
			     what);
	else if (store_sub_topics(a->app->st, contact, left, sizeof(left)) ==
		     STORE_OK &&
		 left[0])
		r = asprintf(&out,
			     "Anda tidak lagi menerima %s. Masih terdaftar: "
			     "%s. Ketik BERHENTI untuk berhenti semua.",
			     what, left);
	else
		r = asprintf(&out,
			     "Anda tidak lagi menerima pengumuman dari %s. "
			     "Ketik DAFTAR untuk mendaftar lagi.",
			     office(a));
	return r < 0 ? NULL : out;
}

static bool reachable_sender(const char *kind)
{
	return !strcmp(kind, "mobile") || !strcmp(kind, "fixed") ||
	       !strcmp(kind, "wa_user");
}

/* "ok", "terima kasih" to an announcement: words for nobody in
 * particular, not a request for the menu. */
static bool is_ack(const char *text)
{
	static const char *const acks[] = {"ok",
					   "oke",
					   "okay",
					   "baik",
					   "siap",
					   "terima kasih",
					   "terimakasih",
					   "makasih",
					   "trims",
					   "thanks",
					   "ok terima kasih",
					   "baik terima kasih",
					   "siap terima kasih",
					   "ya",
					   "iya",
					   "noted",
					   "mantap"};
	char s[40];
	size_t k = 0;

	for (; *text && k + 1 < sizeof(s); text++) {
		unsigned char c = (unsigned char)*text;
		if (isalpha(c) || (c == ' ' && k && s[k - 1] != ' '))
			s[k++] = (char)tolower(c);
	}
	while (k && s[k - 1] == ' ')
		k--;
	s[k] = '\0';
	for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++)
		if (strcmp(s, acks[i]) == 0)
			return true;
	return false;
}

#define ACK_WINDOW_MS (24LL * 3600 * 1000)

/* A command that changed nothing (DAFTAR twice, an unknown topic) is
 * answered within the rules' budget only, so a robot repeating it
 * cannot make us spend an SMS each time. */
static bool repeat_suppressed(struct announce *a, struct inbox_ctx *ctx)
{
	struct store_history h;
	char buf[200];
	const char *why;

	if (!a->app->calendar || inbox_history(ctx, a->app->calendar, &h))
		return false;
	struct rules_input in = {
	    .channel = ctx->msg->channel,
	    .from = ctx->peer,
	    .kind = strcmp(ctx->sender_kind, "wa_user") ? RULES_MOBILE
							: RULES_WA_ONLY,
	    .text = ctx->msg->body,
	    .now = ctx->now_ms / 1000,
	    .auto_replies_last_hour = h.auto_last_hour,
	    .last_auto_reply = h.last_auto / 1000,
	    .last_auto_reply_text = h.last_auto_text,
	    .same_text_count = h.same_text,
	};
	why = rules_suppressed(a->app->calendar, &in, buf, sizeof(buf));
	if (why)
		log_msg(LOG_INFO, "no reply to %s's repeated \"%s\": %s",
			ctx->peer, ctx->msg->body, why);
	return why != NULL;
}

/* Inbox responder: DAFTAR..., BERHENTI..., STOP... are consumed, and so
 * is a short thank-you within a day of an announcement. */
static int respond(void *ud, struct inbox_ctx *ctx)
{
	struct announce *a = ud;
	const struct inbox_msg *m = ctx->msg;
	char topic[40];
	int changed = 0;

	if ((m->kind && strcmp(m->kind, "text")) || !m->body ||
	    !reachable_sender(ctx->sender_kind))
		return 0;
	enum announce_cmd cmd = announce_parse(
	    m->body, a->app->cfg->announce_topics, topic, sizeof(topic));
	if (cmd == ANNOUNCE_NONE) {
		/* The words first: the store's look is a scan of the
		 * conversation, and most messages are no thank-you. */
		if (!is_ack(m->body))
			return 0;
		int64_t last =
		    store_last_reply_of_kind(ctx->st, ctx->conv.id, "announce");
		if (!last || ctx->now_ms - last > ACK_WINDOW_MS)
			return 0;
		log_msg(LOG_INFO,
			"no auto-reply to %s: thanks for an "
			"announcement",
			ctx->peer);
		return 1;
	}
	if (cmd != ANNOUNCE_UNKNOWN_TOPIC) {
		changed =
		    store_sub_set(ctx->st, ctx->contact.id, ctx->conv.id,
				  *topic ? topic : NULL, cmd == ANNOUNCE_JOIN,
				  m->channel, ctx->message_id, ctx->now_ms);
		if (changed < 0)
			return -1;
		log_msg(LOG_INFO, "announcements: %s %s %s by %s", ctx->peer,
			cmd == ANNOUNCE_JOIN ? "joins" : "leaves",
			*topic ? topic : "every topic", m->channel);
		counters_add(cmd == ANNOUNCE_JOIN ? "announce_join"
						  : "announce_leave");
	}
	if (!changed && repeat_suppressed(a, ctx))
		return 1;
	char *text = confirm_text(a, cmd, topic, changed, ctx->contact.id);
	if (!text)
		return -1;
	if (strcmp(m->channel, "sms") == 0)
		gsm_transliterate(text);
	/* a change is always confirmed: it is the resident's receipt */
	int64_t id = store_outbox_enqueue(ctx->st, ctx->conv.id,
					  ctx->contact.id, m->channel,
					  ctx->peer, text, "auto", ctx->now_ms);
	free(text);
	return id < 0 ? -1 : 1;
}

/* ---- the hold: quiet hours and credit ---------------------------------- */

/* Office-time hour of t, and t's next 06.00 office time. */
static int64_t quiet_until(const struct announce *a, int64_t now_ms)
{
	int64_t off = app_tz_offset(a->app, now_ms);
	int64_t local = now_ms / 1000 + off;
	int hour = (int)((local % 86400) / 3600);

	if (hour >= QUIET_TO_H && hour < QUIET_FROM_H)
		return 0;
	int64_t day = local - local % 86400;
	if (hour >= QUIET_FROM_H)
		day += 86400;
	return (day + QUIET_TO_H * 3600 - off) * 1000;
}

static bool credit_low(const struct announce *a)
{
	struct sms_status s;
	int low = a->app->cfg->modem_low_credit;

	if (!a->sms || low <= 0)
		return false;
	sms_status(a->sms, &s);
	return s.health && s.health->balance >= 0 && s.health->balance < low;
}

static void note_held(struct announce *a, const char *why)
{
	if (strcmp(a->held, why) == 0)
		return;
	snprintf(a->held, sizeof(a->held), "%s", why);
	log_msg(LOG_INFO, "announcements held: %s", why);
}

static int64_t hold(void *ud, const struct store_out *m, int64_t now_ms,
		    char *why, size_t n)
{
	struct announce *a = ud;
	int64_t until;

	if (strcmp(m->kind, "announce") != 0)
		return 0;
	if ((until = quiet_until(a, now_ms)) > 0) {
		snprintf(why, n, "ditahan: tidak dikirim pukul 21.00-06.00");
	} else if (!strcmp(m->channel, "sms") && credit_low(a)) {
		snprintf(why, n, "ditahan: pulsa modem di bawah batas");
		until = now_ms + CREDIT_RETRY_MS;
	} else {
		a->held[0] = '\0';
		return 0;
	}
	note_held(a, why);
	return until;
}

/* ---- composing --------------------------------------------------------- */

struct compose {
	struct announce *a;
	const char *text, *by, *approver;
	int64_t id, now;
	bool dry_run, waiting;
	int sms, wa, unreachable;
};

static int add_recipient(void *ud, const struct store_recipient *r)
{
	struct compose *c = ud;
	struct store *st = c->a->app->st;
	struct store_conversation conv;
	struct store_contact k;
	const char *to, *ch;
	char why[160];

	if (store_conversation_get(st, r->conversation_id, &conv) != STORE_OK ||
	    store_contact_get(st, r->contact_id, &k) != STORE_OK)
		return -1;
	ch = outbox_route(&conv, &k, c->now, &to, why, sizeof(why));
	if (!ch) {
		c->unreachable++;
		return 0;
	}
	*(strcmp(ch, "sms") ? &c->wa : &c->sms) += 1;
	if (c->dry_run)
		return 0;
	int64_t mid = store_outbox_enqueue(st, conv.id, k.id, ch, to, c->text,
					   c->by, c->now);
	if (mid < 0 || store_message_kind(st, mid, "announce") ||
	    store_announce_recipient(st, c->id, k.id, mid))
		return -1;
	return 0;
}

/* The recipients' outbox rows, made in one transaction with the state
 * change that allows them (a new announcement, or its approval). */
static int add_rows(struct compose *c, const char *audience,
		    int (*change)(struct compose *c, const char *audience))
{
	struct store *st = c->a->app->st;

	if (store_begin(st))
		return -1;
	if (change(c, audience) ||
	    (!c->waiting && store_audience(st, audience, add_recipient, c)) ||
	    store_commit(st)) {
		store_rollback(st);
		return -1;
	}
	outbox_kick(c->a->app->ob);
	return 0;
}

static int create(struct compose *c, const char *audience)
{
	c->id = store_announce_add(
	    c->a->app->st, c->text, audience, c->by,
	    c->waiting ? "menunggu_persetujuan" : "dikirim", c->now);
	return c->id < 0 ? -1 : 0;
}

static int approve(struct compose *c, const char *audience)
{
	return store_announce_approve(c->a->app->st, c->id, c->approver,
				      c->now) == STORE_OK
		   ? 0
		   : -1;
}

/* Counts first: above [announce] approval_above the announcement waits
 * for a second admin and no row is made yet. */
static int compose(struct compose *c, const char *audience)
{
	struct compose n = *c;
	int limit = c->a->app->cfg->announce_approval_above;

	n.dry_run = true;
	if (store_audience(c->a->app->st, audience, add_recipient, &n))
		return -1;
	if (c->dry_run) {
		*c = n;
		return 0;
	}
	if (limit > 0 && n.sms + n.wa > limit) {
		n.dry_run = false;
		n.waiting = true;
		*c = n;
	}
	return add_rows(c, audience, create);
}

static bool is_admin(struct announce *a, struct http_req *req)
{
	/* simpulctl on the unix socket: its permissions are the check */
	return http_is_local(req) ||
	       store_user_is_admin(a->app->st, http_user(req));
}

static json_t *summary(const struct compose *c, const char *audience)
{
	struct gsm_count g;
	struct sms_status s = {0};
	long credit = -1;

	gsm_count(c->text, &g);
	if (c->a->sms) {
		sms_status(c->a->sms, &s);
		credit = s.health ? s.health->balance : -1;
	}
	return json_pack(
	    "{sI ss ss si si si si sI sI}", "id", (json_int_t)c->id, "state",
	    c->dry_run	 ? "pratinjau"
	    : c->waiting ? "menunggu_persetujuan"
			 : "dikirim",
	    "audience", audience, "recipients", c->sms + c->wa, "sms", c->sms,
	    "whatsapp", c->wa, "segments", g.segments, "sms_cost",
	    (json_int_t)c->sms * g.segments *
		c->a->app->cfg->announce_sms_price,
	    "credit", (json_int_t)credit);
}

/* POST /api/v1/announcements {"text","audience","preview"}: admins only.
 * audience: "semua", "RT 03" or a topic. preview: counts and cost only. */
static int post_announcement(void *ud, struct http_req *req,
			     struct http_resp *resp)
{
	struct announce *a = ud;
	size_t len;
	const char *body = http_body(req, &len);
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *text = json_string_value(json_object_get(j, "text"));
	char audience[40];
	struct compose c = {.a = a,
			    .text = text,
			    .now = app_now_ms(a->app),
			    .by = http_user(req)};

	announce_audience(json_string_value(json_object_get(j, "audience")),
			  a->app->cfg->announce_topics, audience,
			  sizeof(audience));
	c.dry_run = json_is_true(json_object_get(j, "preview"));
	if (!c.by || !*c.by)
		c.by = "simpulctl";
	if (!is_admin(a, req))
		http_error(resp, 403, "only an admin may send announcements");
	else if (!text || !*text || strlen(text) > ANNOUNCE_TEXT_MAX)
		http_error(resp, 400, "'text' is required, at most 1000 bytes");
	else if (!audience[0])
		http_error(resp, 400,
			   "'audience' must be semua, RT NN or a "
			   "topic of [announce] topics");
	else if (compose(&c, audience))
		http_error(resp, 500, "storing the announcement failed");
	else
		http_reply_json(resp,
				c.dry_run   ? 200
				: c.waiting ? 202
					    : 201,
				summary(&c, audience));
	json_decref(j);
	return HTTP_DONE;
}

/* POST /api/v1/announcements/ID/approve: a second admin lets a large
 * announcement go; its rows are made now, in one transaction. */
static int post_approve(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct announce *a = ud;
	const char *p = http_path(req) + strlen("/api/v1/announcements/");
	char *end;
	long long id = strtoll(p, &end, 10);
	struct store_announcement an;
	struct compose c = {.a = a,
			    .now = app_now_ms(a->app),
			    .id = id,
			    .approver = http_user(req)};

	if (!c.approver || !*c.approver)
		c.approver = "simpulctl";
	if (end == p || strcmp(end, "/approve") != 0 ||
	    store_announce_get(a->app->st, id, &an) != STORE_OK)
		http_error(resp, 404, "no such announcement");
	else if (!is_admin(a, req))
		http_error(resp, 403, "only an admin may approve");
	else if (strcmp(an.state, "menunggu_persetujuan") != 0)
		http_error(resp, 409, "the announcement is not waiting");
	else if (strcmp(an.created_by, c.approver) == 0)
		http_error(resp, 403, "a second admin must approve it");
	else {
		c.text = an.body;
		c.by = an.created_by;
		if (add_rows(&c, an.audience, approve))
			http_error(resp, 500, "storing the approval failed");
		else
			http_reply_json(resp, 201, summary(&c, an.audience));
	}
	return HTTP_DONE;
}

static int get_announcements(void *ud, struct http_req *req,
			     struct http_resp *resp)
{
	struct announce *a = ud;

	http_reply_json(resp, 200, store_announcements_json(a->app->st));
	return HTTP_DONE;
}

static int get_subscriptions(void *ud, struct http_req *req,
			     struct http_resp *resp)
{
	struct announce *a = ud;

	http_reply_json(resp, 200, store_subs_json(a->app->st));
	return HTTP_DONE;
}

/* ---- life -------------------------------------------------------------- */

struct announce *announce_new(struct app *app, struct sms *sms)
{
	struct announce *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->app = app;
	a->sms = sms;
	inbox_add_responder(app->ib, INBOX_STAGE_ANNOUNCE, respond, a);
	outbox_set_hold(app->ob, hold, a);
	if (http_route(app->http, "POST", "/api/v1/announcements", 0,
		       post_announcement, a) |
	    http_route(app->http, "GET", "/api/v1/announcements", 0,
		       get_announcements, a) |
	    http_route(app->http, "POST", "/api/v1/announcements/", HTTP_PREFIX,
		       post_approve, a) |
	    http_route(app->http, "GET", "/api/v1/subscriptions", 0,
		       get_subscriptions, a)) {
		free(a);
		return NULL;
	}
	return a;
}

void announce_free(struct announce *a)
{
	if (!a)
		return;
	outbox_set_hold(a->app->ob, NULL, NULL);
	free(a);
}
