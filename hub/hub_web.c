/* The dashboard: per kelurahan volumes, open and overdue tickets, SLA
 * compliance and RT response times, as a table, two server-drawn SVG charts
 * (no scripts, no CDN) and a CSV export. Staff text is in Bahasa Indonesia. */
#include "hub_web.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub_db.h"
#include "hub_log.h"

#define MAX_OFFICES   10000
#define SESSION_TTL_S 43200
#define BODY_MAX      4096
#define FAIL_LIMIT    5
#define LOCK_S	      60

struct fail {
	char name[64];
	int count;
	time_t until;
};

struct hub_web {
	struct MHD_Daemon *mhd;
	PGconn *db;
	struct hub_stats *stats;
	atomic_int *subscribed;
	struct fail fails[64];
	char dummy_hash[crypto_pwhash_STRBYTES];
};

struct buf {
	char *s;
	size_t len, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL,
			      b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
}

int hub_web_hash(const char *password, char *out, size_t n)
{
	if (n < crypto_pwhash_STRBYTES || sodium_init() < 0)
		return -1;
	return crypto_pwhash_str_alg(
	    out, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13);
}

static void token_hash(const char *token, char out[65])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof h, (const unsigned char *)token,
			   strlen(token), NULL, 0);
	sodium_bin2hex(out, 65, h, sizeof h);
}

static int send_page(struct MHD_Connection *c, unsigned status,
		     const char *type, struct buf *b, const char *cookie,
		     const char *location)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    b->len, b->s, MHD_RESPMEM_MUST_FREE);
	int ret;

	b->s = NULL;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; style-src 'unsafe-inline';"
				" form-action 'self'");
	if (cookie)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	if (location)
		MHD_add_response_header(r, "Location", location);
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static int redirect(struct MHD_Connection *c, const char *to,
		    const char *cookie)
{
	struct buf b = {0};

	bprintf(&b, "Lihat %s\n", to);
	return send_page(c, MHD_HTTP_SEE_OTHER, "text/plain; charset=utf-8", &b,
			 cookie, to);
}

static const char style[] =
    "<style>body{font-family:sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
    "padding:.25em .5em;text-align:right}td:first-child,th:first-child"
    "{text-align:left}svg{display:block;margin:1em 0}</style>";

static int login_page(struct MHD_Connection *c, bool failed)
{
	struct buf b = {0};

	bprintf(&b,
		"<!doctype html><html lang=id><meta charset=utf-8>"
		"<title>Masuk - simpul kota</title>%s<h1>simpul kota</h1>%s"
		"<form method=post action=/login><p><label>Nama <input"
		" name=name autocomplete=username></label></p><p><label>Kata"
		" sandi <input type=password name=password"
		" autocomplete=current-password></label></p><p><button>Masuk"
		"</button></p></form>",
		style, failed ? "<p>Nama atau kata sandi salah.</p>" : "");
	return send_page(c, failed ? MHD_HTTP_FORBIDDEN : MHD_HTTP_OK,
			 "text/html; charset=utf-8", &b, NULL, NULL);
}

/* Office ids are [a-z0-9._-], but escape anyway: the hub trusts no one. */
static void put_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			bprintf(b, "&lt;");
		else if (*s == '>')
			bprintf(b, "&gt;");
		else if (*s == '&')
			bprintf(b, "&amp;");
		else if (*s == '"')
			bprintf(b, "&quot;");
		else
			bprintf(b, "%c", *s);
	}
}

static int sla_pct(const struct hub_stats *s)
{
	return s->closed ? (int)(s->closed_ok * 100 / s->closed) : 100;
}

/* One horizontal bar per office; value(i) in [0, max]. */
static void bar_chart(struct buf *b, const char *title,
		      const struct hub_stats *st, int n,
		      int64_t (*value)(const struct hub_stats *), int64_t max,
		      const char *unit)
{
	int h = 20 + n * 18;

	bprintf(b,
		"<h2>%s</h2><svg xmlns='http://www.w3.org/2000/svg'"
		" width=640 height=%d role=img>",
		title, h);
	for (int i = 0; i < n; i++) {
		int64_t v = value(&st[i]);
		int w = max > 0 ? (int)(v * 400 / max) : 0;

		bprintf(b, "<text x=0 y=%d font-size=12>", 14 + i * 18);
		put_esc(b, st[i].office);
		bprintf(b,
			"</text><rect x=160 y=%d width=%d height=14"
			" fill='#3a7'/><text x=%d y=%d font-size=12>%lld%s"
			"</text>",
			3 + i * 18, w, 166 + w, 14 + i * 18, (long long)v,
			unit);
	}
	bprintf(b, "</svg>");
}

static int64_t volume(const struct hub_stats *s)
{
	return s->msg_in + s->msg_out;
}

static int64_t sla_value(const struct hub_stats *s)
{
	return sla_pct(s);
}

static void table(struct buf *b, const struct hub_stats *st, int n)
{
	bprintf(b, "<table><tr><th>Kelurahan</th><th>Pesan masuk</th>"
		   "<th>Pesan keluar</th><th>Tiket terbuka</th>"
		   "<th>Lewat tenggat</th><th>Tiket selesai</th>"
		   "<th>Tepat waktu</th><th>SLA %%</th><th>Permintaan RT</th>"
		   "<th>Jawaban RT</th><th>Rata-rata jawab RT (detik)</th>"
		   "<th>Pelanggaran SLA</th><th>Peristiwa</th></tr>");
	for (int i = 0; i < n; i++) {
		const struct hub_stats *s = &st[i];

		bprintf(b, "<tr><td>");
		put_esc(b, s->office);
		bprintf(b,
			"</td><td>%lld</td><td>%lld</td><td>%lld</td>"
			"<td>%lld</td><td>%lld</td><td>%lld</td><td>%d</td>"
			"<td>%lld</td><td>%lld</td><td>%lld</td><td>%lld</td>"
			"<td>%lld</td></tr>",
			(long long)s->msg_in, (long long)s->msg_out,
			(long long)s->open, (long long)s->overdue,
			(long long)s->closed, (long long)s->closed_ok,
			sla_pct(s), (long long)s->rt_req, (long long)s->rt_ans,
			(long long)s->rt_avg_s, (long long)s->breaches,
			(long long)s->events);
	}
	bprintf(b, "</table>");
}

static int not_found(struct MHD_Connection *c)
{
	struct buf b = {0};

	bprintf(&b, "Tidak ditemukan.\n");
	return send_page(c, MHD_HTTP_NOT_FOUND, "text/plain; charset=utf-8", &b,
			 NULL, NULL);
}

static int dashboard(struct hub_web *w, struct MHD_Connection *c,
		     const char *user)
{
	int n = hub_db_stats(w->db, w->stats, MAX_OFFICES);
	int64_t vmax = 0;
	struct buf b = {0};

	if (n < 0) {
		bprintf(&b, "Basis data tidak tersedia.\n");
		return send_page(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "text/plain; charset=utf-8", &b, NULL, NULL);
	}
	for (int i = 0; i < n; i++)
		if (volume(&w->stats[i]) > vmax)
			vmax = volume(&w->stats[i]);
	bprintf(&b,
		"<!doctype html><html lang=id><meta charset=utf-8>"
		"<title>simpul kota</title>%s<h1>simpul kota: %d kelurahan"
		"</h1><form method=post action=/logout><p>Masuk sebagai ",
		style, n);
	put_esc(&b, user);
	bprintf(&b, " <button>Keluar</button> <a href=/export.csv>Unduh CSV"
		    "</a></p></form>");
	table(&b, w->stats, n);
	bar_chart(&b, "Volume pesan per kelurahan", w->stats, n, volume, vmax,
		  "");
	bar_chart(&b, "Kepatuhan SLA per kelurahan", w->stats, n, sla_value,
		  100, "%");
	return send_page(c, MHD_HTTP_OK, "text/html; charset=utf-8", &b, NULL,
			 NULL);
}

static int export_csv(struct hub_web *w, struct MHD_Connection *c)
{
	int n = hub_db_stats(w->db, w->stats, MAX_OFFICES);
	struct buf b = {0};

	if (n < 0)
		return redirect(c, "/", NULL);
	bprintf(&b, "office,msg_in,msg_out,open,overdue,closed,closed_in_time,"
		    "sla_pct,rt_requests,rt_answers,rt_avg_s,sla_breaches,"
		    "events,last_seq\r\n");
	for (int i = 0; i < n; i++) {
		const struct hub_stats *s = &w->stats[i];

		bprintf(&b,
			"%s,%lld,%lld,%lld,%lld,%lld,%lld,%d,%lld,%lld,%lld,"
			"%lld,%lld,%lld\r\n",
			s->office, (long long)s->msg_in, (long long)s->msg_out,
			(long long)s->open, (long long)s->overdue,
			(long long)s->closed, (long long)s->closed_ok,
			sla_pct(s), (long long)s->rt_req, (long long)s->rt_ans,
			(long long)s->rt_avg_s, (long long)s->breaches,
			(long long)s->events, (long long)s->last_seq);
	}
	return send_page(c, MHD_HTTP_OK, "text/csv; charset=utf-8", &b, NULL,
			 NULL);
}

static struct fail *fail_slot(struct hub_web *w, const char *name)
{
	struct fail *oldest = &w->fails[0];

	for (size_t i = 0; i < sizeof w->fails / sizeof w->fails[0]; i++) {
		if (strcmp(w->fails[i].name, name) == 0)
			return &w->fails[i];
		if (w->fails[i].until < oldest->until)
			oldest = &w->fails[i];
	}
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->name, sizeof oldest->name, "%s", name);
	return oldest;
}

/* Verifies against a dummy hash for unknown names too, so the answer
 * takes as long either way; locks a name for a minute after five misses. */
static bool check_login(struct hub_web *w, const char *name, const char *pw)
{
	char hash[crypto_pwhash_STRBYTES];
	struct fail *f = fail_slot(w, name);
	bool found = hub_db_user_hash(w->db, name, hash, sizeof hash) == 0;
	bool good;

	if (f->until > time(NULL))
		return false;
	good = crypto_pwhash_str_verify(found ? hash : w->dummy_hash, pw,
					strlen(pw)) == 0 &&
	       found;
	if (good) {
		f->count = 0;
	} else if (++f->count >= FAIL_LIMIT) {
		f->until = time(NULL) + LOCK_S;
		f->count = 0;
	}
	return good;
}

static int do_login(struct hub_web *w, struct MHD_Connection *c,
		    const char *name, const char *pw)
{
	unsigned char raw[32];
	char token[65], th[65], cookie[160];

	if (!name[0] || !check_login(w, name, pw))
		return login_page(c, true);
	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(token, sizeof token, raw, sizeof raw);
	token_hash(token, th);
	if (hub_db_session_new(w->db, th, name, SESSION_TTL_S) != 0)
		return login_page(c, true);
	snprintf(cookie, sizeof cookie,
		 "hub_session=%s; Path=/; HttpOnly; SameSite=Strict;"
		 " Max-Age=%d",
		 token, SESSION_TTL_S);
	return redirect(c, "/", cookie);
}

static bool session(struct hub_web *w, struct MHD_Connection *c, char *user,
		    size_t n, char th[65])
{
	const char *token =
	    MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "hub_session");

	if (!token || strlen(token) != 64)
		return false;
	token_hash(token, th);
	return hub_db_session_get(w->db, th, user, n) == 0;
}

/* The form body is small and url-encoded; libmicrohttpd's post processor
 * fills MHD_POSTDATA_KIND values as it arrives. */
struct req {
	struct MHD_PostProcessor *pp;
	size_t seen;
	char name[64], password[256];
};

/* A value may come in pieces: off says where this one goes. */
static enum MHD_Result post_iter(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *filename,
				 const char *type, const char *enc,
				 const char *data, uint64_t off, size_t size)
{
	struct req *r = cls;
	char *dst = NULL;
	size_t cap = 0;

	if (strcmp(key, "name") == 0)
		dst = r->name, cap = sizeof r->name;
	else if (strcmp(key, "password") == 0)
		dst = r->password, cap = sizeof r->password;
	if (!dst)
		return MHD_YES;
	if (off + size >= cap)
		return MHD_NO;
	memcpy(dst + off, data, size);
	dst[off + size] = '\0';
	return MHD_YES;
}

static enum MHD_Result route(struct hub_web *w, struct MHD_Connection *c,
			     const char *url, const char *method, struct req *r)
{
	char user[64], th[65];
	bool post = strcmp(method, "POST") == 0;

	if (strcmp(url, "/healthz") == 0) {
		struct buf b = {0};
		bool up = atomic_load(w->subscribed);

		bprintf(&b, up ? "ok\n" : "menunggu broker\n");
		return send_page(
		    c, up ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE,
		    "text/plain; charset=utf-8", &b, NULL, NULL);
	}
	if (strcmp(url, "/login") == 0)
		return post ? do_login(w, c, r->name, r->password)
			    : login_page(c, false);
	if (!session(w, c, user, sizeof user, th))
		return redirect(c, "/login", NULL);
	if (post && strcmp(url, "/logout") == 0) {
		hub_db_session_end(w->db, th);
		return redirect(c, "/login", "hub_session=; Path=/; Max-Age=0");
	}
	if (!post && strcmp(url, "/") == 0)
		return dashboard(w, c, user);
	if (!post && strcmp(url, "/export.csv") == 0)
		return export_csv(w, c);
	return not_found(c);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct hub_web *w = cls;
	struct req *r = *con_cls;

	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		if (strcmp(method, "POST") == 0)
			r->pp =
			    MHD_create_post_processor(c, 1024, post_iter, r);
		return MHD_YES;
	}
	if (*upload_size) {
		r->seen += *upload_size;
		if (r->seen > BODY_MAX || !r->pp ||
		    MHD_post_process(r->pp, upload, *upload_size) != MHD_YES)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	return route(w, c, url, method, r);
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls,
		 enum MHD_RequestTerminationCode toe)
{
	struct req *r = *con_cls;

	if (!r)
		return;
	if (r->pp)
		MHD_destroy_post_processor(r->pp);
	sodium_memzero(r->password, sizeof r->password);
	free(r);
	*con_cls = NULL;
}

struct hub_web *hub_web_start(PGconn *db, int port, int any,
			      atomic_int *subscribed)
{
	struct hub_web *w = calloc(1, sizeof *w);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port)};

	if (!w || sodium_init() < 0)
		goto fail;
	w->db = db;
	w->subscribed = subscribed;
	w->stats = calloc(MAX_OFFICES, sizeof *w->stats);
	if (!w->stats ||
	    hub_web_hash("dummy", w->dummy_hash, sizeof w->dummy_hash) != 0)
		goto fail;
	sa.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
	/* One internal thread: requests are served one after another, so
	 * the one database connection is never shared. */
	w->mhd = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
	    NULL, NULL, handler, w, MHD_OPTION_SOCK_ADDR, &sa,
	    MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, 30U, MHD_OPTION_END);
	if (!w->mhd)
		goto fail;
	return w;
fail:
	hub_log("http: cannot listen on port %d", port);
	if (w)
		free(w->stats);
	free(w);
	return NULL;
}

void hub_web_stop(struct hub_web *w)
{
	if (!w)
		return;
	MHD_stop_daemon(w->mhd);
	free(w->stats);
	free(w);
}
