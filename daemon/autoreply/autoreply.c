#include "autoreply.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "ar_miskol.h"
#include "config.h"
#include "diag.h"
#include "http.h"
#include "inbox.h"
#include "loop.h"
#include "phone.h"
#include "rules.h"
#include "store.h"
#include "triage.h"
#include "log.h"
#include "counters.h"

#define RELOAD_DEBOUNCE_MS 500

struct autoreply {
	struct app *app;
	struct rules *rules;
	int inotify_fd;
	uint64_t reload_timer;
	autoreply_rt_hook rt_hook;
	void *rt_ud;
};

static enum rules_sender sender_of(const char *kind)
{
	if (strcmp(kind, "alnum") == 0)
		return RULES_ALNUM;
	if (strcmp(kind, "shortcode") == 0 || strcmp(kind, "invalid") == 0)
		return RULES_SHORTCODE;
	if (strcmp(kind, "wa_user") == 0)
		return RULES_WA_ONLY;
	return RULES_MOBILE;
}

/* Messages that are not a resident's words get no auto-reply. */
static bool answerable(const struct inbox_msg *m)
{
	static const char *const skip[] = {"binary",	  "error",  "reaction",
					   "unsupported", "system", "notice"};

	if (m->status && strcmp(m->status, "received") != 0 &&
	    strcmp(m->status, "partial") != 0)
		return false;
	for (size_t i = 0; m->kind && i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(m->kind, skip[i]) == 0)
			return false;
	return true;
}

static bool is_own_number(struct autoreply *ar, const char *peer)
{
	char own[64];
	const char *cfg = ar->app->cfg->own_number;

	if (!cfg || !*cfg)
		return false;
	phone_normalize(cfg, own, sizeof(own));
	return strcmp(own, peer) == 0;
}

static const char *status_label(const char *status)
{
	static const char *const map[][2] = {
	    {"baru", "sudah kami terima"},
	    {"diproses", "sedang diproses"},
	    {"menunggu_rt", "menunggu konfirmasi Ketua RT"},
	    {"selesai", "sudah selesai"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(status, map[i][0]) == 0)
			return map[i][1];
	return status;
}

/* A status question without a ticket number: the rule's own reply (it
 * names the configured prefix through {prefix}), else this, which does. */
static char *cek_howto(struct autoreply *ar, const struct rules_result *res)
{
	char *out = NULL;

	if (res->reply)
		return strdup(res->reply);
	if (asprintf(&out,
		     "Ketik CEK lalu nomor tiket, contoh: CEK %s-2611-482913",
		     rules_ticket_prefix(ar->rules)) < 0)
		return NULL;
	return out;
}

/* CEK <ref>: the status of a ticket, in one short SMS, told only to the
 * resident whose ticket it is. Anyone else gets the same answer as for a
 * ticket that does not exist, so that CEK tells nobody which tickets
 * exist or what they are about. */
static char *cek_reply(struct autoreply *ar, const struct inbox_ctx *ctx,
		       const struct rules_result *res)
{
	const char *ref = res->cek_ref;
	struct store_conversation c;
	char *out = NULL, due[96] = "";

	if (!*ref)
		return cek_howto(ar, res);
	if (store_ticket_find(ar->app->st, ref, &c) != STORE_OK ||
	    c.contact_id != ctx->contact.id) {
		if (asprintf(&out,
			     "Tiket %s tidak ditemukan untuk nomor ini. "
			     "Silakan hubungi kantor kelurahan.",
			     ref) < 0)
			return NULL;
		return out;
	}
	if (c.due_at && strcmp(c.status, "selesai") != 0) {
		char d[48];
		hours_format_date(rules_hours(ar->rules), c.due_at / 1000, d,
				  sizeof(d));
		snprintf(due, sizeof(due), " Perkiraan selesai %s.", d);
	}
	if (asprintf(&out, "Tiket %s %s.%s", c.ticket, status_label(c.status),
		     due) < 0)
		return NULL;
	return out;
}

int autoreply_new_ticket(const struct rules *r, struct store *st, int64_t now_s,
			 char *ref, size_t reflen)
{
	struct store_conversation c;

	/* A random number, not a sequence: a resident's ticket must not
	 * lead to the next one (CEK tells only the owner anyway). */
	for (int i = 0; i < 32; i++) {
		rules_format_ticket(r, now_s,
				    100000 + randombytes_uniform(900000), ref,
				    reflen);
		int f = store_ticket_find(st, ref, &c);
		if (f == STORE_NOTFOUND)
			return 0;
		if (f == STORE_ERR)
			return -1;
	}
	return -1;
}

static int open_ticket(struct autoreply *ar, struct inbox_ctx *ctx,
		       struct rules_input *in, struct rules_result *res,
		       char *ref, size_t reflen, char *due, size_t duelen)
{
	int64_t now_s = ctx->now_ms / 1000;

	if (autoreply_new_ticket(ar->rules, ctx->st, now_s, ref, reflen))
		return -1;
	int64_t due_at = res->due_at
			     ? res->due_at
			     : rules_add_working_days(ar->rules, now_s, 3);
	if (store_conversation_ticket(ctx->st, ctx->conv.id, ref, res->category,
				      due_at * 1000))
		return -1;
	snprintf(ctx->conv.ticket, sizeof(ctx->conv.ticket), "%s", ref);
	hours_format_date(rules_hours(ar->rules), due_at, due, duelen);
	in->ticket = ref;
	in->due = due;
	return rules_render(ar->rules, in, res);
}

static void fill_input(struct inbox_ctx *ctx, const struct store_history *h,
		       struct rules_input *in)
{
	*in = (struct rules_input){
	    .channel = ctx->msg->channel,
	    .from = ctx->peer,
	    .kind = sender_of(ctx->sender_kind),
	    .text = ctx->msg->body ? ctx->msg->body : "",
	    .now = ctx->now_ms / 1000,
	    .name = ctx->contact.name[0] ? ctx->contact.name : NULL,
	    .rt = ctx->contact.rt[0] ? ctx->contact.rt : NULL,
	    .ticket = ctx->conv.ticket[0] ? ctx->conv.ticket : NULL,
	    .auto_replies_last_hour = h->auto_last_hour,
	    .last_closed_reply = h->last_closed_auto / 1000,
	    .last_staff_reply = h->last_staff / 1000,
	    .last_auto_reply = h->last_auto / 1000,
	    .last_auto_reply_text = h->last_auto_text,
	    .same_text_count = h->same_text,
	    .last_choices = h->last_choices[0] ? h->last_choices : NULL,
	    .closer_sent = h->closer_sent,
	};
}

static int enqueue(struct inbox_ctx *ctx, const char *text, bool closed)
{
	int64_t id = store_outbox_enqueue(ctx->st, ctx->conv.id,
					  ctx->contact.id, ctx->msg->channel,
					  ctx->peer, text, "auto", ctx->now_ms);

	if (id < 0)
		return -1;
	return closed ? store_message_kind(ctx->st, id, "closed") : 0;
}

/* What the resident was just sent, for the next message of this
 * conversation: the numbered choice or menu a digit answers (kept until
 * another is sent), and that the one closer reply is used up. In the same
 * transaction as the reply, so both or neither. */
static int remember(struct inbox_ctx *ctx, const struct rules_result *res)
{
	if (!res->choices[0] && !res->closer)
		return 0;
	return store_conv_state(ctx->st, ctx->conv.id, res->choices,
				res->closer, ctx->now_ms);
}

static int apply(struct autoreply *ar, struct inbox_ctx *ctx,
		 struct rules_input *in, struct rules_result *res)
{
	char ref[32], due[48];

	/* Unchanged, it is not written again: the row and its list
	 * indexes were one more page per message (the inbound message
	 * already moved updated_at). */
	if (res->category && *res->category &&
	    strcmp(res->category, ctx->conv.category) != 0 &&
	    store_conversation_set(ctx->st, ctx->conv.id, "category",
				   res->category, ctx->now_ms) == STORE_ERR)
		return -1;
	if (res->ticket && !ctx->conv.ticket[0] &&
	    open_ticket(ar, ctx, in, res, ref, sizeof(ref), due, sizeof(due)))
		return -1;
	if (res->rt_confirm && ar->rt_hook &&
	    ar->rt_hook(ar->rt_ud, ctx, res->rule, ctx->conv.ticket) < 0)
		return -1;
	if (res->status_query && !res->suppressed) {
		char *text = cek_reply(ar, ctx, res);
		int rc = text ? enqueue(ctx, text, false) : -1;
		free(text);
		return rc;
	}
	if (res->suppressed) {
		counters_add("rule_suppressed");
		log_msg(LOG_INFO, "no auto-reply to %s (%s): %s", ctx->peer,
			res->rule ? res->rule : "no rule", res->suppressed);
		return 0;
	}
	if (!res->reply)
		return 0;
	if (enqueue(ctx, res->reply, res->closed_reply))
		return -1;
	return remember(ctx, res);
}

static int respond(void *ud, struct inbox_ctx *ctx)
{
	struct autoreply *ar = ud;
	struct store_history h;
	struct rules_input in;
	struct rules_result res;

	if (ar_miskol_is_call(ctx->msg))
		return ar_miskol_respond(ar->app, ar->rules, ctx);
	if (!answerable(ctx->msg))
		return triage_after_rules(ctx, NULL);
	if (is_own_number(ar, ctx->peer)) {
		log_msg(LOG_INFO, "no auto-reply to %s: our own number",
			ctx->peer);
		return triage_after_rules(ctx, NULL);
	}
	if (inbox_history(ctx, ar->rules, &h))
		return -1;
	fill_input(ctx, &h, &in);
	if (rules_match(ar->rules, &in, &res))
		return -1;
	if (res.matched)
		log_msg(LOG_DEBUG, "rule %s for %s: %s", res.rule, ctx->peer,
			res.why);
	int rc = apply(ar, ctx, &in, &res);
	if (rc == 0)
		rc = triage_after_rules(ctx, &res);
	rules_result_free(&res);
	return rc;
}

/* ---- loading ----------------------------------------------------------- */

static struct rules *load(const struct config *c, struct diag *d)
{
	return rules_load(c->rules_dir, c->holidays[0] ? c->holidays : NULL, d);
}

void autoreply_check(const struct config *cfg, struct diag *d)
{
	rules_free(load(cfg, d));
	ar_miskol_check(cfg, d);
}

int autoreply_reload(struct autoreply *ar)
{
	struct diag *d = diag_new();
	struct rules *r = load(ar->app->cfg, d);

	for (size_t i = 0; i < diag_count(d); i++)
		log_msg(r ? LOG_WARN : LOG_ERR, "rules: %s", diag_line(d, i));
	diag_free(d);
	if (!r) {
		log_msg(LOG_ERR,
			"rules in %s have errors: still answering "
			"with the previous rules",
			ar->app->cfg->rules_dir);
		return -1;
	}
	rules_free(ar->rules);
	ar->rules = r;
	ar->app->calendar = r; /* the office calendar for every feature */
	log_msg(LOG_INFO, "rules loaded: %d rules from %s", rules_count(r),
		ar->app->cfg->rules_dir);
	return 0;
}

static void on_reload_timer(struct loop *l, void *arg)
{
	struct autoreply *ar = arg;

	ar->reload_timer = 0;
	autoreply_reload(ar);
}

/* An edit in rules.d reloads the rules (after a short quiet time, since
 * editors write a file in several steps). */
static void on_inotify(struct loop *l, int fd, short revents, void *arg)
{
	struct autoreply *ar = arg;
	char buf[4096];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	if (ar->reload_timer)
		loop_timer_cancel(l, ar->reload_timer);
	ar->reload_timer =
	    loop_timer_add(l, RELOAD_DEBOUNCE_MS, on_reload_timer, ar);
}

static void watch_dir(struct autoreply *ar)
{
	ar->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ar->inotify_fd < 0)
		return;
	if (inotify_add_watch(ar->inotify_fd, ar->app->cfg->rules_dir,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE |
				  IN_CREATE) < 0) {
		close(ar->inotify_fd);
		ar->inotify_fd = -1;
		return;
	}
	loop_fd_add(ar->app->loop, ar->inotify_fd, POLLIN, on_inotify, ar);
}

/* ---- API: rules check and dry run (simpulctl rules ...) ---------------- */

static int get_check(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct autoreply *ar = ud;
	struct diag *d = diag_new();
	struct rules *r = load(ar->app->cfg, d);
	json_t *lines = json_array();

	for (size_t i = 0; i < diag_count(d); i++)
		json_array_append_new(lines, json_string(diag_line(d, i)));
	json_t *j = json_pack("{sb so si}", "ok", r != NULL, "messages", lines,
			      "rules", r ? rules_count(r) : 0);
	http_reply_json(resp, 200, j);
	rules_free(r);
	diag_free(d);
	return HTTP_DONE;
}

/* "2026-11-27 19:05" in the office's time zone -> unix seconds. */
static int64_t parse_local(const struct rules *r, const char *s)
{
	struct tm tm = {0};

	if (!s || !*s)
		return -1;
	if (!strptime(s, "%Y-%m-%d %H:%M", &tm))
		return -1;
	int64_t t = (int64_t)timegm(&tm);
	return t - hours_offset(rules_hours(r), t);
}

static void dry_run(struct autoreply *ar, json_t *j, FILE *out)
{
	const char *from = json_string_value(json_object_get(j, "from"));
	const char *at = json_string_value(json_object_get(j, "at"));
	const char *ch = json_string_value(json_object_get(j, "channel"));
	char norm[80];
	enum phone_kind k =
	    phone_normalize(from ? from : "", norm, sizeof(norm));
	int64_t t =
	    at ? parse_local(ar->rules, at) : app_now_ms(ar->app) / 1000;
	struct rules_input in = {
	    .channel = ch ? ch : "sms",
	    .from = norm,
	    .kind = sender_of(phone_kind_name(k)),
	    .text = json_string_value(json_object_get(j, "text")),
	    .now = t,
	    .same_text_count = 1,
	};

	if (!in.text || t < 0) {
		fprintf(out, "error: give the text, and --at as "
			     "\"YYYY-MM-DD HH:MM\" (office time)\n");
		return;
	}
	rules_explain(ar->rules, &in, out);
}

static int post_test(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct autoreply *ar = ud;
	size_t len;
	const char *body = http_body(req, &len);
	json_t *j = json_loadb(body, len, 0, NULL);
	char *text = NULL;
	size_t tlen = 0;
	FILE *out = open_memstream(&text, &tlen);

	if (!j || !out) {
		http_error(resp, 400, "invalid JSON body");
	} else {
		dry_run(ar, j, out);
		fclose(out);
		out = NULL;
		http_text(resp, 200, text);
	}
	if (out)
		fclose(out);
	free(text);
	json_decref(j);
	return HTTP_DONE;
}

static void add_canned(void *ud, const char *name, const char *text)
{
	json_array_append_new(ud,
			      json_pack("{ss ss}", "rule", name, "text", text));
}

/* GET /api/v1/canned[?conversation=ID]: the rules' replies as canned
 * replies for staff, filled in for that resident (name, RT, ticket). */
static int get_canned(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct autoreply *ar = ud;
	const char *cid = http_arg(req, "conversation");
	struct store_conversation c = {0};
	struct store_contact k = {0};
	struct rules_input in = {.channel = "sms",
				 .now = app_now_ms(ar->app) / 1000};

	if (cid &&
	    store_conversation_get(ar->app->st, atoll(cid), &c) == STORE_OK &&
	    store_contact_get(ar->app->st, c.contact_id, &k) == STORE_OK) {
		in.channel = c.last_channel[0] ? c.last_channel : "sms";
		in.name = k.name[0] ? k.name : NULL;
		in.rt = k.rt[0] ? k.rt : NULL;
		in.ticket = c.ticket[0] ? c.ticket : NULL;
	}
	json_t *arr = json_array();
	if (rules_canned(ar->rules, &in, add_canned, arr) < 0) {
		json_decref(arr);
		http_error(resp, 500, "out of memory");
		return HTTP_DONE;
	}
	http_reply_json(resp, 200, arr);
	return HTTP_DONE;
}

/* ---- life -------------------------------------------------------------- */

struct autoreply *autoreply_new(struct app *app)
{
	struct autoreply *ar = calloc(1, sizeof(*ar));
	struct diag *d = diag_new();

	ar->app = app;
	ar->inotify_fd = -1;
	ar->rules = load(app->cfg, d);
	for (size_t i = 0; i < diag_count(d); i++)
		log_msg(ar->rules ? LOG_WARN : LOG_ERR, "rules: %s",
			diag_line(d, i));
	diag_free(d);
	if (!ar->rules) {
		log_msg(LOG_ERR,
			"cannot start without valid rules in %s; fix "
			"them (simpuld -n shows every error)",
			app->cfg->rules_dir);
		free(ar);
		return NULL;
	}
	app->calendar = ar->rules;
	inbox_add_responder(app->ib, INBOX_STAGE_AUTOREPLY, respond, ar);
	watch_dir(ar);
	http_route(app->http, "GET", "/api/v1/rules/check", 0, get_check, ar);
	http_route(app->http, "POST", "/api/v1/rules/test", 0, post_test, ar);
	http_route(app->http, "GET", "/api/v1/canned", 0, get_canned, ar);
	return ar;
}

void autoreply_free(struct autoreply *ar)
{
	if (!ar)
		return;
	if (ar->inotify_fd >= 0) {
		loop_fd_del(ar->app->loop, ar->inotify_fd);
		close(ar->inotify_fd);
	}
	if (ar->reload_timer)
		loop_timer_cancel(ar->app->loop, ar->reload_timer);
	if (ar->app->calendar == ar->rules)
		ar->app->calendar = NULL;
	rules_free(ar->rules);
	free(ar);
}

void autoreply_set_rt_hook(struct autoreply *ar, autoreply_rt_hook fn, void *ud)
{
	ar->rt_hook = fn;
	ar->rt_ud = ud;
}
