/* modem: the GSM modem state machine; see modem.h and MODEM.md.
 *
 * One enum modem_state changed only by change_state(). Inside the start-up
 * states a step enum sequences the commands (run_step issues, on_step
 * decides the next one). In READY one activity runs at a time (drain,
 * read, send, health, balance), so a +CMTI read never races the +CMGL
 * drain over the same index and deletes stay ordered after commits. */
#include "modem.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "at.h"
#include "modem_call.h"
#include "pdu.h"
#include "serial.h"

#define PROBE_TRIES	   5
#define PROBE_TIMEOUT_MS   2000
#define PROBE_DRAIN_MS	   300
#define SIM_RETRY_MS	   2000
#define SIM_RETRIES	   15
#define PIN_SETTLE_MS	   3000
#define REG_POLL_MS	   3000
#define HEALTH_INTERVAL_MS 60000
#define RESCAN_INTERVAL_MS 300000
#define RESCAN_NO_CNMI_MS  60000
#define SEND_TIMEOUT_MS	   60000
#define BALANCE_FIRST_MS   10000
#define REBOOT_QUIET_MS	   30000
#define GARBAGE_BURST	   8
#define GARBAGE_WINDOW_MS  10000
#define BACKOFF_MAX_S	   30
#define MAX_SEGS	   16
#define MAX_READS	   64
#define MAX_CANDS	   16

enum step {
	STEP_NONE,
	STEP_PROBE_DRAIN,
	STEP_PROBE_AT,
	STEP_ATZ,
	STEP_ATE0,
	STEP_CMEE,
	STEP_CGMI,
	STEP_CURC,
	STEP_ZCDRUN,
	STEP_ZOPRT,
	STEP_CGMM,
	STEP_CGSN,
	STEP_CLIP,
	STEP_CPIN,
	STEP_PIN,
	STEP_SIM_WAIT,
	STEP_CMGF,
	STEP_CPMS,
	STEP_CNMI,
	STEP_CSCA,
	STEP_CREG2,
	STEP_CREG,
	STEP_CEREG,
	STEP_REG_WAIT,
};

enum activity {
	ACT_NONE,
	ACT_DRAIN,
	ACT_READ,
	ACT_SEND,
	ACT_HEALTH,
	ACT_BALANCE
};

struct send_job {
	struct send_job *next;
	uint64_t id;
	struct pdu_segment *segs;
	int nsegs, first, cur; /* first: parts sent before this attempt */
	int mrs[MAX_SEGS];
};

struct read_req {
	char mem[4];
	int idx;
};

struct modem {
	struct modem_config cfg;
	char *device, *pin, *storage, *ussd;
	const struct modem_ops *ops;
	void *ud;
	struct modem_port_ops port_ops;
	void *port_ud;
	bool have_port_ops;

	enum modem_state st;
	enum step step;
	enum step wait_target; /* the step STEP_SIM_WAIT leads back to */
	struct serial *serial;
	int fd;
	struct at *at;
	uint64_t now;
	uint64_t reopen_at, timer_at;
	unsigned backoff_s;
	int tries;
	char reason[256];
	bool io_error;
	char io_why[128];

	struct serial_candidate cands[MAX_CANDS];
	int ncand, cand_idx;
	char good_path[256];

	bool huawei, zte;
	bool curc_ok; /* ^CURC=0 accepted: a later ^BOOT means a reboot */
	bool pin_sent;
	bool cnmi_ok;
	bool denied_logged;
	int cnmi_try;
	char smsc[40];
	char mem1[4];
	uint64_t reinit_at;
	int garbage;
	uint64_t garbage_since;

	bool cmgl_broken; /* +CMGL hangs or is refused: scan with +CMGR */
	/* Huawei sticks store new SMS in ME until +CPMS sets mem3, so a
	 * drain lists ME too (MODEM.md: +CMTI may name another memory) */
	bool drain_me, drain_restore;
	int scan_idx, scan_total, scan_left;
	enum activity act;
	int act_pending;
	int read_idx;
	bool drain_requested;
	struct read_req reads[MAX_READS];
	int nreads;
	struct send_job *sendq, *sending;
	int next_ref;
	uint64_t health_at, balance_at, rescan_at;
	struct modem_health health;
	struct modem_call call;
};

static const char *cnmi_variants[] = {
    /* MODEM.md: several chipsets advertise values they reject */
    "AT+CNMI=2,1,0,2,0", "AT+CNMI=2,1,2,1,0", "AT+CNMI=2,1,2,2,0",
    "AT+CNMI=2,1,2,0,0", "AT+CNMI=1,1,0,0,0",
};

static void run_step(struct modem *m, enum step s);
static void ready_next(struct modem *m);
static void recover(struct modem *m, const char *why);

/* ---------------- small helpers ---------------- */

static void mlog(struct modem *m, enum modem_log_level lvl, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));
static void mlog(struct modem *m, enum modem_log_level lvl, const char *fmt,
		 ...)
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

static void change_state(struct modem *m, enum modem_state st, const char *why)
{
	enum modem_state old = m->st;

	if (st == old)
		return;
	m->st = st;
	mlog(m, st == MODEM_FATAL ? MODEM_LOG_ERR : MODEM_LOG_INFO,
	     "modem %s -> %s: %s", modem_state_name(old), modem_state_name(st),
	     why);
	if (m->ops->state)
		m->ops->state(m->ud, st, why);
}

static char *dup_or_null(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

static bool is_registered(int stat)
{
	return stat == 1 || stat == 5; /* TS 27.007 7.2: home, roaming */
}

/* Copies the first field of a response line, tolerating modems that
 * prefix +CGMI/+CGMM/+CGSN answers with the command name. */
static void first_line(const struct at_response *r, const char *prefix,
		       char *out, size_t len)
{
	const char *l;

	out[0] = '\0';
	if (r->result != AT_OK || r->nlines == 0)
		return;
	l = r->lines[0];
	if (strncmp(l, prefix, strlen(prefix)) == 0) {
		l += strlen(prefix);
		while (*l == ' ')
			l++;
	}
	snprintf(out, len, "%s", l);
	if (out[0] == '"') {
		size_t n = strlen(out);

		memmove(out, out + 1, n);
		if (n >= 2 && out[n - 2] == '"')
			out[n - 2] = '\0';
	}
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

static void close_port(struct modem *m)
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

static void fail_sending(struct modem *m, enum modem_send_result res,
			 const char *why)
{
	struct send_job *j = m->sending;

	if (!j)
		return;
	m->sending = NULL;
	if (m->ops->sent)
		m->ops->sent(m->ud, j->id, res, j->mrs + j->first,
			     j->cur - j->first, why);
	free(j->segs);
	free(j);
}

/* Port lost, command timed out, garbage: start over from CLOSED. */
static void recover(struct modem *m, const char *why)
{
	snprintf(m->reason, sizeof(m->reason), "%s", why);
	fail_sending(m, MODEM_SEND_RETRY, why);
	close_port(m);
	m->ncand = 0; /* rescan USB on the next open */
	schedule_reopen(m);
	change_state(m, MODEM_CLOSED, why);
}

static void go_fatal(struct modem *m, const char *why)
{
	struct send_job *j;

	snprintf(m->reason, sizeof(m->reason), "%s", why);
	fail_sending(m, MODEM_SEND_RETRY, why);
	close_port(m);
	change_state(m, MODEM_FATAL, why);
	/* Nothing will go out until a human acts: hand the queue back. */
	while ((j = m->sendq)) {
		m->sendq = j->next;
		m->sending = j;
		fail_sending(m, MODEM_SEND_RETRY, why);
	}
}

static void enter_probe(struct modem *m, const char *why)
{
	m->tries = 0;
	change_state(m, MODEM_PROBE, why);
	/* MODEM.md: a crash can leave the modem at the "> " prompt; ESC
	 * aborts it (TS 27.005 3.5.1), then drain what was pending. */
	at_write_raw(m->at, "\x1b", 1);
	m->step = STEP_PROBE_DRAIN;
	m->timer_at = m->now + PROBE_DRAIN_MS;
}

/* Re-runs the whole start-up on an open port (the modem rebooted). */
static void reinit(struct modem *m, const char *why)
{
	fail_sending(m, MODEM_SEND_RETRY, why);
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
			mlog(m, MODEM_LOG_WARN, "%s", err);
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

static bool is_auto(const struct modem *m)
{
	return strcmp(m->device, "auto") == 0;
}

static void try_open(struct modem *m)
{
	char err[256], why[320];
	const char *path = m->device;

	m->reopen_at = UINT64_MAX;
	if (is_auto(m)) {
		path = next_candidate(m);
		if (!path) {
			mlog(m, MODEM_LOG_WARN,
			     "no USB modem found (looked for Huawei, SIMCom, "
			     "Quectel, ZTE, u-blox, Sierra and USB-serial "
			     "bridges); set [modem] device to its port");
			schedule_reopen(m);
			return;
		}
	}
	m->fd = open_path(m, path, err, sizeof(err));
	if (m->fd < 0) {
		mlog(m, MODEM_LOG_WARN, "%s; retrying in %u s", err,
		     m->backoff_s);
		schedule_reopen(m);
		return;
	}
	if (is_auto(m))
		snprintf(m->good_path, sizeof(m->good_path), "%s", path);
	snprintf(why, sizeof(why), "opened %s", path);
	enter_probe(m, why);
}

/* ---------------- start-up steps ---------------- */

static void step_cb(void *ud, const struct at_response *r);

static void step_cmd(struct modem *m, enum step s, const char *cmd,
		     const char *prefix, unsigned timeout)
{
	m->step = s;
	at_send(m->at, cmd, prefix, timeout, step_cb, m);
}

static void step_wait(struct modem *m, enum step s, unsigned ms)
{
	m->step = s;
	m->timer_at = m->now + ms;
}

static void run_step(struct modem *m, enum step s)
{
	unsigned t = m->cfg.cmd_timeout_ms;
	char cmd[96];

	switch (s) {
	case STEP_NONE:
	case STEP_PROBE_DRAIN:
	case STEP_SIM_WAIT:
	case STEP_REG_WAIT:
		break;
	case STEP_PROBE_AT:
		/* SIM800 autobauds on "AT" (MODEM.md) */
		step_cmd(m, s, "AT", NULL,
			 t < PROBE_TIMEOUT_MS ? t : PROBE_TIMEOUT_MS);
		break;
	case STEP_ATZ:
		step_cmd(m, s, "ATZ", NULL, t); /* V.250 6.1.1, alone */
		break;
	case STEP_ATE0:
		step_cmd(m, s, "ATE0", NULL, t);
		break;
	case STEP_CMEE:
		step_cmd(m, s, "AT+CMEE=1", NULL, t); /* TS 27.007 9.1 */
		break;
	case STEP_CGMI:
		step_cmd(m, s, "AT+CGMI", NULL, t);
		break;
	case STEP_CURC:
		/* Huawei: stop the ^RSSI/^BOOT/^MODE flood */
		step_cmd(m, s, "AT^CURC=0", NULL, t);
		break;
	case STEP_ZCDRUN:
		step_cmd(m, s, "AT+ZCDRUN=8", NULL, t); /* ZTE: no CD-ROM */
		break;
	case STEP_ZOPRT:
		step_cmd(m, s, "AT+ZOPRT=5", NULL, t); /* ZTE: stay online */
		break;
	case STEP_CGMM:
		step_cmd(m, s, "AT+CGMM", NULL, t);
		break;
	case STEP_CGSN:
		step_cmd(m, s, "AT+CGSN", NULL, t);
		break;
	case STEP_CLIP:
		step_cmd(m, s, "AT+CLIP=1", NULL, t); /* TS 27.007 7.6 */
		break;
	case STEP_CPIN:
		step_cmd(m, s, "AT+CPIN?", "+CPIN:", t);
		break;
	case STEP_PIN:
		/* Set before sending: a timeout must not lead to a second
		 * try (three wrong PINs lock the SIM). */
		m->pin_sent = true;
		snprintf(cmd, sizeof(cmd), "AT+CPIN=\"%s\"", m->pin);
		step_cmd(m, s, cmd, NULL, t);
		break;
	case STEP_CMGF:
		step_cmd(m, s, "AT+CMGF=0", NULL, t); /* TS 27.005 3.2.3 */
		break;
	case STEP_CPMS:
		snprintf(cmd, sizeof(cmd), "AT+CPMS=\"%s\",\"%s\",\"%s\"",
			 m->storage, m->storage, m->storage);
		step_cmd(m, s, cmd, "+CPMS:", t);
		break;
	case STEP_CNMI:
		step_cmd(m, s, cnmi_variants[m->cnmi_try], NULL, t);
		break;
	case STEP_CSCA:
		step_cmd(m, s, "AT+CSCA?", "+CSCA:", t);
		break;
	case STEP_CREG2:
		step_cmd(m, s, "AT+CREG=2", NULL, t);
		break;
	case STEP_CREG:
		step_cmd(m, s, "AT+CREG?", "+CREG:", t);
		break;
	case STEP_CEREG:
		step_cmd(m, s, "AT+CEREG?", "+CEREG:", t);
		break;
	}
}

static void enter_ready(struct modem *m)
{
	m->backoff_s = 1;
	m->step = STEP_NONE;
	m->drain_requested = true; /* indications were lost while down */
	m->health_at = m->now;
	/* keep the interval across re-inits: operators may bar a SIM that
	 * sends USSD after every modem reboot */
	if (!m->balance_at)
		m->balance_at = m->now + BALANCE_FIRST_MS;
	m->rescan_at =
	    m->now + (m->cnmi_ok ? RESCAN_INTERVAL_MS : RESCAN_NO_CNMI_MS);
	m->reason[0] = '\0';
	change_state(m, MODEM_READY, "registered");
	ready_next(m);
}

/* SIM not ready yet, busy, or SMS not ready (SIM800 before "SMS Ready",
 * CMS 300-303 / CME 10, 13, 14): wait and ask again, a bounded number of
 * times. */
static void sim_retry(struct modem *m, enum step again, const char *what)
{
	char why[200];

	if (++m->tries > SIM_RETRIES) {
		snprintf(why, sizeof(why),
			 "%s after %d tries: check that a SIM card is "
			 "inserted and the modem works in a phone",
			 what, SIM_RETRIES);
		go_fatal(m, why);
		return;
	}
	mlog(m, MODEM_LOG_INFO, "%s; asking again in %d s", what,
	     SIM_RETRY_MS / 1000);
	m->wait_target = again;
	step_wait(m, STEP_SIM_WAIT, SIM_RETRY_MS);
}

static void on_cpin(struct modem *m, const struct at_response *r)
{
	struct at_iter it;
	char v[32] = "";

	if (r->result == AT_OK && r->nlines > 0) {
		at_iter_begin(&it, r->lines[0], "+CPIN:");
		at_iter_next_string(&it, v, sizeof(v));
	} else if (r->result == AT_CME_ERROR && r->code == 11) {
		snprintf(v, sizeof(v), "SIM PIN");
	} else if (r->result == AT_CME_ERROR && r->code == 12) {
		snprintf(v, sizeof(v), "SIM PUK");
	}
	if (strcmp(v, "READY") == 0) {
		if (m->pin_sent)
			mlog(m, MODEM_LOG_INFO, "SIM accepted the PIN");
		m->pin_sent = false; /* the PIN is right: safe after reboot */
		m->tries = 0;
		run_step(m, STEP_CMGF);
	} else if (strcmp(v, "SIM PIN") == 0) {
		if (!m->pin)
			go_fatal(m, "the SIM asks for a PIN and none is "
				    "configured: set [modem] pin");
		else if (m->pin_sent)
			go_fatal(m, "the SIM still asks for the PIN after it "
				    "was sent once: not sending it again "
				    "(three wrong PINs lock the SIM)");
		else
			run_step(m, STEP_PIN);
	} else if (strncmp(v, "SIM PUK", 7) == 0) {
		go_fatal(m, "the SIM is PUK-locked: unlock it in a phone "
			    "with the PUK from the operator");
	} else if (v[0] && strcmp(v, "NOT READY") != 0) {
		char why[128];

		snprintf(why, sizeof(why),
			 "the SIM asks for \"%s\", which simpul cannot give",
			 v);
		go_fatal(m, why);
	} else {
		sim_retry(m, STEP_CPIN, "SIM not ready");
	}
}

static void on_pin(struct modem *m, const struct at_response *r)
{
	char why[160];

	if (r->result == AT_OK) {
		/* SIM800 and others need a moment before +CPIN? says READY */
		m->wait_target = STEP_CPIN;
		step_wait(m, STEP_SIM_WAIT, PIN_SETTLE_MS);
		return;
	}
	snprintf(why, sizeof(why),
		 "the SIM rejected the PIN (%s %d): not retrying; check "
		 "[modem] pin",
		 at_result_name(r->result), r->code);
	go_fatal(m, why);
}

static bool sms_not_ready(const struct at_response *r)
{
	/* TS 27.005 3.2.5: 300-303 ME failure / not allowed, 310-315 SIM;
	 * TS 27.007 9.2.1: CME 10-14 SIM */
	return (r->result == AT_CMS_ERROR && r->code >= 300 &&
		r->code <= 315) ||
	       (r->result == AT_CME_ERROR && r->code >= 10 && r->code <= 14);
}

static void on_sms_setup(struct modem *m, const struct at_response *r)
{
	char why[160];
	struct at_iter it;

	if (m->step != STEP_CNMI && r->result != AT_OK && sms_not_ready(r)) {
		sim_retry(m, m->step, "SMS functions not ready yet");
		return;
	}
	switch (m->step) {
	case STEP_CMGF:
		if (r->result != AT_OK) {
			snprintf(why, sizeof(why),
				 "the modem refuses PDU mode (AT+CMGF=0: %s)",
				 r->final);
			go_fatal(m, why);
			return;
		}
		run_step(m, STEP_CPMS);
		break;
	case STEP_CPMS:
		if (r->result != AT_OK)
			mlog(m, MODEM_LOG_WARN,
			     "AT+CPMS=\"%s\" failed (%s): using the modem's "
			     "default storage",
			     m->storage, r->final);
		snprintf(m->mem1, sizeof(m->mem1), "%s", m->storage);
		m->cnmi_try = 0;
		run_step(m, STEP_CNMI);
		break;
	case STEP_CNMI:
		if (r->result == AT_OK) {
			m->cnmi_ok = true;
			run_step(m, STEP_CSCA);
			break;
		}
		if (++m->cnmi_try <
		    (int)(sizeof(cnmi_variants) / sizeof(cnmi_variants[0]))) {
			run_step(m, STEP_CNMI);
			break;
		}
		m->cnmi_ok = false;
		mlog(m, MODEM_LOG_WARN,
		     "the modem accepts no AT+CNMI setting: no new-SMS "
		     "indications, reading storage every %d s instead",
		     RESCAN_NO_CNMI_MS / 1000);
		run_step(m, STEP_CSCA);
		break;
	case STEP_CSCA:
		m->smsc[0] = '\0';
		if (r->result == AT_OK && r->nlines > 0 &&
		    at_iter_begin(&it, r->lines[0], "+CSCA:"))
			at_iter_next_string(&it, m->smsc, sizeof(m->smsc));
		if (!m->smsc[0])
			mlog(m, MODEM_LOG_WARN,
			     "the SIM has no SMS centre number (AT+CSCA?): "
			     "sending will fail with CMS 330");
		change_state(m, MODEM_REGISTER, "SIM ready, SMS configured");
		run_step(m, STEP_CREG2);
		break;
	default:
		break;
	}
}

static int reg_stat(const struct at_response *r, const char *prefix)
{
	struct at_iter it;
	int n, stat;

	if (r->result != AT_OK || r->nlines == 0 ||
	    !at_iter_begin(&it, r->lines[0], prefix) ||
	    !at_iter_next_number(&it, &n) || !at_iter_next_number(&it, &stat))
		return -1;
	return stat;
}

static void on_register(struct modem *m, const struct at_response *r)
{
	int stat;

	switch (m->step) {
	case STEP_CREG2:
		run_step(m, STEP_CREG);
		return;
	case STEP_CREG:
		stat = reg_stat(r, "+CREG:");
		m->health.creg_stat = stat;
		if (is_registered(stat)) {
			enter_ready(m);
			return;
		}
		if (stat == 3 && !m->denied_logged) {
			m->denied_logged = true;
			mlog(m, MODEM_LOG_ERR,
			     "the network denied registration (+CREG stat "
			     "3): check the SIM is active and has credit");
		}
		/* LTE sticks register on EPS only (TS 27.007 10.1.22) */
		run_step(m, STEP_CEREG);
		return;
	case STEP_CEREG:
		stat = reg_stat(r, "+CEREG:");
		if (is_registered(stat)) {
			enter_ready(m);
			return;
		}
		step_wait(m, STEP_REG_WAIT, REG_POLL_MS);
		return;
	default:
		return;
	}
}

static void on_probe(struct modem *m, const struct at_response *r)
{
	char why[128];

	if (r->result != AT_TIMEOUT) {
		change_state(m, MODEM_INIT, "modem answers AT");
		run_step(m, STEP_ATZ);
		return;
	}
	if (++m->tries < PROBE_TRIES) {
		at_write_raw(m->at, "\x1b", 1);
		run_step(m, STEP_PROBE_AT);
		return;
	}
	if (is_auto(m) && m->cand_idx < m->ncand) {
		mlog(m, MODEM_LOG_INFO, "no answer to AT on %s; next port",
		     m->cands[m->cand_idx - 1].path);
		close_port(m);
		try_open(m);
		return;
	}
	snprintf(why, sizeof(why), "no answer to AT after %d tries",
		 PROBE_TRIES);
	recover(m, why);
}

static void on_identity(struct modem *m, const struct at_response *r)
{
	switch (m->step) {
	case STEP_ATZ:
		run_step(m, STEP_ATE0);
		break;
	case STEP_ATE0:
		run_step(m, STEP_CMEE);
		break;
	case STEP_CMEE:
		run_step(m, STEP_CGMI);
		break;
	case STEP_CGMI:
		first_line(r, "+CGMI:", m->health.manufacturer,
			   sizeof(m->health.manufacturer));
		m->huawei = strcasestr(m->health.manufacturer, "huawei");
		m->zte = strcasestr(m->health.manufacturer, "zte");
		run_step(m, m->huawei ? STEP_CURC
			    : m->zte  ? STEP_ZCDRUN
				      : STEP_CGMM);
		break;
	case STEP_CURC:
		m->curc_ok = r->result == AT_OK;
		run_step(m, STEP_CGMM);
		break;
	case STEP_ZCDRUN:
		run_step(m, STEP_ZOPRT);
		break;
	case STEP_ZOPRT:
		run_step(m, STEP_CGMM);
		break;
	case STEP_CGMM:
		first_line(r, "+CGMM:", m->health.model,
			   sizeof(m->health.model));
		run_step(m, STEP_CGSN);
		break;
	case STEP_CGSN:
		first_line(r, "+CGSN:", m->health.imei, sizeof(m->health.imei));
		run_step(m, STEP_CLIP);
		break;
	case STEP_CLIP:
		m->tries = 0;
		change_state(m, MODEM_SIM, "modem initialised");
		run_step(m, STEP_CPIN);
		break;
	default:
		break;
	}
}

static void on_step(struct modem *m, const struct at_response *r)
{
	switch (m->step) {
	case STEP_PROBE_AT:
		on_probe(m, r);
		break;
	case STEP_ATZ:
	case STEP_ATE0:
	case STEP_CMEE:
	case STEP_CGMI:
	case STEP_CURC:
	case STEP_ZCDRUN:
	case STEP_ZOPRT:
	case STEP_CGMM:
	case STEP_CGSN:
	case STEP_CLIP:
		on_identity(m, r);
		break;
	case STEP_CPIN:
		on_cpin(m, r);
		break;
	case STEP_PIN:
		on_pin(m, r);
		break;
	case STEP_CMGF:
	case STEP_CPMS:
	case STEP_CNMI:
	case STEP_CSCA:
		on_sms_setup(m, r);
		break;
	case STEP_CREG2:
	case STEP_CREG:
	case STEP_CEREG:
		on_register(m, r);
		break;
	default:
		break;
	}
}

static void step_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	char why[160];

	if (r->result == AT_CANCELLED)
		return;
	if (r->result == AT_TIMEOUT && m->step != STEP_PROBE_AT) {
		snprintf(why, sizeof(why), "no answer within %u ms (step %d)",
			 m->cfg.cmd_timeout_ms, (int)m->step);
		recover(m, why);
		return;
	}
	on_step(m, r);
}

static void on_timer(struct modem *m)
{
	enum step s = m->step;

	m->timer_at = UINT64_MAX;
	switch (s) {
	case STEP_PROBE_DRAIN:
		at_reset(m->at);
		run_step(m, STEP_PROBE_AT);
		break;
	case STEP_SIM_WAIT:
		run_step(m, m->wait_target);
		break;
	case STEP_REG_WAIT:
		run_step(m, STEP_CREG);
		break;
	default:
		break;
	}
}

/* ---------------- reading messages ---------------- */

/* Hands one stored or routed PDU to the daemon; returns its verdict
 * (0: committed, delete it). */
static int deliver(struct modem *m, int index, const char *hex, int len)
{
	struct pdu_message pm;
	char err[160];
	int rc;

	memset(&pm, 0, sizeof(pm));
	rc = pdu_decode(hex, true, len, &pm, err, sizeof(err));
	if (rc == 0 && pm.kind == PDU_STATUS_REPORT) {
		struct modem_report rep = {.index = index,
					   .mr = pm.mr,
					   .status = pm.status,
					   .done_at = pm.done_at};

		snprintf(rep.recipient, sizeof(rep.recipient), "%s", pm.number);
		rc = m->ops->report ? m->ops->report(m->ud, &rep) : -1;
	} else {
		struct modem_sms s = {.index = index, .pdu_hex = hex};

		if (rc == 0) {
			snprintf(s.sender, sizeof(s.sender), "%s", pm.number);
			snprintf(s.smsc, sizeof(s.smsc), "%s", pm.smsc);
			s.sender_alnum = pm.number_alnum;
			s.scts = pm.scts;
			s.ref = pm.ref;
			s.ref16 = pm.ref16;
			s.parts = pm.parts ? pm.parts : 1;
			s.seq = pm.seq ? pm.seq : 1;
			s.text = pm.text;
			s.binary = pm.binary;
			if (pm.kind != PDU_DELIVER) {
				/* our own sent messages kept on the SIM are
				 * not a resident's text (MODEM.md) */
				s.text = NULL;
				s.error = "not an SMS-DELIVER (a stored "
					  "outgoing message?)";
			}
		} else {
			s.parts = s.seq = 1;
			s.error = err;
		}
		rc = m->ops->sms ? m->ops->sms(m->ud, &s) : -1;
	}
	pdu_message_clear(&pm);
	return rc;
}

static void act_cb_done(struct modem *m);

static void act_cmd(struct modem *m, const char *cmd, const char *prefix,
		    unsigned timeout, at_cmd_cb cb)
{
	m->act_pending++;
	at_send(m->at, cmd, prefix, timeout, cb, m);
}

/* Common head of READY callbacks: false when the callback must stop. */
static bool act_cb_check(struct modem *m, const struct at_response *r,
			 const char *what)
{
	char why[160];

	if (r->result == AT_CANCELLED)
		return false;
	if (r->result == AT_TIMEOUT) {
		snprintf(why, sizeof(why), "no answer to %s within the timeout",
			 what);
		recover(m, why);
		return false;
	}
	if (r->result == AT_CMS_ERROR && r->code == 322) {
		/* memory full: new SMS wait at the SMSC until we delete */
		m->drain_requested = true;
	}
	return true;
}

static void cmgd_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!act_cb_check(m, r, "AT+CMGD"))
		return;
	if (r->result != AT_OK)
		mlog(m, MODEM_LOG_WARN,
		     "deleting a stored SMS failed (%s): it will be read "
		     "again",
		     r->final);
	act_cb_done(m);
}

static void delete_index(struct modem *m, int idx)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "AT+CMGD=%d", idx);
	act_cmd(m, cmd, NULL, m->cfg.cmd_timeout_ms, cmgd_cb);
}

static void select_mem(struct modem *m, const char *mem);
static void cmgl_cb(void *ud, const struct at_response *r);

/* After the configured storage, list ME once on Huawei; then go back. */
static void drain_other_mem(struct modem *m)
{
	if (m->drain_me) {
		m->drain_me = false;
		m->drain_restore = true;
		select_mem(m, "ME");
		act_cmd(m, "AT+CMGL=4", "+CMGL:", m->cfg.cmd_timeout_ms * 3,
			cmgl_cb);
	} else if (m->drain_restore) {
		m->drain_restore = false;
		select_mem(m, m->storage);
	}
}

static void cmgl_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (r->result == AT_TIMEOUT || r->result == AT_ERROR ||
	    r->result == AT_NOT_SUPPORTED) {
		/* MODEM.md: some modems hang on (or refuse) +CMGL; read
		 * index by index from now on */
		m->cmgl_broken = true;
		m->drain_requested = true;
		mlog(m, MODEM_LOG_WARN,
		     "AT+CMGL=4 %s: reading storage index by index instead",
		     r->result == AT_TIMEOUT ? "hangs" : "is refused");
	}
	if (!act_cb_check(m, r, "AT+CMGL"))
		return;
	if (r->result != AT_OK)
		mlog(m, MODEM_LOG_WARN, "listing stored SMS failed (%s)",
		     r->final);
	for (size_t i = 0; r->result == AT_OK && i < r->nlines; i++) {
		struct at_iter it;
		int idx, stat, len = -1;

		/* TS 27.005 3.4.2: +CMGL: <index>,<stat>,[<alpha>],<length>
		 */
		if (!r->pdus[i] || !at_iter_begin(&it, r->lines[i], "+CMGL:") ||
		    !at_iter_next_number(&it, &idx))
			continue;
		at_iter_next_number(&it, &stat);
		at_iter_skip(&it);
		at_iter_next_number(&it, &len);
		if (deliver(m, idx, r->pdus[i], len) == 0)
			delete_index(m, idx);
	}
	drain_other_mem(m);
	act_cb_done(m);
}

static void cpms_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!act_cb_check(m, r, "AT+CPMS"))
		return;
	if (r->result != AT_OK)
		mlog(m, MODEM_LOG_WARN, "switching SMS storage failed (%s)",
		     r->final);
	act_cb_done(m);
}

static void select_mem(struct modem *m, const char *mem)
{
	char cmd[32];

	if (strcmp(m->mem1, mem) == 0)
		return;
	/* +CMTI may name another memory (Huawei E3531 uses ME): mem1 is
	 * where +CMGR/+CMGD act (TS 27.005 3.2.2). */
	snprintf(m->mem1, sizeof(m->mem1), "%s", mem);
	snprintf(cmd, sizeof(cmd), "AT+CPMS=\"%s\"", mem);
	act_cmd(m, cmd, "+CPMS:", m->cfg.cmd_timeout_ms, cpms_cb);
}

static void cmgr_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int stat, len = -1;

	if (!act_cb_check(m, r, "AT+CMGR"))
		return;
	if (r->result == AT_CMS_ERROR && r->code == 321) {
		/* empty index: already read and deleted */
	} else if (r->result != AT_OK) {
		mlog(m, MODEM_LOG_WARN, "reading SMS %d failed (%s)",
		     m->read_idx, r->final);
	} else if (r->nlines > 0 && r->pdus[0] &&
		   at_iter_begin(&it, r->lines[0], "+CMGR:")) {
		/* TS 27.005 3.4.3: +CMGR: <stat>,[<alpha>],<length> */
		at_iter_next_number(&it, &stat);
		at_iter_skip(&it);
		at_iter_next_number(&it, &len);
		if (deliver(m, m->read_idx, r->pdus[0], len) == 0)
			delete_index(m, m->read_idx);
	}
	select_mem(m, m->storage);
	act_cb_done(m);
}

static void start_read(struct modem *m)
{
	struct read_req rq = m->reads[0];
	char cmd[32];

	memmove(m->reads, m->reads + 1, --m->nreads * sizeof(m->reads[0]));
	m->act = ACT_READ;
	select_mem(m, rq.mem);
	m->read_idx = rq.idx;
	snprintf(cmd, sizeof(cmd), "AT+CMGR=%d", rq.idx);
	act_cmd(m, cmd, "+CMGR:", m->cfg.cmd_timeout_ms, cmgr_cb);
}

static void scan_next(struct modem *m);

static void scan_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int idx = m->scan_idx - 1, stat, len = -1;

	if (!act_cb_check(m, r, "AT+CMGR"))
		return;
	if (r->result == AT_OK && r->nlines > 0 && r->pdus[0] &&
	    at_iter_begin(&it, r->lines[0], "+CMGR:")) {
		m->scan_left--;
		at_iter_next_number(&it, &stat);
		at_iter_skip(&it);
		at_iter_next_number(&it, &len);
		if (deliver(m, idx, r->pdus[0], len) == 0)
			delete_index(m, idx);
	}
	/* CMS 321: empty slot, go on (MODEM.md) */
	scan_next(m);
	act_cb_done(m);
}

/* Index 0 (Huawei) up to the capacity (1-based modems), stopping once
 * every used slot was seen. */
static void scan_next(struct modem *m)
{
	char cmd[32];

	if (m->scan_left <= 0 || m->scan_idx > m->scan_total)
		return;
	snprintf(cmd, sizeof(cmd), "AT+CMGR=%d", m->scan_idx++);
	act_cmd(m, cmd, "+CMGR:", m->cfg.cmd_timeout_ms, scan_cb);
}

static void cpms_query_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	char mem[4];

	if (!act_cb_check(m, r, "AT+CPMS?"))
		return;
	/* TS 27.005 3.2.2: +CPMS: <mem1>,<used1>,<total1>,... */
	m->scan_idx = 0;
	m->scan_left = m->scan_total = 0;
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CPMS:") &&
	    at_iter_next_string(&it, mem, sizeof(mem)) &&
	    at_iter_next_number(&it, &m->scan_left) &&
	    at_iter_next_number(&it, &m->scan_total))
		scan_next(m);
	else
		mlog(m, MODEM_LOG_WARN, "cannot count stored SMS (%s)",
		     r->final);
	act_cb_done(m);
}

static void start_drain(struct modem *m)
{
	m->drain_requested = false;
	m->act = ACT_DRAIN;
	m->rescan_at =
	    m->now + (m->cnmi_ok ? RESCAN_INTERVAL_MS : RESCAN_NO_CNMI_MS);
	select_mem(m, m->storage);
	m->drain_me = m->huawei && strcmp(m->storage, "ME") != 0 &&
		      !m->cmgl_broken;
	m->drain_restore = false;
	if (m->cmgl_broken) {
		act_cmd(m, "AT+CPMS?", "+CPMS:", m->cfg.cmd_timeout_ms,
			cpms_query_cb);
		return;
	}
	/* TS 27.005 3.4.2: stat 4 = all messages in PDU mode */
	act_cmd(m, "AT+CMGL=4", "+CMGL:", m->cfg.cmd_timeout_ms * 3, cmgl_cb);
}

/* ---------------- sending ---------------- */

static void send_part(struct modem *m);

/* MODEM.md error table; reinit is set for 300-303 and SIM errors. */
static enum modem_send_result classify(const struct at_response *r,
				       bool *reinit)
{
	int c = r->code;

	*reinit = false;
	if (r->result == AT_CMS_ERROR) {
		if (c == 304 || c == 305 || c == 1 || c == 8 || c == 10 ||
		    c == 21 || c == 28 || c == 29 || c == 30 || c == 50 ||
		    c == 96 || c == 111)
			return MODEM_SEND_FAILED;
		if ((c >= 300 && c <= 303) || (c >= 310 && c <= 316))
			*reinit = true;
		return MODEM_SEND_RETRY;
	}
	if (r->result == AT_CME_ERROR && c >= 10 && c <= 18)
		*reinit = true;
	return MODEM_SEND_RETRY;
}

static void send_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct send_job *j = m->sending;
	struct at_iter it;
	char why[200];
	bool reinit_needed;
	enum modem_send_result res;

	if (r->result == AT_CANCELLED || !j)
		return;
	if (r->result == AT_TIMEOUT) {
		/* recover() reports RETRY for the job in flight */
		recover(m, "no answer to AT+CMGS within 60 s");
		return;
	}
	if (r->result == AT_OK) {
		int mr = -1;

		/* TS 27.005 3.5.1: +CMGS: <mr> */
		if (r->nlines > 0 && at_iter_begin(&it, r->lines[0], "+CMGS:"))
			at_iter_next_number(&it, &mr);
		j->mrs[j->cur++] = mr;
		if (m->ops->part_sent)
			m->ops->part_sent(m->ud, j->id, j->cur - 1, j->nsegs,
					  mr);
		if (j->cur < j->nsegs)
			send_part(m);
		else
			fail_sending(m, MODEM_SEND_OK, "sent");
		act_cb_done(m);
		return;
	}
	res = classify(r, &reinit_needed);
	snprintf(why, sizeof(why), "part %d of %d: %s (modem %s %s)",
		 j->cur + 1, j->nsegs, r->final, m->health.manufacturer,
		 m->health.model);
	fail_sending(m, res, why);
	if (reinit_needed) {
		reinit(m, why); /* CMS 300-303, SIM errors (MODEM.md) */
		return;
	}
	act_cb_done(m);
}

static void send_part(struct modem *m)
{
	struct send_job *j = m->sending;
	char cmd[32];

	/* TS 27.005 3.5.1: <length> counts the TPDU without the SMSC */
	snprintf(cmd, sizeof(cmd), "AT+CMGS=%d", j->segs[j->cur].tpdu_len);
	m->act_pending++;
	at_send_pdu(m->at, cmd, "+CMGS:", j->segs[j->cur].hex, SEND_TIMEOUT_MS,
		    send_cb, m);
}

static void start_send(struct modem *m)
{
	m->sending = m->sendq;
	m->sendq = m->sendq->next;
	m->act = ACT_SEND;
	send_part(m); /* parts back to back: operators drop late parts */
}

/* Reports an outcome for a job that never reaches the queue. */
static int send_done_now(struct modem *m, struct send_job *j,
			 enum modem_send_result res, const char *why)
{
	static const int none[1];

	if (m->ops->sent)
		m->ops->sent(m->ud, j->id, res, none, 0, why);
	free(j->segs);
	free(j);
	return 0;
}

int modem_send_resume(struct modem *m, uint64_t send_id, const char *to,
		      const char *text_utf8, int ref, int first_part)
{
	struct send_job *j = calloc(1, sizeof(*j)), **tail;
	char err[200];

	if (!j)
		return -1;
	j->segs = calloc(MAX_SEGS, sizeof(*j->segs));
	if (!j->segs)
		goto fail;
	j->id = send_id;
	j->nsegs = pdu_encode_submit(to, text_utf8, NULL, ref & 0xff, true,
				     j->segs, MAX_SEGS, err, sizeof(err));
	if (j->nsegs <= 0) {
		mlog(m, MODEM_LOG_WARN, "cannot encode SMS %llu to %s: %s",
		     (unsigned long long)send_id, to, err);
		goto fail;
	}
	j->first = j->cur = first_part < 0 ? 0 : first_part;
	if (j->cur >= j->nsegs) /* every part went out before a restart */
		return send_done_now(m, j, MODEM_SEND_OK, "sent");
	/* nothing goes out until a human fixes the SIM */
	if (m->st == MODEM_FATAL)
		return send_done_now(m, j, MODEM_SEND_RETRY, m->reason);
	for (tail = &m->sendq; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	/* started from modem_tick (modem_deadline says now), where the
	 * clock is fresh */
	return 0;
fail:
	free(j->segs);
	free(j);
	return -1;
}

/* Our own reference per message: libgammu's is clock-derived and two long
 * messages in one second would share it (MODEM.md). */
int modem_send(struct modem *m, uint64_t send_id, const char *to,
	       const char *text_utf8)
{
	int ref = m->next_ref;

	m->next_ref = (m->next_ref + 1) & 0xff;
	return modem_send_resume(m, send_id, to, text_utf8, ref, 0);
}

bool modem_can_send(const struct modem *m)
{
	return m->st == MODEM_READY;
}

/* ---------------- health ---------------- */

static void ignore_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (act_cb_check(m, r, "a health query"))
		act_cb_done(m);
}

static void csq_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int rssi;

	if (!act_cb_check(m, r, "AT+CSQ"))
		return;
	/* TS 27.007 8.5: 0..31 -> -113 + 2 rssi dBm, 99 unknown */
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CSQ:") &&
	    at_iter_next_number(&it, &rssi))
		m->health.rssi_dbm =
		    rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : 0;
	act_cb_done(m);
}

static void creg_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!act_cb_check(m, r, "AT+CREG?"))
		return;
	m->health.creg_stat = reg_stat(r, "+CREG:");
	act_cb_done(m);
}

static void cops_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int mode, fmt;

	if (!act_cb_check(m, r, "AT+COPS?"))
		return;
	/* TS 27.007 7.3: +COPS: <mode>[,<format>,<oper>[,<AcT>]] */
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+COPS:") &&
	    at_iter_next_number(&it, &mode) && at_iter_next_number(&it, &fmt))
		at_iter_next_string(&it, m->health.operator_name,
				    sizeof(m->health.operator_name));
	act_cb_done(m);
}

/* "yy/MM/dd,hh:mm:ss±zz", zz in quarter hours (TS 27.007 8.15). */
static int64_t parse_cclk(const char *s)
{
	struct tm tm = {0};
	int yy, mo, dd, hh, mi, ss, tz = 0;
	char sign = '+';

	if (sscanf(s, "%d/%d/%d,%d:%d:%d%c%d", &yy, &mo, &dd, &hh, &mi, &ss,
		   &sign, &tz) < 6)
		return 0;
	if (yy < 20 || yy > 99) /* clock never set by the network */
		return 0;
	tm.tm_year = 100 + yy;
	tm.tm_mon = mo - 1;
	tm.tm_mday = dd;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	return (int64_t)timegm(&tm) - (sign == '-' ? -1 : 1) * tz * 15 * 60;
}

static void cclk_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	char v[40];

	if (!act_cb_check(m, r, "AT+CCLK?"))
		return;
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CCLK:") &&
	    at_iter_next_string(&it, v, sizeof(v)))
		m->health.network_time = parse_cclk(v);
	act_cb_done(m);
}

static void start_health(struct modem *m)
{
	unsigned t = m->cfg.cmd_timeout_ms;

	m->act = ACT_HEALTH;
	m->health_at = m->now + HEALTH_INTERVAL_MS;
	act_cmd(m, "AT+CSQ", "+CSQ:", t, csq_cb);
	act_cmd(m, "AT+CREG?", "+CREG:", t, creg_cb);
	act_cmd(m, "AT+COPS=3,0", NULL, t, ignore_cb); /* long alphanumeric */
	act_cmd(m, "AT+COPS?", "+COPS:", t, cops_cb);
	act_cmd(m, "AT+CCLK?", "+CCLK:", t, cclk_cb);
}

static void cusd_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!act_cb_check(m, r, "AT+CUSD"))
		return;
	if (r->result != AT_OK)
		mlog(m, MODEM_LOG_WARN, "balance query %s failed (%s)", m->ussd,
		     r->final);
	act_cb_done(m);
}

static void start_balance(struct modem *m)
{
	char cmd[96];

	m->act = ACT_BALANCE;
	m->balance_at = m->now + (uint64_t)m->cfg.balance_interval_s * 1000;
	/* TS 27.007 7.15: the answer comes later as a +CUSD URC */
	snprintf(cmd, sizeof(cmd), "AT+CUSD=1,\"%s\",15", m->ussd);
	act_cmd(m, cmd, NULL, m->cfg.cmd_timeout_ms, cusd_cb);
}

/* ---------------- READY scheduling ---------------- */

static void act_cb_done(struct modem *m)
{
	if (--m->act_pending > 0)
		return;
	m->act_pending = 0;
	if (m->act == ACT_HEALTH && m->ops->health)
		m->ops->health(m->ud, &m->health);
	m->act = ACT_NONE;
	ready_next(m);
}

static bool balance_enabled(const struct modem *m)
{
	return m->ussd && m->cfg.balance_interval_s > 0;
}

static void ready_next(struct modem *m)
{
	if (m->st != MODEM_READY || m->act != ACT_NONE || m->fd < 0)
		return;
	if (m->drain_requested)
		start_drain(m);
	else if (m->nreads > 0)
		start_read(m);
	else if (m->sendq)
		start_send(m);
	else if (m->now >= m->health_at)
		start_health(m);
	else if (balance_enabled(m) && m->now >= m->balance_at)
		start_balance(m);
	else if (m->now >= m->rescan_at)
		start_drain(m);
}

void modem_rescan(struct modem *m)
{
	m->drain_requested = true;
}

/* ---------------- unsolicited lines ---------------- */

static void queue_read(struct modem *m, const char *mem, int idx)
{
	for (int i = 0; i < m->nreads; i++)
		if (m->reads[i].idx == idx && strcmp(m->reads[i].mem, mem) == 0)
			return;
	if (m->nreads == MAX_READS) {
		m->drain_requested = true; /* too many: list them all */
		return;
	}
	snprintf(m->reads[m->nreads].mem, sizeof(m->reads[0].mem), "%s", mem);
	m->reads[m->nreads++].idx = idx;
}

static bool session_up(const struct modem *m)
{
	return m->st >= MODEM_INIT && m->st <= MODEM_READY;
}

/* +CMTI/+CDSI: "<mem>",<index> (TS 27.005 3.4.1) */
static void urc_cmti(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	char mem[4];
	int idx;

	if (!session_up(m))
		return;
	at_iter_begin(&it, line, line[2] == 'M' ? "+CMTI:" : "+CDSI:");
	if (!at_iter_next_string(&it, mem, sizeof(mem)) ||
	    !at_iter_next_number(&it, &idx)) {
		mlog(m, MODEM_LOG_WARN,
		     "unreadable indication \"%s\": reading "
		     "all storage",
		     line);
		m->drain_requested = true;
	} else {
		queue_read(m, mem, idx);
	}
	ready_next(m);
}

/* +CMT: [<alpha>],<length> / +CDS: <length>, then the PDU: routed to us,
 * lost unless handled now. */
static void urc_cmt(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	int len = -1;

	if (!pdu) {
		mlog(m, MODEM_LOG_WARN, "%s came without a PDU line", line);
		return;
	}
	if (strncmp(line, "+CMT:", 5) == 0) {
		at_iter_begin(&it, line, "+CMT:");
		at_iter_skip(&it);
	} else {
		at_iter_begin(&it, line, "+CDS:");
	}
	at_iter_next_number(&it, &len);
	if (deliver(m, -1, pdu, len) != 0)
		mlog(m, MODEM_LOG_ERR,
		     "a routed SMS was not stored and "
		     "cannot be read again");
}

static void urc_reboot(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	char why[96];
	bool boot = strncmp(line, "^BOOT", 5) == 0;

	/* ^BOOT is Huawei's heartbeat until ^CURC=0; in READY it means
	 * the stick restarted and forgot our settings. */
	if (m->st != MODEM_READY && (boot || m->st != MODEM_REGISTER))
		return;
	if (boot && !m->curc_ok)
		return; /* the flood was never switched off: just noise */
	if (m->reinit_at && m->now - m->reinit_at < REBOOT_QUIET_MS)
		return; /* the tail of the boot we already handle */
	snprintf(why, sizeof(why),
		 "modem restarted (\"%s\"): initialising "
		 "again",
		 line);
	reinit(m, why);
}

static void urc_cfun(void *ud, const char *line, const char *pdu)
{
	if (strcmp(line, "+CFUN: 1") == 0)
		urc_reboot(ud, line, pdu);
}

static void urc_cpin(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	if (strstr(line, "NOT") && m->st == MODEM_READY) {
		mlog(m, MODEM_LOG_ERR, "SIM gone (%s)", line);
		reinit(m, "SIM not ready");
	}
}

static void urc_power(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	mlog(m, MODEM_LOG_ERR,
	     "modem reports \"%s\": its power supply is too weak (use a "
	     "powered USB hub or a 2 A supply)",
	     line);
	if (strstr(line, "POWER DOWN") && m->fd >= 0)
		recover(m, "modem powered down");
}

static void call_report(struct modem *m, int act, const struct modem_ring *ev)
{
	if ((act & (MODEM_CALL_RINGING | MODEM_CALL_ENDED)) && m->ops->ring)
		m->ops->ring(m->ud, ev);
}

static void hangup_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct modem_ring ev;

	if (r->result == AT_CANCELLED)
		return;
	if (r->result != AT_OK)
		mlog(m, MODEM_LOG_WARN, "hanging up a call failed (%s)",
		     r->final);
	call_report(m, modem_call_hung_up(&m->call, &ev), &ev);
}

static void call_tick(struct modem *m)
{
	struct modem_ring ev;

	call_report(m, modem_call_tick(&m->call, m->now, &ev), &ev);
}

/* RING, +CRING, +CLIP, ^CEND, NO CARRIER: modem_call.c follows the call;
 * Huawei sticks take AT+CHUP (TS 27.007 6.5), others ATH (V.250 6.3.6). */
static void urc_call(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct modem_ring ev;
	int act = modem_call_urc(&m->call, line, m->now,
				 (int)m->cfg.hangup_rings, &ev);

	if (act & MODEM_CALL_HANG_UP)
		at_send(m->at, m->huawei ? "AT+CHUP" : "ATH", NULL,
			m->cfg.cmd_timeout_ms, hangup_cb, m);
	call_report(m, act, &ev);
}

static void urc_creg(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	int stat;

	/* unsolicited form: +CREG: <stat>[,<lac>,<ci>[,<AcT>]] */
	at_iter_begin(&it, line, line[2] == 'E' ? "+CEREG:" : "+CREG:");
	if (!at_iter_next_number(&it, &stat))
		return;
	if (line[2] != 'E')
		m->health.creg_stat = stat;
	if (m->st == MODEM_READY && !is_registered(stat))
		mlog(m, MODEM_LOG_WARN, "network registration lost (%s)", line);
}

static size_t gsm7_unpack(const char *hex, char *out, size_t outlen);
static size_t ucs2_to_utf8(const char *hex, char *out, size_t outlen);

static bool all_hex(const char *s)
{
	size_t n = strlen(s);

	if (n < 8 || n % 2)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "Rp 12.345", "Rp12,345", "Rp. 5.000,00": separators followed by three
 * digits group thousands; anything else ends the number. */
static long parse_rupiah(const char *text)
{
	const char *p = strcasestr(text, "rp");
	long v = 0;
	bool any = false;

	if (!p)
		return -1;
	p += 2;
	while (*p == '.' || *p == ' ' || *p == ':')
		p++;
	for (;;) {
		if (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			any = true;
		} else if ((*p == '.' || *p == ',') && any &&
			   isdigit((unsigned char)p[1]) &&
			   isdigit((unsigned char)p[2]) &&
			   isdigit((unsigned char)p[3]) &&
			   !isdigit((unsigned char)p[4])) {
			p++;
		} else {
			break;
		}
	}
	return any ? v : -1;
}

static void urc_cusd(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	char raw[400] = "";
	int mode = -1, dcs = 15;
	char *t = m->health.balance_text;
	size_t tl = sizeof(m->health.balance_text);

	/* TS 27.007 7.15: +CUSD: <m>[,<str>,<dcs>] */
	at_iter_begin(&it, line, "+CUSD:");
	at_iter_next_number(&it, &mode);
	at_iter_next_string(&it, raw, sizeof(raw));
	at_iter_next_number(&it, &dcs);
	if (mode == 2 || mode == 4) {
		mlog(m, MODEM_LOG_WARN, "balance query refused: %s", line);
		return;
	}
	if (all_hex(raw) && dcs == 72)
		ucs2_to_utf8(raw, t, tl);
	else if (all_hex(raw) && (dcs == 15 || dcs == 0))
		gsm7_unpack(raw, t, tl); /* Huawei sends it packed */
	else
		snprintf(t, tl, "%.*s", (int)tl - 1, raw);
	m->health.balance = parse_rupiah(t);
	if (m->ops->health)
		m->ops->health(m->ud, &m->health);
}

static void urc_memfull(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	mlog(m, MODEM_LOG_WARN, "SMS storage full (%s): reading it all", line);
	m->drain_requested = true;
	ready_next(m);
}

static void urc_other(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	mlog(m, MODEM_LOG_DEBUG, "unsolicited: %s", line);
}

static void urc_noise(void *ud, const char *line, const char *pdu)
{
	/* ^RSSI, ^HCSQ, ^MODE, ^NWTIME, ^SIMST, RING: nothing to do, and
	 * they must not touch a command's deadline (MODEM.md). */
}

static void garbage_cb(void *ud, enum at_event ev)
{
	struct modem *m = ud;

	if (m->now - m->garbage_since > GARBAGE_WINDOW_MS) {
		m->garbage_since = m->now;
		m->garbage = 0;
	}
	if (++m->garbage >= GARBAGE_BURST && m->fd >= 0) {
		m->garbage = 0;
		recover(m, "a burst of garbage from the modem (wrong baud rate "
			   "or a port that is not the AT port?)");
	}
}

static const struct {
	const char *prefix;
	at_urc_cb cb;
} urcs[] = {
    {"+CMTI:", urc_cmti},
    {"+CDSI:", urc_cmti},
    {"+CMT:", urc_cmt},
    {"+CDS:", urc_cmt},
    {"RDY", urc_reboot},
    {"Call Ready", urc_reboot},
    {"SMS Ready", urc_reboot},
    {"^BOOT", urc_reboot},
    {"+CFUN:", urc_cfun},
    {"+CPIN:", urc_cpin},
    {"UNDER-VOLTAGE", urc_power},
    {"POWER DOWN", urc_power},
    {"NORMAL POWER DOWN", urc_power},
    {"+CLIP:", urc_call},
    {"+CRING:", urc_call},
    {"^CEND", urc_call},
    {"NO CARRIER", urc_call},
    {"+CREG:", urc_creg},
    {"+CEREG:", urc_creg},
    {"+CUSD:", urc_cusd},
    {"^SMMEMFULL", urc_memfull},
    {"RING", urc_call},
    {"^RSSI", urc_noise},
    {"^HCSQ", urc_noise},
    {"^MODE", urc_noise},
    {"^NWTIME", urc_noise},
    {"^SIMST", urc_noise},
    {"^SRVST", urc_noise},
    {"^DSFLOWRPT", urc_noise},
    {NULL, urc_other},
};

/* ---------------- text helpers for USSD ---------------- */

static int hexval(char c)
{
	return isdigit((unsigned char)c)
		   ? c - '0'
		   : (tolower((unsigned char)c) - 'a' + 10);
}

/* GSM 03.38 default alphabet, the ASCII-like part; others become '?'. */
static char gsm7_char(unsigned c)
{
	if (c == 0x00)
		return '@';
	if (c == 0x02)
		return '$';
	if (c == 0x11)
		return '_';
	if (c == 0x0a || c == 0x0d)
		return (char)c;
	if ((c >= 0x20 && c <= 0x5a && c != 0x24 && c != 0x40) ||
	    (c >= 0x61 && c <= 0x7a))
		return (char)c;
	return '?';
}

static size_t gsm7_unpack(const char *hex, char *out, size_t outlen)
{
	size_t n = strlen(hex) / 2, o = 0;
	unsigned acc = 0, bits = 0;

	for (size_t i = 0; i < n && o + 1 < outlen; i++) {
		acc |=
		    (unsigned)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]))
		    << bits;
		bits += 8;
		while (bits >= 7 && o + 1 < outlen) {
			out[o++] = gsm7_char(acc & 0x7f);
			acc >>= 7;
			bits -= 7;
		}
	}
	/* TS 23.038 6.1.2.3.1: a trailing CR pads the last octet */
	while (o > 0 && (out[o - 1] == '\r' || out[o - 1] == '@'))
		o--;
	out[o] = '\0';
	return o;
}

static size_t ucs2_to_utf8(const char *hex, char *out, size_t outlen)
{
	size_t n = strlen(hex) / 4, o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned u = 0;

		for (int k = 0; k < 4; k++)
			u = u * 16 + (unsigned)hexval(hex[4 * i + (size_t)k]);
		if (u < 0x80 && o + 2 < outlen) {
			out[o++] = (char)u;
		} else if (u < 0x800 && o + 3 < outlen) {
			out[o++] = (char)(0xc0 | (u >> 6));
			out[o++] = (char)(0x80 | (u & 0x3f));
		} else if (o + 4 < outlen) {
			out[o++] = (char)(0xe0 | (u >> 12));
			out[o++] = (char)(0x80 | ((u >> 6) & 0x3f));
			out[o++] = (char)(0x80 | (u & 0x3f));
		}
	}
	out[o] = '\0';
	return o;
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
	for (size_t i = 0; i < sizeof(urcs) / sizeof(urcs[0]); i++)
		if (at_register_urc(m->at, urcs[i].prefix, urcs[i].cb, m) < 0) {
			modem_free(m);
			return NULL;
		}
	at_set_garbage_handler(m->at, garbage_cb, m);
	return m;
}

void modem_free(struct modem *m)
{
	struct send_job *j;

	if (!m)
		return;
	if (m->at)
		close_port(m);
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
	if (m->st == MODEM_READY && m->act == ACT_NONE) {
		if (m->drain_requested || m->nreads || m->sendq)
			return 0;
		d = min64(d, m->health_at);
		d = min64(d, m->rescan_at);
		if (balance_enabled(m))
			d = min64(d, m->balance_at);
	}
	return d;
}

void modem_tick(struct modem *m, uint64_t now_ms)
{
	m->now = now_ms;
	at_set_time(m->at, now_ms);
	if (m->io_error) {
		recover(m, m->io_why);
		return;
	}
	switch (m->st) {
	case MODEM_CLOSED:
		if (now_ms >= m->reopen_at)
			try_open(m);
		break;
	case MODEM_FATAL:
		break;
	default:
		at_tick(m->at, now_ms);
		if (m->fd >= 0 && now_ms >= m->timer_at)
			on_timer(m);
		call_tick(m);
		ready_next(m);
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
				recover(m, m->io_why);
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
		recover(m, m->io_why);
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
