#include "api.h"

#include "simpul-config.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "api_people.h"
#include "api_report.h"
#include "api_ui.h"
#include "auth.h"
#include "config.h"
#include "gsm.h"
#include "http.h"
#include "outbox.h"
#include "phone.h"
#include "sms.h"
#include "sse.h"
#include "survey.h"
#include "store.h"
#include "store_call.h"
#include "store_ui.h"

static struct api_ui *the_ui; /* one per daemon (api_init) */
static struct sse *the_sse;
static const struct sms *the_sms; /* NULL: modem disabled */

static json_t *body_json(struct http_req *req, struct http_resp *resp)
{
	size_t len;
	const char *b = http_body(req, &len);
	json_error_t e;
	json_t *j = json_loadb(b, len, 0, &e);

	if (!j || !json_is_object(j)) {
		char msg[200];
		snprintf(msg, sizeof(msg), "invalid JSON body: %s", e.text);
		http_error(resp, 400, msg);
		json_decref(j);
		return NULL;
	}
	return j;
}

static int get_messages(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	const char *lim = http_arg(req, "limit"),
		   *before = http_arg(req, "before");
	int limit = lim ? atoi(lim) : 100;

	if (limit <= 0 || limit > 10000)
		limit = 100;
	json_t *j = store_inbox_json(app->st, limit, before ? atoll(before) : 0,
				     app_tz_offset(app, app_now_ms(app)));
	if (!j) {
		http_error(resp, 500, store_errmsg(app->st));
		return HTTP_DONE;
	}
	http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

static int64_t path_id(struct http_req *req, const char *prefix)
{
	const char *p = http_path(req) + strlen(prefix);
	char *end;
	long long id = strtoll(p, &end, 10);

	return end != p && (*end == '\0' || *end == '/') && id > 0 ? id : -1;
}

static const char *path_tail(struct http_req *req, const char *prefix)
{
	const char *p = strchr(http_path(req) + strlen(prefix), '/');

	return p ? p + 1 : "";
}

static int get_conversation(void *ud, struct http_req *req,
			    struct http_resp *resp)
{
	struct app *app = ud;
	int64_t id = path_id(req, "/api/v1/conversations/");
	int64_t now = app_now_ms(app);
	json_t *j = id > 0 ? store_conversation_ui_json(app->st, id, now,
							app_tz_offset(app, now))
			   : NULL;

	if (!j) {
		http_error(resp, 404, "no such conversation");
		return HTTP_DONE;
	}
	http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

int64_t api_reply(struct app *app, int64_t conv_id, const char *text,
		  const char *author, char *why, size_t whylen)
{
	struct store_conversation c;
	struct store_contact k;

	if (store_conversation_get(app->st, conv_id, &c) != STORE_OK ||
	    store_contact_get(app->st, c.contact_id, &k) != STORE_OK) {
		snprintf(why, whylen, "no such conversation");
		return -1;
	}
	const char *to;
	const char *channel =
	    outbox_route(&c, &k, app_now_ms(app), &to, why, whylen);
	if (!channel)
		return -1;
	int64_t id = store_outbox_enqueue(app->st, c.id, k.id, channel, to,
					  text, author, app_now_ms(app));
	if (id < 0)
		snprintf(why, whylen, "store: %s", store_errmsg(app->st));
	else
		outbox_kick(app->ob);
	return id;
}

static void do_reply(struct app *app, struct http_req *req,
		     struct http_resp *resp, int64_t id, json_t *j)
{
	const char *text = json_string_value(json_object_get(j, "text"));
	char why[200];

	if (!text || !*text) {
		http_error(resp, 400, "'text' is required");
		return;
	}
	int64_t mid =
	    api_reply(app, id, text, http_user(req), why, sizeof(why));
	if (mid < 0)
		http_error(resp, 400, why);
	else
		http_reply_json(resp, 201,
				json_pack("{sI}", "id", (json_int_t)mid));
}

static int post_conversation(void *ud, struct http_req *req,
			     struct http_resp *resp)
{
	struct app *app = ud;
	int64_t id = path_id(req, "/api/v1/conversations/");
	const char *action = path_tail(req, "/api/v1/conversations/");
	json_t *j = body_json(req, resp);

	if (!j)
		return HTTP_DONE;
	if (id < 0)
		http_error(resp, 404, "no such conversation");
	else if (strcmp(action, "reply") == 0)
		do_reply(app, req, resp, id, j);
	else
		api_ui_conversation_action(the_ui, req, resp, id, action, j);
	json_decref(j);
	return HTTP_DONE;
}

/* POST /api/v1/messages/ID/callback: a staff member called the resident
 * of a missed call back ("telepon balik"); records who and when. */
static int post_message_sub(void *ud, struct http_req *req,
			    struct http_resp *resp)
{
	struct app *app = ud;
	int64_t id = path_id(req, "/api/v1/messages/");
	const char *user = http_user(req);
	int64_t now = app_now_ms(app);

	if (!user || !*user)
		user = "simpulctl"; /* the unix socket has no login */
	if (id < 0 ||
	    strcmp(path_tail(req, "/api/v1/messages/"), "callback") != 0) {
		http_error(resp, 404, "not found");
		return HTTP_DONE;
	}
	switch (store_call_back(app->st, id, user, now)) {
	case STORE_OK:
		http_reply_json(resp, 201,
				json_pack("{sI ss sI}", "message",
					  (json_int_t)id, "by", user, "at_ms",
					  (json_int_t)now));
		break;
	case STORE_NOTFOUND:
		http_error(resp, 404, "no missed call with this id");
		break;
	default:
		http_error(resp, 500, "storing the call back failed");
	}
	return HTTP_DONE;
}

/* POST /api/v1/messages {"channel","to","text"}: a new outbound message to
 * any number (simpulctl send). */
static int64_t send_new(struct app *app, const char *channel, const char *to,
			const char *text, const char *author, char *why,
			size_t whylen)
{
	char norm[80];
	enum phone_kind k = phone_normalize(to, norm, sizeof(norm));
	struct store_contact c;
	struct store_conversation conv;
	bool created;
	char wa[80];

	if (k != PHONE_MOBILE && k != PHONE_FOREIGN && k != PHONE_FIXED) {
		snprintf(why, whylen, "'%s' is not a phone number", to);
		return -1;
	}
	phone_to_wa(norm, wa, sizeof(wa));
	int64_t now = app_now_ms(app), id = -1;
	if (store_begin(app->st))
		goto fail;
	if (store_contact_upsert(app->st, norm, NULL, NULL, phone_kind_name(k),
				 NULL, now, &c) ||
	    store_conversation_for(app->st, c.id, now, &conv, &created))
		goto fail;
	id = store_outbox_enqueue(app->st, conv.id, c.id, channel, norm, text,
				  author, now);
	if (id < 0 || store_commit(app->st))
		goto fail;
	outbox_kick(app->ob);
	return id;
fail:
	snprintf(why, whylen, "store: %s", store_errmsg(app->st));
	store_rollback(app->st);
	return -1;
}

static int post_message(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	json_t *j = body_json(req, resp);
	char why[200];

	if (!j)
		return HTTP_DONE;
	const char *ch = json_string_value(json_object_get(j, "channel"));
	const char *to = json_string_value(json_object_get(j, "to"));
	const char *text = json_string_value(json_object_get(j, "text"));
	if (!ch || (strcmp(ch, "sms") && strcmp(ch, "whatsapp")))
		http_error(resp, 400, "'channel' must be sms or whatsapp");
	else if (!to || !text || !*text)
		http_error(resp, 400, "'to' and 'text' are required");
	else {
		int64_t id = send_new(app, ch, to, text, http_user(req), why,
				      sizeof(why));
		if (id < 0)
			http_error(resp, 400, why);
		else
			http_reply_json(
			    resp, 201, json_pack("{sI}", "id", (json_int_t)id));
	}
	json_decref(j);
	return HTTP_DONE;
}

static int get_status(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	json_t *j = store_status_json(app->st);

	json_object_set_new(j, "version", json_string(SIMPUL_VERSION));
	json_object_set_new(j, "schema", json_integer(store_version(app->st)));
	json_object_set_new(j, "modem",
			    the_sms ? sms_status_json(the_sms)
				    : json_pack("{ss}", "state", "disabled"));
	json_object_set_new(j, "whatsapp", json_boolean(app->cfg->wa_enabled));
	http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

int api_init(struct app *app, const struct sms *sms)
{
	struct http *h = app->http;

	the_sms = sms;
	the_ui = api_ui_new(app);
	the_sse = sse_new(app);
	if (!the_ui || !the_sse || survey_init(app))
		return -1;
	return http_route(h, "GET", "/api/v1/messages", 0, get_messages, app) |
	       http_route(h, "POST", "/api/v1/messages", 0, post_message, app) |
	       http_route(h, "POST", "/api/v1/messages/", HTTP_PREFIX,
			  post_message_sub, app) |
	       http_route(h, "GET", "/api/v1/conversations/", HTTP_PREFIX,
			  get_conversation, app) |
	       http_route(h, "POST", "/api/v1/conversations/", HTTP_PREFIX,
			  post_conversation, app) |
	       http_route(h, "GET", "/api/v1/status", 0, get_status, app) |
	       api_people_routes(app) | api_report_routes(app) |
	       api_ui_routes(the_ui);
}

void api_stop(void)
{
	api_ui_stop(the_ui);
}

void api_free(void)
{
	api_ui_free(the_ui);
	the_ui = NULL;
	sse_free(the_sse);
	the_sse = NULL;
}
