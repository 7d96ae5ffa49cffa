/* simpul-modemsim internals: one state, struct sim, which main() owns and
 * hands to every function that needs it; three parts — the port and loop
 * (sim.c), the AT command set (simat.c, with its SMS side in simsms.c),
 * the control socket (simctl.c). */
#ifndef SIMPUL_SIM_H
#define SIMPUL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MAX_SLOTS   255
#define MAX_TIMERS  64
#define MAX_CLIENTS 8
#define MAX_SENT    256
#define MAX_PENDING 256
#define MAX_CALLS   64

enum profile { PROFILE_SIM800, PROFILE_E3531 };

enum timer_kind {
	T_REPLUG,
	T_BOOT,	 /* arg: boot step */
	T_NOISE, /* Huawei ^RSSI/^BOOT/^MODE flood */
	T_CMGS,	 /* arg: mr; answer a finished send */
	T_CUSD,	 /* data: the USSD answer */
	T_HANG_END,
	T_NOREG_END,
	T_REPORT,   /* arg: mr, data: recipient; status report arrives */
	T_PENDING,  /* deliver messages waiting at the SMSC */
	T_RING,	    /* arg: call id; the next ring of an incoming call */
	T_CALL_END, /* arg: call id; ^CEND after our AT+CHUP (E3531) */
};

struct sim_timer {
	bool active;
	int64_t at;
	enum timer_kind kind;
	int arg;
	char data[200];
};

struct slot {
	bool used;
	int stat; /* TS 27.005 3.1 <stat>: 0 unread 1 read 2 unsent 3 sent */
	char pdu[400];
	int len; /* TPDU octets */
};

struct mem {
	const char *name;
	struct slot slots[MAX_SLOTS];
};

struct sent {
	char to[40];
	int ref, parts, got;
	int repeats; /* parts received more than once */
	int mr;
	char *texts[16];
	char *pdus[16];
};

struct ctl_client {
	int fd;
	char buf[8192];
	size_t len;
};

struct strbuf {
	char *s;
	size_t n, cap;
};

struct sim {
	/* options */
	enum profile profile;
	const char *control, *link;
	int capacity;
	char pin[16];
	char smsc[40], own[40];
	bool default_echo;

	/* port */
	int master, slave, spare_master, spare_slave;
	char path[256], spare_path[256];
	char out[262144];
	size_t out_len;
	char in[4096];
	size_t in_len;
	bool in_prompt;
	int prompt_len;
	int64_t hang_until;

	/* modem state (reset by ATZ / reboot where a real one resets) */
	bool echo;
	int cmee, cmgf, creg_n, cgreg_n, cereg_n, csdh;
	int cnmi[5];
	bool curc;
	bool sms_ready;
	bool pin_required;
	int pin_tries;
	bool puk;
	bool registered;
	char cscs[8];
	int mem_sel[3]; /* index into mems for mem1, mem2, mem3 */
	struct mem mems[2];
	int cap_limit; /* fault full lowers it */
	int mr;
	int cms_fault_code, cms_fault_count, cms_fault_after;
	int cmgs_delay_ms; /* PDU in -> +CMGS answer (real modems: 1-5 s) */
	char credit[64];
	int noise_step;

	/* network side */
	struct pending {
		char pdu[400];
		int len;
	} pending[MAX_PENDING];
	int npending;
	struct sent sent[MAX_SENT];
	int nsent;
	int next_ref[1]; /* per simulator; senders rarely collide */

	struct {
		uint64_t bytes_in, commands, errors, deletes, sends, received,
		    dropped, reads, lists;
	} stats;
	struct {
		char name[24];
		int count;
	} seen[64];
	int nseen;

	/* incoming voice calls (simcall.c) */
	struct call {
		char number[40]; /* "" when withheld */
		int rings, max_rings;
		bool active;
		char ended_by[12]; /* "ATH", "AT+CHUP", "caller" */
	} calls[MAX_CALLS];
	int ncalls;

	struct sim_timer timers[MAX_TIMERS];
	int ctl_listen;
	struct ctl_client clients[MAX_CLIENTS];
};

/* sim.c */
int64_t now_ms(void);
time_t wall_now(void);
void timer_add(struct sim *sim, int64_t delay_ms, enum timer_kind kind, int arg,
	       const char *data);
void timer_cancel(struct sim *sim, enum timer_kind kind);
void port_write(struct sim *sim, const char *buf, size_t n);
void port_printf(struct sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void port_line(struct sim *sim, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void port_unplug(struct sim *sim, int secs);

#define CTRL_Z 0x1A
#define ESC    0x1B

/* One extended command as sent: AT+CMGL=4 is {"+CMGL", SET, "4"}. */
struct cmd {
	char name[24]; /* "+CMGL", "^CURC" upper case */
	enum { EXEC, SET, READ, TEST } type;
	char args[512];
};

/* simat.c */
bool sim_huawei(struct sim *sim);
/* A Huawei heartbeat line between listed messages while ^CURC is on. */
void sim_inline_noise(struct sim *sim);
void sim_ok(struct sim *sim);
void sim_error(struct sim *sim);
void sim_cms(struct sim *sim, int code);
/* For commands that act only when set: the test form answers OK, the
 * others ERROR. Returns whether c is the set form. */
bool sim_set_only(struct sim *sim, const struct cmd *c);
/* The n-th comma separated argument, as a number or without quotes. */
int sim_arg_int(const char *args, int n, int dflt);
bool sim_arg_str(const char *args, int n, char *out, size_t outlen);
void modem_defaults(struct sim *sim);
void modem_boot(struct sim *sim);
void modem_input(struct sim *sim, const char *buf, size_t n);
void modem_timer(struct sim *sim, enum timer_kind kind, int arg,
		 const char *data);

/* simsms.c */
int modem_deliver(struct sim *sim, const char *pdu_hex, int tpdu_len);
int modem_index_base(struct sim *sim);
void sms_cpms(struct sim *sim, const struct cmd *c);
void sms_cmgl(struct sim *sim, const struct cmd *c);
void sms_cmgr(struct sim *sim, const struct cmd *c);
void sms_cmgd(struct sim *sim, const struct cmd *c);
void sms_cmgs(struct sim *sim, const struct cmd *c);
void sms_cnmi(struct sim *sim, const struct cmd *c);
/* One character typed at the "> " prompt of AT+CMGS. */
void sms_prompt_input(struct sim *sim, char c);
/* The status report for message reference mr to "to" (T_REPORT). */
void sms_status_report(struct sim *sim, int mr, const char *to);
/* Delivers messages waiting at the SMSC (T_PENDING). */
void sms_deliver_pending(struct sim *sim);

/* simcall.c */
int simcall_start(struct sim *sim, const char *number, int rings);
void simcall_hangup(struct sim *sim, const char *cmd);
void simcall_timer(struct sim *sim, enum timer_kind kind, int id);
void simcall_list(struct sim *sim, struct strbuf *r);

/* simctl.c */
void control_command(struct sim *sim, char *line, struct strbuf *reply);
void sb_add(struct strbuf *b, const char *s, size_t n);
void sb_printf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_json_str(struct strbuf *b, const char *s);

#endif
