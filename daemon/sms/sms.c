#include "sms.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "inbox.h"
#include "loop.h"
#include "modem.h"
#include "outbox.h"
#include "phone.h"
#include "sms_call.h"
#include "sms_inbox.h"
#include "store.h"
#include "log.h"

#define PART_CHECK_MS 60000
#define OUTGOING_SEEN 64 /* SMS-SUBMITs on the SIM already logged */

struct sms {
	struct app *app;
	struct modem *modem;
	struct modem_config mcfg;
	int fd; /* registered with the loop, -1 if none */
	uint64_t part_timer;
	bool low_credit_noted;
	char sending_to[80];
	/* The last part's TP-MR, written with 'sent' (on_part_sent) */
	struct {
		int64_t id;
		int mr, part, nparts;
	} last;
	/* Own copies: a reload frees the config the modem settings came from */
	char device[256], pin[32], storage[8], ussd[32];
	enum modem_state state;
	bool listing; /* a listing's one transaction is open (on_listing) */
	uint64_t outgoing_seen[OUTGOING_SEEN];
	int noutgoing;
};

/* Logged once per run: the drain reads it again every time it is left. */
static bool outgoing_first_seen(struct sms *s, const char *hex)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (const char *c = hex ? hex : ""; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	for (int i = 0; i < s->noutgoing && i < OUTGOING_SEEN; i++)
		if (s->outgoing_seen[i] == h)
			return false;
	s->outgoing_seen[s->noutgoing++ % OUTGOING_SEEN] = h;
	return true;
}

/* An SMS-SUBMIT on the SIM is a sent message (a second-hand SIM's
 * previous owner's, or a phone's draft), not from a resident: it stays out
 * of the inbox. Deleted only when [modem] delete_sent says so. Returns the
 * verdict for the modem (0: delete it). */
static int on_outgoing(struct sms *s, const struct modem_sms *p)
{
	bool del = s->app->cfg->modem_delete_sent;

	if (outgoing_first_seen(s, p->pdu_hex))
		log_msg(LOG_INFO,
			"SIM slot %d holds a sent message (SMS-SUBMIT to %s), "
			"not a resident's: %s",
			p->index, p->sender,
			del ? "deleting it ([modem] delete_sent = yes)"
			    : "left on the SIM ([modem] delete_sent = no)");
	return del ? 0 : 1;
}

/* The SMS, its notices and its replies, or none of them. */
static int store_sms(struct sms *s, const struct modem_sms *p)
{
	int r =
	    sms_call_from_notice(s->app->ib, s->app->cfg->miskol_notices, p);

	if (r > 0)
		return 0; /* an operator's missed-call notice, stored as one */
	return r ? r
		 : sms_inbox_add(s->app->ib, s->app->st, p, app_now_ms(s->app));
}

/* Inside a listing's transaction a message is a savepoint of it, opened
 * by the caller: one that failed (r) is rolled back alone and stays on
 * the SIM. */
static int in_listing_end(struct sms *s, int r)
{
	if (r == 0 && store_release(s->app->st) == STORE_OK)
		return 0;
	store_rollback_savepoint(s->app->st);
	return -1;
}

static int on_sms(void *ud, const struct modem_sms *p)
{
	struct sms *s = ud;
	int r;

	if (p->outgoing)
		return on_outgoing(s, p);
	if (s->listing) {
		r = store_savepoint(s->app->st)
			? -1
			: in_listing_end(s, store_sms(s, p));
		goto out;
	}
	if (inbox_begin(s->app->ib))
		return -1;
	r = store_sms(s, p);
	/* The reply goes out after this commit: claimed in it (outbox.h) */
	if (r == 0)
		outbox_claim(s->app->ob);
	if (r || inbox_commit(s->app->ib)) {
		inbox_rollback(s->app->ib);
		outbox_unclaim(s->app->ob);
		r = -1;
	}
out:
	if (r)
		log_msg(LOG_ERR,
			"an incoming SMS (SIM index %d) could not be "
			"stored; it stays on the SIM and is read "
			"again (check the disk and the database)",
			p->index);
	return r; /* 0: committed (or in the listing's commit) */
}

/* modem.h ops->listing: a drain of the SIM is one transaction, so one
 * WAL sync for the whole listing instead of one per SMS (issue 17; a
 * full SIM after a power cut holds 30-50). The SIM deletes wait for
 * its COMMIT; the replies are claimed in it (outbox.h). */
static int on_listing(void *ud, bool begin)
{
	struct sms *s = ud;

	if (begin) {
		s->listing = inbox_begin(s->app->ib) == 0;
		return s->listing ? 0 : -1;
	}
	s->listing = false;
	outbox_claim(s->app->ob);
	if (inbox_commit(s->app->ib) == 0)
		return 0;
	inbox_rollback(s->app->ib);
	outbox_unclaim(s->app->ob);
	log_msg(LOG_ERR,
		"the SMS listed from the SIM could not be stored "
		"together (%s); they stay on the SIM and are read "
		"again one by one",
		store_errmsg(s->app->st));
	return -1;
}

static int report_status(struct sms *s, const struct modem_report *rep,
			 const char *to)
{
	int undelivered = 0;
	int64_t id = store_sms_report(s->app->st, rep->mr, to, rep->status,
				      &undelivered);
	if (id < 0) {
		log_msg(LOG_INFO, "status report for unknown TP-MR %d to %s",
			rep->mr, to);
		return 0;
	}
	log_msg(LOG_DEBUG,
		"sms %lld: status report TP-ST %d for TP-MR %d to %s; "
		"%d part(s) not reported delivered",
		(long long)id, rep->status, rep->mr, to, undelivered);
	/* TS 23.040 9.2.3.15: 0..31 done, 32..63 still trying, 64+ failed.
	 * Each part of a long SMS is reported on its own: delivered once
	 * all are, and only once all were sent. */
	if (rep->status < 32)
		return undelivered > 0
			   ? 0
			   : store_message_delivered(s->app->st, id);
	if (rep->status >= 64) {
		char why[64];
		snprintf(why, sizeof(why), "SMS tidak terkirim (TP-ST %d)",
			 rep->status);
		return store_message_status(s->app->st, id, "failed", why);
	}
	return 0;
}

/* The part's TP-ST and the message's status in one commit: one WAL sync
 * per report, as before the parts had rows of their own (issue 17). */
static int on_report(void *ud, const struct modem_report *rep)
{
	struct sms *s = ud;
	char to[80];
	bool tx;
	int r;

	phone_normalize(rep->recipient, to, sizeof(to));
	if (s->listing)
		return store_savepoint(s->app->st)
			   ? -1
			   : in_listing_end(s, report_status(s, rep, to));
	tx = store_begin(s->app->st) == STORE_OK;
	r = report_status(s, rep, to);
	if (!tx)
		return r;
	if (r == 0 && store_commit(s->app->st) == STORE_OK)
		return 0;
	store_rollback(s->app->st);
	return -1;
}

static int mr_add(struct sms *s, int64_t id, int part, int nparts, int mr)
{
	if (store_sms_mr_add(s->app->st, id, part, nparts, mr, s->sending_to,
			     app_now_ms(s->app)) == STORE_OK)
		return 0;
	log_msg(LOG_WARN,
		"sms %lld: part %d of %d sent but not recorded (%s); "
		"after a restart it may be sent again",
		(long long)id, part + 1, nparts, store_errmsg(s->app->st));
	return -1;
}

static int last_mr_add(void *ud)
{
	struct sms *s = ud;
	return mr_add(s, s->last.id, s->last.part, s->last.nparts, s->last.mr);
}

static void on_sent(void *ud, uint64_t send_id, enum modem_send_result res,
		    const int *mrs, int nmrs, const char *reason)
{
	struct sms *s = ud;
	int64_t id = (int64_t)send_id;
	bool last = s->last.id == id;

	if (last && res != MODEM_SEND_OK)
		last_mr_add(s); /* not expected: the last part ends a send */
	switch (res) {
	case MODEM_SEND_OK: /* each part's TP-MR was kept by on_part_sent */
		if (last)
			outbox_sent_also(s->app->ob, id, NULL, last_mr_add, s);
		else
			outbox_sent(s->app->ob, id, NULL);
		break;
	case MODEM_SEND_RETRY:
		log_msg(LOG_WARN, "sms %lld to %s not sent: %s; trying again",
			(long long)id, s->sending_to, reason ? reason : "?");
		outbox_retry(s->app->ob, id, reason, 0);
		break;
	case MODEM_SEND_FAILED:
		outbox_failed(s->app->ob, id, reason);
		break;
	}
	if (s->last.id == id)
		s->last.id = 0;
}

/* Every part's TP-MR, so any part's status report finds us; the rows
 * also count the parts that went out, so a send cut off by a crash or a
 * failed part goes on from the next part (drv_send). A part's row is
 * committed before the next part is asked for. The last part's row is
 * kept for on_sent(), which the modem calls next, before anything else
 * (modem_send.c send_cb), and committed with 'sent' in one transaction
 * (issue 17: one WAL sync fewer per SMS). That adds no state after a
 * crash: both or neither are stored; neither is the message 'sending'
 * with the last part not counted, which is also where a crash before
 * that row's own commit left it: it is sent again from the last part. A
 * status report is read from the modem after on_sent() returns, so it
 * finds the row. */
static void on_part_sent(void *ud, uint64_t send_id, int part, int nparts,
			 int mr)
{
	struct sms *s = ud;

	if (part + 1 == nparts) {
		s->last.id = (int64_t)send_id;
		s->last.mr = mr;
		s->last.part = part;
		s->last.nparts = nparts;
		return;
	}
	mr_add(s, (int64_t)send_id, part, nparts, mr);
}

static void on_state(void *ud, enum modem_state st, const char *why)
{
	struct sms *s = ud;

	s->state = st;
	log_msg(st == MODEM_FATAL ? LOG_ERR : LOG_INFO, "modem: %s%s%s",
		modem_state_name(st), why && *why ? ": " : "", why ? why : "");
	if (st == MODEM_FATAL)
		inbox_notice(s->app->ib, "modem", why ? why : "modem error");
	if (st == MODEM_READY)
		outbox_kick(s->app->ob);
}

static void on_health(void *ud, const struct modem_health *h)
{
	struct sms *s = ud;
	int low = s->app->cfg->modem_low_credit;

	if (h->balance < 0 || low <= 0)
		return;
	if (h->balance < low && !s->low_credit_noted) {
		char text[300];
		snprintf(text, sizeof(text),
			 "Pulsa modem tinggal Rp %ld (batas Rp %d). Isi ulang "
			 "pulsa agar SMS tetap terkirim.",
			 h->balance, low);
		log_msg(LOG_WARN, "modem credit low: Rp %ld < Rp %d",
			h->balance, low);
		inbox_notice(s->app->ib, "low_credit", text);
		s->low_credit_noted = true;
	} else if (h->balance >= low) {
		s->low_credit_noted = false;
	}
}

static void on_ring(void *ud, const struct modem_ring *r)
{
	struct sms *s = ud;

	if (r->kind == MODEM_RING_RINGING)
		log_msg(LOG_DEBUG, "modem: incoming call from %s, ring %d",
			r->hidden ? "a withheld number" : r->number, r->rings);
	else
		sms_call_missed(s->app->ib, r, app_now_ms(s->app));
}

static void on_log(void *ud, enum modem_log_level lvl, const char *msg)
{
	static const enum log_level map[] = {LOG_DEBUG, LOG_INFO, LOG_WARN,
					     LOG_ERR};

	log_msg(map[lvl], "modem: %s", msg);
}

static const struct modem_ops ops = {
    .sms = on_sms,
    .report = on_report,
    .listing = on_listing,
    .sent = on_sent,
    .part_sent = on_part_sent,
    .state = on_state,
    .health = on_health,
    .ring = on_ring,
    .log = on_log,
};

/* ---- loop glue --------------------------------------------------------- */

static void on_readable(struct loop *l, int fd, short revents, void *arg)
{
	struct sms *s = arg;

	modem_readable(s->modem, loop_now_ms());
}

/* The modem reopens its port after a reset or an unplug, so the fd to
 * watch is checked before every poll. */
static uint64_t prepare(struct loop *l, void *arg)
{
	struct sms *s = arg;
	int fd = modem_fd(s->modem);

	if (fd != s->fd) {
		if (s->fd >= 0)
			loop_fd_del(l, s->fd);
		if (fd >= 0)
			loop_fd_add(l, fd, POLLIN, on_readable, s);
		s->fd = fd;
	}
	return modem_deadline(s->modem);
}

static void dispatch(struct loop *l, void *arg)
{
	struct sms *s = arg;

	modem_tick(s->modem, loop_now_ms());
}

/* Multipart groups whose last part never came are stored after the part
 * timeout with a visible mark, so staff still see what arrived. */
static void check_parts(struct loop *l, void *arg)
{
	struct sms *s = arg;
	char keys[16][128], senders[16][64];
	int64_t before =
	    app_now_ms(s->app) - (int64_t)s->app->cfg->part_timeout_s * 1000;
	int n = store_parts_stale(s->app->st, before, keys, senders, 16);

	for (int i = 0; i < n; i++) {
		int total = atoi(strchr(strchr(keys[i], '|') + 1, '|') + 1);
		if (inbox_begin(s->app->ib))
			break;
		if (sms_inbox_assemble(s->app->ib, s->app->st, keys[i],
				       senders[i], total, true) ||
		    inbox_commit(s->app->ib))
			inbox_rollback(s->app->ib);
		else
			log_msg(LOG_WARN,
				"sms from %s: stored incomplete "
				"after the part timeout",
				senders[i]);
	}
	/* A part timeout under two minutes is checked at half its length */
	int64_t every = (int64_t)s->app->cfg->part_timeout_s * 500;
	s->part_timer = loop_timer_add(
	    l, every < PART_CHECK_MS ? every : PART_CHECK_MS, check_parts, s);
}

/* ---- outbox driver ----------------------------------------------------- */

static bool drv_ready(void *ud)
{
	struct sms *s = ud;

	return modem_can_send(s->modem);
}

static int drv_send(void *ud, int64_t id, const char *to, const char *body)
{
	struct sms *s = ud;

	int done = store_sms_parts_sent(s->app->st, id);

	snprintf(s->sending_to, sizeof(s->sending_to), "%s", to);
	/* The concatenation reference follows from the message id, so parts
	 * sent after a restart join those sent before it. */
	return modem_send_resume(s->modem, (uint64_t)id, to, body,
				 (int)(id & 0xff), done);
}

static void fill_mcfg(struct sms *s)
{
	const struct config *c = s->app->cfg;

	snprintf(s->device, sizeof(s->device), "%s", c->modem_device);
	snprintf(s->pin, sizeof(s->pin), "%s", c->modem_pin);
	snprintf(s->storage, sizeof(s->storage), "%s", c->modem_storage);
	snprintf(s->ussd, sizeof(s->ussd), "%s", c->modem_ussd_balance);
	s->mcfg = (struct modem_config){
	    .device = s->device,
	    .pin = s->pin,
	    .storage = s->storage,
	    .ussd_balance = s->ussd[0] ? s->ussd : NULL,
	    .balance_interval_s = (unsigned)c->modem_balance_interval,
	    .cmd_timeout_ms = (unsigned)c->modem_cmd_timeout,
	    .send_timeout_ms = (unsigned)c->modem_send_timeout,
	    .hangup_rings = (unsigned)c->modem_hangup_rings,
	};
}

struct sms *sms_new(struct app *app)
{
	struct sms *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->app = app;
	s->fd = -1;
	fill_mcfg(s);
	s->modem = modem_new(&s->mcfg, &ops, s);
	if (!s->modem) {
		free(s);
		return NULL;
	}
	loop_prepare_add(app->loop, prepare, dispatch, s);
	struct outbox_driver drv = {
	    .channel = "sms",
	    .ready = drv_ready,
	    .send = drv_send,
	    .interval_ms = app->cfg->sms_interval_ms,
	    .ud = s,
	};
	outbox_add_driver(app->ob, &drv);
	s->part_timer = loop_timer_add(app->loop, 1000, check_parts, s);
	return s;
}

void sms_free(struct sms *s)
{
	if (!s)
		return;
	loop_prepare_del(s->app->loop, prepare, s);
	if (s->fd >= 0)
		loop_fd_del(s->app->loop, s->fd);
	loop_timer_cancel(s->app->loop, s->part_timer);
	modem_free(s->modem);
	free(s);
}

void sms_reconfigure(struct sms *s)
{
	char before[400], after[400];
	const struct config *c = s->app->cfg;

	snprintf(before, sizeof(before), "%s|%s|%s|%s|%u|%u|%u", s->device,
		 s->pin, s->storage, s->ussd, s->mcfg.balance_interval_s,
		 s->mcfg.cmd_timeout_ms, s->mcfg.send_timeout_ms);
	snprintf(after, sizeof(after), "%s|%s|%s|%s|%d|%d|%d", c->modem_device,
		 c->modem_pin, c->modem_storage, c->modem_ussd_balance,
		 c->modem_balance_interval, c->modem_cmd_timeout,
		 c->modem_send_timeout);
	outbox_set_pacing(s->app->ob, "sms", c->sms_interval_ms);
	if (strcmp(before, after) == 0)
		return;
	log_msg(LOG_INFO, "modem settings changed: reopening the modem");
	if (s->fd >= 0)
		loop_fd_del(s->app->loop, s->fd);
	s->fd = -1;
	modem_free(s->modem);
	fill_mcfg(s);
	s->modem = modem_new(&s->mcfg, &ops, s);
}

const char *sms_state_name(const struct sms *s)
{
	return modem_state_name(modem_state(s->modem));
}

void sms_status(const struct sms *s, struct sms_status *out)
{
	out->state = modem_state_name(modem_state(s->modem));
	out->health = modem_get_health(s->modem);
	out->reason = modem_last_reason(s->modem);
}

json_t *sms_status_json(const struct sms *s)
{
	const struct modem_health *h = modem_get_health(s->modem);

	return json_pack("{ss si si ss sI ss ss sI ss}", "state",
			 modem_state_name(modem_state(s->modem)), "signal_dbm",
			 h->rssi_dbm, "registration", h->creg_stat, "operator",
			 h->operator_name, "balance", (json_int_t)h->balance,
			 "model", h->model, "manufacturer", h->manufacturer,
			 "network_time", (json_int_t)h->network_time, "reason",
			 modem_last_reason(s->modem));
}
