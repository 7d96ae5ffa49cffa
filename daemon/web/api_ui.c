/* api_ui: the routes of the staff inbox and its static files. */
#include "api_ui.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "config.h"
#include "counters.h"
#include "gsm.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "store_ui.h"
#include "survey.h"

struct api_ui {
	struct app *app;
	struct auth *auth;
};

static const char *const statuses[] = {"baru", "diproses", "menunggu_rt",
				       "selesai", "otomatis"};
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

static json_t *body_json(struct http_req *req, struct http_resp *resp)
{
	size_t len;
	const char *b = http_body(req, &len);
	json_t *j = json_loadb(b, len, 0, NULL);

	if (!j || !json_is_object(j)) {
		http_error(resp, 400, "invalid JSON body");
		json_decref(j);
		return NULL;
	}
	return j;
}

static int64_t now_ms(struct api_ui *u)
{
	return app_now_ms(u->app);
}

static int tz(struct api_ui *u)
{
	return app_tz_offset(u->app, now_ms(u));
}

/* ---- static files ------------------------------------------------------ */

static const char *content_type(const char *name)
{
	static const char *const types[][2] = {
	    {".html", "text/html; charset=utf-8"},
	    {".js", "text/javascript; charset=utf-8"},
	    {".mjs", "text/javascript; charset=utf-8"},
	    {".css", "text/css; charset=utf-8"},
	    {".svg", "image/svg+xml"},
	    {".png", "image/png"},
	    {".ico", "image/x-icon"},
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return NULL;
}

/* Only plain names from the web root: no directories, no dot files. */
static bool safe_name(const char *n)
{
	if (!*n || *n == '.')
		return false;
	for (; *n; n++)
		if (!(*n >= 'a' && *n <= 'z') && !(*n >= '0' && *n <= '9') &&
		    *n != '-' && *n != '_' && *n != '.')
			return false;
	return true;
}

static void serve_file(struct api_ui *u, struct http_resp *resp,
		       const char *name)
{
	static char path[PATH_MAX]; /* resp->file points here until sent */
	const char *root = u->app->cfg->web_root;
	const char *type = content_type(name);

	if (!root || !*root || !safe_name(name) || !type) {
		http_error(resp, 404, "not found");
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", root, name);
	resp->status = 200;
	resp->file = path;
	resp->content_type = type;
	http_add_header(resp, "Cache-Control", "no-cache");
}

static int get_index(void *ud, struct http_req *req, struct http_resp *resp)
{
	serve_file(ud, resp, "index.html");
	return HTTP_DONE;
}

static int get_login_page(void *ud, struct http_req *req,
			  struct http_resp *resp)
{
	serve_file(ud, resp, "login.html");
	return HTTP_DONE;
}

static int get_static(void *ud, struct http_req *req, struct http_resp *resp)
{
	const char *name = http_path(req) + strlen("/static/");

	if (strstr(name, ".html"))
		http_error(resp, 404, "not found");
	else
		serve_file(ud, resp, name);
	return HTTP_DONE;
}

/* ---- login ------------------------------------------------------------- */

static void answer_locked(struct http_resp *resp, int64_t retry)
{
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "Terlalu banyak percobaan gagal. Coba lagi dalam %lld %s.",
		 (long long)(retry < 60 ? retry : (retry + 59) / 60),
		 retry < 60 ? "detik" : "menit");
	http_error(resp, 429, msg);
	http_retry_after(resp, retry);
}

static void answer_login(struct api_ui *u, struct http_req *req,
			 struct http_resp *resp, const char *name,
			 const struct auth_login *res)
{
	char cookie[200];

	switch (res->result) {
	case AUTH_OK:
		auth_cookie(res->token, http_is_https(req), cookie,
			    sizeof(cookie));
		http_add_header(resp, "Set-Cookie", cookie);
		store_audit(u->app->st, name, "login", 0, http_peer(req),
			    now_ms(u));
		http_reply_json(
		    resp, 200,
		    json_pack("{ss ss}", "user", name, "csrf", res->csrf));
		break;
	case AUTH_BAD:
		store_audit(u->app->st, name, "login_failed", 0, http_peer(req),
			    now_ms(u));
		http_error(resp, 401, "Nama pengguna atau kata sandi salah.");
		break;
	case AUTH_LOCKED:
		answer_locked(resp, res->retry_s);
		break;
	case AUTH_BUSY:
		/* Many logins at once (or an attack): the hashes are capped,
		 * so the rest of simpuld keeps its CPU and memory. */
		counters_add("login_busy");
		http_error(resp, 503,
			   "Server sedang sibuk. Coba masuk lagi sebentar.");
		http_retry_after(resp, res->retry_s);
		break;
	default:
		http_error(resp, 500, store_errmsg(u->app->st));
	}
}

/* A login whose password is being hashed: its request is suspended. */
struct login_wait {
	struct api_ui *u;
	struct http_req *req;
	char name[64];
};

static void login_done(void *ud, const struct auth_login *res)
{
	struct login_wait *w = ud;
	struct http_resp resp = {0};

	answer_login(w->u, w->req, &resp, w->name, res);
	http_resume(w->req, &resp);
	free(w);
}

static int post_login(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct api_ui *u = ud;
	const char *ct = http_header(req, "Content-Type");
	struct auth_login res;
	int rc = HTTP_DONE;

	/* A cross-site form cannot send application/json without a CORS
	 * preflight, which we never grant: no login CSRF. */
	if (!ct || strncmp(ct, "application/json", 16) != 0) {
		http_error(resp, 415, "Content-Type must be application/json");
		return HTTP_DONE;
	}
	json_t *j = body_json(req, resp);
	if (!j)
		return HTTP_DONE;
	const char *name = json_string_value(json_object_get(j, "user"));
	const char *pw = json_string_value(json_object_get(j, "password"));
	struct login_wait *w = calloc(1, sizeof(*w));
	if (!name || !pw || !*name || strlen(name) > 60 || strlen(pw) > 200) {
		http_error(resp, 400, "'user' and 'password' are required");
		goto done;
	}
	if (!w) {
		http_error(resp, 500, "out of memory");
		goto done;
	}
	*w = (struct login_wait){.u = u, .req = req};
	snprintf(w->name, sizeof(w->name), "%s", name);
	if (auth_login_start(u->auth, name, pw, http_peer(req), login_done, w,
			     &res) == AUTH_PENDING) {
		w = NULL; /* login_done answers and frees it */
		rc = HTTP_SUSPEND;
	} else {
		answer_login(u, req, resp, name, &res);
	}
done:
	free(w);
	json_decref(j);
	return rc;
}

static int post_logout(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct api_ui *u = ud;
	char cookie[200];

	auth_logout(u->auth, req);
	auth_cookie_clear(http_is_https(req), cookie, sizeof(cookie));
	http_add_header(resp, "Set-Cookie", cookie);
	http_reply_json(resp, 200, json_pack("{sb}", "ok", 1));
	return HTTP_DONE;
}

static int get_me(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct api_ui *u = ud;
	struct store_user su;
	char csrf[AUTH_TOKEN_HEX];

	if (http_is_local(req)) {
		http_reply_json(resp, 200,
				json_pack("{ss ss ss}", "user", http_user(req),
					  "role", "admin", "csrf", ""));
		return HTTP_DONE;
	}
	if (auth_session(u->auth, req, &su, csrf) != STORE_OK) {
		http_error(resp, 401, "login required");
		return HTTP_DONE;
	}
	http_reply_json(resp, 200,
			json_pack("{ss ss ss}", "user", su.name, "role",
				  su.role, "csrf", csrf));
	return HTTP_DONE;
}

/* ---- users ------------------------------------------------------------- */

static int get_users(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct api_ui *u = ud;

	const char *all = http_arg(req, "all");

	http_reply_json(resp, 200,
			store_users_json(u->app->st, all && *all == '1'));
	return HTTP_DONE;
}

static bool is_admin(struct api_ui *u, struct http_req *req)
{
	/* simpulctl on the unix socket: its permissions are the check */
	return http_is_local(req) ||
	       store_user_is_admin(u->app->st, http_user(req));
}

static bool valid_user_name(const char *n)
{
	size_t len = n ? strlen(n) : 0;

	if (len < 1 || len > 60)
		return false;
	for (; *n; n++)
		if (!(*n >= 'a' && *n <= 'z') && !(*n >= 'A' && *n <= 'Z') &&
		    !(*n >= '0' && *n <= '9') && *n != '.' && *n != '_' &&
		    *n != '-')
			return false;
	return true;
}

/* {"name","action":"disable"|"delete"}: the user's sessions end at once. */
static void user_action(struct api_ui *u, struct http_req *req,
			struct http_resp *resp, const char *name,
			const char *action)
{
	bool del = strcmp(action, "delete") == 0;
	int r;

	if (!del && strcmp(action, "disable") != 0) {
		http_error(resp, 400, "'action' must be disable or delete");
		return;
	}
	if (!valid_user_name(name)) {
		http_error(resp, 400, "'name': 1 to 60 of A-Z a-z 0-9 . _ -");
		return;
	}
	r = del ? store_user_delete(u->app->st, name)
		: store_user_disable(u->app->st, name);
	if (r == STORE_NOTFOUND) {
		http_error(resp, 404, "no such user");
		return;
	}
	if (r) {
		http_error(resp, 500, store_errmsg(u->app->st));
		return;
	}
	store_audit(u->app->st, http_user(req),
		    del ? "user_delete" : "user_disable", 0, name, now_ms(u));
	http_reply_json(resp, 200,
			json_pack("{ss ss}", "name", name, "done", action));
}

/* POST /api/v1/users {"name","role","password","replace"}, or
 * {"name","action"}: admins and simpulctl (user add|disable|delete). */
/* A user being added (or given a new password) while the password is
 * hashed off the loop: its request is suspended. */
struct user_wait {
	struct api_ui *u;
	struct http_req *req;
	char name[64];
	char role[8];
	bool replace;
};

static void store_user(struct user_wait *w, const char *hash,
		       struct http_resp *resp)
{
	struct api_ui *u = w->u;
	int r =
	    w->replace
		? store_user_update(u->app->st, w->name, w->role, hash)
		: store_user_add(u->app->st, w->name, w->role, hash, now_ms(u));

	if (r == STORE_DUP)
		http_error(resp, 409, "user exists (use --replace)");
	else if (r == STORE_NOTFOUND)
		http_error(resp, 404, "no such user");
	else if (r)
		http_error(resp, 500, store_errmsg(u->app->st));
	else {
		store_audit(u->app->st, http_user(w->req),
			    w->replace ? "user_update" : "user_add", 0, w->name,
			    now_ms(u));
		http_reply_json(
		    resp, 201,
		    json_pack("{ss ss}", "name", w->name, "role", w->role));
	}
}

static void user_hashed(void *ud, const char *hash)
{
	struct user_wait *w = ud;
	struct http_resp resp = {0};

	if (hash)
		store_user(w, hash, &resp);
	else
		http_error(&resp, 503, "password hashing failed; try again");
	http_resume(w->req, &resp);
	free(w);
}

static int add_user(struct api_ui *u, struct http_req *req,
		    struct http_resp *resp, json_t *j)
{
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *role = json_string_value(json_object_get(j, "role"));
	const char *pw = json_string_value(json_object_get(j, "password"));
	struct user_wait *w;

	if (!valid_user_name(name))
		http_error(resp, 400, "'name': 1 to 60 of A-Z a-z 0-9 . _ -");
	else if (!role || (strcmp(role, "staff") && strcmp(role, "admin")))
		http_error(resp, 400, "'role' must be staff or admin");
	else if (!pw || strlen(pw) < 8 || strlen(pw) > 200)
		http_error(resp, 400, "'password' needs 8 to 200 characters");
	else if (!(w = calloc(1, sizeof(*w))))
		http_error(resp, 500, "out of memory");
	else {
		*w = (struct user_wait){
		    .u = u,
		    .req = req,
		    .replace = json_is_true(json_object_get(j, "replace"))};
		snprintf(w->name, sizeof(w->name), "%s", name);
		snprintf(w->role, sizeof(w->role), "%s", role);
		if (auth_hash_start(u->auth, pw, user_hashed, w) ==
		    AUTH_PENDING)
			return HTTP_SUSPEND;
		free(w);
		http_error(resp, 503, "server busy; try again");
		http_retry_after(resp, 1);
	}
	return HTTP_DONE;
}

static int post_users(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct api_ui *u = ud;
	int rc = HTTP_DONE;

	if (!is_admin(u, req)) {
		http_error(resp, 403, "only an admin may add users");
		return HTTP_DONE;
	}
	json_t *j = body_json(req, resp);
	if (!j)
		return HTTP_DONE;
	const char *name = json_string_value(json_object_get(j, "name"));
	const char *action = json_string_value(json_object_get(j, "action"));
	if (action)
		user_action(u, req, resp, name, action);
	else
		rc = add_user(u, req, resp, j);
	json_decref(j);
	return rc;
}

/* ---- the conversation list --------------------------------------------- */

static bool one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v, set[i]) == 0)
			return true;
	return false;
}

static int get_conversations(void *ud, struct http_req *req,
			     struct http_resp *resp)
{
	struct api_ui *u = ud;
	const char *lim = http_arg(req, "limit"),
		   *off = http_arg(req, "offset"),
		   *before = http_arg(req, "before");
	const char *od = http_arg(req, "overdue");
	struct store_conv_filter f = {
	    .box = http_arg(req, "box"),
	    .status = http_arg(req, "status"),
	    .channel = http_arg(req, "channel"),
	    .category = http_arg(req, "category"),
	    .assignee = http_arg(req, "assignee"),
	    .q = http_arg(req, "q"),
	    .overdue = od && (strcmp(od, "1") == 0 || strcmp(od, "true") == 0),
	    .now_ms = now_ms(u),
	    .limit = lim ? atoi(lim) : 50,
	    .offset = off ? atoi(off) : 0,
	};
	static const char *const chans[] = {"sms", "whatsapp"};
	static const char *const boxes[] = {"kerja", "otomatis", "lainnya"};

	if (f.limit <= 0 || f.limit > 500)
		f.limit = 50;
	if (f.offset < 0)
		f.offset = 0;
	if (before && *before && !store_conv_cursor(before, &f)) {
		http_error(resp, 400, "before: the next of a previous page");
		return HTTP_DONE;
	}
	if (f.status && *f.status && strcmp(f.status, "open") &&
	    !one_of(f.status, statuses, NSTATUSES)) {
		http_error(resp, 400,
			   "status: baru, diproses, menunggu_rt,"
			   " selesai, otomatis or open");
		return HTTP_DONE;
	}
	if (f.box && *f.box && !one_of(f.box, boxes, 3)) {
		http_error(resp, 400, "box: kerja, otomatis or lainnya");
		return HTTP_DONE;
	}
	if (f.channel && *f.channel && !one_of(f.channel, chans, 2)) {
		http_error(resp, 400, "channel: sms or whatsapp");
		return HTTP_DONE;
	}
	json_t *j = store_conversations_json(u->app->st, &f, tz(u));
	if (!j)
		http_error(resp, 500, store_errmsg(u->app->st));
	else
		http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

/* ---- actions on one conversation --------------------------------------- */

static int set_field(struct api_ui *u, struct http_req *req,
		     struct http_resp *resp, int64_t id, const char *field,
		     const char *value)
{
	int r = store_conversation_set(u->app->st, id, field, value, now_ms(u));

	if (r == STORE_NOTFOUND)
		http_error(resp, 404, "no such conversation");
	else if (r)
		http_error(resp, 500, store_errmsg(u->app->st));
	else
		store_audit(u->app->st, http_user(req), field, id, value,
			    now_ms(u));
	return r;
}

static void act_status(struct api_ui *u, struct http_req *req,
		       struct http_resp *resp, int64_t id, json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "status"));

	if (!v || !one_of(v, statuses, NSTATUSES))
		http_error(resp, 400,
			   "'status': baru, diproses, menunggu_rt,"
			   " selesai or otomatis");
	else if (!set_field(u, req, resp, id, "status", v)) {
		if (strcmp(v, "selesai") == 0 &&
		    survey_after_resolve(u->app, id))
			log_msg(LOG_WARN, "survey for conversation %lld: %s",
				(long long)id, store_errmsg(u->app->st));
		http_reply_json(resp, 200, json_pack("{ss}", "status", v));
	}
}

static void act_assign(struct api_ui *u, struct http_req *req,
		       struct http_resp *resp, int64_t id, json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "assignee"));
	struct store_user su;

	if (!v)
		http_error(resp, 400, "'assignee' is required (\"\" to clear)");
	else if (*v && store_user_get(u->app->st, v, &su) != STORE_OK)
		http_error(resp, 400, "no such user");
	else if (!set_field(u, req, resp, id, "assignee", *v ? v : NULL))
		http_reply_json(resp, 200, json_pack("{ss}", "assignee", v));
}

static void act_category(struct api_ui *u, struct http_req *req,
			 struct http_resp *resp, int64_t id, json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "category"));

	if (!v || strlen(v) > 31)
		http_error(resp, 400, "'category' is required (max 31)");
	else if (!set_field(u, req, resp, id, "category", *v ? v : NULL))
		http_reply_json(resp, 200, json_pack("{ss}", "category", v));
}

static void act_note(struct api_ui *u, struct http_req *req,
		     struct http_resp *resp, int64_t id, json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "text"));

	if (!v || !*v || strlen(v) > 4000) {
		http_error(resp, 400, "'text' is required (max 4000)");
		return;
	}
	int64_t nid =
	    store_note_add(u->app->st, id, http_user(req), v, now_ms(u));
	if (nid < 0)
		http_error(resp, 404, "no such conversation");
	else
		http_reply_json(resp, 201,
				json_pack("{sI}", "id", (json_int_t)nid));
}

static void act_rt(struct api_ui *u, struct http_req *req,
		   struct http_resp *resp, int64_t id, json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "rt"));
	struct store_conversation c;

	if (!v || strlen(v) > 15) {
		http_error(resp, 400, "'rt' is required (e.g. \"003/005\")");
		return;
	}
	if (store_conversation_get(u->app->st, id, &c) != STORE_OK) {
		http_error(resp, 404, "no such conversation");
		return;
	}
	if (store_contact_set_rt(u->app->st, c.contact_id, *v ? v : NULL)) {
		http_error(resp, 500, store_errmsg(u->app->st));
		return;
	}
	store_audit(u->app->st, http_user(req), "rt", id, v, now_ms(u));
	http_reply_json(resp, 200, json_pack("{ss}", "rt", v));
}

static void act_read(struct api_ui *u, struct http_req *req,
		     struct http_resp *resp, int64_t id, json_t *j)
{
	if (store_conversation_read(u->app->st, id))
		http_error(resp, 500, store_errmsg(u->app->st));
	else
		http_reply_json(resp, 200, json_pack("{si}", "unread", 0));
}

void api_ui_conversation_action(struct api_ui *u, struct http_req *req,
				struct http_resp *resp, int64_t id,
				const char *action, json_t *body)
{
	static const struct {
		const char *name;
		void (*fn)(struct api_ui *, struct http_req *,
			   struct http_resp *, int64_t, json_t *);
	} acts[] = {
	    {"status", act_status},
	    {"assign", act_assign},
	    {"category", act_category},
	    {"notes", act_note},
	    {"rt", act_rt},
	    {"read", act_read},
	};

	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
		if (strcmp(action, acts[i].name) == 0) {
			acts[i].fn(u, req, resp, id, body);
			return;
		}
	http_error(resp, 404, "not found");
}

/* ---- media ------------------------------------------------------------- */

/* The file must lie in [store] media_dir: a path in the store is never
 * trusted to point anywhere else. */
static bool inside_media_dir(struct api_ui *u, const char *file)
{
	char rf[PATH_MAX], rd[PATH_MAX];
	const char *dir = u->app->cfg->media_dir;

	if (!dir || !realpath(file, rf) || !realpath(dir, rd))
		return false;
	size_t n = strlen(rd);
	return strncmp(rf, rd, n) == 0 && rf[n] == '/';
}

/* The extension of a download comes from the stored type, never from the
 * resident's file name: "surat.pdf.html" must not reach the office PC as
 * an .html file that a double click opens in the browser. */
static const char *extension_for(const char *mime)
{
	static const char *const map[][2] = {
	    {"image/jpeg", ".jpg"},
	    {"image/png", ".png"},
	    {"image/webp", ".webp"},
	    {"application/pdf", ".pdf"},
	    {"audio/ogg", ".ogg"},
	    {"audio/mpeg", ".mp3"},
	    {"audio/mp4", ".m4a"},
	    {"video/mp4", ".mp4"},
	    {"video/3gpp", ".3gp"},
	    {"text/plain", ".txt"},
	    {"application/msword", ".doc"},
	    {"application/vnd.openxmlformats-officedocument."
	     "wordprocessingml.document",
	     ".docx"},
	    {"application/vnd.ms-excel", ".xls"},
	    {"application/vnd.openxmlformats-officedocument.spreadsheetml."
	     "sheet",
	     ".xlsx"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(mime, map[i][0]) == 0)
			return map[i][1];
	return ".bin";
}

static void disposition(struct http_resp *resp, bool inline_img,
			const char *mime, const char *name, int64_t id)
{
	char safe[80], v[200];
	size_t j = 0, stem = strlen(name);

	for (size_t i = stem; i-- > 0;) /* the name without its extension */
		if (name[i] == '.') {
			stem = i;
			break;
		}
	for (size_t i = 0; i < stem && j + 1 < sizeof(safe) - 8; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-';
		safe[j++] = ok ? c : '_';
	}
	safe[j] = '\0';
	if (!j)
		snprintf(safe, sizeof(safe), "lampiran-%lld", (long long)id);
	snprintf(v, sizeof(v), "%s; filename=\"%s%s\"",
		 inline_img ? "inline" : "attachment", safe,
		 extension_for(mime));
	http_add_header(resp, "Content-Disposition", v);
}

static int get_message_sub(void *ud, struct http_req *req,
			   struct http_resp *resp)
{
	struct api_ui *u = ud;
	static char file[PATH_MAX]; /* resp->file points here until sent */
	static char mime[64];
	char name[128], *end;
	const char *p = http_path(req) + strlen("/api/v1/messages/");
	long long id = strtoll(p, &end, 10);

	if (end == p || id <= 0 || strcmp(end, "/media") != 0) {
		http_error(resp, 404, "not found");
		return HTTP_DONE;
	}
	if (store_message_media_file(u->app->st, id, file, sizeof(file), mime,
				     sizeof(mime), name,
				     sizeof(name)) != STORE_OK ||
	    !inside_media_dir(u, file)) {
		http_error(resp, 404, "no media file for this message");
		return HTTP_DONE;
	}
	/* Only image types the browser shows are inline; anything else is
	 * a download, so a resident cannot make us serve active content. */
	bool img = strcmp(mime, "image/jpeg") == 0 ||
		   strcmp(mime, "image/png") == 0 ||
		   strcmp(mime, "image/webp") == 0;
	resp->status = 200;
	resp->file = file;
	resp->content_type = img ? mime : "application/octet-stream";
	disposition(resp, img, mime, name, id);
	http_add_header(resp, "Cache-Control", "private, no-store");
	return HTTP_DONE;
}

/* ---- live changes and helpers ------------------------------------------ */

static int get_changes(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct api_ui *u = ud;

	http_reply_json(
	    resp, 200,
	    json_pack("{sI}", "rev", (json_int_t)store_ui_rev(u->app->st)));
	return HTTP_DONE;
}

static int get_sms_count(void *ud, struct http_req *req, struct http_resp *resp)
{
	const char *t = http_arg(req, "text");
	struct gsm_count c;

	gsm_count(t ? t : "", &c);
	http_reply_json(resp, 200,
			json_pack("{si sI sb ss}", "segments", c.segments,
				  "units", (json_int_t)c.units, "ucs2", c.ucs2,
				  "first_non_gsm", c.first_non_gsm));
	return HTTP_DONE;
}

/* ---- setup ------------------------------------------------------------- */

struct api_ui *api_ui_new(struct app *app)
{
	struct api_ui *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->app = app;
	u->auth =
	    auth_new(app->st, app->clock_ms, app->loop,
		     app->cfg->http_login_hashes, app->cfg->http_login_queue);
	if (!u->auth) {
		free(u);
		return NULL;
	}
	http_set_auth(app->http, auth_http_check, u->auth);
	return u;
}

void api_ui_stop(struct api_ui *u)
{
	if (u)
		auth_stop(u->auth);
}

void api_ui_free(struct api_ui *u)
{
	if (!u)
		return;
	auth_free(u->auth);
	free(u);
}

int api_ui_routes(struct api_ui *u)
{
	static const struct {
		const char *method, *path;
		int flags;
		http_handler fn;
	} routes[] = {
	    {"GET", "/", 0, get_index},
	    {"GET", "/login", HTTP_PUBLIC, get_login_page},
	    {"GET", "/static/", HTTP_PUBLIC | HTTP_PREFIX, get_static},
	    {"POST", "/api/v1/login", HTTP_PUBLIC, post_login},
	    {"POST", "/api/v1/logout", 0, post_logout},
	    {"GET", "/api/v1/me", 0, get_me},
	    {"GET", "/api/v1/users", 0, get_users},
	    {"POST", "/api/v1/users", 0, post_users},
	    {"GET", "/api/v1/conversations", 0, get_conversations},
	    {"GET", "/api/v1/messages/", HTTP_PREFIX, get_message_sub},
	    {"GET", "/api/v1/changes", 0, get_changes},
	    {"GET", "/api/v1/sms/count", 0, get_sms_count},
	};
	int r = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		r |= http_route(u->app->http, routes[i].method, routes[i].path,
				routes[i].flags, routes[i].fn, u);
	return r;
}
