/* worker: a few threads for the one kind of work that cannot be cut into
 * non-blocking steps (an argon2id hash, ~0.2 s of CPU and 64 MiB), with a
 * bounded queue in front of them, so the poll loop keeps answering
 * webhooks, SMS and /healthz meanwhile. A job's run() executes on a worker
 * thread and touches nothing but its job (no SQLite connection but one
 * of its own, no logging, no
 * libmicrohttpd); its done() executes on the loop thread, woken through an
 * eventfd, exactly once for every job worker_submit accepted. */
#ifndef SIMPUL_WORKER_H
#define SIMPUL_WORKER_H

#include <stdbool.h>

struct loop;
struct worker;

typedef void (*worker_run_cb)(void *job);
/* ran is false for a job still queued when the worker was freed. */
typedef void (*worker_done_cb)(void *job, bool ran);

/* threads jobs run at once, queue more wait; NULL on failure. */
struct worker *worker_new(struct loop *l, int threads, int queue);
/* 0, or -1 when every thread and queue place is taken (or no memory):
 * the caller answers "busy" at once and done is never called. */
int worker_submit(struct worker *w, worker_run_cb run, worker_done_cb done,
		  void *job);
/* Jobs accepted whose done has not run yet. */
int worker_pending(const struct worker *w);
/* Lets the running jobs finish (done(job, true)), drops the queued ones
 * (done(job, false)), joins the threads. */
void worker_free(struct worker *w);

#endif
