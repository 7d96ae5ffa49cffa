/* modem_read: reading stored and routed SMS in READY. A drain lists the
 * whole storage (+CMGL=4, or +CMGR index by index where +CMGL hangs), a
 * read takes one index a +CMTI named; a message is deleted (+CMGD) only
 * after ops->sms said it is committed (modem.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modem_int.h"

static int deliver_report(struct modem *m, int index,
			  const struct pdu_message *pm)
{
	struct modem_report rep = {.index = index,
				   .mr = pm->mr,
				   .status = pm->status,
				   .done_at = pm->done_at};

	snprintf(rep.recipient, sizeof(rep.recipient), "%s", pm->number);
	return m->ops->report ? m->ops->report(m->ud, &rep) : -1;
}

void modem_sms_from_pdu(struct modem_sms *s, int index, const char *hex,
			const struct pdu_message *pm, const char *err)
{
	memset(s, 0, sizeof(*s));
	s->index = index;
	s->pdu_hex = hex;
	s->parts = s->seq = 1;
	if (!pm) {
		s->error = err;
		return;
	}
	snprintf(s->sender, sizeof(s->sender), "%s", pm->number);
	snprintf(s->smsc, sizeof(s->smsc), "%s", pm->smsc);
	s->sender_alnum = pm->number_alnum;
	s->scts = pm->scts;
	s->ref = pm->ref;
	s->ref16 = pm->ref16;
	s->parts = pm->parts ? pm->parts : 1;
	s->seq = pm->seq ? pm->seq : 1;
	s->text = pm->text;
	s->binary = pm->binary;
	if (pm->kind != PDU_DELIVER) {
		/* our own sent messages kept on the SIM are not a resident's
		 * text (doc/modem.md) */
		s->text = NULL;
		s->error = "not an SMS-DELIVER (a stored outgoing message?)";
		s->outgoing = pm->kind == PDU_SUBMIT;
	}
}

/* Hands one stored or routed PDU to the daemon; returns its verdict
 * (0: committed, delete it). */
int modem_deliver(struct modem *m, int index, const char *hex, int len)
{
	struct pdu_message pm;
	struct modem_sms s;
	char err[160];
	int rc;

	memset(&pm, 0, sizeof(pm));
	rc = pdu_decode(hex, true, len, &pm, err, sizeof(err));
	if (rc == 0 && pm.kind == PDU_STATUS_REPORT) {
		rc = deliver_report(m, index, &pm);
	} else {
		modem_sms_from_pdu(&s, index, hex, rc == 0 ? &pm : NULL, err);
		rc = m->ops->sms ? m->ops->sms(m->ud, &s) : -1;
	}
	pdu_message_clear(&pm);
	return rc;
}

static void cmgd_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!modem_act_check(m, r, "AT+CMGD"))
		return;
	if (r->result != AT_OK)
		modem_log(m, MODEM_LOG_WARN,
			  "deleting a stored SMS failed (%s): it will be read "
			  "again",
			  r->final);
	modem_act_done(m);
}

static void delete_index(struct modem *m, int idx)
{
	char cmd[32];

	snprintf(cmd, sizeof(cmd), "AT+CMGD=%d", idx);
	modem_act_cmd(m, cmd, NULL, m->cfg.cmd_timeout_ms, cmgd_cb);
}

static void select_mem(struct modem *m, const char *mem);
static void cmgl_cb(void *ud, const struct at_response *r);

/* After the configured storage, list ME once where the vendor wants it
 * (vendor->drain_me); then go back. */
static void drain_other_mem(struct modem *m)
{
	if (m->drain_me) {
		m->drain_me = false;
		m->drain_restore = true;
		select_mem(m, "ME");
		modem_act_cmd(m, "AT+CMGL=4",
			      "+CMGL:", m->cfg.cmd_timeout_ms * 3, cmgl_cb);
	} else if (m->drain_restore) {
		m->drain_restore = false;
		select_mem(m, m->storage);
	}
}

/* A listing in one commit (ops->listing): the indexes whose messages
 * are in it wait here until the end says it is durable. */
struct listed {
	int *idx;
	size_t n;
	bool open;
};

static void listing_begin(struct modem *m, struct listed *l, size_t max)
{
	memset(l, 0, sizeof(*l));
	if (m->listing_failed || !m->ops->listing || max == 0) {
		m->listing_failed = false;
		return;
	}
	l->idx = malloc(max * sizeof(*l->idx));
	if (l->idx && m->ops->listing(m->ud, true) == 0)
		l->open = true;
}

/* 0 from ops->sms: deleted now, or kept for the listing's commit */
static void delivered(struct modem *m, struct listed *l, int idx)
{
	if (l->open)
		l->idx[l->n++] = idx;
	else
		delete_index(m, idx);
}

static void listing_end(struct modem *m, struct listed *l)
{
	if (l->open && m->ops->listing(m->ud, false) == 0) {
		for (size_t i = 0; i < l->n; i++)
			delete_index(m, l->idx[i]);
	} else if (l->open) {
		/* Nothing was stored. The next listing, at once, commits
		 * message by message: one that cannot be stored no longer
		 * holds back the others, and is left alone as before. */
		modem_log(m, MODEM_LOG_WARN,
			  "the %zu listed SMS were not committed together: "
			  "they stay in storage and are read again one by one",
			  l->n);
		m->listing_failed = true;
		m->drain_requested = true;
	}
	free(l->idx);
}

static void cmgl_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct listed l;

	if (r->result == AT_TIMEOUT || r->result == AT_ERROR ||
	    r->result == AT_NOT_SUPPORTED) {
		/* doc/modem.md: some modems hang on (or refuse) +CMGL; read
		 * index by index from now on */
		m->cmgl_broken = true;
		m->drain_requested = true;
		modem_log(
		    m, MODEM_LOG_WARN,
		    "AT+CMGL=4 %s: reading storage index by index instead",
		    r->result == AT_TIMEOUT ? "hangs" : "is refused");
	}
	if (!modem_act_check(m, r, "AT+CMGL"))
		return;
	if (r->result != AT_OK)
		modem_log(m, MODEM_LOG_WARN, "listing stored SMS failed (%s)",
			  r->final);
	listing_begin(m, &l, r->result == AT_OK ? r->nlines : 0);
	for (size_t i = 0; r->result == AT_OK && i < r->nlines; i++) {
		struct at_iter it;
		int idx, stat, len = -1;

		/* TS 27.005 3.4.2: +CMGL: <index>,<stat>,[<alpha>],<length>
		 */
		if (!r->pdus[i] || !at_iter_begin(&it, r->lines[i], "+CMGL:") ||
		    !at_iter_next_number(&it, &idx))
			continue;
		at_iter_next_number(&it, &stat);
		at_iter_skip(&it);
		at_iter_next_number(&it, &len);
		if (modem_deliver(m, idx, r->pdus[i], len) == 0)
			delivered(m, &l, idx);
	}
	listing_end(m, &l);
	drain_other_mem(m);
	modem_act_done(m);
}

static void cpms_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!modem_act_check(m, r, "AT+CPMS"))
		return;
	if (r->result != AT_OK)
		modem_log(m, MODEM_LOG_WARN,
			  "switching SMS storage failed (%s)", r->final);
	modem_act_done(m);
}

static void select_mem(struct modem *m, const char *mem)
{
	char cmd[32];

	if (strcmp(m->mem1, mem) == 0)
		return;
	/* +CMTI may name another memory (Huawei E3531 uses ME): mem1 is
	 * where +CMGR/+CMGD act (TS 27.005 3.2.2). */
	snprintf(m->mem1, sizeof(m->mem1), "%s", mem);
	snprintf(cmd, sizeof(cmd), "AT+CPMS=\"%s\"", mem);
	modem_act_cmd(m, cmd, "+CPMS:", m->cfg.cmd_timeout_ms, cpms_cb);
}

static void cmgr_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int stat, len = -1;

	if (!modem_act_check(m, r, "AT+CMGR"))
		return;
	if (r->result == AT_CMS_ERROR && r->code == 321) {
		/* empty index: already read and deleted */
	} else if (r->result != AT_OK) {
		modem_log(m, MODEM_LOG_WARN, "reading SMS %d failed (%s)",
			  m->read_idx, r->final);
	} else if (r->nlines > 0 && r->pdus[0] &&
		   at_iter_begin(&it, r->lines[0], "+CMGR:")) {
		/* TS 27.005 3.4.3: +CMGR: <stat>,[<alpha>],<length> */
		at_iter_next_number(&it, &stat);
		at_iter_skip(&it);
		at_iter_next_number(&it, &len);
		if (modem_deliver(m, m->read_idx, r->pdus[0], len) == 0)
			delete_index(m, m->read_idx);
	}
	select_mem(m, m->storage);
	modem_act_done(m);
}

void modem_start_read(struct modem *m)
{
	struct read_req rq = m->reads[0];
	char cmd[32];

	memmove(m->reads, m->reads + 1, --m->nreads * sizeof(m->reads[0]));
	m->act = ACT_READ;
	select_mem(m, rq.mem);
	m->read_idx = rq.idx;
	snprintf(cmd, sizeof(cmd), "AT+CMGR=%d", rq.idx);
	modem_act_cmd(m, cmd, "+CMGR:", m->cfg.cmd_timeout_ms, cmgr_cb);
}

static void scan_next(struct modem *m);

static void scan_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int idx = m->scan_idx - 1, stat, len = -1;

	if (!modem_act_check(m, r, "AT+CMGR"))
		return;
	if (r->result == AT_OK && r->nlines > 0 && r->pdus[0] &&
	    at_iter_begin(&it, r->lines[0], "+CMGR:")) {
		m->scan_left--;
		at_iter_next_number(&it, &stat);
		at_iter_skip(&it);
		at_iter_next_number(&it, &len);
		if (modem_deliver(m, idx, r->pdus[0], len) == 0)
			delete_index(m, idx);
	}
	/* CMS 321: empty slot, go on (doc/modem.md) */
	scan_next(m);
	modem_act_done(m);
}

/* Index 0 (Huawei) up to the capacity (1-based modems), stopping once
 * every used slot was seen. */
static void scan_next(struct modem *m)
{
	char cmd[32];

	if (m->scan_left <= 0 || m->scan_idx > m->scan_total)
		return;
	snprintf(cmd, sizeof(cmd), "AT+CMGR=%d", m->scan_idx++);
	modem_act_cmd(m, cmd, "+CMGR:", m->cfg.cmd_timeout_ms, scan_cb);
}

static void cpms_query_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	char mem[4];

	if (!modem_act_check(m, r, "AT+CPMS?"))
		return;
	/* TS 27.005 3.2.2: +CPMS: <mem1>,<used1>,<total1>,... */
	m->scan_idx = 0;
	m->scan_left = m->scan_total = 0;
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CPMS:") &&
	    at_iter_next_string(&it, mem, sizeof(mem)) &&
	    at_iter_next_number(&it, &m->scan_left) &&
	    at_iter_next_number(&it, &m->scan_total))
		scan_next(m);
	else
		modem_log(m, MODEM_LOG_WARN, "cannot count stored SMS (%s)",
			  r->final);
	modem_act_done(m);
}

void modem_start_drain(struct modem *m)
{
	m->drain_requested = false;
	m->act = ACT_DRAIN;
	m->rescan_at =
	    m->now + (m->cnmi_ok ? RESCAN_INTERVAL_MS : RESCAN_NO_CNMI_MS);
	select_mem(m, m->storage);
	m->drain_me = m->vendor->drain_me && strcmp(m->storage, "ME") != 0 &&
		      !m->cmgl_broken;
	m->drain_restore = false;
	if (m->cmgl_broken) {
		modem_act_cmd(m, "AT+CPMS?", "+CPMS:", m->cfg.cmd_timeout_ms,
			      cpms_query_cb);
		return;
	}
	/* TS 27.005 3.4.2: stat 4 = all messages in PDU mode */
	modem_act_cmd(m, "AT+CMGL=4", "+CMGL:", m->cfg.cmd_timeout_ms * 3,
		      cmgl_cb);
}
