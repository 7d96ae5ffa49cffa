#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "doctor.h"
#include "http.h"
#include "loop.h"
#include "modem.h"
#include "retention.h"
#include "sms.h"
#include "store.h"
#include "store_ops.h"
#include "log.h"
#include "counters.h"

#define BACKUP_PAGES	64 /* per loop turn: 256 KB at 4 KB pages */
#define BACKUP_PAUSE_MS 2  /* between steps, so requests get served */

/* ---- counters ---------------------------------------------------------- */

static const struct {
	const char *name, *metric, *labels, *help;
} known[] = {
    {"webhook_bad_signature", "simpul_webhook_errors_total",
     "reason=\"signature\"", "Webhook requests refused"},
    {"webhook_bad_payload", "simpul_webhook_errors_total", "reason=\"payload\"",
     NULL},
    {"webhook_busy", "simpul_webhook_errors_total", "reason=\"busy\"", NULL},
    {"login_busy", "simpul_http_busy_total", "reason=\"login\"",
     "Requests answered 503 at once because a limit was reached"},
    {"upload_busy", "simpul_http_busy_total", "reason=\"upload\"", NULL},
    {"http_deadline", "simpul_http_deadline_total", "",
     "Connections closed because their request did not arrive in time"},
    {"rule_suppressed", "simpul_rule_suppressions_total", "",
     "Auto-replies held back by the loop-proof rules"},
    {"media_deleted", "simpul_media_deleted_total", "",
     "Media files deleted by retention"},
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

/* ---- state ------------------------------------------------------------- */

struct backup_job {
	struct http_req *req;
	struct store_backup *b;
	char path[512], tmp[520];
	uint64_t timer;
};

static struct {
	struct app *app;
	const struct sms *sms; /* NULL: modem disabled */
	uint64_t started_ms;   /* monotonic */
	struct retention *ret;
	struct backup_job *backup;
	struct http_req *retention_req;
} ops;

/* Over TCP these would leak or act on the whole office's data: the unix
 * socket (file permissions) is their access control. */
static bool local_only(struct http_req *req, struct http_resp *resp)
{
	if (http_is_local(req))
		return true;
	http_error(resp, 403, "only over the local socket (simpulctl)");
	return false;
}

/* ---- /healthz ---------------------------------------------------------- */

static int get_healthz(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;

	/* Answering at all shows the loop turns; the store must answer too. */
	if (store_ping(app->st) != STORE_OK)
		http_text(resp, 503, "store: database does not answer\n");
	else
		http_text(resp, 200, "ok\n");
	return HTTP_DONE;
}

/* ---- /metrics ---------------------------------------------------------- */

struct text {
	char *s;
	size_t len;
	FILE *f;
};

static void label_value(FILE *f, const char *v)
{
	/* Prometheus exposition format: \\, \" and \n escaped */
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void type_line(FILE *f, const char *metric, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

static void on_message_count(void *ud, const char *channel, const char *dir,
			     int64_t n)
{
	FILE *f = ud;

	fputs("simpul_messages_total{channel=\"", f);
	label_value(f, channel);
	fputs("\",direction=\"", f);
	label_value(f, dir);
	fprintf(f, "\"} %lld\n", (long long)n);
}

struct outbox_rows {
	FILE *f;
	bool seen[2][3]; /* sms/whatsapp x queued/sending/failed */
};

static const char *const out_channels[] = {"sms", "whatsapp"};
static const char *const out_states[] = {"queued", "sending", "failed"};

static void on_outbox_count(void *ud, const char *channel, const char *status,
			    int64_t n)
{
	struct outbox_rows *o = ud;

	for (int c = 0; c < 2; c++)
		for (int s = 0; s < 3; s++)
			if (channel && status &&
			    strcmp(channel, out_channels[c]) == 0 &&
			    strcmp(status, out_states[s]) == 0)
				o->seen[c][s] = true;
	fputs("simpul_outbox_messages{channel=\"", o->f);
	label_value(o->f, channel);
	fputs("\",status=\"", o->f);
	label_value(o->f, status);
	fprintf(o->f, "\"} %lld\n", (long long)n);
}

static void metrics_store(struct app *app, FILE *f)
{
	struct outbox_rows o = {.f = f};
	bool up = store_ping(app->st) == STORE_OK;

	type_line(f, "simpul_store_up", "gauge", "1 when the database answers");
	fprintf(f, "simpul_store_up %d\n", up);
	type_line(f, "simpul_messages_total", "counter",
		  "Messages stored, by channel and direction");
	store_count_messages(app->st, on_message_count, f);
	type_line(f, "simpul_outbox_messages", "gauge",
		  "Outbound messages by channel and status (queue depth: "
		  "queued + sending)");
	store_count_outbox(app->st, on_outbox_count, &o);
	/* queue states always present, so alerts see 0 rather than absent */
	for (int c = 0; c < 2; c++)
		for (int s = 0; s < 3; s++)
			if (!o.seen[c][s])
				fprintf(f,
					"simpul_outbox_messages{channel=\"%s\","
					"status=\"%s\"} 0\n",
					out_channels[c], out_states[s]);
}

static void metrics_modem(FILE *f)
{
	struct sms_status st = {.state = "disabled"};

	if (ops.sms)
		sms_status(ops.sms, &st);
	type_line(f, "simpul_modem_state", "gauge",
		  "1 for the modem's current state");
	for (int s = MODEM_CLOSED; s <= MODEM_FATAL; s++) {
		const char *n = modem_state_name((enum modem_state)s);
		fprintf(f, "simpul_modem_state{state=\"%s\"} %d\n", n,
			strcmp(st.state, n) == 0);
	}
	fprintf(f, "simpul_modem_state{state=\"disabled\"} %d\n", !ops.sms);
	if (!ops.sms)
		return;
	const struct modem_health *h = st.health;
	if (h->rssi_dbm) {
		type_line(f, "simpul_modem_signal_dbm", "gauge",
			  "Signal strength (+CSQ)");
		fprintf(f, "simpul_modem_signal_dbm %d\n", h->rssi_dbm);
	}
	type_line(f, "simpul_modem_registration", "gauge",
		  "+CREG stat (1 home, 5 roaming, -1 unknown)");
	fprintf(f, "simpul_modem_registration %d\n", h->creg_stat);
	if (h->balance >= 0) {
		type_line(f, "simpul_modem_credit_rupiah", "gauge",
			  "SIM credit from the USSD balance query");
		fprintf(f, "simpul_modem_credit_rupiah %ld\n", h->balance);
	}
}

struct other {
	FILE *f;
	bool header;
};

/* Counters without a metric of their own share simpul_events_total. */
static void metric_other(void *ud, const char *name, int64_t value)
{
	struct other *o = ud;

	for (size_t k = 0; k < NKNOWN; k++)
		if (strcmp(known[k].name, name) == 0)
			return;
	if (!o->header)
		type_line(o->f, "simpul_events_total", "counter",
			  "Other events");
	o->header = true;
	fputs("simpul_events_total{name=\"", o->f);
	label_value(o->f, name);
	fprintf(o->f, "\"} %lld\n", (long long)value);
}

static void metrics_counters(FILE *f)
{
	const char *last = NULL;

	for (size_t k = 0; k < NKNOWN; k++) {
		if (!last || strcmp(last, known[k].metric) != 0)
			type_line(f, known[k].metric, "counter",
				  known[k].help ? known[k].help : "");
		last = known[k].metric;
		fprintf(f, "%s%s%s%s %lld\n", known[k].metric,
			known[k].labels[0] ? "{" : "", known[k].labels,
			known[k].labels[0] ? "}" : "",
			(long long)counters_get(known[k].name));
	}
	struct other o = {f, false};
	counters_each(metric_other, &o);
}

static int get_metrics(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct app *app = ud;
	char *buf = NULL;
	size_t len = 0;

	/* Scrapers cannot log in: the socket, or over TCP only an address
	 * listed in [http] metrics_allow (empty by default). A reverse proxy
	 * on the Pi (TLS for the webhook) connects from loopback too: a
	 * forwarded request is from elsewhere, whatever the list says. */
	bool proxied = http_header(req, "X-Forwarded-For") ||
		       http_header(req, "Forwarded");
	if (!http_is_local(req) &&
	    (proxied || !http_tcp_peer_in(req, app->cfg->http_metrics_allow))) {
		http_error(resp, 403,
			   "metrics only over the socket or from [http] "
			   "metrics_allow");
		return HTTP_DONE;
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		http_error(resp, 500, "out of memory");
		return HTTP_DONE;
	}
	type_line(f, "simpul_up", "gauge", "1 while simpuld runs");
	fputs("simpul_up 1\n", f);
	type_line(f, "simpul_uptime_seconds", "gauge",
		  "Seconds since simpuld started");
	fprintf(f, "simpul_uptime_seconds %llu\n",
		(unsigned long long)((loop_now_ms() - ops.started_ms) / 1000));
	metrics_store(app, f);
	metrics_modem(f);
	metrics_counters(f);
	fclose(f);
	http_take(resp, 200, buf, len,
		  "text/plain; version=0.0.4; charset=utf-8");
	return HTTP_DONE;
}

/* ---- doctor ------------------------------------------------------------ */

static int get_doctor(void *ud, struct http_req *req, struct http_resp *resp)
{
	if (!local_only(req, resp))
		return HTTP_DONE;
	json_t *j = doctor_run(ud, ops.sms);
	if (!j)
		http_error(resp, 500, "out of memory");
	else
		http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

/* ---- backup ------------------------------------------------------------ */

static void backup_answer(struct backup_job *job, int status, json_t *j)
{
	struct http_resp r = {0};

	http_reply_json(&r, status, j);
	if (job->req)
		http_resume(job->req, &r);
	else
		free(r.body);
	if (job->timer)
		loop_timer_cancel(ops.app->loop, job->timer);
	free(job);
	ops.backup = NULL;
}

static void backup_fail(struct backup_job *job, const char *why)
{
	char err[800];

	store_backup_finish(job->b, err, sizeof(err));
	unlink(job->tmp);
	log_msg(LOG_ERR, "backup to %s failed: %s", job->path, why);
	backup_answer(job, 500, json_pack("{ss}", "error", why));
}

/* The copy reaches the disk before it takes the final name, and the name
 * before we say done: a power cut leaves the old file or the whole new one. */
static int backup_commit(struct backup_job *job, char *err, size_t errlen)
{
	char dir[520];
	int fd = open(job->tmp, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "fsync %s: %s", job->tmp,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (rename(job->tmp, job->path) != 0) {
		snprintf(err, errlen, "rename to %s: %s", job->path,
			 strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "%s", job->path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
}

static void backup_step(struct loop *l, void *arg)
{
	struct backup_job *job = arg;
	char err[800];
	int remaining, total;

	job->timer = 0;
	int r = store_backup_step(job->b, BACKUP_PAGES, err, sizeof(err));
	if (r < 0) {
		backup_fail(job, err);
		return;
	}
	if (r == 0) {
		job->timer =
		    loop_timer_add(l, BACKUP_PAUSE_MS, backup_step, job);
		return;
	}
	store_backup_progress(job->b, &remaining, &total);
	int rc = store_backup_finish(job->b, err, sizeof(err));
	job->b = NULL;
	if (rc == 0)
		rc = backup_commit(job, err, sizeof(err));
	if (rc) {
		unlink(job->tmp);
		log_msg(LOG_ERR, "backup to %s failed: %s", job->path, err);
		backup_answer(job, 500, json_pack("{ss}", "error", err));
		return;
	}
	struct stat sb;
	long long size = stat(job->path, &sb) == 0 ? (long long)sb.st_size : 0;
	log_msg(LOG_INFO, "backup written to %s (%lld bytes)", job->path, size);
	backup_answer(job, 200,
		      json_pack("{ss sI si}", "path", job->path, "bytes",
				(json_int_t)size, "pages", total));
}

/* The temporary file is created 0600 before SQLite opens it: the backup
 * holds residents' personal data. */
static int backup_prepare(struct backup_job *job, char *err, size_t errlen)
{
	unlink(job->tmp);
	int fd = open(job->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", job->tmp,
			 strerror(errno));
		return -1;
	}
	fchmod(fd, 0600);
	close(fd);
	job->b = store_backup_start(ops.app->st, job->tmp, err, errlen);
	if (!job->b) {
		unlink(job->tmp);
		return -1;
	}
	return 0;
}

static int post_backup(void *ud, struct http_req *req, struct http_resp *resp)
{
	size_t len;
	const char *body = http_body(req, &len);
	json_t *j = json_loadb(body ? body : "", len, 0, NULL);
	const char *path = json_string_value(json_object_get(j, "path"));
	char err[800];

	if (!local_only(req, resp))
		goto done;
	if (!path || path[0] != '/' ||
	    strlen(path) >= sizeof(ops.backup->path)) {
		http_error(resp, 400, "'path' must be an absolute file name");
		goto done;
	}
	if (ops.backup) {
		http_error(resp, 409, "a backup is already running");
		goto done;
	}
	struct backup_job *job = calloc(1, sizeof(*job));
	if (!job) {
		http_error(resp, 500, "out of memory");
		goto done;
	}
	snprintf(job->path, sizeof(job->path), "%s", path);
	snprintf(job->tmp, sizeof(job->tmp), "%s.tmp", path);
	if (backup_prepare(job, err, sizeof(err))) {
		free(job);
		http_error(resp, 500, err);
		goto done;
	}
	job->req = req;
	ops.backup = job;
	job->timer = loop_timer_add(ops.app->loop, 0, backup_step, job);
	json_decref(j);
	return HTTP_SUSPEND;
done:
	json_decref(j);
	return HTTP_DONE;
}

/* ---- retention --------------------------------------------------------- */

static void retention_done(void *ud, int files, int rows, const char *err)
{
	struct http_resp r = {0};

	if (err)
		http_error(&r, 500, err);
	else
		http_reply_json(&r, 200,
				json_pack("{si si}", "files_deleted", files,
					  "messages_marked", rows));
	if (ops.retention_req)
		http_resume(ops.retention_req, &r);
	else
		free(r.body);
	ops.retention_req = NULL;
}

static int post_retention(void *ud, struct http_req *req,
			  struct http_resp *resp)
{
	if (!local_only(req, resp))
		return HTTP_DONE;
	if (ops.retention_req || retention_run(ops.ret, retention_done, NULL)) {
		http_error(resp, 409, "a retention sweep is already running");
		return HTTP_DONE;
	}
	ops.retention_req = req;
	return HTTP_SUSPEND;
}

/* ---- life -------------------------------------------------------------- */

int ops_init(struct app *app, const struct sms *sms)
{
	struct http *h = app->http;

	ops.app = app;
	ops.sms = sms;
	ops.started_ms = loop_now_ms();
	ops.ret = retention_new(app);
	if (!ops.ret)
		return -1;
	return http_route(h, "GET", "/healthz", HTTP_PUBLIC, get_healthz, app) |
	       http_route(h, "GET", "/metrics", HTTP_PUBLIC, get_metrics, app) |
	       http_route(h, "GET", "/api/v1/doctor", 0, get_doctor, app) |
	       http_route(h, "POST", "/api/v1/backup", 0, post_backup, app) |
	       http_route(h, "POST", "/api/v1/retention/run", 0, post_retention,
			  app);
}

void ops_free(void)
{
	if (ops.backup)
		backup_fail(ops.backup, "simpuld is stopping");
	retention_free(ops.ret); /* answers a waiting retention/run */
	ops.ret = NULL;
}
