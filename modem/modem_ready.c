/* modem_ready: READY runs one activity at a time (a drain, a read, a
 * send, a health query, a balance query), so a +CMTI read never races the
 * +CMGL drain over the same index and deletes stay ordered after commits.
 * ready_rules says which comes next. */
#include <stdio.h>

#include "modem_int.h"

void modem_act_cmd(struct modem *m, const char *cmd, const char *prefix,
		   unsigned timeout, at_cmd_cb cb)
{
	m->act_pending++;
	at_send(m->at, cmd, prefix, timeout, cb, m);
}

/* Common head of READY callbacks: false when the callback must stop. */
bool modem_act_check(struct modem *m, const struct at_response *r,
		     const char *what)
{
	char why[160];

	if (r->result == AT_CANCELLED)
		return false;
	if (r->result == AT_TIMEOUT) {
		snprintf(why, sizeof(why), "no answer to %s within the timeout",
			 what);
		modem_recover(m, why);
		return false;
	}
	if (r->result == AT_CMS_ERROR && r->code == 322) {
		/* memory full: new SMS wait at the SMSC until we delete */
		m->drain_requested = true;
	}
	return true;
}

void modem_act_done(struct modem *m)
{
	if (--m->act_pending > 0)
		return;
	m->act_pending = 0;
	if (m->act == ACT_HEALTH && m->ops->health)
		m->ops->health(m->ud, &m->health);
	m->act = ACT_NONE;
	modem_ready_next(m);
}

static bool balance_enabled(const struct modem *m)
{
	return m->ussd && m->cfg.balance_interval_s > 0;
}

static uint64_t drain_due(const struct modem *m)
{
	return m->drain_requested ? 0 : UINT64_MAX;
}

static uint64_t read_due(const struct modem *m)
{
	return m->nreads > 0 ? 0 : UINT64_MAX;
}

static uint64_t send_due(const struct modem *m)
{
	return m->sendq ? 0 : UINT64_MAX;
}

static uint64_t health_due(const struct modem *m)
{
	return m->health_at;
}

static uint64_t balance_due(const struct modem *m)
{
	return balance_enabled(m) ? m->balance_at : UINT64_MAX;
}

static uint64_t rescan_due(const struct modem *m)
{
	return m->rescan_at;
}

/* What READY does next, first due first: a drain someone asked for,
 * reads a +CMTI named, the send queue, then the periodic health query,
 * USSD balance and storage rescan. Messages in storage go before sends
 * so the SIM does not fill up while a long queue goes out. */
static const struct {
	uint64_t (*due)(const struct modem *m); /* 0 now, UINT64_MAX never */
	void (*start)(struct modem *m);
} ready_rules[] = {
    {drain_due, modem_start_drain},	{read_due, modem_start_read},
    {send_due, modem_start_send},	{health_due, modem_start_health},
    {balance_due, modem_start_balance}, {rescan_due, modem_start_drain},
};

#define N_RULES (sizeof(ready_rules) / sizeof(ready_rules[0]))

void modem_ready_next(struct modem *m)
{
	if (m->st != MODEM_READY || m->act != ACT_NONE || m->fd < 0)
		return;
	for (size_t i = 0; i < N_RULES; i++)
		if (m->now >= ready_rules[i].due(m)) {
			ready_rules[i].start(m);
			return;
		}
}

uint64_t modem_ready_due(const struct modem *m)
{
	uint64_t d = UINT64_MAX, t;

	for (size_t i = 0; i < N_RULES; i++)
		if ((t = ready_rules[i].due(m)) < d)
			d = t;
	return d;
}

void modem_rescan(struct modem *m)
{
	m->drain_requested = true;
}
