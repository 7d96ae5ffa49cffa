/* pdu: SMS PDU decode/encode with libgammu as a pure codec (no state
 * machine, no I/O). Call from the loop thread only: libgammu keeps static
 * buffers (doc/modem.md). */
#ifndef SIMPUL_PDU_H
#define SIMPUL_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pdu_kind { PDU_DELIVER, PDU_SUBMIT, PDU_STATUS_REPORT, PDU_UNKNOWN };

struct pdu_message {
	enum pdu_kind kind;
	char number[40];   /* sender (DELIVER) / recipient (SUBMIT, REPORT) */
	bool number_alnum; /* type of number 101 (TS 23.040 9.1.2.5) */
	char smsc[40];
	int64_t scts;	     /* unix seconds UTC; 0 unknown */
	int ref, parts, seq; /* concatenation; 0,1,1 when single */
	bool ref16;
	bool binary;	 /* 8-bit data, WAP push, ... */
	char *text;	 /* UTF-8, malloc'd; NULL for binary */
	int mr;		 /* TP-MR (SUBMIT, STATUS-REPORT) */
	int status;	 /* TP-ST (STATUS-REPORT) */
	int64_t done_at; /* TP-DT (STATUS-REPORT) */
};

/* Decodes one hex PDU line as read after +CMGR/+CMGL/+CMT/+CDS
 * (with_smsc true: the line begins with the SMSC address, TS 27.005 3.1).
 * tpdu_len is the <length> the modem announced (TPDU octets without the
 * SMSC), or -1 if unknown; trailing padding past it is ignored.
 * Returns 0, or -1 with err filled (e.g. "corrupted PDU: ..."). */
int pdu_decode(const char *hex, bool with_smsc, int tpdu_len,
	       struct pdu_message *out, char *err, size_t errlen);
void pdu_message_clear(struct pdu_message *m);

/* One SMS-SUBMIT segment ready for AT+CMGS=<tpdu_len> (PDU mode). */
struct pdu_segment {
	char hex[400]; /* SMSC octet(s) + TPDU, hex */
	int tpdu_len;  /* octets without the SMSC part */
};

/* Encodes text (UTF-8) to 1..n SMS-SUBMIT segments: GSM-7 with the
 * extension table when possible, UCS-2 otherwise; concatenated with an
 * 8-bit reference ref when longer than one segment; status report
 * requested. smsc NULL or "" encodes "00" (use the modem's default).
 * Returns the number of segments (<= max), or -1 with err filled. */
int pdu_encode_submit(const char *to, const char *text, const char *smsc,
		      int ref, bool status_report, struct pdu_segment *segs,
		      int max, char *err, size_t errlen);

/* Encodes an SMS-DELIVER (for the simulator and tests). */
int pdu_encode_deliver(const char *from, const char *text, const char *smsc,
		       int64_t scts, int ref, struct pdu_segment *segs, int max,
		       char *err, size_t errlen);

#endif
