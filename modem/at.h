/* at: AT command chat in the style of oFono's gatchat, without I/O.
 *
 * Three layers:
 *  - at_syntax: a push parser of modem bytes (any chunk size) into events:
 *    lines, the "> " prompt (TS 27.005 3.5.1, usually with no line ending),
 *    PDU lines following +CMT:/+CMGR:/+CMGL:/+CDS:, garbage and overflow.
 *    Echoed command lines (ATE1) and echoed PDUs (ending in Ctrl-Z) are
 *    recognised and dropped.
 *  - at: a command queue on top of the parser. One command in flight; its
 *    final result (V.250 / TS 27.007 9.2 / TS 27.005 3.2.5) and collected
 *    intermediate lines go to a callback. Unsolicited lines go to handlers
 *    registered by prefix, also between the lines of a response, and never
 *    move a command's deadline. Time comes in as now_ms; bytes go out
 *    through a write callback.
 *  - at_iter: a field iterator for "+CMGL: 3,0,,24" style lines.
 */
#ifndef SIMPUL_AT_H
#define SIMPUL_AT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- syntax layer ---- */

#define AT_LINE_MAX 2048

enum at_event {
	AT_EV_LINE,	/* a complete non-empty line, no CR/LF */
	AT_EV_PROMPT,	/* "> ": the modem waits for the PDU */
	AT_EV_PDU,	/* hex line after a +CMT/+CMGR/+CMGL/+CDS header */
	AT_EV_GARBAGE,	/* a line with control or NUL bytes: dropped */
	AT_EV_OVERFLOW, /* a line longer than AT_LINE_MAX: dropped */
};

typedef void (*at_syntax_cb)(void *ud, enum at_event ev, const char *line,
			     size_t len);

struct at_syntax;

struct at_syntax *at_syntax_new(at_syntax_cb cb, void *ud);
void at_syntax_free(struct at_syntax *s);
void at_syntax_feed(struct at_syntax *s, const void *buf, size_t len);
/* Forgets a partial line and any expected PDU line. */
void at_syntax_reset(struct at_syntax *s);

/* ---- command queue ---- */

enum at_result {
	AT_OK,
	AT_ERROR,     /* plain ERROR */
	AT_CMS_ERROR, /* +CMS ERROR: <n> (code in at_response.code) */
	AT_CME_ERROR, /* +CME ERROR: <n> */
	AT_NO_CARRIER,
	AT_NO_ANSWER,
	AT_NO_DIALTONE,
	AT_BUSY,
	AT_CONNECT,
	AT_NOT_SUPPORTED, /* "COMMAND NOT SUPPORT" (ZTE, some Qualcomm) */
	AT_TIMEOUT,	  /* no final result by the deadline */
	AT_CANCELLED,	  /* at_reset() or at_free() dropped the command */
};

struct at_response {
	enum at_result result;
	int code;	   /* +CMS/+CME code; -1 if not numeric */
	const char *final; /* the final result line ("" for timeout) */
	size_t nlines;
	const char *const *lines; /* intermediate lines, in order */
	const char *const *pdus;  /* pdus[i]: PDU line after lines[i] or NULL */
};

typedef void (*at_cmd_cb)(void *ud, const struct at_response *r);
typedef void (*at_urc_cb)(void *ud, const char *line, const char *pdu);
/* Returns 0, or -1 if the bytes could not be written. */
typedef int (*at_write_fn)(void *ud, const void *buf, size_t len);

struct at;

struct at *at_new(at_write_fn write, void *write_ud);
/* Cancels every queued command (callbacks run with AT_CANCELLED). */
void at_free(struct at *a);

/* The clock used for the deadlines of commands written from now on. */
void at_set_time(struct at *a, uint64_t now_ms);
void at_feed(struct at *a, const void *buf, size_t len, uint64_t now_ms);
/* Completes the command in flight with AT_TIMEOUT when its deadline passed. */
void at_tick(struct at *a, uint64_t now_ms);
/* Deadline of the command in flight, UINT64_MAX if none. */
uint64_t at_deadline(const struct at *a);

/* Queues cmd (without CR). prefixes: the response lines to collect, one or
 * more separated by '|' ("+CREG:|+CEREG:"); NULL collects every line that
 * is not a registered URC (for +CGMI and friends). timeout_ms counts from
 * the moment the command is written. Returns a command id > 0, or 0 on
 * allocation failure. */
unsigned at_send(struct at *a, const char *cmd, const char *prefixes,
		 unsigned timeout_ms, at_cmd_cb cb, void *ud);
/* Like at_send; after the "> " prompt writes pdu_hex and Ctrl-Z
 * (TS 27.005 3.5.1 AT+CMGS in PDU mode). */
unsigned at_send_pdu(struct at *a, const char *cmd, const char *prefixes,
		     const char *pdu_hex, unsigned timeout_ms, at_cmd_cb cb,
		     void *ud);
/* Writes raw bytes now, outside the queue (ESC to abort a prompt). */
int at_write_raw(struct at *a, const void *buf, size_t len);
/* Cancels every command (callbacks run with AT_CANCELLED) and forgets any
 * partial input. Safe to call from inside a callback. */
void at_reset(struct at *a);
size_t at_pending(const struct at *a);

/* Handlers for unsolicited lines by prefix ("+CMTI:", "RING"). Lines
 * matching no handler and no command go to the fallback handler (NULL
 * prefix). Returns 0 or -1. */
int at_register_urc(struct at *a, const char *prefix, at_urc_cb cb, void *ud);
/* Syntax events that are not lines: garbage, overflow (for recovery). */
typedef void (*at_garbage_cb)(void *ud, enum at_event ev);
void at_set_garbage_handler(struct at *a, at_garbage_cb cb, void *ud);

const char *at_result_name(enum at_result r);
/* Splits a final result line; returns false if line is not final. */
bool at_parse_final(const char *line, enum at_result *res, int *code);

/* ---- result iterator ---- */

struct at_iter {
	const char *p; /* next field */
	bool end;      /* no more fields */
};

/* Starts after prefix (and spaces); false if line does not start with it.
 * prefix NULL or "" starts at the beginning. */
bool at_iter_begin(struct at_iter *it, const char *line, const char *prefix);
/* Each call consumes one comma-separated field, even when it returns
 * false (empty or malformed field, or no field left). */
bool at_iter_next_number(struct at_iter *it, int *out);
/* A hexadecimal field, quoted or bare ("1A2B" or 1A2B), e.g. +CREG LAC. */
bool at_iter_next_hex(struct at_iter *it, long *out);
/* A quoted or unquoted string; false if the field is missing, or empty and
 * unquoted ("" is an empty string, true).
 * Truncates to len-1 bytes. */
bool at_iter_next_string(struct at_iter *it, char *buf, size_t len);
bool at_iter_skip(struct at_iter *it);
bool at_iter_at_end(const struct at_iter *it);

#endif
