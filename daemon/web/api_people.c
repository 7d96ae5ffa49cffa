#include "api_people.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "store.h"
#include "store_people.h"
#include "store_ui.h"

static int64_t contact_id(struct http_req *req)
{
	const char *p = http_path(req) + strlen("/api/v1/contacts/");
	char *end;
	long long id = strtoll(p, &end, 10);

	return end != p && *end == '\0' && id > 0 ? id : -1;
}

static int get_contact(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	int64_t id = contact_id(req);
	json_t *j = id > 0
			? store_contact_page_json(
			      app->st, id, app_tz_offset(app, app_now_ms(app)))
			: NULL;

	if (!j)
		http_error(resp, 404, "no such contact");
	else
		http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

/* A field of the body: NULL when absent, else its string (max chars). */
static bool field(json_t *j, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(j, key);

	*out = NULL;
	if (!v)
		return true;
	*out = json_string_value(v);
	return *out && strlen(*out) <= max;
}

/* POST /api/v1/contacts/{id} {"name","rt","rw","notes"}: any subset. */
static int post_contact(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	int64_t id = contact_id(req);
	size_t len;
	const char *b = http_body(req, &len);
	json_t *j = json_loadb(b, len, 0, NULL);
	struct store_contact_edit e;

	if (!json_is_object(j) || !field(j, "name", 80, &e.name) ||
	    !field(j, "rt", 15, &e.rt) || !field(j, "rw", 15, &e.rw) ||
	    !field(j, "notes", 2000, &e.notes)) {
		http_error(resp, 400,
			   "give any of name (80), rt (15), rw (15),"
			   " notes (2000) as strings");
		json_decref(j);
		return HTTP_DONE;
	}
	int r = id > 0 ? store_contact_edit(app->st, id, &e, app_now_ms(app))
		       : STORE_NOTFOUND;
	if (r == STORE_NOTFOUND)
		http_error(resp, 404, "no such contact");
	else if (r)
		http_error(resp, 500, store_errmsg(app->st));
	else {
		store_audit(app->st, http_user(req), "contact", 0, b,
			    app_now_ms(app));
		http_reply_json(
		    resp, 200,
		    store_contact_page_json(
			app->st, id, app_tz_offset(app, app_now_ms(app))));
	}
	json_decref(j);
	return HTTP_DONE;
}

static int get_categories(void *ud, struct http_req *req,
			  struct http_resp *resp)
{
	struct app *app = ud;
	json_t *j = store_categories_json(app->st);

	if (!j)
		http_error(resp, 500, store_errmsg(app->st));
	else
		http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

static bool is_admin(struct app *app, struct http_req *req)
{
	/* simpulctl on the unix socket: its permissions are the check */
	return http_is_local(req) ||
	       store_user_is_admin(app->st, http_user(req));
}

/* POST /api/v1/users/{name}/disable: admins (and simpulctl). */
static int post_user_sub(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	char name[64];
	const char *p = http_path(req) + strlen("/api/v1/users/");
	const char *slash = strchr(p, '/');
	size_t n = slash ? (size_t)(slash - p) : 0;

	if (!slash || n == 0 || n >= sizeof(name) ||
	    strcmp(slash, "/disable") != 0) {
		http_error(resp, 404, "not found");
		return HTTP_DONE;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	if (!is_admin(app, req)) {
		http_error(resp, 403, "only an admin may disable users");
		return HTTP_DONE;
	}
	if (strcmp(name, http_user(req)) == 0) {
		http_error(resp, 409,
			   "Anda tidak bisa menonaktifkan diri sendiri.");
		return HTTP_DONE;
	}
	int r = store_user_disable(app->st, name); /* ends its sessions */
	if (r == STORE_NOTFOUND)
		http_error(resp, 404, "no such user");
	else if (r)
		http_error(resp, 500, store_errmsg(app->st));
	else {
		store_audit(app->st, http_user(req), "user_disable", 0, name,
			    app_now_ms(app));
		http_reply_json(
		    resp, 200,
		    json_pack("{ss sb}", "name", name, "disabled", 1));
	}
	return HTTP_DONE;
}

int api_people_routes(struct app *app)
{
	return http_route(app->http, "GET", "/api/v1/contacts/", HTTP_PREFIX,
			  get_contact, app) |
	       http_route(app->http, "POST", "/api/v1/contacts/", HTTP_PREFIX,
			  post_contact, app) |
	       http_route(app->http, "GET", "/api/v1/categories", 0,
			  get_categories, app) |
	       http_route(app->http, "POST", "/api/v1/users/", HTTP_PREFIX,
			  post_user_sub, app);
}
