/* modem_call: an incoming voice call, followed from its URCs (RING,
 * +CRING, +CLIP, ^CEND, NO CARRIER) so the modem can hang it up after
 * a number of rings and report one missed call when it is over. Pure: fed
 * lines and times, it says what to do; modem.c sends the hang-up and calls
 * ops->ring. simpul never answers a call (doc/modem.md). */
#ifndef SIMPUL_MODEM_CALL_H
#define SIMPUL_MODEM_CALL_H

#include <stdbool.h>
#include <stdint.h>

/* An incoming voice call (modem_call.c). simpul never answers one: it
 * hangs up after cfg.hangup_rings rings and reports the missed call. */
enum modem_ring_kind {
	MODEM_RING_RINGING, /* a ring, or the caller id arrived */
	MODEM_RING_MISSED,  /* the call is over: once per call */
};

struct modem_ring {
	enum modem_ring_kind kind;
	const char *number; /* as +CLIP gave it: "+62812...", "0812..."; ""
			       when withheld or unknown */
	int ton;	    /* type of number: 145 international, 129
			       national or unknown, -1 not given */
	bool hidden;	    /* withheld by the caller or not available */
	int rings;
	bool hung_up; /* we hung up; false: the caller gave up */
};

struct modem_call {
	bool active;	  /* a call is ringing (or being hung up) */
	bool clip_seen;	  /* +CLIP arrived for it */
	bool hidden;	  /* withheld or not available (CLI validity) */
	bool hangup_sent; /* ATH / AT+CHUP is queued */
	int rings;
	int ton; /* TS 24.008 10.5.4.7 type of number: 145 international,
		    129 national/unknown; -1 none given */
	char number[40];
	uint64_t last_at; /* monotonic ms of the last ring */
};

enum modem_call_action {
	MODEM_CALL_NOTHING = 0,
	MODEM_CALL_RINGING = 1, /* report a ring (ev filled) */
	MODEM_CALL_HANG_UP = 2, /* send ATH / AT+CHUP now */
	MODEM_CALL_ENDED = 4,	/* report the missed call (ev filled) */
};

/* True for the lines this module follows. */
bool modem_call_is_urc(const char *line);
/* One URC line; returns a mask of enum modem_call_action. hangup_after is
 * the ring on which to hang up (at least 1). */
int modem_call_urc(struct modem_call *c, const char *line, uint64_t now_ms,
		   int hangup_after, struct modem_ring *ev);
/* The hang-up command finished: the call is over. */
int modem_call_hung_up(struct modem_call *c, struct modem_ring *ev);
/* A call whose rings stop without any end URC is over after a quiet time
 * (some modems send nothing when the caller gives up). */
uint64_t modem_call_deadline(const struct modem_call *c);
int modem_call_tick(struct modem_call *c, uint64_t now_ms,
		    struct modem_ring *ev);
/* The port closed: forget the call without reporting it. */
void modem_call_reset(struct modem_call *c);

#endif
