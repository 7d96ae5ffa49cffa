/* simpul-modemsim: the SMS side of the simulated modem — its storage
 * (TS 27.005 3.2.2 +CPMS, 3.4 +CMGL/+CMGR/+CMGD), new-message indications
 * (+CNMI, +CMTI), sending (+CMGS and its "> " prompt) and the network's
 * status reports. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pdu.h"
#include "sim.h"

int modem_index_base(struct sim *sim)
{
	return sim_huawei(sim) ? 0 : 1; /* Huawei numbers SIM slots from 0 */
}

static struct mem *mem_of(struct sim *sim, int which)
{
	return &sim->mems[sim->mem_sel[which]];
}

static int mem_used(struct sim *sim, const struct mem *m)
{
	int n = 0;

	for (int i = 0; i < sim->capacity; i++)
		n += m->slots[i].used;
	return n;
}

/* ---- SMS delivery ---- */

static int store(struct sim *sim, struct mem *m, int stat, const char *pdu,
		 int len)
{
	int lim = m == mem_of(sim, 2) ? sim->cap_limit : sim->capacity;

	if (mem_used(sim, m) >= lim)
		return -1;
	for (int i = 0; i < sim->capacity; i++) {
		if (m->slots[i].used)
			continue;
		m->slots[i].used = true;
		m->slots[i].stat = stat;
		snprintf(m->slots[i].pdu, sizeof(m->slots[i].pdu), "%s", pdu);
		m->slots[i].len = len;
		return i;
	}
	return -1;
}

static bool indications_on(struct sim *sim)
{
	return sim->cnmi[0] != 0 && sim->master >= 0;
}

/* Delivers one SMS-DELIVER from the network. TS 27.005 3.4.1 <mt>:
 * 1 store + +CMTI, 2 route as +CMT (not stored: lost if not read).
 * Returns 0, or 1 when it has to wait at the SMSC (memory full, or the
 * SIM800 is not yet "SMS Ready"). */
int modem_deliver(struct sim *sim, const char *pdu, int len)
{
	if (!sim->sms_ready || sim->pin_required || sim->npending) {
		if (sim->npending >= MAX_PENDING)
			return -1;
		goto wait;
	}
	if (sim->cnmi[1] == 2 && indications_on(sim)) {
		port_printf(sim, "\r\n+CMT: ,%d\r\n%s\r\n", len, pdu);
		sim->stats.received++;
		return 0;
	}
	int idx = store(sim, mem_of(sim, 2), 0, pdu, len);

	if (idx < 0) {
		if (sim->npending >= MAX_PENDING)
			return -1;
		goto wait;
	}
	sim->stats.received++;
	if (sim->cnmi[1] == 1 && indications_on(sim))
		port_line(sim, "+CMTI: \"%s\",%d", mem_of(sim, 2)->name,
			  idx + modem_index_base(sim));
	return 0;
wait:
	snprintf(sim->pending[sim->npending].pdu, sizeof(sim->pending[0].pdu),
		 "%s", pdu);
	sim->pending[sim->npending++].len = len;
	return 1;
}

void sms_deliver_pending(struct sim *sim)
{
	static struct pending q[MAX_PENDING];
	int n = sim->npending;

	/* In arrival order; once one has to wait again, modem_deliver(sim)
	 * queues every later one behind it. */
	memcpy(q, sim->pending, (size_t)n * sizeof(q[0]));
	sim->npending = 0;
	for (int i = 0; i < n; i++)
		modem_deliver(sim, q[i].pdu, q[i].len);
}

/* ---- sent messages ---- */

static void record_sent(struct sim *sim, const char *hex,
			const struct pdu_message *m, int mr)
{
	struct sent *s = NULL;

	if (m->parts > 1) {
		for (int i = sim->nsent - 1; i >= 0; i--) {
			struct sent *c = &sim->sent[i];

			if (c->parts == m->parts && c->ref == m->ref &&
			    c->got < c->parts && !strcmp(c->to, m->number)) {
				s = c;
				break;
			}
		}
	}
	if (!s) {
		if (sim->nsent >= MAX_SENT)
			return;
		s = &sim->sent[sim->nsent++];
		memset(s, 0, sizeof(*s));
		snprintf(s->to, sizeof(s->to), "%s", m->number);
		s->ref = m->ref;
		s->parts = m->parts > 16 ? 16 : m->parts;
	}
	int seq = m->seq >= 1 && m->seq <= s->parts ? m->seq - 1 : s->got;

	if (seq >= 16)
		return;
	/* A part sent again (resumed after a restart) replaces the copy,
	 * as a phone does; got counts distinct parts. */
	if (!s->texts[seq])
		s->got++;
	else
		s->repeats++;
	free(s->texts[seq]);
	free(s->pdus[seq]);
	s->texts[seq] = strdup(m->text ? m->text : "");
	s->pdus[seq] = strdup(hex);
	s->mr = mr;
}

/* Builds the SMS-STATUS-REPORT the SMSC sends back (TS 23.040 9.2.2.3). */
static int build_report(int mr, const char *to, char *hex, size_t hexlen)
{
	char digits[40];
	int nd = 0, toa = 0x81;
	const char *p = to;
	time_t t = time(NULL) + 7 * 3600;
	struct tm tm;
	char ts[64];

	if (*p == '+') {
		toa = 0x91;
		p++;
	}
	for (; *p && nd < 20; p++)
		if (isdigit((unsigned char)*p))
			digits[nd++] = *p;
	digits[nd] = '\0';
	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	size_t o = 0;

	/* SMSC "00", first octet 06 (MTI=10 status report, TP-SRQ=1). */
	o += (size_t)snprintf(hex + o, hexlen - o, "0006%02X%02X%02X", mr & 255,
			      nd, toa);
	for (int i = 0; i < nd; i += 2)
		o += (size_t)snprintf(hex + o, hexlen - o, "%c%c",
				      i + 1 < nd ? digits[i + 1] : 'F',
				      digits[i]);
	for (int k = 0; k < 2; k++) { /* TP-SCTS, TP-DT: same moment */
		for (int i = 0; i < 12; i += 2)
			o += (size_t)snprintf(hex + o, hexlen - o, "%c%c",
					      ts[i + 1], ts[i]);
		o += (size_t)snprintf(hex + o, hexlen - o, "82"); /* +7h */
	}
	o += (size_t)snprintf(hex + o, hexlen - o, "00"); /* delivered */
	return (int)(o / 2 - 1);
}

/* ---- PDU prompt (AT+CMGS) ---- */

static void finish_send(struct sim *sim, const char *hex)
{
	struct pdu_message m;
	char err[200];
	size_t hl = strlen(hex);
	int smsc_octets;

	sim->stats.sends++;
	if (hl < 2 || sscanf(hex, "%2x", (unsigned *)&smsc_octets) != 1 ||
	    (int)hl != 2 * (smsc_octets + 1 + sim->prompt_len) ||
	    pdu_decode(hex, true, sim->prompt_len, &m, err, sizeof(err)) < 0) {
		sim_cms(sim,
			304); /* TS 27.005 3.2.5: invalid PDU mode parameter */
		return;
	}
	if (m.kind != PDU_SUBMIT) {
		pdu_message_clear(&m);
		sim_cms(sim, 304);
		return;
	}
	if (sim->cms_fault_count > 0 && sim->cms_fault_after > 0) {
		sim->cms_fault_after--;
	} else if (sim->cms_fault_count > 0) {
		sim->cms_fault_count--;
		pdu_message_clear(&m);
		sim_cms(sim, sim->cms_fault_code);
		return;
	}
	if (!sim->registered) {
		pdu_message_clear(&m);
		sim_cms(sim, 331); /* no network service */
		return;
	}
	sim->mr = (sim->mr + 1) & 255;
	record_sent(sim, hex, &m, sim->mr);
	/* The network answers after a while (doc/modem.md: up to tens of
	 * seconds on real networks). */
	timer_add(sim, sim->cmgs_delay_ms, T_CMGS, sim->mr, NULL);
	unsigned fo = 0;

	sscanf(hex + 2 * (smsc_octets + 1), "%2x", &fo);
	if (fo & 0x20) /* TP-SRR: a status report will follow */
		timer_add(sim, 1500, T_REPORT, sim->mr, m.number);
	pdu_message_clear(&m);
}

void sms_prompt_input(struct sim *sim, char c)
{
	if (c == ESC) {
		/* V.25ter/TS 27.005 3.5.1: ESC aborts without sending. */
		sim->in_prompt = false;
		sim->in_len = 0;
		sim_ok(sim);
		return;
	}
	if (c == CTRL_Z) {
		sim->in[sim->in_len] = '\0';
		sim->in_prompt = false;
		char hex[sizeof(sim->in)];
		size_t k = 0;

		for (size_t i = 0; i < sim->in_len; i++)
			if (isxdigit((unsigned char)sim->in[i]))
				hex[k++] = sim->in[i];
		hex[k] = '\0';
		sim->in_len = 0;
		finish_send(sim, hex);
		return;
	}
	if (sim->in_len < sizeof(sim->in) - 1)
		sim->in[sim->in_len++] = c;
}

/* ---- the commands ---- */

/* SIM800 refuses SMS commands until "SMS Ready" (CMS 302); a SIM that
 * wants its PIN refuses them with CMS 311. */
static bool sms_blocked(struct sim *sim)
{
	if (sim->pin_required) {
		sim_cms(sim, sim->puk ? 316 : 311);
		return true;
	}
	if (!sim->sms_ready) {
		sim_cms(sim, 302);
		return true;
	}
	return false;
}

static bool mem_by_name(struct sim *sim, const char *n, int *out)
{
	for (int i = 0; i < 2; i++) {
		if (!strcasecmp(n, sim->mems[i].name) ||
		    (!strcasecmp(n, "MT") && i == 1)) {
			*out = i;
			return true;
		}
	}
	return false;
}

void sms_cpms(struct sim *sim, const struct cmd *c)
{
	if (sms_blocked(sim))
		return;
	if (c->type == TEST) {
		port_line(sim, "+CPMS: (\"SM\",\"ME\"),(\"SM\",\"ME\"),"
			       "(\"SM\",\"ME\")");
		sim_ok(sim);
		return;
	}
	if (c->type == SET) {
		char n[8];
		int sel[3] = {sim->mem_sel[0], sim->mem_sel[1],
			      sim->mem_sel[2]};

		for (int i = 0; i < 3; i++) {
			if (!sim_arg_str(c->args, i, n, sizeof(n)) || !n[0])
				continue;
			if (!mem_by_name(sim, n, &sel[i])) {
				sim_cms(sim, 302);
				return;
			}
		}
		memcpy(sim->mem_sel, sel, sizeof(sel));
		port_line(sim, "+CPMS: %d,%d,%d,%d,%d,%d",
			  mem_used(sim, mem_of(sim, 0)), sim->capacity,
			  mem_used(sim, mem_of(sim, 1)), sim->capacity,
			  mem_used(sim, mem_of(sim, 2)), sim->capacity);
		sim_ok(sim);
		return;
	}
	if (c->type == READ) {
		port_line(sim, "+CPMS: \"%s\",%d,%d,\"%s\",%d,%d,\"%s\",%d,%d",
			  mem_of(sim, 0)->name, mem_used(sim, mem_of(sim, 0)),
			  sim->capacity, mem_of(sim, 1)->name,
			  mem_used(sim, mem_of(sim, 1)), sim->capacity,
			  mem_of(sim, 2)->name, mem_used(sim, mem_of(sim, 2)),
			  sim->capacity);
		sim_ok(sim);
		return;
	}
	sim_error(sim);
}

static const char *stat_text(int stat)
{
	static const char *t[] = {"REC UNREAD", "REC READ", "STO UNSENT",
				  "STO SENT"};

	return t[stat & 3];
}

static int stat_from_text(const char *s)
{
	static const char *t[] = {"REC UNREAD", "REC READ", "STO UNSENT",
				  "STO SENT", "ALL"};

	for (int i = 0; i < 5; i++)
		if (!strcasecmp(s, t[i]))
			return i;
	return -1;
}

/* Text mode (+CMGF=1) header and body of one stored message. */
static void text_mode_entry(struct sim *sim, const char *prefix, int idx,
			    const struct slot *s)
{
	struct pdu_message m;
	char err[128];

	if (pdu_decode(s->pdu, true, s->len, &m, err, sizeof(err)) < 0) {
		port_printf(sim, "%s%s%d,\"%s\",\"\",,\"\"\r\n\r\n", prefix,
			    idx >= 0 ? "" : "", idx, stat_text(s->stat));
		return;
	}
	char when[32] = "";

	if (m.scts) {
		time_t t = (time_t)m.scts + 7 * 3600;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%y/%m/%d,%H:%M:%S+28", &tm);
	}
	if (idx >= 0)
		port_printf(sim, "%s%d,\"%s\",\"%s\",,\"%s\"\r\n%s\r\n", prefix,
			    idx, stat_text(s->stat), m.number, when,
			    m.text ? m.text : "");
	else
		port_printf(sim, "%s\"%s\",\"%s\",,\"%s\"\r\n%s\r\n", prefix,
			    stat_text(s->stat), m.number, when,
			    m.text ? m.text : "");
	pdu_message_clear(&m);
}

void sms_cmgl(struct sim *sim, const struct cmd *c)
{
	int want = 4, listed = 0;

	if (sms_blocked(sim))
		return;
	if (c->type == TEST) {
		if (sim->cmgf)
			port_line(sim, "+CMGL: (\"REC UNREAD\",\"REC READ\","
				       "\"STO UNSENT\",\"STO SENT\",\"ALL\")");
		else
			port_line(sim, "+CMGL: (0-4)");
		sim_ok(sim);
		return;
	}
	if (c->type == SET) {
		if (sim->cmgf) {
			char s[16];

			sim_arg_str(c->args, 0, s, sizeof(s));
			want = stat_from_text(s);
		} else {
			want = sim_arg_int(c->args, 0, -1);
		}
		if (want < 0 || want > 4) {
			sim_cms(sim, 302);
			return;
		}
	} else if (c->type == EXEC) {
		want = 0; /* default <stat> is "REC UNREAD" */
	} else {
		sim_error(sim);
		return;
	}
	sim->stats.lists++;
	struct mem *m = mem_of(sim, 0);

	port_printf(sim, "\r\n");
	for (int i = 0; i < sim->capacity; i++) {
		struct slot *s = &m->slots[i];

		if (!s->used || (want != 4 && s->stat != want))
			continue;
		if (listed++)
			sim_inline_noise(sim);
		if (sim->cmgf)
			text_mode_entry(
			    sim, "+CMGL: ", i + modem_index_base(sim), s);
		else
			port_printf(sim, "+CMGL: %d,%d,,%d\r\n%s\r\n",
				    i + modem_index_base(sim), s->stat, s->len,
				    s->pdu);
		if (s->stat == 0)
			s->stat = 1; /* listing marks received SMS read */
	}
	port_printf(sim, "\r\nOK\r\n");
}

static struct slot *slot_at(struct sim *sim, struct mem *m, int idx)
{
	int i = idx - modem_index_base(sim);

	if (i < 0 || i >= sim->capacity)
		return NULL;
	return &m->slots[i];
}

/* For commands that act only when set: the test form answers OK, the
 * others ERROR. Returns whether c is the set form. */
void sms_cmgr(struct sim *sim, const struct cmd *c)
{
	if (sms_blocked(sim))
		return;
	if (!sim_set_only(sim, c))
		return;
	struct slot *s =
	    slot_at(sim, mem_of(sim, 0), sim_arg_int(c->args, 0, -1));

	sim->stats.reads++;
	if (!s) {
		sim_cms(sim, 321); /* invalid memory index */
		return;
	}
	if (!s->used) {
		/* SIM800 answers an empty slot with OK alone, Huawei with
		 * CMS 321 (doc/modem.md). */
		if (sim_huawei(sim))
			sim_cms(sim, 321);
		else
			sim_ok(sim);
		return;
	}
	if (sim->cmgf)
		text_mode_entry(sim, "\r\n+CMGR: ", -1, s);
	else
		port_printf(sim, "\r\n+CMGR: %d,,%d\r\n%s\r\n", s->stat, s->len,
			    s->pdu);
	if (s->stat == 0)
		s->stat = 1;
	port_printf(sim, "\r\nOK\r\n");
}

void sms_cmgd(struct sim *sim, const struct cmd *c)
{
	if (sms_blocked(sim))
		return;
	if (c->type == TEST) {
		struct strbuf b = {0};

		(void)b;
		port_printf(sim, "\r\n+CMGD: (");
		int first = 1;

		for (int i = 0; i < sim->capacity; i++) {
			if (mem_of(sim, 0)->slots[i].used) {
				port_printf(sim, "%s%d", first ? "" : ",",
					    i + modem_index_base(sim));
				first = 0;
			}
		}
		port_printf(sim, "),(0-4)\r\n");
		sim_ok(sim);
		return;
	}
	if (c->type != SET) {
		sim_error(sim);
		return;
	}
	int idx = sim_arg_int(c->args, 0, -1),
	    flag = sim_arg_int(c->args, 1, 0);
	struct mem *m = mem_of(sim, 0);

	if (flag < 0 || flag > 4) {
		sim_cms(sim, 302);
		return;
	}
	if (flag == 0) {
		struct slot *s = slot_at(sim, m, idx);

		if (!s) {
			sim_cms(sim, 321);
			return;
		}
		if (s->used)
			sim->stats.deletes++;
		s->used = false;
	} else {
		/* TS 27.005 3.5.4 <delflag>: 1 read, 2 read+sent,
		 * 3 read+sent+unsent, 4 all; <index> is ignored. */
		for (int i = 0; i < sim->capacity; i++) {
			struct slot *s = &m->slots[i];
			bool del = flag == 4 || (s->stat == 1) ||
				   (flag >= 2 && s->stat == 3) ||
				   (flag >= 3 && s->stat == 2);

			if (s->used && del) {
				s->used = false;
				sim->stats.deletes++;
			}
		}
	}
	sim_ok(sim);
	if (sim->npending)
		timer_add(sim, 300, T_PENDING, 0, NULL);
}

void sms_cmgs(struct sim *sim, const struct cmd *c)
{
	if (sms_blocked(sim))
		return;
	if (c->type == TEST) {
		sim_ok(sim);
		return;
	}
	int len = sim_arg_int(c->args, 0, -1);

	if (c->type != SET || sim->cmgf || len < 7 || len > 164) {
		sim_cms(sim, 304);
		return;
	}
	sim->prompt_len = len;
	sim->in_prompt = true;
	sim->in_len = 0;
	/* The prompt comes with no line ending after it (doc/modem.md). */
	port_printf(sim, "\r\n> ");
}

void sms_cnmi(struct sim *sim, const struct cmd *c)
{
	if (c->type == TEST) {
		if (sim_huawei(sim))
			port_line(sim, "+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),"
				       "(0,1)");
		else
			port_line(sim, "+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)");
		sim_ok(sim);
		return;
	}
	if (c->type == READ) {
		port_line(sim, "+CNMI: %d,%d,%d,%d,%d", sim->cnmi[0],
			  sim->cnmi[1], sim->cnmi[2], sim->cnmi[3],
			  sim->cnmi[4]);
		sim_ok(sim);
		return;
	}
	if (c->type != SET) {
		sim_error(sim);
		return;
	}
	int v[5];

	for (int i = 0; i < 5; i++)
		v[i] = sim_arg_int(c->args, i, i == 0 ? -1 : 0);
	bool bad = v[0] < 0 || v[0] > 3 || v[1] < 0 || v[1] > 3 || v[2] < 0 ||
		   v[2] > 3 || v[3] < 0 || v[3] > 2 || v[4] < 0 || v[4] > 1;
	/* The E3531 advertises <bm> 0 but rejects it (doc/modem.md: several
	 * chipsets advertise values they reject). */
	if (sim_huawei(sim) && v[2] != 2)
		bad = true;
	if (bad) {
		sim_cms(sim, 303);
		return;
	}
	memcpy(sim->cnmi, v, sizeof(v));
	sim_ok(sim);
}

/* The network's status report for mr arrives: routed (+CDS) or stored
 * (+CDSI) as AT+CNMI's <ds> says (TS 27.005 3.4.1). */
void sms_status_report(struct sim *sim, int mr, const char *to)
{
	char hex[200];
	int len = build_report(mr, to, hex, sizeof(hex));

	if (sim->cnmi[3] == 1 && indications_on(sim)) {
		port_printf(sim, "\r\n+CDS: %d\r\n%s\r\n", len, hex);
	} else if (sim->cnmi[3] == 2) {
		int idx = store(sim, mem_of(sim, 2), 0, hex, len);

		if (idx >= 0 && indications_on(sim))
			port_line(sim, "+CDSI: \"%s\",%d", mem_of(sim, 2)->name,
				  idx + modem_index_base(sim));
	}
}
