/* simpul-modemsim: the AT command set of a SIM800 or a Huawei E3531 in PDU
 * mode (3GPP TS 27.007, TS 27.005, V.250) with their quirks (MODEM.md). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pdu.h"
#include "sim.h"

#define CTRL_Z 0x1A
#define ESC 0x1B

static bool huawei(void)
{
	return S.profile == PROFILE_E3531;
}

int modem_index_base(void)
{
	return huawei() ? 0 : 1; /* Huawei numbers SIM slots from 0 */
}

static struct mem *mem_of(int which)
{
	return &S.mems[S.mem_sel[which]];
}

static int mem_used(const struct mem *m)
{
	int n = 0;

	for (int i = 0; i < S.capacity; i++)
		n += m->slots[i].used;
	return n;
}

/* ---- state ---- */

static void reset_settings(void)
{
	/* What ATZ and a power cycle restore (V.250 6.1.1). */
	S.echo = S.default_echo || S.profile == PROFILE_SIM800;
	S.cmee = 0;
	S.cmgf = 0;
	S.csdh = 0;
	S.creg_n = S.cgreg_n = S.cereg_n = 0;
	/* Power-on CNMI: indications of new SMS on (SIM800 2,1,0,0,0). */
	int cnmi[5] = {2, 1, 0, 0, 0};

	memcpy(S.cnmi, cnmi, sizeof(cnmi));
	snprintf(S.cscs, sizeof(S.cscs), "%s", huawei() ? "IRA" : "GSM");
}

void modem_defaults(void)
{
	S.profile = PROFILE_SIM800;
	S.capacity = 30;
	S.cmgs_delay_ms = 400;
	snprintf(S.smsc, sizeof(S.smsc), "+6281100000");
	snprintf(S.own, sizeof(S.own), "+6281200000000");
	snprintf(S.credit, sizeof(S.credit), "12.500");
	S.mems[0].name = "SM";
	S.mems[1].name = "ME";
	S.registered = true;
	S.mr = 0;
}

void modem_boot(void)
{
	reset_settings();
	S.cap_limit = S.capacity;
	S.in_len = 0;
	S.in_prompt = false;
	S.mem_sel[0] = S.mem_sel[1] = 0;
	/* The E3531 stores incoming SMS in ME until told otherwise. */
	S.mem_sel[2] = huawei() ? 1 : 0;
	S.pin_tries = 0;
	timer_cancel(T_BOOT);
	timer_cancel(T_NOISE);
	if (huawei()) {
		S.sms_ready = true;
		S.curc = true;
		timer_add(100, T_BOOT, 10, NULL);
		timer_add(1500, T_NOISE, 0, NULL);
	} else {
		S.sms_ready = false;
		S.curc = false;
		timer_add(50, T_BOOT, 0, NULL);
	}
}

static void noise_line(void)
{
	static const char *lines[] = {"^RSSI:17", "^BOOT:20932478,0,0,0,72",
				      "^MODE:5,4", "^RSSI:18"};

	port_line("%s", lines[S.noise_step++ % 4]);
}

/* Huawei noise lands between the lines of a response, too. */
static void inline_noise(void)
{
	if (huawei() && S.curc)
		noise_line();
}

/* ---- results ---- */

static void ok(void)
{
	port_line("OK");
}

static void error(void)
{
	S.stats.errors++;
	port_line("ERROR");
}

static void cme(int code)
{
	S.stats.errors++;
	if (S.cmee)
		port_line("+CME ERROR: %d", code);
	else
		port_line("ERROR");
}

static void cms(int code)
{
	S.stats.errors++;
	if (S.cmee)
		port_line("+CMS ERROR: %d", code);
	else
		port_line("ERROR");
}

/* ---- SMS delivery ---- */

static int store(struct mem *m, int stat, const char *pdu, int len)
{
	int lim = m == mem_of(2) ? S.cap_limit : S.capacity;

	if (mem_used(m) >= lim)
		return -1;
	for (int i = 0; i < S.capacity; i++) {
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

static bool indications_on(void)
{
	return S.cnmi[0] != 0 && S.master >= 0;
}

/* Delivers one SMS-DELIVER from the network. TS 27.005 3.4.1 <mt>:
 * 1 store + +CMTI, 2 route as +CMT (not stored: lost if not read).
 * Returns 0, or 1 when it has to wait at the SMSC (memory full, or the
 * SIM800 is not yet "SMS Ready"). */
int modem_deliver(const char *pdu, int len)
{
	if (!S.sms_ready || S.pin_required || S.npending) {
		if (S.npending >= MAX_PENDING)
			return -1;
		goto wait;
	}
	if (S.cnmi[1] == 2 && indications_on()) {
		port_printf("\r\n+CMT: ,%d\r\n%s\r\n", len, pdu);
		S.stats.received++;
		return 0;
	}
	int idx = store(mem_of(2), 0, pdu, len);

	if (idx < 0) {
		if (S.npending >= MAX_PENDING)
			return -1;
		goto wait;
	}
	S.stats.received++;
	if (S.cnmi[1] == 1 && indications_on())
		port_line("+CMTI: \"%s\",%d", mem_of(2)->name,
			  idx + modem_index_base());
	return 0;
wait:
	snprintf(S.pending[S.npending].pdu, sizeof(S.pending[0].pdu), "%s",
		 pdu);
	S.pending[S.npending++].len = len;
	return 1;
}

static void deliver_pending(void)
{
	static struct pending q[MAX_PENDING];
	int n = S.npending;

	/* In arrival order; once one has to wait again, modem_deliver()
	 * queues every later one behind it. */
	memcpy(q, S.pending, (size_t)n * sizeof(q[0]));
	S.npending = 0;
	for (int i = 0; i < n; i++)
		modem_deliver(q[i].pdu, q[i].len);
}

/* ---- sent messages ---- */

static void record_sent(const char *hex, const struct pdu_message *m, int mr)
{
	struct sent *s = NULL;

	if (m->parts > 1) {
		for (int i = S.nsent - 1; i >= 0; i--) {
			struct sent *c = &S.sent[i];

			if (c->parts == m->parts && c->ref == m->ref &&
			    c->got < c->parts && !strcmp(c->to, m->number)) {
				s = c;
				break;
			}
		}
	}
	if (!s) {
		if (S.nsent >= MAX_SENT)
			return;
		s = &S.sent[S.nsent++];
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
	snprintf(ts, sizeof(ts), "%02d%02d%02d%02d%02d%02d",
		 tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
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

static void finish_send(const char *hex)
{
	struct pdu_message m;
	char err[200];
	size_t hl = strlen(hex);
	int smsc_octets;

	S.stats.sends++;
	if (hl < 2 || sscanf(hex, "%2x", (unsigned *)&smsc_octets) != 1 ||
	    (int)hl != 2 * (smsc_octets + 1 + S.prompt_len) ||
	    pdu_decode(hex, true, S.prompt_len, &m, err, sizeof(err)) < 0) {
		cms(304); /* TS 27.005 3.2.5: invalid PDU mode parameter */
		return;
	}
	if (m.kind != PDU_SUBMIT) {
		pdu_message_clear(&m);
		cms(304);
		return;
	}
	if (S.cms_fault_count > 0 && S.cms_fault_after > 0) {
		S.cms_fault_after--;
	} else if (S.cms_fault_count > 0) {
		S.cms_fault_count--;
		pdu_message_clear(&m);
		cms(S.cms_fault_code);
		return;
	}
	if (!S.registered) {
		pdu_message_clear(&m);
		cms(331); /* no network service */
		return;
	}
	S.mr = (S.mr + 1) & 255;
	record_sent(hex, &m, S.mr);
	/* The network answers after a while (MODEM.md: up to tens of
	 * seconds on real networks). */
	timer_add(S.cmgs_delay_ms, T_CMGS, S.mr, NULL);
	unsigned fo = 0;

	sscanf(hex + 2 * (smsc_octets + 1), "%2x", &fo);
	if (fo & 0x20) /* TP-SRR: a status report will follow */
		timer_add(1500, T_REPORT, S.mr, m.number);
	pdu_message_clear(&m);
}

static void prompt_input(char c)
{
	if (c == ESC) {
		/* V.25ter/TS 27.005 3.5.1: ESC aborts without sending. */
		S.in_prompt = false;
		S.in_len = 0;
		ok();
		return;
	}
	if (c == CTRL_Z) {
		S.in[S.in_len] = '\0';
		S.in_prompt = false;
		char hex[sizeof(S.in)];
		size_t k = 0;

		for (size_t i = 0; i < S.in_len; i++)
			if (isxdigit((unsigned char)S.in[i]))
				hex[k++] = S.in[i];
		hex[k] = '\0';
		S.in_len = 0;
		finish_send(hex);
		return;
	}
	if (S.in_len < sizeof(S.in) - 1)
		S.in[S.in_len++] = c;
}

/* ---- command parsing helpers ---- */

struct cmd {
	char name[24]; /* "+CMGL", "^CURC" upper case */
	enum { EXEC, SET, READ, TEST } type;
	char args[512];
};

static int arg_int(const char *args, int n, int dflt)
{
	const char *p = args;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, ',');
		if (p)
			p++;
	}
	if (!p)
		return dflt;
	while (*p == ' ')
		p++;
	if (*p == '"')
		p++;
	if (!isdigit((unsigned char)*p) && *p != '-')
		return dflt;
	return atoi(p);
}

/* Copies the n-th comma separated argument without quotes. */
static bool arg_str(const char *args, int n, char *out, size_t outlen)
{
	const char *p = args;
	bool inq = false;
	int field = 0;
	size_t k = 0;

	for (; *p; p++) {
		if (*p == '"') {
			inq = !inq;
			continue;
		}
		if (*p == ',' && !inq) {
			if (field++ == n)
				break;
			continue;
		}
		if (field == n && k + 1 < outlen)
			out[k++] = *p;
	}
	out[k] = '\0';
	return field >= n && (k > 0 || field > n);
}

static void count_command(const char *name)
{
	S.stats.commands++;
	for (int i = 0; i < S.nseen; i++) {
		if (!strcmp(S.seen[i].name, name)) {
			S.seen[i].count++;
			return;
		}
	}
	if (S.nseen < 64) {
		snprintf(S.seen[S.nseen].name, sizeof(S.seen[0].name), "%s",
			 name);
		S.seen[S.nseen++].count = 1;
	}
}

/* SIM800 refuses SMS commands until "SMS Ready" (CMS 302); a SIM that
 * wants its PIN refuses them with CMS 311. */
static bool sms_blocked(void)
{
	if (S.pin_required) {
		cms(S.puk ? 316 : 311);
		return true;
	}
	if (!S.sms_ready) {
		cms(302);
		return true;
	}
	return false;
}

/* ---- the commands ---- */

static void do_ati(void)
{
	if (huawei()) {
		port_printf("\r\nManufacturer: huawei\r\n");
		inline_noise();
		port_printf("Model: E3531\r\nRevision: 22.521.23.00.00\r\n"
			    "IMEI: 861234050123456\r\n"
			    "+GCAP: +CGSM,+DS,+ES\r\n");
	} else {
		port_line("SIM800 R14.18");
	}
	ok();
}

static bool mem_by_name(const char *n, int *out)
{
	for (int i = 0; i < 2; i++) {
		if (!strcasecmp(n, S.mems[i].name) ||
		    (!strcasecmp(n, "MT") && i == 1)) {
			*out = i;
			return true;
		}
	}
	return false;
}

static void do_cpms(const struct cmd *c)
{
	if (sms_blocked())
		return;
	if (c->type == TEST) {
		port_line("+CPMS: (\"SM\",\"ME\"),(\"SM\",\"ME\"),"
			  "(\"SM\",\"ME\")");
		ok();
		return;
	}
	if (c->type == SET) {
		char n[8];
		int sel[3] = {S.mem_sel[0], S.mem_sel[1], S.mem_sel[2]};

		for (int i = 0; i < 3; i++) {
			if (!arg_str(c->args, i, n, sizeof(n)) || !n[0])
				continue;
			if (!mem_by_name(n, &sel[i])) {
				cms(302);
				return;
			}
		}
		memcpy(S.mem_sel, sel, sizeof(sel));
		port_line("+CPMS: %d,%d,%d,%d,%d,%d", mem_used(mem_of(0)),
			  S.capacity, mem_used(mem_of(1)), S.capacity,
			  mem_used(mem_of(2)), S.capacity);
		ok();
		return;
	}
	if (c->type == READ) {
		port_line("+CPMS: \"%s\",%d,%d,\"%s\",%d,%d,\"%s\",%d,%d",
			  mem_of(0)->name, mem_used(mem_of(0)), S.capacity,
			  mem_of(1)->name, mem_used(mem_of(1)), S.capacity,
			  mem_of(2)->name, mem_used(mem_of(2)), S.capacity);
		ok();
		return;
	}
	error();
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
static void text_mode_entry(const char *prefix, int idx, const struct slot *s)
{
	struct pdu_message m;
	char err[128];

	if (pdu_decode(s->pdu, true, s->len, &m, err, sizeof(err)) < 0) {
		port_printf("%s%s%d,\"%s\",\"\",,\"\"\r\n\r\n", prefix,
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
		port_printf("%s%d,\"%s\",\"%s\",,\"%s\"\r\n%s\r\n", prefix, idx,
			    stat_text(s->stat), m.number, when,
			    m.text ? m.text : "");
	else
		port_printf("%s\"%s\",\"%s\",,\"%s\"\r\n%s\r\n", prefix,
			    stat_text(s->stat), m.number, when,
			    m.text ? m.text : "");
	pdu_message_clear(&m);
}

static void do_cmgl(const struct cmd *c)
{
	int want = 4, listed = 0;

	if (sms_blocked())
		return;
	if (c->type == TEST) {
		if (S.cmgf)
			port_line("+CMGL: (\"REC UNREAD\",\"REC READ\","
				  "\"STO UNSENT\",\"STO SENT\",\"ALL\")");
		else
			port_line("+CMGL: (0-4)");
		ok();
		return;
	}
	if (c->type == SET) {
		if (S.cmgf) {
			char s[16];

			arg_str(c->args, 0, s, sizeof(s));
			want = stat_from_text(s);
		} else {
			want = arg_int(c->args, 0, -1);
		}
		if (want < 0 || want > 4) {
			cms(302);
			return;
		}
	} else if (c->type == EXEC) {
		want = 0; /* default <stat> is "REC UNREAD" */
	} else {
		error();
		return;
	}
	S.stats.lists++;
	struct mem *m = mem_of(0);

	port_printf("\r\n");
	for (int i = 0; i < S.capacity; i++) {
		struct slot *s = &m->slots[i];

		if (!s->used || (want != 4 && s->stat != want))
			continue;
		if (listed++)
			inline_noise();
		if (S.cmgf)
			text_mode_entry("+CMGL: ", i + modem_index_base(), s);
		else
			port_printf("+CMGL: %d,%d,,%d\r\n%s\r\n",
				    i + modem_index_base(), s->stat, s->len,
				    s->pdu);
		if (s->stat == 0)
			s->stat = 1; /* listing marks received SMS read */
	}
	port_printf("\r\nOK\r\n");
}

static struct slot *slot_at(struct mem *m, int idx)
{
	int i = idx - modem_index_base();

	if (i < 0 || i >= S.capacity)
		return NULL;
	return &m->slots[i];
}

static void do_cmgr(const struct cmd *c)
{
	if (sms_blocked())
		return;
	if (c->type == TEST) {
		ok();
		return;
	}
	if (c->type != SET) {
		error();
		return;
	}
	struct slot *s = slot_at(mem_of(0), arg_int(c->args, 0, -1));

	S.stats.reads++;
	if (!s) {
		cms(321); /* invalid memory index */
		return;
	}
	if (!s->used) {
		/* SIM800 answers an empty slot with OK alone, Huawei with
		 * CMS 321 (MODEM.md). */
		if (huawei())
			cms(321);
		else
			ok();
		return;
	}
	if (S.cmgf)
		text_mode_entry("\r\n+CMGR: ", -1, s);
	else
		port_printf("\r\n+CMGR: %d,,%d\r\n%s\r\n", s->stat, s->len,
			    s->pdu);
	if (s->stat == 0)
		s->stat = 1;
	port_printf("\r\nOK\r\n");
}

static void do_cmgd(const struct cmd *c)
{
	if (sms_blocked())
		return;
	if (c->type == TEST) {
		struct strbuf b = {0};

		(void)b;
		port_printf("\r\n+CMGD: (");
		int first = 1;

		for (int i = 0; i < S.capacity; i++) {
			if (mem_of(0)->slots[i].used) {
				port_printf("%s%d", first ? "" : ",",
					    i + modem_index_base());
				first = 0;
			}
		}
		port_printf("),(0-4)\r\n");
		ok();
		return;
	}
	if (c->type != SET) {
		error();
		return;
	}
	int idx = arg_int(c->args, 0, -1), flag = arg_int(c->args, 1, 0);
	struct mem *m = mem_of(0);

	if (flag < 0 || flag > 4) {
		cms(302);
		return;
	}
	if (flag == 0) {
		struct slot *s = slot_at(m, idx);

		if (!s) {
			cms(321);
			return;
		}
		if (s->used)
			S.stats.deletes++;
		s->used = false;
	} else {
		/* TS 27.005 3.5.4 <delflag>: 1 read, 2 read+sent,
		 * 3 read+sent+unsent, 4 all; <index> is ignored. */
		for (int i = 0; i < S.capacity; i++) {
			struct slot *s = &m->slots[i];
			bool del = flag == 4 || (s->stat == 1) ||
				   (flag >= 2 && s->stat == 3) ||
				   (flag >= 3 && s->stat == 2);

			if (s->used && del) {
				s->used = false;
				S.stats.deletes++;
			}
		}
	}
	ok();
	if (S.npending)
		timer_add(300, T_PENDING, 0, NULL);
}

static void do_cmgs(const struct cmd *c)
{
	if (sms_blocked())
		return;
	if (c->type == TEST) {
		ok();
		return;
	}
	int len = arg_int(c->args, 0, -1);

	if (c->type != SET || S.cmgf || len < 7 || len > 164) {
		cms(304);
		return;
	}
	S.prompt_len = len;
	S.in_prompt = true;
	S.in_len = 0;
	/* The prompt comes with no line ending after it (MODEM.md). */
	port_printf("\r\n> ");
}

static void do_cnmi(const struct cmd *c)
{
	if (c->type == TEST) {
		if (huawei())
			port_line("+CNMI: (0,1,2),(0,1,2,3),(0,2),(0,1,2),"
				  "(0,1)");
		else
			port_line("+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)");
		ok();
		return;
	}
	if (c->type == READ) {
		port_line("+CNMI: %d,%d,%d,%d,%d", S.cnmi[0], S.cnmi[1],
			  S.cnmi[2], S.cnmi[3], S.cnmi[4]);
		ok();
		return;
	}
	if (c->type != SET) {
		error();
		return;
	}
	int v[5];

	for (int i = 0; i < 5; i++)
		v[i] = arg_int(c->args, i, i == 0 ? -1 : 0);
	bool bad = v[0] < 0 || v[0] > 3 || v[1] < 0 || v[1] > 3 || v[2] < 0 ||
		   v[2] > 3 || v[3] < 0 || v[3] > 2 || v[4] < 0 || v[4] > 1;
	/* The E3531 advertises <bm> 0 but rejects it (MODEM.md: several
	 * chipsets advertise values they reject). */
	if (huawei() && v[2] != 2)
		bad = true;
	if (bad) {
		cms(303);
		return;
	}
	memcpy(S.cnmi, v, sizeof(v));
	ok();
}

static void do_creg(const struct cmd *c, const char *name, int *n)
{
	if (c->type == TEST) {
		port_line("%s: (0-2)", name);
		ok();
	} else if (c->type == SET) {
		int v = arg_int(c->args, 0, -1);

		if (v < 0 || v > 2) {
			cme(50);
			return;
		}
		*n = v;
		ok();
	} else if (c->type == READ) {
		int stat = S.registered ? 1 : 2;

		if (*n == 2 && S.registered)
			port_line("%s: %d,%d,\"1A2B\",\"00C3\"", name, *n,
				  stat);
		else
			port_line("%s: %d,%d", name, *n, stat);
		ok();
	} else {
		error();
	}
}

static void do_cpin(const struct cmd *c)
{
	if (c->type == READ) {
		port_line("+CPIN: %s", S.puk		 ? "SIM PUK"
				       : S.pin_required ? "SIM PIN"
							: "READY");
		ok();
		return;
	}
	if (c->type == TEST) {
		ok();
		return;
	}
	if (c->type != SET) {
		error();
		return;
	}
	char pin[32];

	arg_str(c->args, 0, pin, sizeof(pin));
	if (S.puk) {
		cme(12); /* SIM PUK required */
		return;
	}
	if (!S.pin_required) {
		cme(3); /* operation not allowed */
		return;
	}
	if (strcmp(pin, S.pin)) {
		/* Three wrong PINs lock the SIM (MODEM.md). */
		if (++S.pin_tries >= 3)
			S.puk = true;
		cme(16); /* incorrect password */
		return;
	}
	S.pin_required = false;
	S.pin_tries = 0;
	ok();
	port_line("+CPIN: READY");
	if (!huawei()) {
		timer_add(300, T_BOOT, 3, NULL); /* Call Ready, SMS Ready */
		S.sms_ready = false;
	}
	if (S.npending)
		timer_add(1500, T_PENDING, 0, NULL);
}

static void do_cusd(const struct cmd *c)
{
	if (c->type == TEST) {
		port_line("+CUSD: (0,1,2)");
		ok();
		return;
	}
	if (c->type == READ) {
		port_line("+CUSD: 1");
		ok();
		return;
	}
	if (c->type != SET) {
		error();
		return;
	}
	char code[64];

	if (!arg_str(c->args, 1, code, sizeof(code)) || !code[0]) {
		ok(); /* just enabling/disabling result codes */
		return;
	}
	if (!S.registered) {
		cme(30); /* no network service */
		return;
	}
	ok();
	char answer[200];

	if (!strcmp(code, "*888#") || !strcmp(code, "*123#") ||
	    !strcmp(code, "*100#"))
		snprintf(answer, sizeof(answer),
			 "Sisa pulsa Anda Rp %s. Aktif s/d 31-12-2026",
			 S.credit);
	else
		snprintf(answer, sizeof(answer), "Layanan tidak tersedia");
	timer_add(800, T_CUSD, 0, answer);
}

static void do_cclk(const struct cmd *c)
{
	time_t t = time(NULL) + 7 * 3600;
	struct tm tm;
	char buf[40];

	if (c->type == SET || c->type == TEST) {
		ok();
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%y/%m/%d,%H:%M:%S+28", &tm);
	port_line("+CCLK: \"%s\"", buf);
	ok();
}

static void simple_info(const struct cmd *c, const char *value)
{
	if (c->type == TEST) {
		ok();
		return;
	}
	port_line("%s", value);
	ok();
}

static void do_extended(const struct cmd *c)
{
	const char *n = c->name;

	count_command(n);
	if (!strcmp(n, "+CGMI") || !strcmp(n, "+GMI")) {
		simple_info(c, huawei() ? "huawei" : "SIMCOM_Ltd");
	} else if (!strcmp(n, "+CGMM") || !strcmp(n, "+GMM")) {
		simple_info(c, huawei() ? "E3531" : "SIMCOM_SIM800");
	} else if (!strcmp(n, "+CGMR") || !strcmp(n, "+GMR")) {
		simple_info(c, huawei() ? "22.521.23.00.00"
					: "Revision:1418B04SIM800C24");
	} else if (!strcmp(n, "+CGSN") || !strcmp(n, "+GSN")) {
		simple_info(c, huawei() ? "861234050123456"
					: "866104020123456");
	} else if (!strcmp(n, "+CIMI")) {
		if (S.pin_required)
			cme(S.puk ? 12 : 11);
		else
			simple_info(c, "510101234567890");
	} else if (!strcmp(n, "+CMEE")) {
		if (c->type == SET) {
			int v = arg_int(c->args, 0, -1);

			if (v < 0 || v > 2) {
				error();
				return;
			}
			S.cmee = v;
			ok();
		} else if (c->type == READ) {
			port_line("+CMEE: %d", S.cmee);
			ok();
		} else {
			port_line("+CMEE: (0-2)");
			ok();
		}
	} else if (!strcmp(n, "+CSCS")) {
		if (c->type == SET) {
			char v[8];

			arg_str(c->args, 0, v, sizeof(v));
			if (strcasecmp(v, "GSM") && strcasecmp(v, "IRA") &&
			    strcasecmp(v, "UCS2") && strcasecmp(v, "HEX")) {
				cme(4);
				return;
			}
			snprintf(S.cscs, sizeof(S.cscs), "%s", v);
			ok();
		} else if (c->type == READ) {
			port_line("+CSCS: \"%s\"", S.cscs);
			ok();
		} else {
			port_line("+CSCS: (\"IRA\",\"GSM\",\"UCS2\")");
			ok();
		}
	} else if (!strcmp(n, "+CMGF")) {
		if (c->type == SET) {
			int v = arg_int(c->args, 0, -1);

			if (v < 0 || v > 1) {
				cms(302);
				return;
			}
			S.cmgf = v;
			ok();
		} else if (c->type == READ) {
			port_line("+CMGF: %d", S.cmgf);
			ok();
		} else {
			port_line("+CMGF: (0,1)");
			ok();
		}
	} else if (!strcmp(n, "+CSDH")) {
		if (c->type == READ)
			port_line("+CSDH: %d", S.csdh);
		else if (c->type == TEST)
			port_line("+CSDH: (0,1)");
		else
			S.csdh = arg_int(c->args, 0, 0);
		ok();
	} else if (!strcmp(n, "+CSMP")) {
		if (c->type == READ)
			port_line("+CSMP: 17,167,0,0");
		ok();
	} else if (!strcmp(n, "+CSMS")) {
		if (c->type == READ)
			port_line("+CSMS: 0,1,1,1");
		else if (c->type == TEST)
			port_line("+CSMS: (0,1)");
		else
			port_line("+CSMS: 1,1,1");
		ok();
	} else if (!strcmp(n, "+CPMS")) {
		do_cpms(c);
	} else if (!strcmp(n, "+CNMI")) {
		do_cnmi(c);
	} else if (!strcmp(n, "+CSCA")) {
		if (c->type == READ) {
			port_line("+CSCA: \"%s\",%d", S.smsc,
				  S.smsc[0] == '+' ? 145 : 129);
		} else if (c->type == SET) {
			arg_str(c->args, 0, S.smsc, sizeof(S.smsc));
		}
		ok();
	} else if (!strcmp(n, "+CPIN")) {
		do_cpin(c);
	} else if (!strcmp(n, "+CREG")) {
		do_creg(c, "+CREG", &S.creg_n);
	} else if (!strcmp(n, "+CGREG")) {
		do_creg(c, "+CGREG", &S.cgreg_n);
	} else if (!strcmp(n, "+CEREG") && huawei()) {
		do_creg(c, "+CEREG", &S.cereg_n);
	} else if (!strcmp(n, "+CSQ")) {
		simple_info(c, S.registered ? "+CSQ: 18,99" : "+CSQ: 99,99");
	} else if (!strcmp(n, "+COPS")) {
		if (c->type == READ)
			port_line(S.registered ? "+COPS: 0,0,\"TELKOMSEL\"%s"
					       : "+COPS: 0%s",
				  huawei() && S.registered ? ",2" : "");
		ok();
	} else if (!strcmp(n, "+CCLK")) {
		do_cclk(c);
	} else if (!strcmp(n, "+CUSD")) {
		do_cusd(c);
	} else if (!strcmp(n, "+CMGL")) {
		do_cmgl(c);
	} else if (!strcmp(n, "+CMGR")) {
		do_cmgr(c);
	} else if (!strcmp(n, "+CMGD")) {
		do_cmgd(c);
	} else if (!strcmp(n, "+CMGS")) {
		do_cmgs(c);
	} else if (!strcmp(n, "+CFUN")) {
		if (c->type == READ) {
			port_line("+CFUN: 1");
			ok();
		} else if (c->type == SET && arg_int(c->args, 1, 0) == 1) {
			ok();
			modem_boot(); /* AT+CFUN=1,1: reset */
		} else {
			ok();
		}
	} else if (!strcmp(n, "+CLIP") || !strcmp(n, "+CRC") ||
		   !strcmp(n, "+CMMS")) {
		ok();
	} else if (!strcmp(n, "^PORTSEL") && huawei()) {
		/* Which port carries unsolicited codes (Huawei AT manual). */
		if (c->type == READ)
			port_line("^PORTSEL: 0");
		else if (c->type == TEST)
			port_line("^PORTSEL: (0,1)");
		ok();
	} else if (!strcmp(n, "+CHUP")) { /* TS 27.007 6.5 */
		simcall_hangup("AT+CHUP");
		ok();
	} else if (!strcmp(n, "^SYSINFO") && huawei()) {
		port_line("^SYSINFO:2,%d,0,5,1,,4", S.registered ? 3 : 0);
		ok();
	} else if (!strcmp(n, "^CURC") && huawei()) {
		if (c->type == SET) {
			S.curc = arg_int(c->args, 0, 1) != 0;
			if (S.curc) {
				timer_cancel(T_NOISE);
				timer_add(1500, T_NOISE, 0, NULL);
			}
		} else if (c->type == READ) {
			port_line("^CURC: %d", S.curc);
		}
		ok();
	} else {
		/* Unknown to this firmware: what real modems answer. */
		if (S.cmee)
			cme(100);
		else
			error();
	}
}

/* Basic V.250 commands: E, V, Q, Z, I, &F, &C, &D, X, S. Returns the
 * number of characters used, or -1 for an unknown one. */
static int do_basic(const char *p, bool *reply_done)
{
	char c = (char)toupper((unsigned char)p[0]);
	int k = 1, v = 0;

	if (c == '&') {
		c = (char)toupper((unsigned char)p[1]);
		k = 2;
		if (c != 'F' && c != 'C' && c != 'D' && c != 'W' && c != 'V')
			return -1;
	} else if (c == 'S') {
		while (isdigit((unsigned char)p[k]))
			k++;
		if (p[k] == '=' || p[k] == '?')
			k++;
	} else if (!strchr("EVQZIXHL M", c)) {
		return -1;
	}
	while (isdigit((unsigned char)p[k]))
		v = v * 10 + (p[k++] - '0');
	char name[4] = {'A', 'T', c, 0};

	count_command(name);
	if (c == 'E')
		S.echo = v != 0;
	else if (c == 'Z' || (p[0] == '&' && c == 'F'))
		reset_settings();
	else if (c == 'I') {
		do_ati();
		*reply_done = true;
	} else if (c == 'H')
		simcall_hangup("ATH"); /* V.250 6.3.6 */
	return k;
}

static void split_extended(const char *p, struct cmd *c, size_t *used)
{
	size_t k = 0, i = 0;
	bool inq = false;

	c->name[k++] = p[i++];
	while (p[i] && (isalnum((unsigned char)p[i])) &&
	       k < sizeof(c->name) - 1)
		c->name[k++] = (char)toupper((unsigned char)p[i++]);
	c->name[k] = '\0';
	c->type = EXEC;
	c->args[0] = '\0';
	if (p[i] == '?') {
		c->type = READ;
		i++;
	} else if (p[i] == '=' && p[i + 1] == '?') {
		c->type = TEST;
		i += 2;
	} else if (p[i] == '=') {
		c->type = SET;
		i++;
		k = 0;
		while (p[i] && (inq || p[i] != ';')) {
			if (p[i] == '"')
				inq = !inq;
			if (k < sizeof(c->args) - 1)
				c->args[k++] = p[i];
			i++;
		}
		c->args[k] = '\0';
	}
	*used = i;
}

static void execute_line(char *line)
{
	const char *p = line;

	while (*p == ' ')
		p++;
	if (strncasecmp(p, "AT", 2)) {
		/* Not a command: V.250 5.2.1 says ignore it. */
		return;
	}
	p += 2;
	if (!*p) {
		count_command("AT");
		ok();
		return;
	}
	while (*p) {
		if (*p == ';' || *p == ' ') {
			p++;
			continue;
		}
		if (*p == '+' || *p == '^') {
			struct cmd c;
			size_t used;

			/* One extended command per line is what clients
			 * send; anything after a ';' is ignored. */
			split_extended(p, &c, &used);
			do_extended(&c);
			return;
		}
		bool done = false;
		int k = do_basic(p, &done);

		if (k < 0) {
			count_command("AT?");
			error();
			return;
		}
		p += k;
		if (done)
			return;
	}
	ok();
}

/* ---- input ---- */

void modem_input(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (S.in_prompt) {
			if (S.echo && c != CTRL_Z && c != ESC)
				port_write(&c, 1);
			prompt_input(c);
			continue;
		}
		if (S.echo)
			port_write(&c, 1);
		if (c == '\r') {
			S.in[S.in_len] = '\0';
			S.in_len = 0;
			execute_line(S.in);
		} else if (c == '\n' || c == ESC || c == CTRL_Z) {
			/* LF after CR, or a stray abort outside the prompt */
		} else if (c == '\b' || c == 0x7F) {
			if (S.in_len)
				S.in_len--;
		} else if (S.in_len < sizeof(S.in) - 1) {
			S.in[S.in_len++] = c;
		}
	}
}

/* ---- timers ---- */

static void boot_step(int step)
{
	/* SIM800 power-up sequence (SIM800 AT manual, "unsolicited result
	 * codes"); SMS commands fail with CMS 302 until "SMS Ready". */
	switch (step) {
	case 0:
		port_line("RDY");
		timer_add(100, T_BOOT, 1, NULL);
		break;
	case 1:
		port_line("+CFUN: 1");
		timer_add(100, T_BOOT, 2, NULL);
		break;
	case 2:
		port_line("+CPIN: %s", S.pin_required ? "SIM PIN" : "READY");
		if (!S.pin_required)
			timer_add(500, T_BOOT, 3, NULL);
		break;
	case 3:
		port_line("Call Ready");
		timer_add(400, T_BOOT, 4, NULL);
		break;
	case 4:
		port_line("SMS Ready");
		S.sms_ready = true;
		if (S.npending)
			timer_add(200, T_PENDING, 0, NULL);
		break;
	case 10: /* E3531 */
		port_line("^SIMST:1");
		if (S.pin_required)
			port_line("+CPIN: SIM PIN");
		break;
	}
}

void modem_timer(enum timer_kind kind, int arg, const char *data)
{
	char hex[200];
	int len;

	switch (kind) {
	case T_BOOT:
		boot_step(arg);
		break;
	case T_NOISE:
		if (huawei() && S.curc && (S.in_len || S.in_prompt)) {
			/* No URC while a command line is being typed: real
			 * firmware holds it until the line is done. */
			timer_add(100, T_NOISE, 0, NULL);
		} else if (huawei() && S.curc) {
			noise_line();
			timer_add(1200 + rand() % 800, T_NOISE, 0, NULL);
		}
		break;
	case T_CMGS:
		port_printf("\r\n+CMGS: %d\r\n\r\nOK\r\n", arg);
		break;
	case T_CUSD:
		port_line("+CUSD: 0,\"%s\",15", data);
		break;
	case T_HANG_END:
		S.hang_until = 0;
		break;
	case T_NOREG_END:
		S.registered = true;
		if (S.creg_n)
			port_line("+CREG: 1");
		if (S.npending)
			timer_add(200, T_PENDING, 0, NULL);
		break;
	case T_REPORT:
		len = build_report(arg, data, hex, sizeof(hex));
		if (S.cnmi[3] == 1 && indications_on()) {
			port_printf("\r\n+CDS: %d\r\n%s\r\n", len, hex);
		} else if (S.cnmi[3] == 2) {
			int idx = store(mem_of(2), 0, hex, len);

			if (idx >= 0 && indications_on())
				port_line("+CDSI: \"%s\",%d", mem_of(2)->name,
					  idx + modem_index_base());
		}
		break;
	case T_PENDING:
		deliver_pending();
		break;
	case T_RING:
	case T_CALL_END:
		simcall_timer(kind, arg);
		break;
	default:
		break;
	}
}
