/* simcall: incoming voice calls on the simulated modem, with the URCs the
 * real ones send (doc/modem.md):
 *   sim800: RING and +CLIP: "<number>",<type>,"",0,"",<validity> every
 *           ring; NO CARRIER when the caller gives up.
 *   e3531:  +CRING: VOICE and the same +CLIP; ^CEND:1,<dur>,104,16 when
 *           the caller gives up, and after our AT+CHUP.
 * A withheld number is +CLIP: "",128,"",0,"",1 (TS 27.007 7.6, CLI
 * validity 1). The modem hangs up with ATH or AT+CHUP; which one, and
 * when, is recorded for the `calls` control command. */
#include <stdio.h>
#include <string.h>

#include "sim.h"

#define RING_INTERVAL_MS 1000 /* real networks: 3-5 s; tests want speed */

static struct call *current(struct sim *sim)
{
	for (int i = 0; i < sim->ncalls; i++)
		if (sim->calls[i].active)
			return &sim->calls[i];
	return NULL;
}

int simcall_start(struct sim *sim, const char *number, int rings)
{
	struct call *c;

	if (current(sim) || sim->ncalls >= MAX_CALLS)
		return -1;
	c = &sim->calls[sim->ncalls];
	memset(c, 0, sizeof(*c));
	snprintf(c->number, sizeof(c->number), "%s", number ? number : "");
	c->max_rings = rings > 0 ? rings : 4;
	c->active = true;
	timer_add(sim, 100, T_RING, sim->ncalls, NULL);
	return sim->ncalls++;
}

static void ring(struct sim *sim, struct call *c)
{
	bool intl = c->number[0] == '+';

	port_line(sim, "%s",
		  sim->profile == PROFILE_E3531 ? "+CRING: VOICE" : "RING");
	if (!c->number[0])
		port_line(sim, "+CLIP: \"\",128,\"\",0,\"\",1");
	else
		port_line(sim, "+CLIP: \"%s\",%d,\"\",0,\"\",0", c->number,
			  intl ? 145 : 129);
}

static void end(struct call *c, const char *by)
{
	c->active = false;
	snprintf(c->ended_by, sizeof(c->ended_by), "%s", by);
}

void simcall_timer(struct sim *sim, enum timer_kind kind, int id)
{
	struct call *c = id >= 0 && id < sim->ncalls ? &sim->calls[id] : NULL;

	if (!c)
		return;
	if (kind == T_CALL_END) {
		port_line(sim, "^CEND:1,0,104,16");
		return;
	}
	if (!c->active)
		return;
	if (c->rings >= c->max_rings) { /* the caller gives up */
		end(c, "caller");
		port_line(sim, "%s",
			  sim->profile == PROFILE_E3531 ? "^CEND:1,0,104,16"
							: "NO CARRIER");
		return;
	}
	c->rings++;
	ring(sim, c);
	timer_add(sim, RING_INTERVAL_MS, T_RING, id, NULL);
}

/* ATH or AT+CHUP: the OK is the caller's; the E3531 follows with ^CEND. */
void simcall_hangup(struct sim *sim, const char *cmd)
{
	struct call *c = current(sim);

	if (!c)
		return;
	end(c, cmd);
	if (sim->profile == PROFILE_E3531)
		timer_add(sim, 50, T_CALL_END, (int)(c - sim->calls), NULL);
}

void simcall_list(struct sim *sim, struct strbuf *r)
{
	sb_printf(r, "OK [");
	for (int i = 0; i < sim->ncalls; i++) {
		struct call *c = &sim->calls[i];

		sb_printf(r, "%s{\"number\":", i ? "," : "");
		sb_json_str(r, c->number);
		sb_printf(r,
			  ",\"rings\":%d,\"active\":%s,\"ended_by\":", c->rings,
			  c->active ? "true" : "false");
		sb_json_str(r, c->ended_by);
		sb_printf(r, "}");
	}
	sb_printf(r, "]");
}
