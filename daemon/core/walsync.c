/* walsync: tickets, one worker thread, an fd of its own on the WAL. */
#include "walsync.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "worker.h"

/* ---- tickets ----------------------------------------------------------- */

static uint64_t settled(const struct walsync_tickets *t)
{
	return t->durable > t->failed ? t->durable : t->failed;
}

uint64_t walsync_tk_commit(struct walsync_tickets *t)
{
	return ++t->committed;
}

bool walsync_tk_start(struct walsync_tickets *t)
{
	if (t->running || settled(t) >= t->committed)
		return false;
	t->running = true;
	t->covering = t->committed;
	return true;
}

void walsync_tk_done(struct walsync_tickets *t, bool ok)
{
	if (!t->running)
		return;
	t->running = false;
	if (ok)
		t->durable = t->covering;
	else
		t->failed = t->covering;
}

/* For a ticket not reported yet: those are all above what was settled
 * before the last sync ended, so the last outcome decides. */
int walsync_tk_state(const struct walsync_tickets *t, uint64_t ticket)
{
	if (ticket > settled(t))
		return 0;
	return ticket <= t->failed ? -1 : 1;
}

/* ---- the syncer -------------------------------------------------------- */

struct waiter {
	uint64_t ticket;
	walsync_cb cb;
	void *arg;
};

/* What the worker thread touches: only while a sync runs, and then the
 * loop leaves it alone (worker.h). */
struct job {
	char path[PATH_MAX];
	int fd;
	int err; /* errno of the last sync, 0 when it succeeded */
};

/* The checkpointer, on a thread of its own (a sync never waits behind
 * a checkpoint). A PASSIVE checkpoint copies what was committed when it
 * began, while the loop goes on committing; the WAL starts over only at
 * a write that finds every frame copied (wal.c, walRestartLog), which
 * under a steady flow of webhooks never happens by chance (the WAL grew
 * to the fallback, measured). So the copy runs twice: the bulk with the
 * loop committing, then a short catch-up of what came meanwhile, during
 * which webhook groups are gathered instead of committed (walsync_hold);
 * the next group's write then starts the WAL over. */
enum ck_phase { CK_IDLE, CK_COPYING, CK_CATCHING_UP };

struct ckpt {
	struct worker *wk;
	walsync_ckpt_fn run;
	void *ctx;
	int frames;
	enum ck_phase phase;
	bool failing;
	int tried_at; /* the WAL's frames at a catch-up it outran, 0 none */
	/* the thread's, while a run is submitted */
	int rc, log, copied;
	char err[256];
};

struct walsync {
	struct loop *loop;
	struct worker *wk;
	struct walsync_tickets tk;
	struct waiter *w; /* in ticket order: handed out in that order */
	int nw, cap;
	bool stopping; /* in worker_free: start nothing */
	struct job job;
	struct ckpt ck;
};

/* The file SQLite writes may not be the one this fd opened: the last
 * connection to close deletes the WAL and the next creates a new one
 * (https://www.sqlite.org/wal.html, "Persistence of WAL mode"). So the
 * name's inode is compared with the fd's before each sync. SQLite takes
 * no POSIX lock on the -wal file (its WAL locks are on -shm), so closing
 * this fd cannot drop one of SQLite's locks (the "closing any fd drops
 * the process's locks" quirk of fcntl, os_unix.c). */
static int job_open(struct job *j)
{
	struct stat a, b;

	if (j->fd >= 0 && stat(j->path, &a) == 0 && fstat(j->fd, &b) == 0 &&
	    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
		return 0;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (j->fd < 0)
		return -1;
	/* A new WAL's name must survive too: SQLite syncs the directory at
	 * a new WAL's first sync (os_unix.c, unixOpen: syncDir), and this
	 * fd may be the first to sync it. */
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", j->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = dfd >= 0 && fsync(dfd) == 0 ? 0 : -1;
	if (dfd >= 0)
		close(dfd);
	return r;
}

static void job_run(void *arg)
{
	struct job *j = arg;

	j->err = 0;
	if (job_open(j) != 0 || fdatasync(j->fd) != 0)
		j->err = errno ? errno : EIO;
}

/* One at a time, the list consistent before each call: a callback may
 * commit again and wait for a new ticket. */
static void report(struct walsync *ws)
{
	while (ws->nw > 0) {
		struct waiter x = ws->w[0];
		int st = walsync_tk_state(&ws->tk, x.ticket);
		if (st == 0)
			return;
		memmove(ws->w, ws->w + 1, (size_t)(--ws->nw) * sizeof(*ws->w));
		x.cb(x.arg, st > 0);
	}
}

static void kick(struct walsync *ws);

static void ended(struct walsync *ws)
{
	bool ok = ws->job.err == 0;

	if (!ok)
		log_msg(LOG_ERR, "cannot sync %s: %s", ws->job.path,
			strerror(ws->job.err));
	walsync_tk_done(&ws->tk, ok);
	report(ws);
	kick(ws);
}

static void job_done(void *arg, bool ran)
{
	struct walsync *ws = arg;

	if (!ran) {
		/* Dropped at stop before it began: walsync_free syncs
		 * on its own thread instead. */
		ws->tk.running = false;
		return;
	}
	ended(ws);
}

static void worker_job_run(void *arg)
{
	job_run(&((struct walsync *)arg)->job);
}

/* A sync on the calling thread when the worker cannot take it (no
 * memory, or stopped): slower, never less durable. */
static void kick(struct walsync *ws)
{
	if (ws->stopping || !walsync_tk_start(&ws->tk))
		return;
	if (ws->wk && worker_submit(ws->wk, worker_job_run, job_done, ws) == 0)
		return;
	job_run(&ws->job);
	ended(ws); /* kicks again if a callback committed meanwhile */
}

struct walsync *walsync_new(struct loop *l, const char *wal_path)
{
	struct walsync *ws;

	if (!wal_path || !wal_path[0] || strlen(wal_path) >= PATH_MAX)
		return NULL;
	ws = calloc(1, sizeof(*ws));
	if (!ws)
		return NULL;
	ws->loop = l;
	ws->job.fd = -1;
	snprintf(ws->job.path, sizeof(ws->job.path), "%s", wal_path);
	ws->wk = worker_new(l, 1, 0);
	if (!ws->wk) {
		free(ws);
		return NULL;
	}
	return ws;
}

int walsync_after_commit(struct walsync *ws, walsync_cb cb, void *arg)
{
	if (ws->nw == ws->cap) {
		int cap = ws->cap ? 2 * ws->cap : 64;
		struct waiter *n = realloc(ws->w, (size_t)cap * sizeof(*n));
		if (!n)
			return -1;
		ws->w = n;
		ws->cap = cap;
	}
	ws->w[ws->nw++] = (struct waiter){walsync_tk_commit(&ws->tk), cb, arg};
	kick(ws);
	return 0;
}

/* ---- the checkpointer -------------------------------------------------- */

static void ckpt_job_run(void *arg)
{
	struct ckpt *c = arg;

	c->err[0] = '\0';
	c->log = c->copied = 0;
	c->rc = c->run(c->ctx, &c->log, &c->copied, c->err, sizeof(c->err));
}

static void ckpt_job_done(void *arg, bool ran);

static void ckpt_change(struct ckpt *c, enum ck_phase to)
{
	c->phase = to;
	if (to != CK_IDLE &&
	    worker_submit(c->wk, ckpt_job_run, ckpt_job_done, c) != 0)
		c->phase = CK_IDLE;
}

/* A failure is logged once, and its end once: the next commits ask
 * again, and a full disk would otherwise fill the log too. */
static void ckpt_report(struct ckpt *c)
{
	if (c->rc != 0 && !c->failing)
		log_msg(LOG_ERR, "%s; the next commits retry it", c->err);
	else if (c->rc == 0 && c->failing)
		log_msg(LOG_INFO, "checkpoints work again");
	c->failing = c->rc != 0;
}

static void ckpt_job_done(void *arg, bool ran)
{
	struct ckpt *c = arg;

	if (!ran) {
		c->phase = CK_IDLE;
		return;
	}
	ckpt_report(c);
	switch (c->phase) {
	case CK_COPYING:
		/* Even when it copied all it saw: the loop has most likely
		 * committed again since. */
		ckpt_change(c, c->rc == 0 ? CK_CATCHING_UP : CK_IDLE);
		break;
	case CK_CATCHING_UP:
	case CK_IDLE:
		/* If a commit still came in between (an SMS, a staff
		 * reply), the WAL goes on: try again a little later. */
		c->tried_at = c->log;
		ckpt_change(c, CK_IDLE);
		break;
	}
}

int walsync_checkpoint_by(struct walsync *ws, walsync_ckpt_fn run, void *ctx,
			  int frames)
{
	ws->ck.wk = worker_new(ws->loop, 1, 0);
	if (!ws->ck.wk)
		return -1;
	ws->ck.run = run;
	ws->ck.ctx = ctx;
	ws->ck.frames = frames > 0 ? frames : 1;
	return 0;
}

void walsync_wal_frames(void *arg, int frames)
{
	struct ckpt *c = &((struct walsync *)arg)->ck;

	if (frames < c->tried_at)
		c->tried_at = 0; /* it started over */
	if (c->wk && c->phase == CK_IDLE && frames >= c->frames &&
	    frames >= c->tried_at + c->frames / 8)
		ckpt_change(c, CK_COPYING);
}

bool walsync_checkpointing(const struct walsync *ws)
{
	return ws->ck.phase != CK_IDLE;
}

int walsync_waiting(const struct walsync *ws)
{
	return ws->nw;
}

bool walsync_hold(const struct walsync *ws)
{
	return ws->ck.phase == CK_CATCHING_UP;
}

void walsync_stop(struct walsync *ws)
{
	if (!ws || !ws->wk)
		return;
	ws->stopping = true;
	worker_free(ws->wk); /* the running sync ends and reports */
	ws->wk = NULL;
	ws->stopping = false;
	kick(ws);
}

void walsync_free(struct walsync *ws)
{
	if (!ws)
		return;
	walsync_stop(ws);
	worker_free(ws->ck.wk); /* a running checkpoint ends first */
	if (ws->job.fd >= 0)
		close(ws->job.fd);
	free(ws->w);
	free(ws);
}
