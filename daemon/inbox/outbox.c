#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#include "loop.h"
#include "store.h"
#include "walsync.h"

#define MAX_DRIVERS    4
#define MAX_BACKOFF_MS (60 * 60 * 1000)

struct chan {
	struct outbox_driver drv;
	struct outbox *ob;
	int64_t inflight; /* message id, 0 if none */
	uint64_t next_ok; /* monotonic ms: pacing */
	/* Claimed 'sending', waiting for the WAL sync before it goes. */
	char to[80];
	char *body;
	/* Claimed in a caller's durable commit (outbox_claim), if its id. */
	struct store_out claimed;
};

struct outbox {
	struct loop *loop;
	struct store *st;
	struct chan chans[MAX_DRIVERS];
	int nchans;
	int retry_max, retry_base_ms;
	uint64_t timer;
	bool kicking;
	bool stopped; /* shutting down: record outcomes, start nothing */
	outbox_hold_fn hold;
	void *hold_ud;
	struct walsync *ws; /* NULL: every state change synced by COMMIT */
};

struct outbox *outbox_new(struct loop *l, struct store *st, int retry_max,
			  int retry_base_ms)
{
	struct outbox *ob = calloc(1, sizeof(*ob));

	if (!ob)
		return NULL;
	ob->loop = l;
	ob->st = st;
	ob->retry_max = retry_max;
	ob->retry_base_ms = retry_base_ms;
	return ob;
}

void outbox_free(struct outbox *ob)
{
	if (!ob)
		return;
	outbox_unclaim(ob);
	if (ob->timer)
		loop_timer_cancel(ob->loop, ob->timer);
	free(ob);
}

void outbox_add_driver(struct outbox *ob, const struct outbox_driver *drv)
{
	if (ob->nchans < MAX_DRIVERS)
		ob->chans[ob->nchans++] = (struct chan){.drv = *drv, .ob = ob};
}

void outbox_use_walsync(struct outbox *ob, struct walsync *ws)
{
	ob->ws = ws;
}

static struct chan *chan_by_name(struct outbox *ob, const char *name)
{
	for (int i = 0; i < ob->nchans; i++)
		if (strcmp(ob->chans[i].drv.channel, name) == 0)
			return &ob->chans[i];
	return NULL;
}

bool outbox_has_channel(struct outbox *ob, const char *channel)
{
	return chan_by_name(ob, channel) != NULL;
}

void outbox_set_pacing(struct outbox *ob, const char *channel, int ms)
{
	struct chan *c = chan_by_name(ob, channel);

	if (c)
		c->drv.interval_ms = ms;
}

static struct chan *chan_of(struct outbox *ob, int64_t id)
{
	for (int i = 0; i < ob->nchans; i++)
		if (ob->chans[i].inflight == id)
			return &ob->chans[i];
	return NULL;
}

static void on_timer(struct loop *l, void *arg)
{
	struct outbox *ob = arg;

	ob->timer = 0;
	outbox_kick(ob);
}

/* When should we look again: the earliest of each idle channel's next
 * due message and its pacing. */
static void schedule(struct outbox *ob)
{
	uint64_t now = loop_now_ms(), best = UINT64_MAX;
	int64_t wall = clock_wall_ms();

	for (int i = 0; i < ob->nchans; i++) {
		struct chan *c = &ob->chans[i];
		if (c->inflight)
			continue;
		int64_t due = store_outbox_next_due(ob->st, c->drv.channel);
		if (due == INT64_MAX)
			continue;
		uint64_t at = now + (uint64_t)(due > wall ? due - wall : 0);
		if (at < c->next_ok)
			at = c->next_ok;
		if (at < best)
			best = at;
	}
	if (ob->timer)
		loop_timer_cancel(ob->loop, ob->timer);
	ob->timer = 0;
	if (best != UINT64_MAX)
		/* At least 1 s when the channel is not ready, so a down modem
		 * does not spin the loop. */
		ob->timer = loop_timer_add(
		    ob->loop, best > now ? best - now : 1000, on_timer, ob);
}

void outbox_set_hold(struct outbox *ob, outbox_hold_fn fn, void *ud)
{
	ob->hold = fn;
	ob->hold_ud = ud;
}

/* The next due message that no hold keeps back; held ones are pushed to
 * their time (a bounded number per look, the rest at the next). */
static int next_free(struct outbox *ob, struct chan *c, struct store_out *m)
{
	for (int i = 0; i < 500; i++) {
		int64_t now = clock_wall_ms(), until;
		char why[200] = "";

		if (store_outbox_next(ob->st, c->drv.channel, now, m) !=
		    STORE_OK)
			return -1;
		until = ob->hold
			    ? ob->hold(ob->hold_ud, m, now, why, sizeof(why))
			    : 0;
		if (until <= now)
			return 0;
		free(m->body);
		if (store_outbox_set(ob->st, m->id, "queued", NULL, why, until))
			return -1;
	}
	return -1;
}

/* The driver paces this recipient: the message goes back to the queue
 * untouched by the network. That needs no sync: if a power cut loses
 * it, the synced claim says 'sending', queued again at start. */
static void paced(struct outbox *ob, struct chan *c, int ms)
{
	int64_t id = c->inflight;

	if (!ob->ws || store_outbox_set_unsynced(ob->st, id, "queued", NULL,
						 NULL, clock_wall_ms() + ms)) {
		outbox_retry(ob, id, NULL, ms);
		return;
	}
	c->inflight = 0;
	outbox_kick(ob);
}

static void go(struct outbox *ob, struct chan *c, const char *to,
	       const char *body)
{
	int64_t id = c->inflight;
	int r = c->drv.send(c->drv.ud, id, to, body);

	if (r > 0) {
		c->next_ok = loop_now_ms();
		paced(ob, c, r);
	} else if (r < 0) {
		outbox_failed(ob, id, "could not start sending");
	}
}

/* The claim is on disk: only now may the message leave, so that a
 * power cut cannot forget an attempt that reached the network (the
 * attempt counts toward retry_max). */
static void claimed(void *arg, bool ok)
{
	struct chan *c = arg;
	struct outbox *ob = c->ob;
	char *body = c->body;

	c->body = NULL;
	if (!ok)
		outbox_retry(ob, c->inflight, "cannot sync the store", 0);
	else if (ob->stopped)
		c->inflight = 0; /* left 'sending': queued again at start */
	else
		go(ob, c, c->to, body);
	free(body);
}

/* A message whose claim is durable goes to its driver now. */
static void start_claimed(struct outbox *ob, struct chan *c,
			  struct store_out *m)
{
	c->inflight = m->id;
	c->next_ok = loop_now_ms() + (uint64_t)c->drv.interval_ms;
	go(ob, c, m->to, m->body);
	free(m->body);
}

/* Claimed with one commit whose sync waits off the loop (walsync); else
 * (no walsync, or inside a caller's transaction, where synchronous
 * cannot change) the COMMIT syncs and the message goes at once. */
static void claim(struct outbox *ob, struct chan *c, struct store_out *m)
{
	bool lazy =
	    ob->ws && store_outbox_set_unsynced(ob->st, m->id, "sending", NULL,
						NULL, 0) == STORE_OK;

	if (!lazy &&
	    store_outbox_set(ob->st, m->id, "sending", NULL, NULL, 0)) {
		free(m->body);
		return;
	}
	if (!lazy) {
		start_claimed(ob, c, m);
		return;
	}
	c->inflight = m->id;
	c->next_ok = loop_now_ms() + (uint64_t)c->drv.interval_ms;
	snprintf(c->to, sizeof(c->to), "%s", m->to);
	c->body = m->body;
	if (walsync_after_commit(ob->ws, claimed, c) != 0)
		claimed(c, false);
}

static bool can_start(struct chan *c)
{
	return !c->inflight && !c->claimed.id && loop_now_ms() >= c->next_ok &&
	       (!c->drv.ready || c->drv.ready(c->drv.ud));
}

/* A message claimed in its caller's commit (outbox_claim) goes at once:
 * that COMMIT was synced before it returned. Any other is claimed here
 * (claim: with its own commit, synced off the loop). */
static void start_one(struct outbox *ob, struct chan *c)
{
	struct store_out m = c->claimed;

	if (m.id) {
		c->claimed.id = 0;
		start_claimed(ob, c, &m);
		return;
	}
	if (!can_start(c) || next_free(ob, c, &m))
		return;
	claim(ob, c, &m);
}

static void claim_one(struct outbox *ob, struct chan *c)
{
	struct store_out m;

	/* Not in a commit that walsync syncs later: the send would start
	 * before the claim is durable (outbox.h). */
	if (ob->stopped || store_in_unsynced(ob->st) || !can_start(c) ||
	    next_free(ob, c, &m))
		return;
	if (store_outbox_set(ob->st, m.id, "sending", NULL, NULL, 0)) {
		free(m.body);
		return;
	}
	c->claimed = m;
}

/* The claim joins the caller's transaction (an inbound SMS with the
 * reply it queued): one WAL sync fewer per reply (issue 17). It is
 * written by that transaction's COMMIT, which returns only once durable
 * (synchronous=FULL), before outbox_kick() hands the message to its
 * driver; so, as with a claim of its own, a crash after the send started
 * finds it 'sending' and sends it again (README, "Delivery guarantees"),
 * never silently twice. Nothing starts here: a rolled-back transaction
 * takes the claims with it (outbox_unclaim). */
void outbox_claim(struct outbox *ob)
{
	for (int i = 0; i < ob->nchans; i++)
		claim_one(ob, &ob->chans[i]);
}

void outbox_unclaim(struct outbox *ob)
{
	for (int i = 0; i < ob->nchans; i++) {
		struct chan *c = &ob->chans[i];

		if (c->claimed.id)
			free(c->claimed.body);
		c->claimed.id = 0;
	}
}

/* At shutdown the channels cancel what is in flight, and each
 * cancellation reports a retry; starting the next message then would
 * reach into a channel that is half freed. */
void outbox_stop(struct outbox *ob)
{
	ob->stopped = true;
	if (ob->timer)
		loop_timer_cancel(ob->loop, ob->timer);
	ob->timer = 0;
}

void outbox_kick(struct outbox *ob)
{
	if (ob->stopped)
		return;
	if (ob->kicking)
		return; /* a driver answered synchronously from inside send */
	ob->kicking = true;
	for (int i = 0; i < ob->nchans; i++)
		start_one(ob, &ob->chans[i]);
	ob->kicking = false;
	schedule(ob);
}

static void sent_synced(void *arg, bool ok)
{
}

/* 'sent' needs no sync of its own before the next step: the next claim
 * on any channel waits for a sync that covers it, and until then a power
 * cut can only make it 'sending' again, queued at start: one more copy,
 * as for any message cut off in flight (outbox.h). The sync is still
 * asked for, so the window stays a few ms when nothing follows. */
void outbox_sent(struct outbox *ob, int64_t id, const char *external_id)
{
	struct chan *c = chan_of(ob, id);

	if (!ob->ws ||
	    store_outbox_set_unsynced(ob->st, id, "sent", external_id, NULL,
				      0) ||
	    walsync_after_commit(ob->ws, sent_synced, NULL))
		store_outbox_set(ob->st, id, "sent", external_id, NULL, 0);
	if (c)
		c->inflight = 0;
	outbox_kick(ob);
}

/* One commit instead of three for the driver's last rows, 'sent' and
 * the claim of the channel's next message, if one is waiting (a burst;
 * bench/README.md, issue 17: every commit is a WAL sync on the SD card).
 * The claim is durable when the COMMIT returns, before outbox_kick()
 * starts its send (outbox_claim). */
void outbox_sent_also(struct outbox *ob, int64_t id, const char *external_id,
		      int (*also)(void *ud), void *ud)
{
	struct chan *c = chan_of(ob, id);

	if (store_begin(ob->st) == STORE_OK) {
		if (also(ud) == 0 &&
		    store_outbox_set(ob->st, id, "sent", external_id, NULL,
				     0) == STORE_OK) {
			if (c) {
				c->inflight = 0;
				claim_one(ob, c);
			}
			if (store_commit(ob->st) == STORE_OK)
				goto done;
			outbox_unclaim(ob);
		}
		store_rollback(ob->st);
	}
	/* Not in one transaction: each on its own, as before. */
	also(ud);
	store_outbox_set(ob->st, id, "sent", external_id, NULL, 0);
done:
	if (c)
		c->inflight = 0;
	outbox_kick(ob);
}

static int64_t backoff_ms(struct outbox *ob, int attempts)
{
	int64_t d = ob->retry_base_ms;

	for (int i = 1; i < attempts && d < MAX_BACKOFF_MS; i++)
		d *= 2;
	return d < MAX_BACKOFF_MS ? d : MAX_BACKOFF_MS;
}

void outbox_retry(struct outbox *ob, int64_t id, const char *reason,
		  int64_t delay_ms)
{
	struct chan *c = chan_of(ob, id);
	int attempts = store_outbox_attempts(ob->st, id);

	if (c)
		c->inflight = 0;
	if (reason && attempts >= ob->retry_max) {
		char why[300];
		snprintf(why, sizeof(why), "%s (gave up after %d attempts)",
			 reason, attempts);
		store_outbox_set(ob->st, id, "failed", NULL, why, 0);
	} else {
		int64_t d = delay_ms > 0 ? delay_ms : backoff_ms(ob, attempts);
		store_outbox_set(ob->st, id, "queued", NULL, reason,
				 clock_wall_ms() + d);
	}
	outbox_kick(ob);
}

void outbox_failed(struct outbox *ob, int64_t id, const char *reason)
{
	struct chan *c = chan_of(ob, id);

	if (c)
		c->inflight = 0;
	store_outbox_set(ob->st, id, "failed", NULL, reason, 0);
	outbox_kick(ob);
}

void outbox_reroute(struct outbox *ob, int64_t id, const char *channel,
		    const char *to, const char *why)
{
	struct chan *c = chan_of(ob, id);

	if (c)
		c->inflight = 0;
	store_outbox_change_channel(ob->st, id, channel, to);
	store_outbox_set(ob->st, id, "queued", NULL, why, clock_wall_ms());
	outbox_kick(ob);
}

int outbox_inflight(const struct outbox *ob)
{
	int n = 0;

	for (int i = 0; i < ob->nchans; i++)
		n += ob->chans[i].inflight != 0;
	return n;
}

const char *outbox_route(const struct store_conversation *c,
			 const struct store_contact *k, int64_t now_ms,
			 const char **to, char *why, size_t whylen)
{
	bool wa_open =
	    k->wa_id[0] && now_ms - c->last_in_at <= OUTBOX_WA_WINDOW_MS;

	if (strcmp(c->last_channel, "whatsapp") == 0 && wa_open) {
		*to = k->wa_id;
		return "whatsapp";
	}
	if (k->phone[0]) {
		*to = k->phone;
		return "sms";
	}
	snprintf(why, whylen, "%s",
		 k->wa_id[0] ? "jendela 24 jam WhatsApp sudah tertutup dan "
			       "warga ini tidak punya nomor untuk SMS"
			     : "warga ini tidak punya nomor telepon untuk SMS");
	return NULL;
}
