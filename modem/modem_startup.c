/* modem_startup: PROBE, INIT, SIM and REGISTER (modem.h). A step enum
 * sequences the commands: modem_run_step issues one, on_step reads the
 * answer and decides the next. Vendor quirks come in as STEP_VENDOR, the
 * commands of the struct modem_vendor that +CGMI picked. */
#include <stdio.h>
#include <string.h>

#include "modem_int.h"

static const char *cnmi_variants[] = {
    /* doc/modem.md: several chipsets advertise values they reject */
    "AT+CNMI=2,1,0,2,0", "AT+CNMI=2,1,2,1,0", "AT+CNMI=2,1,2,2,0",
    "AT+CNMI=2,1,2,0,0", "AT+CNMI=1,1,0,0,0",
};

/* Copies the first field of a response line, tolerating modems that
 * prefix +CGMI/+CGMM/+CGSN answers with the command name. */
static void first_line(const struct at_response *r, const char *prefix,
		       char *out, size_t len)
{
	const char *l;

	out[0] = '\0';
	if (r->result != AT_OK || r->nlines == 0)
		return;
	l = r->lines[0];
	if (strncmp(l, prefix, strlen(prefix)) == 0) {
		l += strlen(prefix);
		while (*l == ' ')
			l++;
	}
	snprintf(out, len, "%s", l);
	if (out[0] == '"') {
		size_t n = strlen(out);

		memmove(out, out + 1, n);
		if (n >= 2 && out[n - 2] == '"')
			out[n - 2] = '\0';
	}
}

/* Modems without quirks of note. */
static const struct modem_vendor vendor_generic = {.name = "generic"};

static const struct modem_vendor *const vendors[] = {
    &modem_vendor_huawei,
    &modem_vendor_zte,
};

static const struct modem_vendor *find_vendor(const char *manufacturer)
{
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (strcasestr(manufacturer, vendors[i]->cgmi))
			return vendors[i];
	return &vendor_generic;
}

static void step_cb(void *ud, const struct at_response *r);
static void run_step(struct modem *m, enum step s);

static void step_cmd(struct modem *m, enum step s, const char *cmd,
		     const char *prefix, unsigned timeout)
{
	m->step = s;
	at_send(m->at, cmd, prefix, timeout, step_cb, m);
}

static void step_wait(struct modem *m, enum step s, unsigned ms)
{
	m->step = s;
	m->timer_at = m->now + ms;
}

/* The start-up commands that are sent as they stand: {step, command,
 * prefix of the answer}. */
static const struct {
	enum step s;
	const char *cmd, *prefix;
} fixed_steps[] = {
    {STEP_ATZ, "ATZ", NULL}, /* V.250 6.1.1, alone */
    {STEP_ATE0, "ATE0", NULL},
    {STEP_CMEE, "AT+CMEE=1", NULL}, /* TS 27.007 9.1 */
    {STEP_CGMI, "AT+CGMI", NULL},
    {STEP_CGMM, "AT+CGMM", NULL},
    {STEP_CGSN, "AT+CGSN", NULL},
    {STEP_CLIP, "AT+CLIP=1", NULL}, /* TS 27.007 7.6 */
    {STEP_CPIN, "AT+CPIN?", "+CPIN:"},
    {STEP_CMGF, "AT+CMGF=0", NULL}, /* TS 27.005 3.2.3 */
    {STEP_CSCA, "AT+CSCA?", "+CSCA:"},
    {STEP_CREG2, "AT+CREG=2", NULL},
    {STEP_CREG, "AT+CREG?", "+CREG:"},
    {STEP_CEREG, "AT+CEREG?", "+CEREG:"},
};

/* The next vendor command, or on to +CGMM when there is none left. */
static void run_vendor_step(struct modem *m)
{
	const struct modem_vendor_cmd *vc = m->vendor->init;

	if (!vc || !vc[m->vendor_step].cmd) {
		run_step(m, STEP_CGMM);
		return;
	}
	step_cmd(m, STEP_VENDOR, vc[m->vendor_step].cmd, NULL,
		 m->cfg.cmd_timeout_ms);
}

static void run_step(struct modem *m, enum step s)
{
	unsigned t = m->cfg.cmd_timeout_ms;
	char cmd[96];

	for (size_t i = 0; i < sizeof(fixed_steps) / sizeof(fixed_steps[0]);
	     i++)
		if (fixed_steps[i].s == s) {
			step_cmd(m, s, fixed_steps[i].cmd,
				 fixed_steps[i].prefix, t);
			return;
		}
	switch (s) {
	case STEP_PROBE_AT:
		/* SIM800 autobauds on "AT" (doc/modem.md) */
		step_cmd(m, s, "AT", NULL,
			 t < PROBE_TIMEOUT_MS ? t : PROBE_TIMEOUT_MS);
		break;
	case STEP_VENDOR:
		run_vendor_step(m);
		break;
	case STEP_PIN:
		/* Set before sending: a timeout must not lead to a second
		 * try (three wrong PINs lock the SIM). */
		m->pin_sent = true;
		snprintf(cmd, sizeof(cmd), "AT+CPIN=\"%s\"", m->pin);
		step_cmd(m, s, cmd, NULL, t);
		break;
	case STEP_CPMS:
		snprintf(cmd, sizeof(cmd), "AT+CPMS=\"%s\",\"%s\",\"%s\"",
			 m->storage, m->storage, m->storage);
		step_cmd(m, s, cmd, "+CPMS:", t);
		break;
	case STEP_CNMI:
		step_cmd(m, s, cnmi_variants[m->cnmi_try], NULL, t);
		break;
	default: /* the waits: on_timer goes on from there */
		break;
	}
}

static void enter_ready(struct modem *m)
{
	m->backoff_s = 1;
	m->step = STEP_NONE;
	m->drain_requested = true; /* indications were lost while down */
	m->health_at = m->now;
	/* keep the interval across re-inits: operators may bar a SIM that
	 * sends USSD after every modem reboot */
	if (!m->balance_at)
		m->balance_at = m->now + BALANCE_FIRST_MS;
	m->rescan_at =
	    m->now + (m->cnmi_ok ? RESCAN_INTERVAL_MS : RESCAN_NO_CNMI_MS);
	m->reason[0] = '\0';
	modem_change_state(m, MODEM_READY, "registered");
	modem_ready_next(m);
}

/* SIM not ready yet, busy, or SMS not ready (SIM800 before "SMS Ready",
 * CMS 300-303 / CME 10, 13, 14): wait and ask again, a bounded number of
 * times. */
static void sim_retry(struct modem *m, enum step again, const char *what)
{
	char why[200];

	if (++m->tries > SIM_RETRIES) {
		snprintf(why, sizeof(why),
			 "%s after %d tries: check that a SIM card is "
			 "inserted and the modem works in a phone",
			 what, SIM_RETRIES);
		modem_go_fatal(m, why);
		return;
	}
	modem_log(m, MODEM_LOG_INFO, "%s; asking again in %d s", what,
		  SIM_RETRY_MS / 1000);
	m->wait_target = again;
	step_wait(m, STEP_SIM_WAIT, SIM_RETRY_MS);
}

static void on_cpin(struct modem *m, const struct at_response *r)
{
	struct at_iter it;
	char v[32] = "";

	if (r->result == AT_OK && r->nlines > 0) {
		at_iter_begin(&it, r->lines[0], "+CPIN:");
		at_iter_next_string(&it, v, sizeof(v));
	} else if (r->result == AT_CME_ERROR && r->code == 11) {
		snprintf(v, sizeof(v), "SIM PIN");
	} else if (r->result == AT_CME_ERROR && r->code == 12) {
		snprintf(v, sizeof(v), "SIM PUK");
	}
	if (strcmp(v, "READY") == 0) {
		if (m->pin_sent)
			modem_log(m, MODEM_LOG_INFO, "SIM accepted the PIN");
		m->pin_sent = false; /* the PIN is right: safe after reboot */
		m->tries = 0;
		run_step(m, STEP_CMGF);
	} else if (strcmp(v, "SIM PIN") == 0) {
		if (!m->pin)
			modem_go_fatal(m, "the SIM asks for a PIN and none is "
					  "configured: set [modem] pin");
		else if (m->pin_sent)
			modem_go_fatal(
			    m, "the SIM still asks for the PIN after it "
			       "was sent once: not sending it again "
			       "(three wrong PINs lock the SIM)");
		else
			run_step(m, STEP_PIN);
	} else if (strncmp(v, "SIM PUK", 7) == 0) {
		modem_go_fatal(m, "the SIM is PUK-locked: unlock it in a phone "
				  "with the PUK from the operator");
	} else if (v[0] && strcmp(v, "NOT READY") != 0) {
		char why[128];

		snprintf(why, sizeof(why),
			 "the SIM asks for \"%s\", which simpul cannot give",
			 v);
		modem_go_fatal(m, why);
	} else {
		sim_retry(m, STEP_CPIN, "SIM not ready");
	}
}

static void on_pin(struct modem *m, const struct at_response *r)
{
	char why[160];

	if (r->result == AT_OK) {
		/* SIM800 and others need a moment before +CPIN? says READY */
		m->wait_target = STEP_CPIN;
		step_wait(m, STEP_SIM_WAIT, PIN_SETTLE_MS);
		return;
	}
	snprintf(why, sizeof(why),
		 "the SIM rejected the PIN (%s %d): not retrying; check "
		 "[modem] pin",
		 at_result_name(r->result), r->code);
	modem_go_fatal(m, why);
}

static bool sms_not_ready(const struct at_response *r)
{
	/* TS 27.005 3.2.5: 300-303 ME failure / not allowed, 310-315 SIM;
	 * TS 27.007 9.2.1: CME 10-14 SIM */
	return (r->result == AT_CMS_ERROR && r->code >= 300 &&
		r->code <= 315) ||
	       (r->result == AT_CME_ERROR && r->code >= 10 && r->code <= 14);
}

static void on_cmgf(struct modem *m, const struct at_response *r)
{
	char why[160];

	if (r->result != AT_OK) {
		snprintf(why, sizeof(why),
			 "the modem refuses PDU mode (AT+CMGF=0: %s)",
			 r->final);
		modem_go_fatal(m, why);
		return;
	}
	run_step(m, STEP_CPMS);
}

static void on_cpms(struct modem *m, const struct at_response *r)
{
	if (r->result != AT_OK)
		modem_log(m, MODEM_LOG_WARN,
			  "AT+CPMS=\"%s\" failed (%s): using the modem's "
			  "default storage",
			  m->storage, r->final);
	snprintf(m->mem1, sizeof(m->mem1), "%s", m->storage);
	m->cnmi_try = 0;
	run_step(m, STEP_CNMI);
}

/* The next +CNMI variant after a refusal; without any, READY rescans
 * storage more often instead. */
static void on_cnmi(struct modem *m, const struct at_response *r)
{
	if (r->result == AT_OK) {
		m->cnmi_ok = true;
		run_step(m, STEP_CSCA);
		return;
	}
	if (++m->cnmi_try <
	    (int)(sizeof(cnmi_variants) / sizeof(cnmi_variants[0]))) {
		run_step(m, STEP_CNMI);
		return;
	}
	m->cnmi_ok = false;
	modem_log(m, MODEM_LOG_WARN,
		  "the modem accepts no AT+CNMI setting: no new-SMS "
		  "indications, reading storage every %d s instead",
		  RESCAN_NO_CNMI_MS / 1000);
	run_step(m, STEP_CSCA);
}

static void on_csca(struct modem *m, const struct at_response *r)
{
	struct at_iter it;

	m->smsc[0] = '\0';
	if (r->result == AT_OK && r->nlines > 0 &&
	    at_iter_begin(&it, r->lines[0], "+CSCA:"))
		at_iter_next_string(&it, m->smsc, sizeof(m->smsc));
	if (!m->smsc[0])
		modem_log(m, MODEM_LOG_WARN,
			  "the SIM has no SMS centre number (AT+CSCA?): "
			  "sending will fail with CMS 330");
	modem_change_state(m, MODEM_REGISTER, "SIM ready, SMS configured");
	run_step(m, STEP_CREG2);
}

static void on_sms_setup(struct modem *m, const struct at_response *r)
{
	if (m->step != STEP_CNMI && r->result != AT_OK && sms_not_ready(r)) {
		sim_retry(m, m->step, "SMS functions not ready yet");
		return;
	}
	if (m->step == STEP_CMGF)
		on_cmgf(m, r);
	else if (m->step == STEP_CPMS)
		on_cpms(m, r);
	else if (m->step == STEP_CNMI)
		on_cnmi(m, r);
	else if (m->step == STEP_CSCA)
		on_csca(m, r);
}

int modem_reg_stat(const struct at_response *r, const char *prefix)
{
	struct at_iter it;
	int n, stat;

	if (r->result != AT_OK || r->nlines == 0 ||
	    !at_iter_begin(&it, r->lines[0], prefix) ||
	    !at_iter_next_number(&it, &n) || !at_iter_next_number(&it, &stat))
		return -1;
	return stat;
}

static void on_register(struct modem *m, const struct at_response *r)
{
	int stat;

	switch (m->step) {
	case STEP_CREG2:
		run_step(m, STEP_CREG);
		return;
	case STEP_CREG:
		stat = modem_reg_stat(r, "+CREG:");
		m->health.creg_stat = stat;
		if (modem_is_registered(stat)) {
			enter_ready(m);
			return;
		}
		if (stat == 3 && !m->denied_logged) {
			m->denied_logged = true;
			modem_log(m, MODEM_LOG_ERR,
				  "the network denied registration (+CREG stat "
				  "3): check the SIM is active and has credit");
		}
		/* LTE sticks register on EPS only (TS 27.007 10.1.22) */
		run_step(m, STEP_CEREG);
		return;
	case STEP_CEREG:
		stat = modem_reg_stat(r, "+CEREG:");
		if (modem_is_registered(stat)) {
			enter_ready(m);
			return;
		}
		step_wait(m, STEP_REG_WAIT, REG_POLL_MS);
		return;
	default:
		return;
	}
}

static void on_probe(struct modem *m, const struct at_response *r)
{
	char why[128];

	if (r->result != AT_TIMEOUT) {
		modem_change_state(m, MODEM_INIT, "modem answers AT");
		run_step(m, STEP_ATZ);
		return;
	}
	if (++m->tries < PROBE_TRIES) {
		at_write_raw(m->at, "\x1b", 1);
		run_step(m, STEP_PROBE_AT);
		return;
	}
	if (modem_is_auto(m) && m->cand_idx < m->ncand) {
		modem_log(m, MODEM_LOG_INFO, "no answer to AT on %s; next port",
			  m->cands[m->cand_idx - 1].path);
		modem_close_port(m);
		modem_try_open(m);
		return;
	}
	snprintf(why, sizeof(why), "no answer to AT after %d tries",
		 PROBE_TRIES);
	modem_recover(m, why);
}

static void on_identity(struct modem *m, const struct at_response *r)
{
	switch (m->step) {
	case STEP_ATZ:
		run_step(m, STEP_ATE0);
		break;
	case STEP_ATE0:
		run_step(m, STEP_CMEE);
		break;
	case STEP_CMEE:
		run_step(m, STEP_CGMI);
		break;
	case STEP_CGMI:
		first_line(r, "+CGMI:", m->health.manufacturer,
			   sizeof(m->health.manufacturer));
		m->vendor = find_vendor(m->health.manufacturer);
		m->vendor_step = 0;
		run_step(m, STEP_VENDOR);
		break;
	case STEP_VENDOR:
		if (m->vendor->init[m->vendor_step].done)
			m->vendor->init[m->vendor_step].done(m, r);
		m->vendor_step++;
		run_step(m, STEP_VENDOR);
		break;
	case STEP_CGMM:
		first_line(r, "+CGMM:", m->health.model,
			   sizeof(m->health.model));
		run_step(m, STEP_CGSN);
		break;
	case STEP_CGSN:
		first_line(r, "+CGSN:", m->health.imei, sizeof(m->health.imei));
		run_step(m, STEP_CLIP);
		break;
	case STEP_CLIP:
		m->tries = 0;
		modem_change_state(m, MODEM_SIM, "modem initialised");
		run_step(m, STEP_CPIN);
		break;
	default:
		break;
	}
}

static void on_step(struct modem *m, const struct at_response *r)
{
	switch (m->step) {
	case STEP_PROBE_AT:
		on_probe(m, r);
		break;
	case STEP_ATZ:
	case STEP_ATE0:
	case STEP_CMEE:
	case STEP_CGMI:
	case STEP_VENDOR:
	case STEP_CGMM:
	case STEP_CGSN:
	case STEP_CLIP:
		on_identity(m, r);
		break;
	case STEP_CPIN:
		on_cpin(m, r);
		break;
	case STEP_PIN:
		on_pin(m, r);
		break;
	case STEP_CMGF:
	case STEP_CPMS:
	case STEP_CNMI:
	case STEP_CSCA:
		on_sms_setup(m, r);
		break;
	case STEP_CREG2:
	case STEP_CREG:
	case STEP_CEREG:
		on_register(m, r);
		break;
	default:
		break;
	}
}

static void step_cb(void *ud, const struct at_response *r)
{
	struct modem *m = ud;
	char why[160];

	if (r->result == AT_CANCELLED)
		return;
	if (r->result == AT_TIMEOUT && m->step != STEP_PROBE_AT) {
		snprintf(why, sizeof(why), "no answer within %u ms (step %d)",
			 m->cfg.cmd_timeout_ms, (int)m->step);
		modem_recover(m, why);
		return;
	}
	on_step(m, r);
}

void modem_step_timer(struct modem *m)
{
	enum step s = m->step;

	m->timer_at = UINT64_MAX;
	switch (s) {
	case STEP_PROBE_DRAIN:
		at_reset(m->at);
		run_step(m, STEP_PROBE_AT);
		break;
	case STEP_SIM_WAIT:
		run_step(m, m->wait_target);
		break;
	case STEP_REG_WAIT:
		run_step(m, STEP_CREG);
		break;
	default:
		break;
	}
}
