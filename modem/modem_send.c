/* modem_send: the send queue. A message is encoded into its PDU parts
 * when queued (modem_send), and in READY its parts go out back to back
 * with AT+CMGS (operators drop parts that come late); ops->part_sent
 * hears each part the network took, ops->sent the outcome. */
#include <stdio.h>
#include <stdlib.h>

#include "modem_int.h"

static void send_part(struct modem *m);

void modem_send_finish(struct modem *m, enum modem_send_result res,
		       const char *why)
{
	struct send_job *j = m->sending;

	if (!j)
		return;
	m->sending = NULL;
	if (m->ops->sent)
		m->ops->sent(m->ud, j->id, res, j->mrs + j->first,
			     j->cur - j->first, why);
	free(j->segs);
	free(j);
}

/* doc/modem.md error table; reinit_out is set for 300-303 and SIM errors. */
static enum modem_send_result classify(const struct at_response *r,
				       bool *reinit_out)
{
	int c = r->code;

	*reinit_out = false;
	if (r->result == AT_CMS_ERROR) {
		if (c == 304 || c == 305 || c == 1 || c == 8 || c == 10 ||
		    c == 21 || c == 28 || c == 29 || c == 30 || c == 50 ||
		    c == 96 || c == 111)
			return MODEM_SEND_FAILED;
		if ((c >= 300 && c <= 303) || (c >= 310 && c <= 316))
			*reinit_out = true;
		return MODEM_SEND_RETRY;
	}
	if (r->result == AT_CME_ERROR && c >= 10 && c <= 18)
		*reinit_out = true;
	return MODEM_SEND_RETRY;
}

static void send_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct send_job *j = m->sending;
	struct at_iter it;
	char why[200];
	bool reinit_needed;
	enum modem_send_result res;

	if (r->result == AT_CANCELLED || !j)
		return;
	if (r->result == AT_TIMEOUT) {
		/* modem_recover() reports RETRY for the job in flight */
		modem_recover(m, "no answer to AT+CMGS within 60 s");
		return;
	}
	if (r->result == AT_OK) {
		int mr = -1;

		/* TS 27.005 3.5.1: +CMGS: <mr> */
		if (r->nlines > 0 && at_iter_begin(&it, r->lines[0], "+CMGS:"))
			at_iter_next_number(&it, &mr);
		j->mrs[j->cur++] = mr;
		if (m->ops->part_sent)
			m->ops->part_sent(m->ud, j->id, j->cur - 1, j->nsegs,
					  mr);
		if (j->cur < j->nsegs)
			send_part(m);
		else
			modem_send_finish(m, MODEM_SEND_OK, "sent");
		modem_act_done(m);
		return;
	}
	res = classify(r, &reinit_needed);
	snprintf(why, sizeof(why), "part %d of %d: %s (modem %s %s)",
		 j->cur + 1, j->nsegs, r->final, m->health.manufacturer,
		 m->health.model);
	modem_send_finish(m, res, why);
	if (reinit_needed) {
		modem_reinit(m,
			     why); /* CMS 300-303, SIM errors (doc/modem.md) */
		return;
	}
	modem_act_done(m);
}

static void send_part(struct modem *m)
{
	struct send_job *j = m->sending;
	char cmd[32];

	/* TS 27.005 3.5.1: <length> counts the TPDU without the SMSC */
	snprintf(cmd, sizeof(cmd), "AT+CMGS=%d", j->segs[j->cur].tpdu_len);
	m->act_pending++;
	at_send_pdu(m->at, cmd, "+CMGS:", j->segs[j->cur].hex,
		    m->cfg.send_timeout_ms, send_cb, m);
}

void modem_start_send(struct modem *m)
{
	m->sending = m->sendq;
	m->sendq = m->sendq->next;
	m->act = ACT_SEND;
	send_part(m); /* parts back to back: operators drop late parts */
}

/* Reports an outcome for a job that never reaches the queue. */
static int send_done_now(struct modem *m, struct send_job *j,
			 enum modem_send_result res, const char *why)
{
	static const int none[1];

	if (m->ops->sent)
		m->ops->sent(m->ud, j->id, res, none, 0, why);
	free(j->segs);
	free(j);
	return 0;
}

int modem_send_resume(struct modem *m, uint64_t send_id, const char *to,
		      const char *text_utf8, int ref, int first_part)
{
	struct send_job *j = calloc(1, sizeof(*j)), **tail;
	char err[200];

	if (!j)
		return -1;
	j->segs = calloc(MAX_SEGS, sizeof(*j->segs));
	if (!j->segs)
		goto fail;
	j->id = send_id;
	j->nsegs = pdu_encode_submit(to, text_utf8, NULL, ref & 0xff, true,
				     j->segs, MAX_SEGS, err, sizeof(err));
	if (j->nsegs <= 0) {
		modem_log(m, MODEM_LOG_WARN, "cannot encode SMS %llu to %s: %s",
			  (unsigned long long)send_id, to, err);
		goto fail;
	}
	j->first = j->cur = first_part < 0 ? 0 : first_part;
	if (j->cur >= j->nsegs) /* every part went out before a restart */
		return send_done_now(m, j, MODEM_SEND_OK, "sent");
	/* nothing goes out until a human fixes the SIM */
	if (m->st == MODEM_FATAL)
		return send_done_now(m, j, MODEM_SEND_RETRY, m->reason);
	for (tail = &m->sendq; *tail; tail = &(*tail)->next)
		;
	*tail = j;
	/* started from modem_tick (modem_deadline says now), where the
	 * clock is fresh */
	return 0;
fail:
	free(j->segs);
	free(j);
	return -1;
}

/* Our own reference per message: libgammu's is clock-derived and two long
 * messages in one second would share it (doc/modem.md). */
int modem_send(struct modem *m, uint64_t send_id, const char *to,
	       const char *text_utf8)
{
	int ref = m->next_ref;

	m->next_ref = (m->next_ref + 1) & 0xff;
	return modem_send_resume(m, send_id, to, text_utf8, ref, 0);
}

bool modem_can_send(const struct modem *m)
{
	return m->st == MODEM_READY;
}
