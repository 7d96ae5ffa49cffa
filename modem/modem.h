/* modem: the GSM modem state machine (probe, init, SIM, register, ready,
 * recover) on top of serial + at + pdu. It owns no loop and logs nothing:
 * the caller polls modem_fd(), calls modem_tick() by modem_deadline(), and
 * hears everything through struct modem_ops. */
#ifndef SIMPUL_MODEM_H
#define SIMPUL_MODEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modem_call.h" /* struct modem_ring */

struct modem;

enum modem_state {
	MODEM_CLOSED,	/* port not open; waiting to (re)open with backoff */
	MODEM_PROBE,	/* ESC, drain, AT until it answers */
	MODEM_INIT,	/* ATZ, ATE0, +CMEE, vendor quirks, +CGMI/+CGMM/+CGSN */
	MODEM_SIM,	/* +CPIN? and the PIN, once; then +CMGF, +CPMS, +CNMI,
			 * +CSCA, which need the SIM (TS 27.005 3.2.5 310-316) */
	MODEM_REGISTER, /* +CREG/+CEREG until registered */
	MODEM_READY,	/* drains +CMGL=4, reacts to +CMTI, sends */
	MODEM_FATAL,	/* SIM PUK or wrong PIN: needs a human */
};

enum modem_log_level {
	MODEM_LOG_DEBUG,
	MODEM_LOG_INFO,
	MODEM_LOG_WARN,
	MODEM_LOG_ERR
};

struct modem_config {
	const char *device;	  /* "/dev/ttyUSB2" or "auto" */
	const char *pin;	  /* NULL or "" if the SIM has none */
	const char *storage;	  /* "SM" (default), "ME" or "MT" */
	const char *ussd_balance; /* e.g. "*888#"; NULL disables */
	unsigned balance_interval_s;
	unsigned cmd_timeout_ms;  /* default 10000 */
	unsigned send_timeout_ms; /* +CMGS's answer; default 60000 */
	unsigned baud;		  /* default 115200 */
	unsigned hangup_rings;	  /* hang up a call on this ring (default 2) */
};

/* One SMS-DELIVER read from the modem: a whole message or one part of a
 * concatenated one (TS 23.040 9.2.3.24.1 / .8). */
struct modem_sms {
	int index;	   /* storage index; -1 for +CMT routed SMS */
	char sender[40];   /* "+6281234567890", "081...", or "TELKOMSEL" */
	bool sender_alnum; /* TP-OA type of number alphanumeric */
	char smsc[40];
	int64_t scts;	     /* SMSC timestamp, unix seconds UTC */
	int ref;	     /* concatenation reference, 0 if single */
	bool ref16;	     /* 16-bit reference IE */
	int parts, seq;	     /* 1,1 if single */
	const char *text;    /* UTF-8; NULL when not decodable */
	bool binary;	     /* 8-bit data / WAP push: not a resident's text */
	const char *pdu_hex; /* the raw PDU line as read */
	const char *error;   /* non-NULL: decode failed, why */
	bool outgoing;	     /* an SMS-SUBMIT kept on the SIM (ours, or a
				second-hand SIM's): not from anyone */
};

struct modem_report { /* SMS-STATUS-REPORT, TS 23.040 9.2.2.3 */
	int index;
	int mr; /* matches the TP-MR of our SMS-SUBMIT */
	char recipient[40];
	int status; /* TP-ST: 0..31 done, 32..63 pending, 64+ fail */
	int64_t done_at;
};

struct modem_health {
	int rssi_dbm;  /* 0 when unknown */
	int creg_stat; /* +CREG stat, -1 unknown */
	char operator_name[40];
	int64_t network_time;	/* from +CCLK/network, 0 unknown */
	char balance_text[200]; /* last USSD balance answer */
	long balance;		/* parsed rupiah, -1 unknown */
	char model[64];
	char manufacturer[64];
	char imei[32];
};

enum modem_send_result {
	MODEM_SEND_OK,
	MODEM_SEND_RETRY,  /* transient (no network, CMS 330-332, timeout) */
	MODEM_SEND_FAILED, /* permanent (CMS 304, bad number) */
};

struct modem_ops {
	/* Called once per message read. Return 0 when the message is
	 * committed to durable storage: only then is it deleted from the
	 * modem (AT+CMGD). Non-zero leaves it on the SIM to be read again. */
	int (*sms)(void *ud, const struct modem_sms *sms);
	/* Status report; same return contract as sms. */
	int (*report)(void *ud, const struct modem_report *rep);
	/* Optional: a listing of the storage (+CMGL) begins (begin: true)
	 * or ends. A begin that returns 0 opens one commit for the whole
	 * listing: sms() and report() return 0 for a message that is in it
	 * but not yet durable, and the end's 0 says all of them are (one
	 * disk sync per listing instead of one per message). Only then are
	 * they deleted. If the end fails, none is, and the storage is
	 * listed again at once without a begin. A begin that returns
	 * non-zero declines: each message commits on its own, and no end is
	 * called. */
	int (*listing)(void *ud, bool begin);
	/* The outcome of modem_send(). mrs are the TP-MR of every part
	 * sent in this attempt. */
	void (*sent)(void *ud, uint64_t send_id, enum modem_send_result res,
		     const int *mrs, int nmrs, const char *reason);
	/* Optional: part (0-based) of nparts was taken by the network
	 * (+CMGS: mr). Recording it lets a restart or a retry go on from
	 * the next part instead of repeating this one. */
	void (*part_sent)(void *ud, uint64_t send_id, int part, int nparts,
			  int mr);
	void (*state)(void *ud, enum modem_state st, const char *why);
	void (*health)(void *ud, const struct modem_health *h);
	/* Optional: an incoming call rang, or is over (r->kind). */
	void (*ring)(void *ud, const struct modem_ring *r);
	void (*log)(void *ud, enum modem_log_level lvl, const char *msg);
};

struct modem *modem_new(const struct modem_config *cfg,
			const struct modem_ops *ops, void *ud);
void modem_free(struct modem *m);

/* The fd to poll for POLLIN (-1 while closed), and the absolute monotonic
 * deadline (ms) by which modem_tick() must be called (UINT64_MAX: none). */
int modem_fd(const struct modem *m);
uint64_t modem_deadline(const struct modem *m);
void modem_readable(struct modem *m, uint64_t now_ms);
void modem_tick(struct modem *m, uint64_t now_ms);

/* Queues an SMS; segments are sent back to back. The outcome comes
 * through ops->sent (at once, with MODEM_SEND_RETRY, while FATAL). Sending
 * starts from modem_tick(): modem_deadline() turns due. Returns 0, or -1
 * if the text cannot be encoded. */
int modem_send(struct modem *m, uint64_t send_id, const char *to,
	       const char *text_utf8);
/* modem_send() for a message of which parts 0..first_part-1 already went
 * out: sends the rest under the same concatenation reference ref (0..255),
 * so the phone joins them with the earlier parts (TS 23.040 9.2.3.24.1).
 * If no part is left, ops->sent reports MODEM_SEND_OK at once. */
int modem_send_resume(struct modem *m, uint64_t send_id, const char *to,
		      const char *text_utf8, int ref, int first_part);
bool modem_can_send(const struct modem *m);
/* Asks the modem to read storage again (e.g. after a failed commit). */
void modem_rescan(struct modem *m);
enum modem_state modem_state(const struct modem *m);
const char *modem_state_name(enum modem_state st);
const struct modem_health *modem_get_health(const struct modem *m);
/* Why the modem is FATAL (or last recovered), "" if nothing. */
const char *modem_last_reason(const struct modem *m);

/* For tests and the simulator: replaces serial_open/serial_close, e.g. to
 * hand the modem one end of a socketpair. open returns an fd (non-blocking)
 * or -1 with err filled. Call before the first modem_tick(). */
struct modem_port_ops {
	int (*open)(void *ud, const char *device, char *err, size_t errlen);
	void (*close)(void *ud, int fd);
};
void modem_set_port_ops(struct modem *m, const struct modem_port_ops *po,
			void *ud);

/* What the modem hands ops->sms for one PDU it read: pm is the decoded
 * PDU, or NULL when pdu_decode failed with err. A PDU that is not an
 * SMS-DELIVER (our own sent messages left on a second-hand SIM) comes out
 * with an error, not as a resident's text. The strings point into hex,
 * pm and err. Used by the modem itself and by the fuzzers. */
struct pdu_message;
void modem_sms_from_pdu(struct modem_sms *out, int index, const char *hex,
			const struct pdu_message *pm, const char *err);

#endif
