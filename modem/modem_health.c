/* modem_health: what READY asks now and then (signal, registration,
 * operator, network clock; ops->health) and the USSD balance query,
 * whose answer comes later as a +CUSD line. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gsm.h"
#include "modem_int.h"

static void ignore_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (modem_act_check(m, r, "a health query"))
		modem_act_done(m);
}

static void csq_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int rssi;

	if (!modem_act_check(m, r, "AT+CSQ"))
		return;
	/* TS 27.007 8.5: 0..31 -> -113 + 2 rssi dBm, 99 unknown */
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CSQ:") &&
	    at_iter_next_number(&it, &rssi))
		m->health.rssi_dbm =
		    rssi >= 0 && rssi <= 31 ? -113 + 2 * rssi : 0;
	modem_act_done(m);
}

static void creg_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!modem_act_check(m, r, "AT+CREG?"))
		return;
	m->health.creg_stat = modem_reg_stat(r, "+CREG:");
	modem_act_done(m);
}

static void cops_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	int mode, fmt;

	if (!modem_act_check(m, r, "AT+COPS?"))
		return;
	/* TS 27.007 7.3: +COPS: <mode>[,<format>,<oper>[,<AcT>]] */
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+COPS:") &&
	    at_iter_next_number(&it, &mode) && at_iter_next_number(&it, &fmt))
		at_iter_next_string(&it, m->health.operator_name,
				    sizeof(m->health.operator_name));
	modem_act_done(m);
}

/* "yy/MM/dd,hh:mm:ss±zz", zz in quarter hours (TS 27.007 8.15). */
static int64_t parse_cclk(const char *s)
{
	struct tm tm = {0};
	int yy, mo, dd, hh, mi, ss, tz = 0;
	char sign = '+';

	if (sscanf(s, "%d/%d/%d,%d:%d:%d%c%d", &yy, &mo, &dd, &hh, &mi, &ss,
		   &sign, &tz) < 6)
		return 0;
	if (yy < 20 || yy > 99) /* clock never set by the network */
		return 0;
	tm.tm_year = 100 + yy;
	tm.tm_mon = mo - 1;
	tm.tm_mday = dd;
	tm.tm_hour = hh;
	tm.tm_min = mi;
	tm.tm_sec = ss;
	return (int64_t)timegm(&tm) - (sign == '-' ? -1 : 1) * tz * 15 * 60;
}

static void cclk_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	struct at_iter it;
	char v[40];

	if (!modem_act_check(m, r, "AT+CCLK?"))
		return;
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CCLK:") &&
	    at_iter_next_string(&it, v, sizeof(v)))
		m->health.network_time = parse_cclk(v);
	modem_act_done(m);
}

void modem_start_health(struct modem *m)
{
	unsigned t = m->cfg.cmd_timeout_ms;

	m->act = ACT_HEALTH;
	m->health_at = m->now + HEALTH_INTERVAL_MS;
	modem_act_cmd(m, "AT+CSQ", "+CSQ:", t, csq_cb);
	modem_act_cmd(m, "AT+CREG?", "+CREG:", t, creg_cb);
	modem_act_cmd(m, "AT+COPS=3,0", NULL, t,
		      ignore_cb); /* long alphanumeric */
	modem_act_cmd(m, "AT+COPS?", "+COPS:", t, cops_cb);
	modem_act_cmd(m, "AT+CCLK?", "+CCLK:", t, cclk_cb);
}

static void cusd_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;

	if (!modem_act_check(m, r, "AT+CUSD"))
		return;
	if (r->result != AT_OK)
		modem_log(m, MODEM_LOG_WARN, "balance query %s failed (%s)",
			  m->ussd, r->final);
	modem_act_done(m);
}

void modem_start_balance(struct modem *m)
{
	char cmd[96];

	m->act = ACT_BALANCE;
	m->balance_at = m->now + (uint64_t)m->cfg.balance_interval_s * 1000;
	/* TS 27.007 7.15: the answer comes later as a +CUSD URC */
	snprintf(cmd, sizeof(cmd), "AT+CUSD=1,\"%s\",15", m->ussd);
	modem_act_cmd(m, cmd, NULL, m->cfg.cmd_timeout_ms, cusd_cb);
}

/* "Rp 12.345", "Rp12,345", "Rp. 5.000,00": separators followed by three
 * digits group thousands; anything else ends the number. */
static long parse_rupiah(const char *text)
{
	const char *p = strcasestr(text, "rp");
	long v = 0;
	bool any = false;

	if (!p)
		return -1;
	p += 2;
	while (*p == '.' || *p == ' ' || *p == ':')
		p++;
	for (;;) {
		if (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			any = true;
		} else if ((*p == '.' || *p == ',') && any &&
			   isdigit((unsigned char)p[1]) &&
			   isdigit((unsigned char)p[2]) &&
			   isdigit((unsigned char)p[3]) &&
			   !isdigit((unsigned char)p[4])) {
			p++;
		} else {
			break;
		}
	}
	return any ? v : -1;
}

/* The text of a +CUSD answer: TS 23.038 5 dcs 72 is UCS-2 and 15 or 0
 * GSM-7, which Huawei sends as hex of the packed septets; anything else is
 * taken as it came. */
static void ussd_text(const char *raw, int dcs, char *t, size_t tl)
{
	unsigned char oct[200];
	size_t bad;
	int n =
	    strlen(raw) >= 8 ? gsm_hex_decode(raw, oct, sizeof(oct), &bad) : -1;

	if (n > 0 && dcs == 72)
		gsm_ucs2_to_utf8(oct, (size_t)n, t, tl);
	else if (n > 0 && (dcs == 15 || dcs == 0))
		gsm_unpack7(oct, (size_t)n, t, tl);
	else
		snprintf(t, tl, "%.*s", (int)tl - 1, raw);
}

void modem_urc_cusd(void *ud, const char *line, const char *pdu)
{
	struct modem *m = ud;
	struct at_iter it;
	char raw[400] = "";
	int mode = -1, dcs = 15;
	char *t = m->health.balance_text;
	size_t tl = sizeof(m->health.balance_text);

	/* TS 27.007 7.15: +CUSD: <m>[,<str>,<dcs>] */
	at_iter_begin(&it, line, "+CUSD:");
	at_iter_next_number(&it, &mode);
	at_iter_next_string(&it, raw, sizeof(raw));
	at_iter_next_number(&it, &dcs);
	if (mode == 2 || mode == 4) {
		modem_log(m, MODEM_LOG_WARN, "balance query refused: %s", line);
		return;
	}
	ussd_text(raw, dcs, t, tl);
	m->health.balance = parse_rupiah(t);
	if (m->ops->health)
		m->ops->health(m->ud, &m->health);
}
