/* modem_call: one incoming voice call, from its first ring to its end.
 *
 * What the modems send (doc/modem.md, TS 27.007 6.11 and 7.6):
 *   SIM800:  RING, then +CLIP: "+62812...",145,"",0,"",0 after each RING
 *            (once AT+CLIP=1); NO CARRIER when the caller gives up.
 *   E3531:   +CRING: VOICE (the +CRC=1 form Huawei uses by default), the
 *            same +CLIP, and ^CEND:<id>,<duration>,<end>,<cause> at the
 *            end, also after our AT+CHUP.
 * The sixth +CLIP field, CLI validity, is 1 when the caller withheld the
 * number and 2 when the network could not give it; the number is then
 * empty. We hang up on the configured ring once the caller id is known;
 * without a +CLIP (CLIP not supported) one ring later. */
#include "modem_call.h"

#include <stdio.h>
#include <string.h>

#include "at.h"

#define CALL_QUIET_MS 12000 /* rings come every 3-6 s */

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

bool modem_call_is_urc(const char *line)
{
	return strcmp(line, "RING") == 0 || starts(line, "+CRING:") ||
	       starts(line, "+CLIP:") || starts(line, "^CEND") ||
	       strcmp(line, "NO CARRIER") == 0;
}

static void fill(const struct modem_call *c, enum modem_ring_kind kind,
		 bool hung_up, struct modem_ring *ev)
{
	*ev = (struct modem_ring){
	    .kind = kind,
	    .number = c->hidden ? "" : c->number,
	    .ton = c->ton,
	    .hidden = c->hidden || !c->number[0],
	    .rings = c->rings,
	    .hung_up = hung_up,
	};
}

static int end_call(struct modem_call *c, bool hung_up, struct modem_ring *ev)
{
	if (!c->active)
		return MODEM_CALL_NOTHING;
	fill(c, MODEM_RING_MISSED, hung_up, ev);
	/* ev points into c: keep the number until the next call starts */
	c->active = false;
	return MODEM_CALL_ENDED;
}

static void parse_clip(struct modem_call *c, const char *line)
{
	struct at_iter it;
	int ton = -1, validity = 0;

	c->number[0] = '\0';
	at_iter_begin(&it, line, "+CLIP:");
	at_iter_next_string(&it, c->number, sizeof(c->number));
	if (!at_iter_next_number(&it, &ton))
		ton = -1;
	/* subaddr, satype, alpha, then CLI validity (TS 27.007 7.6) */
	if (at_iter_skip(&it) && at_iter_skip(&it) && at_iter_skip(&it) &&
	    !at_iter_next_number(&it, &validity))
		validity = 0;
	c->ton = ton;
	c->hidden = validity == 1 || validity == 2 || !c->number[0];
	c->clip_seen = true;
}

static void start(struct modem_call *c)
{
	memset(c, 0, sizeof(*c));
	c->active = true;
	c->ton = -1;
}

static int due_hangup(struct modem_call *c, int after)
{
	if (c->hangup_sent)
		return MODEM_CALL_NOTHING;
	if ((c->clip_seen && c->rings >= after) || c->rings > after) {
		c->hangup_sent = true;
		return MODEM_CALL_HANG_UP;
	}
	return MODEM_CALL_NOTHING;
}

int modem_call_urc(struct modem_call *c, const char *line, uint64_t now_ms,
		   int hangup_after, struct modem_ring *ev)
{
	int act = MODEM_CALL_NOTHING;

	if (hangup_after < 1)
		hangup_after = 1;
	if (strcmp(line, "NO CARRIER") == 0 || starts(line, "^CEND"))
		return end_call(c, c->hangup_sent, ev);
	if (strcmp(line, "RING") == 0 || starts(line, "+CRING:")) {
		if (!c->active)
			start(c);
		c->rings++;
		c->last_at = now_ms;
		fill(c, MODEM_RING_RINGING, false, ev);
		act = MODEM_CALL_RINGING;
	} else if (starts(line, "+CLIP:")) {
		bool first = !c->clip_seen;

		if (!c->active) { /* a +CLIP before its RING: count it */
			start(c);
			c->rings = 1;
		}
		c->last_at = now_ms;
		parse_clip(c, line);
		if (first) {
			fill(c, MODEM_RING_RINGING, false, ev);
			act = MODEM_CALL_RINGING;
		}
	} else {
		return MODEM_CALL_NOTHING;
	}
	return act | due_hangup(c, hangup_after);
}

int modem_call_hung_up(struct modem_call *c, struct modem_ring *ev)
{
	if (!c->hangup_sent)
		return MODEM_CALL_NOTHING;
	return end_call(c, true, ev);
}

uint64_t modem_call_deadline(const struct modem_call *c)
{
	return c->active ? c->last_at + CALL_QUIET_MS : UINT64_MAX;
}

int modem_call_tick(struct modem_call *c, uint64_t now_ms,
		    struct modem_ring *ev)
{
	if (!c->active || now_ms < c->last_at + CALL_QUIET_MS)
		return MODEM_CALL_NOTHING;
	return end_call(c, c->hangup_sent, ev);
}

void modem_call_reset(struct modem_call *c)
{
	memset(c, 0, sizeof(*c));
	c->ton = -1;
}
