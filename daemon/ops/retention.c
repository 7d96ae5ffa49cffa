#include "retention.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "loop.h"
#include "store.h"
#include "store_ops.h"
#include "log.h"
#include "counters.h"

#define FIRST_MS     (5 * 60 * 1000ULL)	   /* after start */
#define EVERY_MS     (24 * 3600 * 1000ULL) /* then daily */
#define BATCH	     64			   /* rows per loop turn */
#define DAY_MS	     (24 * 3600 * 1000LL)
#define CLOCK_MIN_MS 1704067200000LL /* 2024-01-01; see the clock check */

struct retention {
	struct app *app;
	uint64_t daily, step; /* timer ids, 0 if none */
	bool running;
	int files, rows;
	retention_done_cb done;
	void *ud;
};

static void on_step(struct loop *l, void *arg);

/* Files simpul wrote are "<message id>.<ext>" (whatsapp.c write_media):
 * nothing else is ever deleted, whatever the database says. */
static bool our_name(const char *base, int64_t id)
{
	char *end;
	long long v = strtoll(base, &end, 10);

	if (end == base || *end != '.' || !isdigit((unsigned char)base[0]))
		return false;
	return id < 0 || v == id;
}

/* 0 when the file is gone (or was never there), -1 to keep the row. */
static int remove_file(const char *path, int64_t id)
{
	const char *slash = strrchr(path, '/');
	struct stat sb;

	if (!our_name(slash ? slash + 1 : path, id)) {
		log_msg(LOG_WARN,
			"retention: message %lld names %s, not a "
			"media file of ours; left alone",
			(long long)id, path);
		return 0;
	}
	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(sb.st_mode) || unlink(path) != 0) {
		log_msg(LOG_WARN, "retention: cannot delete %s: %s", path,
			S_ISREG(sb.st_mode) ? strerror(errno)
					    : "not a regular file");
		return -1;
	}
	return 1;
}

/* One batch of rows; returns how many rows it looked at, or -1. */
static int sweep_rows(struct retention *r, int64_t cutoff, int days)
{
	int64_t ids[BATCH];
	static char files[BATCH][512];
	char note[64];
	struct store *st = r->app->st;
	int n = store_media_expired(st, cutoff, ids, files, BATCH);

	if (n <= 0)
		return n;
	snprintf(note, sizeof(note), "dihapus setelah %d hari", days);
	if (store_begin(st))
		return -1;
	int marked = 0;
	for (int i = 0; i < n; i++) {
		int rc = remove_file(files[i], ids[i]);
		if (rc < 0)
			continue; /* stays referenced; tried again tomorrow */
		if (rc > 0) {
			r->files++;
			counters_add("media_deleted");
		}
		if (store_media_mark_deleted(st, ids[i], note,
					     app_now_ms(r->app)))
			goto fail;
		marked++;
	}
	if (store_commit(st))
		return -1;
	r->rows += marked;
	return marked == 0 ? 0 : n; /* nothing markable: stop this sweep */
fail:
	store_rollback(st);
	return -1;
}

/* Files no row points to any more (a crash between writing the file and
 * storing its name), judged by mtime. Files dated before 2024 were written
 * under a wrong clock and are left to the rows' own times. */
static void sweep_dir(struct retention *r, int64_t cutoff)
{
	const char *dir = r->app->cfg->media_dir;
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	struct stat sb;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!our_name(e->d_name, -1))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		int64_t mt = (int64_t)sb.st_mtime * 1000;
		if (mt < CLOCK_MIN_MS || mt >= cutoff)
			continue;
		if (unlink(path) == 0) {
			r->files++;
			counters_add("media_deleted");
		}
	}
	closedir(d);
}

static void finish(struct retention *r, const char *err)
{
	r->running = false;
	r->step = 0;
	if (err)
		log_msg(LOG_ERR, "media retention: %s", err);
	else if (r->files || r->rows)
		log_msg(LOG_INFO,
			"media retention: %d file(s) deleted, %d "
			"message(s) marked (older than %d days)",
			r->files, r->rows, r->app->cfg->media_retention_days);
	if (r->done)
		r->done(r->ud, r->files, r->rows, err);
	r->done = NULL;
}

static void on_step(struct loop *l, void *arg)
{
	struct retention *r = arg;
	int days = r->app->cfg->media_retention_days;
	int64_t now = app_now_ms(r->app);
	int64_t cutoff = now - (int64_t)days * DAY_MS;

	r->step = 0;
	if (now < CLOCK_MIN_MS) {
		/* 1970 on a Pi without RTC: every cutoff would be wrong */
		finish(r, "the system clock is before 2024; sweep skipped");
		return;
	}
	int n = sweep_rows(r, cutoff, days);
	if (n < 0) {
		char err[300];
		snprintf(err, sizeof(err), "store: %s",
			 store_errmsg(r->app->st));
		finish(r, err);
		return;
	}
	if (n == BATCH) { /* more: next turn, so the loop keeps serving */
		r->step = loop_timer_add(l, 0, on_step, r);
		return;
	}
	sweep_dir(r, cutoff);
	finish(r, NULL);
}

int retention_run(struct retention *r, retention_done_cb done, void *ud)
{
	if (r->running)
		return -1;
	r->running = true;
	r->files = r->rows = 0;
	r->done = done;
	r->ud = ud;
	r->step = loop_timer_add(r->app->loop, 0, on_step, r);
	return 0;
}

static void on_daily(struct loop *l, void *arg)
{
	struct retention *r = arg;

	r->daily = loop_timer_add(l, EVERY_MS, on_daily, r);
	retention_run(r, NULL, NULL);
}

struct retention *retention_new(struct app *app)
{
	struct retention *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->app = app;
	r->daily = loop_timer_add(app->loop, FIRST_MS, on_daily, r);
	return r;
}

void retention_free(struct retention *r)
{
	if (!r)
		return;
	if (r->daily)
		loop_timer_cancel(r->app->loop, r->daily);
	if (r->step)
		loop_timer_cancel(r->app->loop, r->step);
	if (r->running && r->done)
		r->done(r->ud, r->files, r->rows, "simpuld is stopping");
	free(r);
}
