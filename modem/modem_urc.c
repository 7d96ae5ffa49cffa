/* modem_urc: unsolicited lines (new SMS, routed SMS, reboots, SIM and
 * power trouble, caller id, registration, USSD) and bursts of garbage
 * that mean a wrong port or baud rate. */
#include <stdio.h>
#include <string.h>

#include "modem_int.h"

static void queue_read(struct modem *m, const char *mem, int idx)
{
	for (int i = 0; i < m->nreads; i++)
		if (m->reads[i].idx == idx && strcmp(m->reads[i].mem, mem) == 0)
			return;
	if (m->nreads == MAX_READS) {
		m->drain_requested = true; /* too many: list them all */
		return;
	}
	snprintf(m->reads[m->nreads].mem, sizeof(m->reads[0].mem), "%s", mem);
	m->reads[m->nreads++].idx = idx;
}

static bool session_up(const struct modem *m)
{
	return m->st >= MODEM_INIT && m->st <= MODEM_READY;
}

/* +CMTI/+CDSI: "<mem>",<index> (TS 27.005 3.4.1) */
static void urc_cmti(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	char mem[4];
	int idx;

	if (!session_up(m))
		return;
	at_iter_begin(&it, line, line[2] == 'M' ? "+CMTI:" : "+CDSI:");
	if (!at_iter_next_string(&it, mem, sizeof(mem)) ||
	    !at_iter_next_number(&it, &idx)) {
		modem_log(m, MODEM_LOG_WARN,
			  "unreadable indication \"%s\": reading "
			  "all storage",
			  line);
		m->drain_requested = true;
	} else {
		queue_read(m, mem, idx);
	}
	modem_ready_next(m);
}

/* +CMT: [<alpha>],<length> / +CDS: <length>, then the PDU: routed to us,
 * lost unless handled now. */
static void urc_cmt(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	int len = -1;

	if (!pdu) {
		modem_log(m, MODEM_LOG_WARN, "%s came without a PDU line",
			  line);
		return;
	}
	if (strncmp(line, "+CMT:", 5) == 0) {
		at_iter_begin(&it, line, "+CMT:");
		at_iter_skip(&it);
	} else {
		at_iter_begin(&it, line, "+CDS:");
	}
	at_iter_next_number(&it, &len);
	if (modem_deliver(m, -1, pdu, len) != 0)
		modem_log(m, MODEM_LOG_ERR,
			  "a routed SMS was not stored and "
			  "cannot be read again");
}

static void urc_reboot(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	char why[96];
	bool boot = strncmp(line, "^BOOT", 5) == 0;

	/* ^BOOT is Huawei's heartbeat until ^CURC=0; in READY it means
	 * the stick restarted and forgot our settings. */
	if (m->st != MODEM_READY && (boot || m->st != MODEM_REGISTER))
		return;
	if (boot && !m->heartbeat_off)
		return; /* the flood was never switched off: just noise */
	if (m->reinit_at && m->now - m->reinit_at < REBOOT_QUIET_MS)
		return; /* the tail of the boot we already handle */
	snprintf(why, sizeof(why),
		 "modem restarted (\"%s\"): initialising "
		 "again",
		 line);
	modem_reinit(m, why);
}

static void urc_cfun(void *ud, const char *line, const char *pdu)
{
	if (strcmp(line, "+CFUN: 1") == 0)
		urc_reboot(ud, line, pdu);
}

static void urc_cpin(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	if (strstr(line, "NOT") && m->st == MODEM_READY) {
		modem_log(m, MODEM_LOG_ERR, "SIM gone (%s)", line);
		modem_reinit(m, "SIM not ready");
	}
}

static void urc_power(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	modem_log(m, MODEM_LOG_ERR,
		  "modem reports \"%s\": its power supply is too weak (use a "
		  "powered USB hub or a 2 A supply)",
		  line);
	if (strstr(line, "POWER DOWN") && m->fd >= 0)
		modem_recover(m, "modem powered down");
}

static void call_report(struct modem *m, int act, const struct modem_ring *ev)
{
	if ((act & (MODEM_CALL_RINGING | MODEM_CALL_ENDED)) && m->ops->ring)
		m->ops->ring(m->ud, ev);
}

static void hangup_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct modem_ring ev;

	if (r->result == AT_CANCELLED)
		return;
	if (r->result != AT_OK)
		modem_log(m, MODEM_LOG_WARN, "hanging up a call failed (%s)",
			  r->final);
	call_report(m, modem_call_hung_up(&m->call, &ev), &ev);
}

void modem_urc_call_tick(struct modem *m)
{
	struct modem_ring ev;

	call_report(m, modem_call_tick(&m->call, m->now, &ev), &ev);
}

/* RING, +CRING, +CLIP, ^CEND, NO CARRIER: modem_call.c follows the call;
 * the vendor table says how to hang up (ATH unless it says otherwise). */
static void urc_call(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct modem_ring ev;
	int act = modem_call_urc(&m->call, line, m->now,
				 (int)m->cfg.hangup_rings, &ev);

	if (act & MODEM_CALL_HANG_UP)
		at_send(m->at,
			m->vendor && m->vendor->hangup ? m->vendor->hangup
						       : "ATH",
			NULL, m->cfg.cmd_timeout_ms, hangup_cb, m);
	call_report(m, act, &ev);
}

static void urc_creg(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	int stat;

	/* unsolicited form: +CREG: <stat>[,<lac>,<ci>[,<AcT>]] */
	at_iter_begin(&it, line, line[2] == 'E' ? "+CEREG:" : "+CREG:");
	if (!at_iter_next_number(&it, &stat))
		return;
	if (line[2] != 'E')
		m->health.creg_stat = stat;
	if (m->st == MODEM_READY && !modem_is_registered(stat))
		modem_log(m, MODEM_LOG_WARN, "network registration lost (%s)",
			  line);
}

static void urc_memfull(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	modem_log(m, MODEM_LOG_WARN, "SMS storage full (%s): reading it all",
		  line);
	m->drain_requested = true;
	modem_ready_next(m);
}

static void urc_other(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;

	modem_log(m, MODEM_LOG_DEBUG, "unsolicited: %s", line);
}

static void urc_noise(void *ud, const char *line, const char *pdu)
{
	/* ^RSSI, ^HCSQ, ^MODE, ^NWTIME, ^SIMST: nothing to do, and
	 * they must not touch a command's deadline (doc/modem.md). */
}

static void garbage_cb(void *ud, enum at_event ev)
{
	struct modem *m = ud;

	if (m->now - m->garbage_since > GARBAGE_WINDOW_MS) {
		m->garbage_since = m->now;
		m->garbage = 0;
	}
	if (++m->garbage >= GARBAGE_BURST && m->fd >= 0) {
		m->garbage = 0;
		modem_recover(
		    m, "a burst of garbage from the modem (wrong baud rate "
		       "or a port that is not the AT port?)");
	}
}

/* Handlers by line prefix (TS 27.007, TS 27.005 and vendor lines that
 * doc/modem.md lists); the last one takes everything else. */
static const struct {
	const char *prefix;
	at_urc_cb cb;
} urcs[] = {
    {"+CMTI:", urc_cmti},
    {"+CDSI:", urc_cmti},
    {"+CMT:", urc_cmt},
    {"+CDS:", urc_cmt},
    {"RDY", urc_reboot},
    {"Call Ready", urc_reboot},
    {"SMS Ready", urc_reboot},
    {"^BOOT", urc_reboot},
    {"+CFUN:", urc_cfun},
    {"+CPIN:", urc_cpin},
    {"UNDER-VOLTAGE", urc_power},
    {"POWER DOWN", urc_power},
    {"NORMAL POWER DOWN", urc_power},
    {"+CLIP:", urc_call},
    {"+CRING:", urc_call},
    {"^CEND", urc_call},
    {"NO CARRIER", urc_call},
    {"+CREG:", urc_creg},
    {"+CEREG:", urc_creg},
    {"+CUSD:", modem_urc_cusd},
    {"^SMMEMFULL", urc_memfull},
    {"RING", urc_call},
    {"^RSSI", urc_noise},
    {"^HCSQ", urc_noise},
    {"^MODE", urc_noise},
    {"^NWTIME", urc_noise},
    {"^SIMST", urc_noise},
    {"^SRVST", urc_noise},
    {"^DSFLOWRPT", urc_noise},
    {NULL, urc_other},
};

int modem_urc_register(struct modem *m)
{
	for (size_t i = 0; i < sizeof(urcs) / sizeof(urcs[0]); i++)
		if (at_register_urc(m->at, urcs[i].prefix, urcs[i].cb, m) < 0)
			return -1;
	at_set_garbage_handler(m->at, garbage_cb, m);
	return 0;
}
