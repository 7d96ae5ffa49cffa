/* modem_int: what the files of the modem module share and nobody else
 * sees; the public contract is modem.h.
 *
 * modem.c          struct modem's life, the port, recovery, the public API
 * modem_startup.c  PROBE, INIT, SIM, REGISTER: the step sequence
 * modem_ready.c    READY: one activity at a time, picked from a table
 * modem_read.c     draining and reading stored SMS, deleting after commit
 * modem_send.c     the send queue and AT+CMGS
 * modem_health.c   signal, registration, operator, clock; USSD balance
 * modem_urc.c      unsolicited lines and garbage
 * vendor_*.c       one file per modem vendor's quirks (struct modem_vendor)
 */
#ifndef SIMPUL_MODEM_INT_H
#define SIMPUL_MODEM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "at.h"
#include "modem.h"
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
	STEP_VENDOR, /* the vendor's init commands, one by one */
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

	const struct modem_vendor *vendor; /* picked by +CGMI at INIT */
	int vendor_step;		   /* index into vendor->init */
	/* the vendor's heartbeat URCs are off (Huawei ^CURC=0): a later
	 * ^BOOT means the stick rebooted */
	bool heartbeat_off;
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
	/* vendor->drain_me: a drain lists ME too, then goes back */
	bool drain_me, drain_restore;
	int scan_idx, scan_total, scan_left;
	enum activity act;
	int act_pending;
	int read_idx;
	bool drain_requested;
	/* The last listing's commit failed: the next commits each message
	 * on its own (modem_read.c listing_end) */
	bool listing_failed;
	struct read_req reads[MAX_READS];
	int nreads;
	struct send_job *sendq, *sending;
	int next_ref;
	uint64_t health_at, balance_at, rescan_at;
	struct modem_health health;
	struct modem_call call; /* an incoming call, modem_call.c */
};

/* One extra start-up command of a vendor, sent after AT+CGMI; done (may
 * be NULL) sees its answer. An error answer does not stop the start-up. */
struct modem_vendor_cmd {
	const char *cmd;
	void (*done)(struct modem *m, const struct at_response *r);
};

/* A vendor's quirks, picked once +CGMI names the manufacturer (the way
 * oFono keeps plugins/huawei.c): the engine asks the table, never the
 * name. */
struct modem_vendor {
	const char *name;
	const char *cgmi;		     /* +CGMI contains it, any case */
	const struct modem_vendor_cmd *init; /* ends with {NULL}; or NULL */
	/* new SMS may land in ME whatever +CPMS says: a drain lists ME
	 * too (doc/modem.md: +CMTI may name another memory) */
	bool drain_me;
	/* how to hang up a ringing call; NULL: ATH (V.250 6.3.6) */
	const char *hangup;
};

extern const struct modem_vendor modem_vendor_huawei;
extern const struct modem_vendor modem_vendor_zte;

/* modem.c */
void modem_log(struct modem *m, enum modem_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void modem_change_state(struct modem *m, enum modem_state st, const char *why);
bool modem_is_registered(int stat);
bool modem_is_auto(const struct modem *m);
void modem_close_port(struct modem *m);
void modem_try_open(struct modem *m);
void modem_recover(struct modem *m, const char *why);
void modem_go_fatal(struct modem *m, const char *why);
void modem_reinit(struct modem *m, const char *why);

/* modem_startup.c */
void modem_step_timer(struct modem *m);
int modem_reg_stat(const struct at_response *r, const char *prefix);

/* modem_ready.c: READY activities. modem_act_cmd queues one command of
 * the running activity; every callback starts with modem_act_check
 * (false: stop, the modem is recovering) and ends with modem_act_done,
 * which picks the next activity once the last answer is in. */
void modem_act_cmd(struct modem *m, const char *cmd, const char *prefix,
		   unsigned timeout, at_cmd_cb cb);
bool modem_act_check(struct modem *m, const struct at_response *r,
		     const char *what);
void modem_act_done(struct modem *m);
void modem_ready_next(struct modem *m);
/* When the next activity is due (0: now, UINT64_MAX: nothing). */
uint64_t modem_ready_due(const struct modem *m);

/* modem_read.c */
int modem_deliver(struct modem *m, int index, const char *hex, int len);
void modem_start_drain(struct modem *m);
void modem_start_read(struct modem *m);

/* modem_send.c */
void modem_start_send(struct modem *m);
/* Ends the job in flight (if any) with res and tells ops->sent. */
void modem_send_finish(struct modem *m, enum modem_send_result res,
		       const char *why);

/* modem_health.c */
void modem_start_health(struct modem *m);
void modem_start_balance(struct modem *m);
void modem_urc_cusd(void *ud, const char *line, const char *pdu);

/* modem_urc.c */
int modem_urc_register(struct modem *m);
/* A call whose rings stopped without an end URC is over (modem_tick). */
void modem_urc_call_tick(struct modem *m);

#endif
