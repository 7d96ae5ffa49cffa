/* loop: the one poll() loop of simpuld. File descriptors, monotonic timers
 * and signals; every callback runs on this thread and must not block. */
#ifndef SIMPUL_LOOP_H
#define SIMPUL_LOOP_H

#include <stdint.h>
#include <poll.h>

struct loop;

typedef void (*loop_fd_cb)(struct loop *l, int fd, short revents, void *arg);
typedef void (*loop_timer_cb)(struct loop *l, void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);
/* Called before every poll(): lets a library (libmicrohttpd, a state machine
 * with its own deadline) report when it next needs to run. Returns an
 * absolute monotonic deadline in ms, or UINT64_MAX for none. When that
 * deadline has passed after poll(), the matching dispatch callback runs. */
typedef uint64_t (*loop_prepare_cb)(struct loop *l, void *arg);
typedef void (*loop_dispatch_cb)(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
uint64_t loop_now_ms(void);

int loop_fd_add(struct loop *l, int fd, short events, loop_fd_cb cb, void *arg);
int loop_fd_events(struct loop *l, int fd, short events);
void loop_fd_del(struct loop *l, int fd);

/* Timers are one-shot; the id is > 0 and stays unique for the loop's life. */
uint64_t loop_timer_add(struct loop *l, uint64_t delay_ms, loop_timer_cb cb,
			void *arg);
void loop_timer_cancel(struct loop *l, uint64_t id);

/* Signals are blocked and read through a signalfd, so handlers run as
 * ordinary callbacks in the loop. */
int loop_signal_add(struct loop *l, int signo, loop_signal_cb cb, void *arg);

int loop_prepare_add(struct loop *l, loop_prepare_cb cb,
		     loop_dispatch_cb dispatch, void *arg);
void loop_prepare_del(struct loop *l, loop_prepare_cb cb, void *arg);

/* Runs until loop_stop(); returns 0, or -1 if poll() failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* Runs one iteration waiting at most max_ms; for tests and drains. */
int loop_run_once(struct loop *l, int max_ms);

#endif
