/* One poll() loop: fds, one-shot monotonic timers, signals via signalfd. */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

struct fd_entry {
	int fd;
	short events;
	loop_fd_cb cb;
	void *arg;
	bool dead;
};

struct timer {
	uint64_t id;
	uint64_t due;
	loop_timer_cb cb;
	void *arg;
};

struct sig_entry {
	int signo;
	loop_signal_cb cb;
	void *arg;
};

struct prepare {
	loop_prepare_cb cb;
	loop_dispatch_cb dispatch;
	void *arg;
	uint64_t deadline;
};

struct loop {
	struct fd_entry *fds;
	size_t nfds, capfds;
	struct timer *timers;
	size_t ntimers, captimers;
	uint64_t next_timer_id;
	struct sig_entry sigs[16];
	size_t nsigs;
	sigset_t sigmask;
	int sigfd;
	struct prepare prep[16];
	size_t nprep;
	bool stop;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->sigfd = -1;
	l->next_timer_id = 1;
	sigemptyset(&l->sigmask);
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	free(l->fds);
	free(l->timers);
	free(l);
}

static struct fd_entry *find_fd(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nfds; i++)
		if (l->fds[i].fd == fd && !l->fds[i].dead)
			return &l->fds[i];
	return NULL;
}

int loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg)
{
	if (find_fd(l, fd))
		return -1;
	if (l->nfds == l->capfds) {
		size_t cap = l->capfds ? l->capfds * 2 : 16;
		void *p = realloc(l->fds, cap * sizeof(*l->fds));
		if (!p)
			return -1;
		l->fds = p;
		l->capfds = cap;
	}
	l->fds[l->nfds++] = (struct fd_entry){fd, events, cb, arg, false};
	return 0;
}

int loop_fd_events(struct loop *l, int fd, short events)
{
	struct fd_entry *e = find_fd(l, fd);

	if (!e)
		return -1;
	e->events = events;
	return 0;
}

void loop_fd_del(struct loop *l, int fd)
{
	struct fd_entry *e = find_fd(l, fd);

	/* Marked, not removed: we may be inside the dispatch of this array. */
	if (e)
		e->dead = true;
}

static void compact_fds(struct loop *l)
{
	size_t j = 0;

	for (size_t i = 0; i < l->nfds; i++)
		if (!l->fds[i].dead)
			l->fds[j++] = l->fds[i];
	l->nfds = j;
}

uint64_t loop_timer_add(struct loop *l, uint64_t delay_ms, loop_timer_cb cb,
			void *arg)
{
	if (l->ntimers == l->captimers) {
		size_t cap = l->captimers ? l->captimers * 2 : 16;
		void *p = realloc(l->timers, cap * sizeof(*l->timers));
		if (!p)
			return 0;
		l->timers = p;
		l->captimers = cap;
	}
	uint64_t id = l->next_timer_id++;
	l->timers[l->ntimers++] =
	    (struct timer){id, loop_now_ms() + delay_ms, cb, arg};
	return id;
}

void loop_timer_cancel(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		if (l->timers[i].id == id) {
			l->timers[i] = l->timers[--l->ntimers];
			return;
		}
	}
}

int loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
	if (l->nsigs == sizeof(l->sigs) / sizeof(l->sigs[0]))
		return -1;
	l->sigs[l->nsigs++] = (struct sig_entry){signo, cb, arg};
	sigaddset(&l->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
		return -1;
	int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	l->sigfd = fd;
	return 0;
}

int loop_prepare_add(struct loop *l, loop_prepare_cb cb,
		     loop_dispatch_cb dispatch, void *arg)
{
	if (l->nprep == sizeof(l->prep) / sizeof(l->prep[0]))
		return -1;
	l->prep[l->nprep++] = (struct prepare){cb, dispatch, arg, UINT64_MAX};
	return 0;
}

void loop_prepare_del(struct loop *l, loop_prepare_cb cb, void *arg)
{
	for (size_t i = 0; i < l->nprep; i++) {
		if (l->prep[i].cb == cb && l->prep[i].arg == arg) {
			l->prep[i] = l->prep[--l->nprep];
			return;
		}
	}
}

static uint64_t next_deadline(struct loop *l)
{
	uint64_t d = UINT64_MAX;

	for (size_t i = 0; i < l->ntimers; i++)
		if (l->timers[i].due < d)
			d = l->timers[i].due;
	for (size_t i = 0; i < l->nprep; i++) {
		uint64_t p = l->prep[i].cb(l, l->prep[i].arg);
		l->prep[i].deadline = p;
		if (p < d)
			d = p;
	}
	return d;
}

/* Fires every timer that is due; a callback may add or cancel timers, so
 * the array is searched again after each one. */
static void run_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();

	for (;;) {
		size_t best = l->ntimers;
		for (size_t i = 0; i < l->ntimers; i++)
			if (l->timers[i].due <= now &&
			    (best == l->ntimers ||
			     l->timers[i].due < l->timers[best].due))
				best = i;
		if (best == l->ntimers)
			return;
		struct timer t = l->timers[best];
		l->timers[best] = l->timers[--l->ntimers];
		t.cb(l, t.arg);
	}
}

static void run_dispatch(struct loop *l)
{
	uint64_t now = loop_now_ms();

	for (size_t i = 0; i < l->nprep; i++)
		if (l->prep[i].deadline <= now) {
			l->prep[i].deadline = UINT64_MAX;
			l->prep[i].dispatch(l, l->prep[i].arg);
		}
}

static void read_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si))
		for (size_t i = 0; i < l->nsigs; i++)
			if ((int)si.ssi_signo == l->sigs[i].signo)
				l->sigs[i].cb(l, l->sigs[i].signo,
					      l->sigs[i].arg);
}

static int poll_timeout(uint64_t deadline, int max_ms)
{
	uint64_t now = loop_now_ms();
	uint64_t wait = deadline <= now ? 0 : deadline - now;

	if (max_ms >= 0 && wait > (uint64_t)max_ms)
		wait = (uint64_t)max_ms;
	if (wait > 60000)
		wait = 60000;
	return (int)wait;
}

int loop_run_once(struct loop *l, int max_ms)
{
	compact_fds(l);
	size_t n = l->nfds, extra = l->sigfd >= 0;
	struct pollfd pfd[n + 1];

	for (size_t i = 0; i < n; i++)
		pfd[i] = (struct pollfd){l->fds[i].fd, l->fds[i].events, 0};
	if (extra)
		pfd[n] = (struct pollfd){l->sigfd, POLLIN, 0};
	int r = poll(pfd, n + extra, poll_timeout(next_deadline(l), max_ms));
	if (r < 0 && errno != EINTR)
		return -1;
	if (extra && r > 0 && pfd[n].revents)
		read_signals(l);
	for (size_t i = 0; r > 0 && i < n; i++) {
		/* The entry may have been deleted by an earlier callback. */
		struct fd_entry *e = &l->fds[i];
		if (pfd[i].revents && !e->dead && e->fd == pfd[i].fd)
			e->cb(l, e->fd, pfd[i].revents, e->arg);
	}
	run_timers(l);
	run_dispatch(l);
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop)
		if (loop_run_once(l, -1) < 0)
			return -1;
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}
