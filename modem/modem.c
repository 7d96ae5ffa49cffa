/* modem: the GSM modem state machine; see modem.h and doc/modem.md. This
 * file holds struct modem's life, the port, recovery and the public API;
 * modem_int.h lists the other files of the module and what each does.
 *
 * One enum modem_state changed only by modem_change_state(). Inside the
 * start-up states a step enum sequences the commands (modem_startup.c).
 * In READY one activity runs at a time (drain, read, send, health,
 * balance; modem_ready.c), so a +CMTI read never races the +CMGL drain
 * over the same index and deletes stay ordered after commits. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "modem_int.h"

void modem_log(struct modem *m, enum modem_log_level lvl, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!m->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	m->ops->log(m->ud, lvl, buf);
}

const char *modem_state_name(enum modem_state st)
{
	switch (st) {
	case MODEM_CLOSED:
		return "closed";
	case MODEM_PROBE:
		return "probe";
	case MODEM_INIT:
		return "init";
	case MODEM_SIM:
		return "sim";
	case MODEM_REGISTER:
		return "register";
	case MODEM_READY:
		return "ready";
	case MODEM_FATAL:
		return "fatal";
	}
	return "?";
}

void modem_change_state(struct modem *m, enum modem_state st, const char *why)
{
	enum modem_state old = m->st;

	if (st == old)
		return;
	m->st = st;
	modem_log(m, st == MODEM_FATAL ? MODEM_LOG_ERR : MODEM_LOG_INFO,
		  "modem %s -> %s: %s", modem_state_name(old),
		  modem_state_name(st), why);
	if (m->ops->state)
		m->ops->state(m->ud, st, why);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

bool modem_is_registered(int stat)
{
	return stat == 1 || stat == 5; /* TS 27.007 7.2: home, roaming */
}

/* ---------------- port ---------------- */

static int port_write(void *ud, const void *buf, size_t len)
{
	struct modem *m = ud;
	const char *p = buf;

	if (m->fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(m->fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* A full tty buffer for a few hundred bytes means the
			 * modem stopped reading; wait briefly, then give up. */
			struct pollfd pfd = {.fd = m->fd, .events = POLLOUT};

			if (poll(&pfd, 1, 100) > 0)
				continue;
		}
		snprintf(m->io_why, sizeof(m->io_why),
			 "write to modem failed: %s",
			 n < 0 ? strerror(errno) : "no progress");
		m->io_error = true;
		return -1;
	}
	return 0;
}

void modem_close_port(struct modem *m)
{
	at_reset(m->at);
	if (m->fd >= 0) {
		if (m->have_port_ops)
			m->port_ops.close(m->port_ud, m->fd);
		else
			serial_close(m->serial);
	}
	m->serial = NULL;
	m->fd = -1;
	m->io_error = false;
	m->step = STEP_NONE;
	m->timer_at = UINT64_MAX;
	m->act = ACT_NONE;
	m->act_pending = 0;
	modem_call_reset(&m->call);
}

static void schedule_reopen(struct modem *m)
{
	m->reopen_at = m->now + (uint64_t)m->backoff_s * 1000;
	m->backoff_s =
	    m->backoff_s * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : m->backoff_s * 2;
}

/* Port lost, command timed out, garbage: start over from CLOSED. */
void modem_recover(struct modem *m, const char *why)
{
	snprintf(m->reason, sizeof(m->reason), "%s", why);
	modem_send_finish(m, MODEM_SEND_RETRY, why);
	modem_close_port(m);
	m->ncand = 0; /* rescan USB on the next open */
	schedule_reopen(m);
	modem_change_state(m, MODEM_CLOSED, why);
}

void modem_go_fatal(struct modem *m, const char *why)
{
	struct send_job *j;

	snprintf(m->reason, sizeof(m->reason), "%s", why);
	modem_send_finish(m, MODEM_SEND_RETRY, why);
	modem_close_port(m);
	modem_change_state(m, MODEM_FATAL, why);
	/* Nothing will go out until a human acts: hand the queue back. */
	while ((j = m->sendq)) {
		m->sendq = j->next;
		m->sending = j;
		modem_send_finish(m, MODEM_SEND_RETRY, why);
	}
}

static void enter_probe(struct modem *m, const char *why)
{
	m->tries = 0;
	modem_change_state(m, MODEM_PROBE, why);
	/* doc/modem.md: a crash can leave the modem at the "> " prompt; ESC
	 * aborts it (TS 27.005 3.5.1), then drain what was pending. */
	at_write_raw(m->at, "\x1b", 1);
	m->step = STEP_PROBE_DRAIN;
	m->timer_at = m->now + PROBE_DRAIN_MS;
}

/* Re-runs the whole start-up on an open port (the modem rebooted). */
void modem_reinit(struct modem *m, const char *why)
{
	modem_send_finish(m, MODEM_SEND_RETRY, why);
	at_reset(m->at);
	m->act = ACT_NONE;
	m->act_pending = 0;
	m->reinit_at = m->now;
	enter_probe(m, why);
}

static int open_path(struct modem *m, const char *path, char *err,
		     size_t errlen)
{
	if (m->have_port_ops)
		return m->port_ops.open(m->port_ud, path, err, errlen);
	m->serial = serial_open(path, m->cfg.baud, err, errlen);
	return m->serial ? serial_fd(m->serial) : -1;
}

/* device = auto: the USB ports of known modem vendors, the port that
 * answered last time first. */
static const char *next_candidate(struct modem *m)
{
	char err[160];

	if (m->ncand == 0 || m->cand_idx >= m->ncand) {
		m->ncand = serial_find_candidates(m->cands, MAX_CANDS, err,
						  sizeof(err));
		m->cand_idx = 0;
		if (m->ncand < 0) {
			modem_log(m, MODEM_LOG_WARN, "%s", err);
			m->ncand = 0;
		}
		for (int i = 1; i < m->ncand; i++) {
			if (strcmp(m->cands[i].path, m->good_path) == 0) {
				struct serial_candidate t = m->cands[0];

				m->cands[0] = m->cands[i];
				m->cands[i] = t;
			}
		}
	}
	if (m->cand_idx >= m->ncand)
		return NULL;
	return m->cands[m->cand_idx++].path;
}

bool modem_is_auto(const struct modem *m)
{
	return strcmp(m->device, "auto") == 0;
}

void modem_try_open(struct modem *m)
{
	char err[256], why[320];
	const char *path = m->device;

	m->reopen_at = UINT64_MAX;
	if (modem_is_auto(m)) {
		path = next_candidate(m);
		if (!path) {
			modem_log(
			    m, MODEM_LOG_WARN,
			    "no USB modem found (looked for Huawei, SIMCom, "
			    "Quectel, ZTE, u-blox, Sierra and USB-serial "
			    "bridges); set [modem] device to its port");
			schedule_reopen(m);
			return;
		}
	}
	m->fd = open_path(m, path, err, sizeof(err));
	if (m->fd < 0) {
		modem_log(m, MODEM_LOG_WARN, "%s; retrying in %u s", err,
			  m->backoff_s);
		schedule_reopen(m);
		return;
	}
	if (modem_is_auto(m))
		snprintf(m->good_path, sizeof(m->good_path), "%s", path);
	snprintf(why, sizeof(why), "opened %s", path);
	enter_probe(m, why);
}

/* ---------------- public API ---------------- */

struct modem *modem_new(const struct modem_config *cfg,
			const struct modem_ops *ops, void *ud)
{
	struct modem *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->device = strdup(cfg->device && *cfg->device ? cfg->device : "auto");
	m->pin = dup_or_null(cfg->pin);
	m->storage =
	    strdup(cfg->storage && *cfg->storage ? cfg->storage : "SM");
	m->ussd = dup_or_null(cfg->ussd_balance);
	m->at = at_new(port_write, m);
	if (!m->device || !m->storage || !m->at ||
	    (cfg->pin && *cfg->pin && !m->pin) ||
	    (cfg->ussd_balance && *cfg->ussd_balance && !m->ussd)) {
		modem_free(m);
		return NULL;
	}
	m->cfg.device = m->device;
	m->cfg.pin = m->pin;
	m->cfg.storage = m->storage;
	m->cfg.ussd_balance = m->ussd;
	if (!m->cfg.cmd_timeout_ms)
		m->cfg.cmd_timeout_ms = 10000;
	if (!m->cfg.send_timeout_ms)
		m->cfg.send_timeout_ms = SEND_TIMEOUT_MS;
	if (!m->cfg.baud)
		m->cfg.baud = 115200;
	if (!m->cfg.hangup_rings)
		m->cfg.hangup_rings = 2;
	modem_call_reset(&m->call);
	m->ops = ops;
	m->ud = ud;
	m->fd = -1;
	m->st = MODEM_CLOSED;
	m->backoff_s = 1;
	m->reopen_at = 0;
	m->timer_at = UINT64_MAX;
	m->health.creg_stat = -1;
	m->health.balance = -1;
	m->next_ref = (int)(time(NULL) & 0xff);
	if (modem_urc_register(m) < 0) {
		modem_free(m);
		return NULL;
	}
	return m;
}

void modem_free(struct modem *m)
{
	struct send_job *j;

	if (!m)
		return;
	if (m->at)
		modem_close_port(m);
	at_free(m->at);
	if (m->sending) {
		free(m->sending->segs);
		free(m->sending);
	}
	while ((j = m->sendq)) {
		m->sendq = j->next;
		free(j->segs);
		free(j);
	}
	free(m->device);
	free(m->pin);
	free(m->storage);
	free(m->ussd);
	free(m);
}

void modem_set_port_ops(struct modem *m, const struct modem_port_ops *po,
			void *ud)
{
	m->port_ops = *po;
	m->port_ud = ud;
	m->have_port_ops = true;
}

int modem_fd(const struct modem *m)
{
	return m->fd;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t modem_deadline(const struct modem *m)
{
	uint64_t d = UINT64_MAX;

	if (m->io_error)
		return 0;
	if (m->st == MODEM_CLOSED)
		return m->reopen_at;
	if (m->st == MODEM_FATAL)
		return UINT64_MAX;
	d = min64(at_deadline(m->at), m->timer_at);
	d = min64(d, modem_call_deadline(&m->call));
	if (m->st == MODEM_READY && m->act == ACT_NONE)
		d = min64(d, modem_ready_due(m));
	return d;
}

void modem_tick(struct modem *m, uint64_t now_ms)
{
	m->now = now_ms;
	at_set_time(m->at, now_ms);
	if (m->io_error) {
		modem_recover(m, m->io_why);
		return;
	}
	switch (m->st) {
	case MODEM_CLOSED:
		if (now_ms >= m->reopen_at)
			modem_try_open(m);
		break;
	case MODEM_FATAL:
		break;
	default:
		at_tick(m->at, now_ms);
		if (m->fd >= 0 && now_ms >= m->timer_at)
			modem_step_timer(m);
		modem_urc_call_tick(m);
		modem_ready_next(m);
		break;
	}
}

void modem_readable(struct modem *m, uint64_t now_ms)
{
	char buf[4096];

	m->now = now_ms;
	at_set_time(m->at, now_ms);
	while (m->fd >= 0) {
		ssize_t n = read(m->fd, buf, sizeof(buf));

		if (n > 0) {
			/* drain after ESC: whatever was pending is stale */
			if (m->step != STEP_PROBE_DRAIN)
				at_feed(m->at, buf, (size_t)n, now_ms);
			if (m->io_error)
				modem_recover(m, m->io_why);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		snprintf(m->io_why, sizeof(m->io_why),
			 "modem port %s: %s (unplugged?)",
			 n == 0 ? "closed" : "read failed",
			 n == 0 ? "end of file" : strerror(errno));
		modem_recover(m, m->io_why);
		break;
	}
}

enum modem_state modem_state(const struct modem *m)
{
	return m->st;
}

const struct modem_health *modem_get_health(const struct modem *m)
{
	return &m->health;
}

const char *modem_last_reason(const struct modem *m)
{
	return m->reason;
}
