#include "whatsapp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "curlm.h"
#include "http.h"
#include "inbox.h"
#include "loop.h"
#include "outbox.h"
#include "store.h"
#include "wa_inbox.h"
#include "wa_parse.h"
#include "wa_send.h"
#include "walsync.h"
#include "log.h"
#include "counters.h"

#define MAX_PENDING 256
#define MAX_BATCH   500 /* messages + statuses in one webhook */
#define MEDIA_MAX   (100 * 1024 * 1024)
#define MEDIA_TRIES 5
/* A download on its way: never served, never kept across a start. */
#define MEDIA_TMP ".dl-"
#define PACE_MS	  6000 /* at most one message per 6 s to one user */

struct pending {
	struct http_req *req;
	struct wa_batch *batch;
};

struct wa {
	struct app *app;
	struct curlm *cm;
	struct wa_client *client;
	struct wa_pacer *pacer;
	struct pending pend[MAX_PENDING];
	int npend;
	bool commit_soon;
	bool closing;
	struct media_job *jobs; /* every download: running, queued, waiting */
	/* Jobs ready to start, first come first served; at most
	 * [whatsapp] media_downloads run at once, so a burst of photos
	 * neither floods the line nor keeps many files open. */
	struct media_job *qhead, **qtail;
	int running;
	uint64_t kick_timer;
};

struct media_job {
	struct wa *w;
	struct media_job *next, **pprev;
	struct media_job *qnext;
	uint64_t timer;
	int64_t message_id;
	char media_id[128], sha256[96], mime[64], filename[256];
	int tries;
	bool running;
	int fd;	       /* the temporary file while running, else -1 */
	char tmp[512]; /* its name, "" when none */
};

struct send_job {
	struct wa *w;
	int64_t id;
	char to[80];
};

/* ---- webhook ----------------------------------------------------------- */

static int get_webhook(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct wa *w = ud;
	const char *ch = http_arg(req, "hub.challenge");

	if (wa_verify_subscribe(http_arg(req, "hub.mode"),
				http_arg(req, "hub.verify_token"), ch,
				w->app->cfg->wa_verify_token) != 0) {
		log_msg(LOG_WARN, "webhook verification refused from %s",
			http_peer(req));
		http_text(resp, 403, "verify token mismatch");
		return HTTP_DONE;
	}
	http_text(resp, 200, ch);
	return HTTP_DONE;
}

static int post_webhook(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct wa *w = ud;
	size_t len;
	const char *body = http_body(req, &len);
	struct wa_batch *b = NULL;
	char err[200];

	if (wa_verify_signature(w->app->cfg->wa_app_secret, body, len,
				http_header(req, "X-Hub-Signature-256"))) {
		log_msg(LOG_WARN,
			"webhook from %s: missing or wrong "
			"X-Hub-Signature-256; nothing stored",
			http_peer(req));
		counters_add("webhook_bad_signature");
		http_error(resp, 401, "invalid signature");
		return HTTP_DONE;
	}
	if (wa_parse(body, len, &b, err, sizeof(err))) {
		log_msg(LOG_WARN, "webhook from %s: %s; nothing stored",
			http_peer(req), err);
		counters_add("webhook_bad_payload");
		http_error(resp, 400, err);
		return HTTP_DONE;
	}
	if (b->nmessages + b->nstatuses > MAX_BATCH) {
		/* Meta sends a handful per request; thousands would hold the
		 * loop in one transaction for seconds. */
		log_msg(LOG_WARN,
			"webhook from %s: %zu messages and %zu "
			"statuses, more than %d; nothing stored",
			http_peer(req), b->nmessages, b->nstatuses, MAX_BATCH);
		wa_batch_free(b);
		counters_add("webhook_bad_payload");
		http_error(resp, 413, "too many messages in one webhook");
		return HTTP_DONE;
	}
	if (w->npend == MAX_PENDING) {
		wa_batch_free(b);
		counters_add("webhook_busy");
		http_error(resp, 503, "busy, retry");
		return HTTP_DONE;
	}
	w->pend[w->npend++] = (struct pending){req, b};
	w->commit_soon = true;
	return HTTP_SUSPEND; /* answered after the commit that holds it */
}

static void fetch_media(struct wa *w, int64_t id, const struct wa_message *m);

static int add_message(struct wa *w, const struct wa_message *m)
{
	int64_t id = 0;
	enum inbox_result r = wa_inbox_message(w->app->ib, m, &id);

	if (r == INBOX_STORED && m->media.id)
		fetch_media(w, id, m);
	return r == INBOX_FAILED ? -1 : 0;
}

static int add_status(struct wa *w, const struct wa_status *s)
{
	return wa_inbox_status(w->app->st, s);
}

static int add_batch(struct wa *w, const struct wa_batch *b)
{
	int rc = 0;

	for (size_t i = 0; i < b->nmessages; i++)
		rc |= add_message(w, &b->messages[i]);
	for (size_t i = 0; i < b->nstatuses; i++)
		rc |= add_status(w, &b->statuses[i]);
	for (size_t i = 0; i < b->nerrors; i++)
		log_msg(LOG_WARN, "WhatsApp reports error %ld: %s %s",
			b->errors[i].code, b->errors[i].title,
			b->errors[i].message);
	return rc;
}

static void answer(struct pending *p, int status)
{
	struct http_resp r = {0};

	if (status == 200)
		http_text(&r, 200, "OK");
	else
		http_error(&r, status, "not stored, retry later");
	http_resume(p->req, &r);
	wa_batch_free(p->batch);
}

/* A group committed but not yet synced: its webhooks wait for the WAL
 * sync (core/walsync) before any is answered 200. */
struct group {
	int n;
	bool ok[MAX_PENDING];
	struct pending pend[MAX_PENDING]; /* allocated up to pend[n - 1] */
};

/* Only the group's n webhooks: a few hundred bytes from glibc's
 * per-thread cache, not 4 KiB that made it consolidate its free lists
 * at each commit (malloc_consolidate under signed webhooks). */
static struct group *group_new(int n)
{
	return malloc(offsetof(struct group, pend) +
		      (size_t)n * sizeof(struct pending));
}

static void answer_group(struct group *g, bool durable)
{
	for (int i = 0; i < g->n; i++)
		answer(&g->pend[i], durable && g->ok[i] ? 200 : 500);
}

static void group_synced(void *arg, bool ok)
{
	answer_group(arg, ok);
	free(arg);
}

/* Group commit: every webhook that arrived in this loop iteration is
 * stored in one transaction, then each is answered: once a WAL sync that
 * started after the COMMIT has ended, off the loop when the store is in
 * WAL mode (the loop meanwhile reads and stores the next group), else by
 * the COMMIT itself (synchronous=FULL). Meta retries anything not
 * answered 200, and the retry is found a duplicate. */
static void commit_pending(struct wa *w)
{
	struct walsync *ws = w->app->ws;
	struct group *g = ws ? group_new(w->npend) : NULL;
	struct group full;
	bool began;

	if (!g)
		g = &full;
	g->n = w->npend;
	memcpy(g->pend, w->pend, (size_t)g->n * sizeof(*g->pend));
	w->npend = 0;
	w->commit_soon = false;
	began = (g == &full ? inbox_begin(w->app->ib)
			    : inbox_begin_unsynced(w->app->ib)) == 0;
	for (int i = 0; i < g->n; i++)
		g->ok[i] = began && add_batch(w, g->pend[i].batch) == 0;
	bool committed = began && inbox_commit(w->app->ib) == 0;
	if (began && !committed)
		log_msg(LOG_ERR, "webhook commit failed: %s",
			store_errmsg(w->app->st));
	if (g == &full || !committed ||
	    walsync_after_commit(ws, group_synced, g) != 0) {
		answer_group(g, committed && g == &full);
		if (g != &full)
			free(g);
	}
}

/* The webhooks read in this loop iteration are committed at its end,
 * even while a WAL sync runs: they wait for the next sync anyway, and
 * their commit's CPU then overlaps that sync's I/O instead of coming
 * after it. (Gathering them until the sync ended made fewer, larger
 * commits, but since a commit's WAL frames are one write (store_vfs.c)
 * it saved no CPU per webhook, and cost ~25% of the throughput at 16
 * connections: bench/README.md.) They are gathered only while the
 * checkpoint catches up (walsync_hold). */
static uint64_t prepare(struct loop *l, void *arg)
{
	struct wa *w = arg;
	bool gather =
	    w->app->ws && walsync_hold(w->app->ws) && w->npend < MAX_PENDING;

	return w->commit_soon && !gather ? 0 : UINT64_MAX;
}

static void dispatch(struct loop *l, void *arg)
{
	commit_pending(arg);
}

/* ---- media ------------------------------------------------------------- */

static const char *ext_for(const char *mime)
{
	static const char *const map[][2] = {
	    {"image/jpeg", "jpg"},  {"image/png", "png"},
	    {"image/webp", "webp"}, {"application/pdf", "pdf"},
	    {"audio/ogg", "ogg"},   {"audio/mpeg", "mp3"},
	    {"video/mp4", "mp4"},   {"audio/aac", "aac"},
	};

	for (size_t i = 0; mime && i < sizeof(map) / sizeof(map[0]); i++)
		if (strncmp(mime, map[i][0], strlen(map[i][0])) == 0)
			return map[i][1];
	return "bin";
}

/* Personal data (KTP/KK photos): the directory and files are readable by
 * the service only (doc/field.md, UU 27/2022). The download goes to a
 * temporary file next to its final name, so that only a whole, checked
 * file ever carries a name the store points to. */
static int tmp_open(struct media_job *j)
{
	const char *dir = j->w->app->cfg->media_dir;
	int n;

	mkdir(dir, 0700);
	n = snprintf(j->tmp, sizeof(j->tmp), "%s/" MEDIA_TMP "%lld-XXXXXX", dir,
		     (long long)j->message_id);
	if (n < 0 || (size_t)n >= sizeof(j->tmp)) {
		j->tmp[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	j->fd = mkostemp(j->tmp, O_CLOEXEC); /* mode 0600 */
	if (j->fd < 0)
		j->tmp[0] = '\0';
	return j->fd < 0 ? -1 : 0;
}

/* A failed, cut or cancelled download leaves nothing behind. */
static void tmp_discard(struct media_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	if (j->tmp[0])
		unlink(j->tmp);
	j->tmp[0] = '\0';
}

/* Left by a crash or a kill in the middle of a download: that download
 * starts again from the beginning (resume_media), so they are of no
 * use. */
static void tmp_clean(struct wa *w)
{
	DIR *d = opendir(w->app->cfg->media_dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, MEDIA_TMP, strlen(MEDIA_TMP)) == 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			n++;
	closedir(d);
	if (n)
		log_msg(LOG_INFO, "removed %d unfinished media download(s)", n);
}

/* The new name survives a power cut once the directory is synced too.
 * Best effort: the file already has its name, and a row pointing to a
 * name that a crash then loses is found missing like any other. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fsync(fd) != 0)
		log_msg(LOG_WARN, "cannot sync %s: %s", dir, strerror(errno));
	close(fd);
}

/* The download is whole and its hash checked: it is made durable, then
 * takes its name. One fsync per file, on the loop: writeback was started
 * every MiB as the bytes came (wa_send.c), so it waits for about the last
 * MiB only, not for the file. */
static int media_keep(struct media_job *j, const struct wa_media_res *r,
		      char *path, size_t plen)
{
	const char *dir = j->w->app->cfg->media_dir;

	snprintf(path, plen, "%s/%lld.%s", dir, (long long)j->message_id,
		 ext_for(r->mime_type ? r->mime_type : j->mime));
	if (fsync(j->fd) != 0)
		return -1;
	close(j->fd);
	j->fd = -1;
	if (rename(j->tmp, path) != 0)
		return -1;
	j->tmp[0] = '\0';
	sync_dir(dir);
	return 0;
}

static void media_start(struct media_job *j);

static void job_free(struct media_job *j)
{
	if (j->next)
		j->next->pprev = j->pprev;
	*j->pprev = j->next;
	if (j->timer)
		loop_timer_cancel(j->w->app->loop, j->timer);
	if (j->running)
		j->w->running--;
	tmp_discard(j);
	free(j);
}

static void kick(struct loop *l, void *arg)
{
	struct wa *w = arg;
	int max = w->app->cfg->wa_media_downloads;

	w->kick_timer = 0;
	while (w->qhead && w->running < (max > 0 ? max : 1)) {
		struct media_job *j = w->qhead;
		w->qhead = j->qnext;
		if (!w->qhead)
			w->qtail = &w->qhead;
		j->qnext = NULL;
		media_start(j);
	}
}

/* Started from the loop, never inside a commit or a curl callback. */
static void kick_soon(struct wa *w)
{
	if (!w->kick_timer && !w->closing)
		w->kick_timer = loop_timer_add(w->app->loop, 0, kick, w);
}

static void enqueue(struct media_job *j)
{
	struct wa *w = j->w;

	*w->qtail = j;
	w->qtail = &j->qnext;
	kick_soon(w);
}

static void media_retry(struct loop *l, void *arg)
{
	struct media_job *j = arg;

	j->timer = 0;
	enqueue(j); /* at the back: the others have waited too */
}

/* The message's media column: what staff see of the download. */
static void media_record(struct media_job *j, json_t *m)
{
	char *s = json_dumps(m, JSON_COMPACT);

	store_message_media(j->w->app->st, j->message_id, s);
	free(s);
	json_decref(m);
}

static void media_stored(struct media_job *j, const char *path, size_t len)
{
	media_record(j, json_pack("{ss ss ss sI ss*}", "id", j->media_id,
				  "mime_type", j->mime, "file", path, "size",
				  (json_int_t)len, "filename",
				  j->filename[0] ? j->filename : NULL));
}

/* Given up: staff see why instead of an endless spinner. */
static void media_given_up(struct media_job *j, const char *why)
{
	media_record(j, json_pack("{ss ss ss ss ss*}", "id", j->media_id,
				  "mime_type", j->mime, "sha256", j->sha256,
				  "error", why, "filename",
				  j->filename[0] ? j->filename : NULL));
}

static void media_done(const struct wa_media_res *r, void *arg)
{
	struct media_job *j = arg;
	struct wa *w = j->w;
	char path[512];

	j->running = false;
	w->running--;
	if (w->closing) {
		job_free(j); /* resumed at the next start (resume_media) */
		return;
	}
	kick_soon(w); /* the next in the queue takes this one's place */
	if (r->result == WA_OK && media_keep(j, r, path, sizeof(path)) == 0) {
		media_stored(j, path, r->len);
		job_free(j);
		return;
	}
	const char *why = r->result == WA_OK ? "cannot write file" : r->error;
	tmp_discard(j);
	log_msg(LOG_WARN, "media %s of message %lld: %s (attempt %d)",
		j->media_id, (long long)j->message_id, why, j->tries);
	if (++j->tries < MEDIA_TRIES && r->result != WA_FAILED) {
		j->timer = loop_timer_add(w->app->loop, 5000u << j->tries,
					  media_retry, j);
		return;
	}
	media_given_up(j, why);
	job_free(j);
}

static void media_start(struct media_job *j)
{
	struct wa *w = j->w;

	j->running = true;
	w->running++;
	if (tmp_open(j) != 0) {
		struct wa_media_res r = {.result = WA_RETRY};
		snprintf(r.error, sizeof(r.error),
			 "cannot create a file in %s: %s",
			 w->app->cfg->media_dir, strerror(errno));
		media_done(&r, j);
		return;
	}
	if (wa_media_fetch(w->client, j->media_id,
			   j->sha256[0] ? j->sha256 : NULL, MEDIA_MAX, j->fd,
			   media_done, j)) {
		job_free(j);
		kick_soon(w);
	}
}

static void fetch_media(struct wa *w, int64_t id, const struct wa_message *m)
{
	struct media_job *j = calloc(1, sizeof(*j));

	if (!j)
		return;
	j->w = w;
	j->fd = -1;
	j->message_id = id;
	snprintf(j->media_id, sizeof(j->media_id), "%s", m->media.id);
	snprintf(j->sha256, sizeof(j->sha256), "%s",
		 m->media.sha256 ? m->media.sha256 : "");
	snprintf(j->mime, sizeof(j->mime), "%s",
		 m->media.mime_type ? m->media.mime_type : "");
	snprintf(j->filename, sizeof(j->filename), "%s",
		 m->media.filename ? m->media.filename : "");
	j->next = w->jobs;
	if (w->jobs)
		w->jobs->pprev = &j->next;
	j->pprev = &w->jobs;
	w->jobs = j;
	enqueue(j); /* started after this commit, never inside it */
}

/* Downloads lost to a crash or a restart are picked up again: the message
 * row keeps the media id until the file is written. */
static void resume_one(void *ud, int64_t id, const char *media)
{
	struct wa *w = ud;
	json_t *j = json_loads(media, 0, NULL);
	const char *mid = json_string_value(json_object_get(j, "id"));

	if (mid) {
		struct wa_message m = {0};
		m.media.id = mid;
		m.media.sha256 =
		    json_string_value(json_object_get(j, "sha256"));
		m.media.mime_type =
		    json_string_value(json_object_get(j, "mime_type"));
		m.media.filename =
		    json_string_value(json_object_get(j, "filename"));
		fetch_media(w, id, &m);
	}
	json_decref(j);
}

static void resume_media(struct wa *w)
{
	int64_t week = 7LL * 24 * 3600 * 1000; /* Meta keeps media ~30 days */
	int n = store_media_pending(w->app->st, app_now_ms(w->app) - week,
				    resume_one, w);

	if (n > 0)
		log_msg(LOG_INFO, "downloading %d media file(s) again", n);
}

/* ---- outbox driver ----------------------------------------------------- */

static bool drv_ready(void *ud)
{
	struct wa *w = ud;

	return w->client != NULL;
}

static void sent_cb(const struct wa_outcome *o, void *arg)
{
	struct send_job *j = arg;
	struct wa *w = j->w;
	struct outbox *ob = w->app->ob;

	switch (o->result) {
	case WA_OK:
		outbox_sent(ob, j->id, o->wamid);
		break;
	case WA_FALLBACK_SMS:
		if (w->app->cfg->wa_sms_fallback && j->to[0] == '+' &&
		    outbox_has_channel(ob, "sms")) {
			log_msg(LOG_INFO,
				"message %lld to %s: %s; sending by "
				"SMS instead",
				(long long)j->id, j->to, o->error_text);
			outbox_reroute(ob, j->id, "sms", j->to, o->error_text);
		} else {
			outbox_failed(ob, j->id, o->error_text);
		}
		break;
	case WA_RETRY:
		outbox_retry(ob, j->id, o->error_text,
			     (int64_t)o->retry_after_ms);
		break;
	case WA_TOKEN_EXPIRED:
		log_msg(LOG_ERR, "WhatsApp access token expired or revoked: "
				 "replace [whatsapp] access_token and reload");
		inbox_notice(
		    w->app->ib, "wa_token",
		    "Token WhatsApp kedaluwarsa. Admin perlu mengganti "
		    "access_token di simpul.ini lalu reload.");
		outbox_retry(ob, j->id, o->error_text, 600000);
		break;
	case WA_FAILED:
		outbox_failed(ob, j->id, o->error_text);
		break;
	case WA_UNKNOWN: {
		/* Not sent again by itself: one copy at most (issue 14). */
		char why[512];
		snprintf(why, sizeof(why),
			 "status tidak pasti: permintaan sudah terkirim ke "
			 "WhatsApp tetapi tidak ada jawaban (%s); periksa, "
			 "lalu kirim ulang bila perlu",
			 o->error_text);
		log_msg(LOG_WARN, "message %lld to %s: %s", (long long)j->id,
			j->to, why);
		outbox_failed(ob, j->id, why);
		break;
	}
	}
	free(j);
}

static int drv_send(void *ud, int64_t id, const char *to, const char *body)
{
	struct wa *w = ud;
	const char *digits = to[0] == '+' ? to + 1 : to;
	uint64_t wait = wa_pacer_take(w->pacer, digits, loop_now_ms());

	if (wait)
		return (int)wait;
	struct send_job *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	*j = (struct send_job){w, id, ""};
	snprintf(j->to, sizeof(j->to), "%s", to);
	if (wa_send_text(w->client, digits, body, sent_cb, j)) {
		free(j);
		return -1;
	}
	return 0;
}

/* ---- life -------------------------------------------------------------- */

static void make_client(struct wa *w)
{
	const struct config *c = w->app->cfg;
	struct wa_client_cfg cc = {
	    .graph_url = c->wa_graph_url,
	    .access_token = c->wa_access_token,
	    .phone_number_id = c->wa_phone_number_id,
	    .timeout_ms = c->wa_send_timeout_ms,
	};

	wa_client_free(w->client);
	w->client = c->wa_enabled ? wa_client_new(w->cm, &cc) : NULL;
}

struct wa *wa_new(struct app *app)
{
	struct wa *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->app = app;
	w->qtail = &w->qhead;
	w->cm = curlm_new(app->loop);
	w->pacer = wa_pacer_new(PACE_MS);
	make_client(w);
	http_route(app->http, "GET", "/webhook/whatsapp", HTTP_PUBLIC,
		   get_webhook, w);
	http_route(app->http, "POST", "/webhook/whatsapp",
		   HTTP_PUBLIC | HTTP_BIG_BODY, post_webhook, w);
	/* Meta always signs: without the header the body is not even read */
	http_route_require(app->http, "POST", "/webhook/whatsapp",
			   "X-Hub-Signature-256");
	loop_prepare_add(app->loop, prepare, dispatch, w);
	struct outbox_driver drv = {
	    .channel = "whatsapp",
	    .ready = drv_ready,
	    .send = drv_send,
	    .interval_ms = 0,
	    .ud = w,
	};
	outbox_add_driver(app->ob, &drv);
	tmp_clean(w);
	if (w->client)
		resume_media(w);
	return w;
}

void wa_reconfigure(struct wa *w)
{
	if (w)
		make_client(w);
}

void wa_free(struct wa *w)
{
	if (!w)
		return;
	for (int i = 0; i < w->npend; i++)
		answer(&w->pend[i], 503);
	/* The groups waiting for their sync are answered now (synced on
	 * this thread), or they would point into a freed wa. */
	walsync_stop(w->app->ws);
	loop_prepare_del(w->app->loop, prepare, w);
	w->closing = true;
	curlm_free(w->cm); /* cancels sends: their callbacks see the client */
	wa_client_free(w->client);
	w->qhead = NULL;
	w->qtail = &w->qhead;
	while (w->jobs)
		job_free(w->jobs);
	if (w->kick_timer)
		loop_timer_cancel(w->app->loop, w->kick_timer);
	wa_pacer_free(w->pacer);
	free(w);
}
