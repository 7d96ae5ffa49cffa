/* The events feature: a capture timer in the loop, and the publisher. */
#include "events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "counters.h"
#include "log.h"
#include "loop.h"
#include "modem.h"
#include "sms.h"
#include "store_events.h"
#include "evpub.h"

#define EVENTS_BATCH 500

struct events {
	struct app *app;
	struct sms *sms;
	struct evpub *pub;
	uint64_t timer;
	char modem_state[32];
	long balance;
	int64_t last_prune_ms;
};

/* Modem state and credit go into the log when they change. */
static void capture_modem(struct events *ev, int64_t now)
{
	struct store_event e = {.at_ms = now};
	struct sms_status s;

	if (!ev->sms)
		return;
	sms_status(ev->sms, &s);
	if (s.state && strcmp(s.state, ev->modem_state) != 0) {
		snprintf(ev->modem_state, sizeof ev->modem_state, "%s",
			 s.state);
		e.kind = STORE_EV_MODEM;
		snprintf(e.category, sizeof e.category, "%s", s.state);
		store_events_append(ev->app->st, &e, false);
	}
	if (s.health && s.health->balance >= 0 &&
	    s.health->balance != ev->balance) {
		ev->balance = s.health->balance;
		e.kind = STORE_EV_CREDIT;
		e.category[0] = '\0';
		e.value = s.health->balance;
		store_events_append(ev->app->st, &e, false);
	}
}

static void tick(struct loop *l, void *arg)
{
	struct events *ev = arg;
	const struct config *c = ev->app->cfg;
	int64_t now = app_now_ms(ev->app);
	int n;

	capture_modem(ev, now);
	/* A burst (an SMS drain) is captured over several ticks. */
	n = store_events_capture(ev->app->st, now, c->events_personal,
				 EVENTS_BATCH);
	if (n < 0)
		log_msg(LOG_WARN, "events: capture failed, will retry");
	for (int i = 0; i < n; i++)
		counters_add("events_logged"); /* on /metrics */
	if (now - ev->last_prune_ms > 3600000) {
		ev->last_prune_ms = now;
		store_events_prune(
		    ev->app->st, now - (int64_t)c->events_keep_days * 86400000);
	}
	evpub_kick(ev->pub);
	ev->timer = loop_timer_add(
	    l, n >= EVENTS_BATCH ? 0 : (uint64_t)c->events_interval_ms, tick,
	    ev);
}

struct events *events_new(struct app *app, struct sms *sms, const char **err)
{
	const struct config *c = app->cfg;
	struct evpub_config pc = {
	    .host = c->events_broker,
	    .port = c->events_port,
	    .office = c->events_office,
	    .username = c->events_username,
	    .password = c->events_password,
	    .cafile = c->events_cafile,
	    .certfile = c->events_certfile,
	    .keyfile = c->events_keyfile,
	};
	struct events *ev;

	*err = NULL;
	if (!c->events_enabled)
		return NULL;
	if (!evpub_office_ok(c->events_office)) {
		*err = "[events] office must be 1-64 of a-z 0-9 . _ -";
		return NULL;
	}
	ev = calloc(1, sizeof *ev);
	if (!ev) {
		*err = "out of memory";
		return NULL;
	}
	ev->app = app;
	ev->sms = sms;
	ev->balance = -1;
	ev->pub = evpub_new(app->loop, app->st, &pc);
	if (!ev->pub) {
		*err = "[events] cannot start the MQTT publisher";
		free(ev);
		return NULL;
	}
	ev->timer = loop_timer_add(app->loop, 0, tick, ev);
	log_msg(LOG_INFO, "events: office %s to %s:%d%s", c->events_office,
		c->events_broker, c->events_port,
		c->events_personal ? " (with personal data)" : "");
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	loop_timer_cancel(ev->app->loop, ev->timer);
	evpub_free(ev->pub);
	free(ev);
}
