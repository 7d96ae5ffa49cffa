/* worker: pthreads, a mutex-guarded queue and done list, an eventfd. */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "loop.h"

struct job {
	struct job *next;
	worker_run_cb run;
	worker_done_cb done;
	void *arg;
};

struct worker {
	struct loop *loop;
	int efd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t *threads;
	int nthreads;
	int capacity; /* threads + queue */
	int pending;  /* accepted, done not yet called (loop thread only) */
	struct job *queue, *queue_tail; /* guarded by mu */
	struct job *finished;		/* guarded by mu */
	bool stop;			/* guarded by mu */
};

/* ---- worker threads ---------------------------------------------------- */

static struct job *take_job(struct worker *w)
{
	struct job *j = NULL;

	pthread_mutex_lock(&w->mu);
	while (!w->stop && !w->queue)
		pthread_cond_wait(&w->cv, &w->mu);
	if (!w->stop) {
		j = w->queue;
		w->queue = j->next;
		if (!w->queue)
			w->queue_tail = NULL;
	}
	pthread_mutex_unlock(&w->mu);
	return j;
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;
	struct job *j;
	uint64_t one = 1;

	while ((j = take_job(w))) {
		j->run(j->arg);
		pthread_mutex_lock(&w->mu);
		j->next = w->finished;
		w->finished = j;
		pthread_mutex_unlock(&w->mu);
		/* Cannot fail short of a counter overflow: 8 bytes at once. */
		while (write(w->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

/* ---- the loop's side --------------------------------------------------- */

static void deliver(struct worker *w, struct job *list, bool ran)
{
	while (list) {
		struct job *j = list;
		list = j->next;
		w->pending--;
		j->done(j->arg, ran);
		free(j);
	}
}

static void on_wake(struct loop *l, int fd, short revents, void *arg)
{
	struct worker *w = arg;
	uint64_t n;

	(void)l;
	(void)revents;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->mu);
	struct job *list = w->finished;
	w->finished = NULL;
	pthread_mutex_unlock(&w->mu);
	deliver(w, list, true);
}

int worker_submit(struct worker *w, worker_run_cb run, worker_done_cb done,
		  void *arg)
{
	if (w->pending >= w->capacity)
		return -1;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return -1;
	*j = (struct job){.run = run, .done = done, .arg = arg};
	pthread_mutex_lock(&w->mu);
	if (w->queue_tail)
		w->queue_tail->next = j;
	else
		w->queue = j;
	w->queue_tail = j;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->pending++;
	return 0;
}

int worker_pending(const struct worker *w)
{
	return w->pending;
}

/* The threads must never take a signal: the loop reads them from a
 * signalfd, which only works while every thread blocks them. */
static int start_threads(struct worker *w, int threads)
{
	sigset_t all, old;

	if (!w->threads)
		return -1;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < threads; i++) {
		if (pthread_create(&w->threads[i], NULL, thread_main, w))
			break;
		w->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return w->nthreads > 0 ? 0 : -1;
}

struct worker *worker_new(struct loop *l, int threads, int queue)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = l;
	w->threads = calloc((size_t)threads, sizeof(*w->threads));
	w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (w->efd < 0 || loop_fd_add(l, w->efd, POLLIN, on_wake, w) ||
	    start_threads(w, threads)) {
		worker_free(w);
		return NULL;
	}
	w->capacity = w->nthreads + queue;
	return w;
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	if (w->efd >= 0) {
		loop_fd_del(w->loop, w->efd);
		close(w->efd);
	}
	/* No thread is left: the lists are ours without the lock. */
	deliver(w, w->finished, true);
	deliver(w, w->queue, false);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	free(w->threads);
	free(w);
}
