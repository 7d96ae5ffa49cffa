/* simpul-modemsim: the AT command set of a SIM800 or a Huawei E3531 in PDU
 * mode (3GPP TS 27.007, TS 27.005, V.250) with their quirks (doc/modem.md):
 * parsing, the {name, handler} table of extended commands, the general
 * ones, boot and timers. The SMS commands are in simsms.c. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pdu.h"
#include "sim.h"

bool sim_huawei(struct sim *sim)
{
	return sim->profile == PROFILE_E3531;
}

/* ---- state ---- */

static void reset_settings(struct sim *sim)
{
	/* What ATZ and a power cycle restore (V.250 6.1.1). */
	sim->echo = sim->default_echo || sim->profile == PROFILE_SIM800;
	sim->cmee = 0;
	sim->cmgf = 0;
	sim->csdh = 0;
	sim->creg_n = sim->cgreg_n = sim->cereg_n = 0;
	/* Power-on CNMI: indications of new SMS on (SIM800 2,1,0,0,0). */
	int cnmi[5] = {2, 1, 0, 0, 0};

	memcpy(sim->cnmi, cnmi, sizeof(cnmi));
	snprintf(sim->cscs, sizeof(sim->cscs), "%s",
		 sim_huawei(sim) ? "IRA" : "GSM");
}

void modem_defaults(struct sim *sim)
{
	sim->profile = PROFILE_SIM800;
	sim->capacity = 30;
	sim->cmgs_delay_ms = 400;
	snprintf(sim->smsc, sizeof(sim->smsc), "+6281100000");
	snprintf(sim->own, sizeof(sim->own), "+6281200000000");
	snprintf(sim->credit, sizeof(sim->credit), "12.500");
	sim->mems[0].name = "SM";
	sim->mems[1].name = "ME";
	sim->registered = true;
	sim->mr = 0;
}

void modem_boot(struct sim *sim)
{
	reset_settings(sim);
	sim->cap_limit = sim->capacity;
	sim->in_len = 0;
	sim->in_prompt = false;
	sim->mem_sel[0] = sim->mem_sel[1] = 0;
	/* The E3531 stores incoming SMS in ME until told otherwise. */
	sim->mem_sel[2] = sim_huawei(sim) ? 1 : 0;
	sim->pin_tries = 0;
	timer_cancel(sim, T_BOOT);
	timer_cancel(sim, T_NOISE);
	if (sim_huawei(sim)) {
		sim->sms_ready = true;
		sim->curc = true;
		timer_add(sim, 100, T_BOOT, 10, NULL);
		timer_add(sim, 1500, T_NOISE, 0, NULL);
	} else {
		sim->sms_ready = false;
		sim->curc = false;
		timer_add(sim, 50, T_BOOT, 0, NULL);
	}
}

static void noise_line(struct sim *sim)
{
	static const char *lines[] = {"^RSSI:17", "^BOOT:20932478,0,0,0,72",
				      "^MODE:5,4", "^RSSI:18"};

	port_line(sim, "%s", lines[sim->noise_step++ % 4]);
}

/* Huawei noise lands between the lines of a response, too. */
void sim_inline_noise(struct sim *sim)
{
	if (sim_huawei(sim) && sim->curc)
		noise_line(sim);
}

/* ---- results ---- */

void sim_ok(struct sim *sim)
{
	port_line(sim, "OK");
}

void sim_error(struct sim *sim)
{
	sim->stats.errors++;
	port_line(sim, "ERROR");
}

/* "+CME ERROR: <n>" / "+CMS ERROR: <n>", or a bare ERROR while AT+CMEE
 * is 0 (TS 27.007 9.1). */
static void coded_error(struct sim *sim, const char *kind, int code)
{
	sim->stats.errors++;
	if (sim->cmee)
		port_line(sim, "+%s ERROR: %d", kind, code);
	else
		port_line(sim, "ERROR");
}

static void cme(struct sim *sim, int code)
{
	coded_error(sim, "CME", code);
}

void sim_cms(struct sim *sim, int code)
{
	coded_error(sim, "CMS", code);
}

/* ---- command parsing helpers ---- */

int sim_arg_int(const char *args, int n, int dflt)
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
bool sim_arg_str(const char *args, int n, char *out, size_t outlen)
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

static void count_command(struct sim *sim, const char *name)
{
	sim->stats.commands++;
	for (int i = 0; i < sim->nseen; i++) {
		if (!strcmp(sim->seen[i].name, name)) {
			sim->seen[i].count++;
			return;
		}
	}
	if (sim->nseen < 64) {
		snprintf(sim->seen[sim->nseen].name, sizeof(sim->seen[0].name),
			 "%s", name);
		sim->seen[sim->nseen++].count = 1;
	}
}

/* ---- the commands ---- */

static void do_ati(struct sim *sim)
{
	if (sim_huawei(sim)) {
		port_printf(sim, "\r\nManufacturer: huawei\r\n");
		sim_inline_noise(sim);
		port_printf(sim, "Model: E3531\r\nRevision: 22.521.23.00.00\r\n"
				 "IMEI: 861234050123456\r\n"
				 "+GCAP: +CGSM,+DS,+ES\r\n");
	} else {
		port_line(sim, "SIM800 R14.18");
	}
	sim_ok(sim);
}

bool sim_set_only(struct sim *sim, const struct cmd *c)
{
	if (c->type == TEST)
		sim_ok(sim);
	else if (c->type != SET)
		sim_error(sim);
	return c->type == SET;
}

static void do_creg(struct sim *sim, const struct cmd *c, const char *name,
		    int *n)
{
	if (c->type == TEST) {
		port_line(sim, "%s: (0-2)", name);
		sim_ok(sim);
	} else if (c->type == SET) {
		int v = sim_arg_int(c->args, 0, -1);

		if (v < 0 || v > 2) {
			cme(sim, 50);
			return;
		}
		*n = v;
		sim_ok(sim);
	} else if (c->type == READ) {
		int stat = sim->registered ? 1 : 2;

		if (*n == 2 && sim->registered)
			port_line(sim, "%s: %d,%d,\"1A2B\",\"00C3\"", name, *n,
				  stat);
		else
			port_line(sim, "%s: %d,%d", name, *n, stat);
		sim_ok(sim);
	} else {
		sim_error(sim);
	}
}

static void do_cpin(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ) {
		port_line(sim, "+CPIN: %s",
			  sim->puk	      ? "SIM PUK"
			  : sim->pin_required ? "SIM PIN"
					      : "READY");
		sim_ok(sim);
		return;
	}
	if (!sim_set_only(sim, c))
		return;
	char pin[32];

	sim_arg_str(c->args, 0, pin, sizeof(pin));
	if (sim->puk) {
		cme(sim, 12); /* SIM PUK required */
		return;
	}
	if (!sim->pin_required) {
		cme(sim, 3); /* operation not allowed */
		return;
	}
	if (strcmp(pin, sim->pin)) {
		/* Three wrong PINs lock the SIM (doc/modem.md). */
		if (++sim->pin_tries >= 3)
			sim->puk = true;
		cme(sim, 16); /* incorrect password */
		return;
	}
	sim->pin_required = false;
	sim->pin_tries = 0;
	sim_ok(sim);
	port_line(sim, "+CPIN: READY");
	if (!sim_huawei(sim)) {
		timer_add(sim, 300, T_BOOT, 3,
			  NULL); /* Call Ready, SMS Ready */
		sim->sms_ready = false;
	}
	if (sim->npending)
		timer_add(sim, 1500, T_PENDING, 0, NULL);
}

static void do_cusd(struct sim *sim, const struct cmd *c)
{
	if (c->type == TEST) {
		port_line(sim, "+CUSD: (0,1,2)");
		sim_ok(sim);
		return;
	}
	if (c->type == READ) {
		port_line(sim, "+CUSD: 1");
		sim_ok(sim);
		return;
	}
	if (c->type != SET) {
		sim_error(sim);
		return;
	}
	char code[64];

	if (!sim_arg_str(c->args, 1, code, sizeof(code)) || !code[0]) {
		sim_ok(sim); /* just enabling/disabling result codes */
		return;
	}
	if (!sim->registered) {
		cme(sim, 30); /* no network service */
		return;
	}
	sim_ok(sim);
	char answer[200];

	if (!strcmp(code, "*888#") || !strcmp(code, "*123#") ||
	    !strcmp(code, "*100#"))
		snprintf(answer, sizeof(answer),
			 "Sisa pulsa Anda Rp %s. Aktif s/d 31-12-2026",
			 sim->credit);
	else
		snprintf(answer, sizeof(answer), "Layanan tidak tersedia");
	timer_add(sim, 800, T_CUSD, 0, answer);
}

static void do_cclk(struct sim *sim, const struct cmd *c)
{
	time_t t = wall_now() + 7 * 3600;
	struct tm tm;
	char buf[40];

	if (c->type == SET || c->type == TEST) {
		sim_ok(sim);
		return;
	}
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%y/%m/%d,%H:%M:%S+28", &tm);
	port_line(sim, "+CCLK: \"%s\"", buf);
	sim_ok(sim);
}

static void simple_info(struct sim *sim, const struct cmd *c, const char *value)
{
	if (c->type == TEST) {
		sim_ok(sim);
		return;
	}
	port_line(sim, "%s", value);
	sim_ok(sim);
}

static void do_cgmi(struct sim *sim, const struct cmd *c)
{
	simple_info(sim, c, sim_huawei(sim) ? "huawei" : "SIMCOM_Ltd");
}

static void do_cgmm(struct sim *sim, const struct cmd *c)
{
	simple_info(sim, c, sim_huawei(sim) ? "E3531" : "SIMCOM_SIM800");
}

static void do_cgmr(struct sim *sim, const struct cmd *c)
{
	simple_info(sim, c,
		    sim_huawei(sim) ? "22.521.23.00.00"
				    : "Revision:1418B04SIM800C24");
}

static void do_cgsn(struct sim *sim, const struct cmd *c)
{
	simple_info(sim, c,
		    sim_huawei(sim) ? "861234050123456" : "866104020123456");
}

static void do_cimi(struct sim *sim, const struct cmd *c)
{
	if (sim->pin_required)
		cme(sim, sim->puk ? 12 : 11);
	else
		simple_info(sim, c, "510101234567890");
}

/* A numeric setting 0..max: set, read ("+CMEE: 1") or test ("(0-2)");
 * an out-of-range value gets CMS bad_cms, or ERROR when bad_cms is 0. */
static void int_setting(struct sim *sim, const struct cmd *c, int *field,
			int max, const char *range, int bad_cms)
{
	if (c->type == SET) {
		int v = sim_arg_int(c->args, 0, -1);

		if (v < 0 || v > max) {
			if (bad_cms)
				sim_cms(sim, bad_cms);
			else
				sim_error(sim);
			return;
		}
		*field = v;
	} else if (c->type == READ) {
		port_line(sim, "%s: %d", c->name, *field);
	} else {
		port_line(sim, "%s: %s", c->name, range);
	}
	sim_ok(sim);
}

static void do_cmee(struct sim *sim, const struct cmd *c)
{
	int_setting(sim, c, &sim->cmee, 2, "(0-2)", 0);
}

static void do_cmgf(struct sim *sim, const struct cmd *c)
{
	int_setting(sim, c, &sim->cmgf, 1, "(0,1)", 302);
}

static void do_cscs(struct sim *sim, const struct cmd *c)
{
	char v[8];

	if (c->type == READ) {
		port_line(sim, "+CSCS: \"%s\"", sim->cscs);
	} else if (c->type != SET) {
		port_line(sim, "+CSCS: (\"IRA\",\"GSM\",\"UCS2\")");
	} else {
		sim_arg_str(c->args, 0, v, sizeof(v));
		if (strcasecmp(v, "GSM") && strcasecmp(v, "IRA") &&
		    strcasecmp(v, "UCS2") && strcasecmp(v, "HEX")) {
			cme(sim, 4);
			return;
		}
		snprintf(sim->cscs, sizeof(sim->cscs), "%s", v);
	}
	sim_ok(sim);
}

static void do_csdh(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim, "+CSDH: %d", sim->csdh);
	else if (c->type == TEST)
		port_line(sim, "+CSDH: (0,1)");
	else
		sim->csdh = sim_arg_int(c->args, 0, 0);
	sim_ok(sim);
}

static void do_csmp(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim, "+CSMP: 17,167,0,0");
	sim_ok(sim);
}

static void do_csms(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim, "+CSMS: 0,1,1,1");
	else if (c->type == TEST)
		port_line(sim, "+CSMS: (0,1)");
	else
		port_line(sim, "+CSMS: 1,1,1");
	sim_ok(sim);
}

static void do_csca(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim, "+CSCA: \"%s\",%d", sim->smsc,
			  sim->smsc[0] == '+' ? 145 : 129);
	else if (c->type == SET)
		sim_arg_str(c->args, 0, sim->smsc, sizeof(sim->smsc));
	sim_ok(sim);
}

static void do_creg_cs(struct sim *sim, const struct cmd *c)
{
	do_creg(sim, c, "+CREG", &sim->creg_n);
}

static void do_cgreg(struct sim *sim, const struct cmd *c)
{
	do_creg(sim, c, "+CGREG", &sim->cgreg_n);
}

static void do_cereg(struct sim *sim, const struct cmd *c)
{
	do_creg(sim, c, "+CEREG", &sim->cereg_n);
}

static void do_csq(struct sim *sim, const struct cmd *c)
{
	simple_info(sim, c, sim->registered ? "+CSQ: 18,99" : "+CSQ: 99,99");
}

static void do_cops(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim,
			  sim->registered ? "+COPS: 0,0,\"TELKOMSEL\"%s"
					  : "+COPS: 0%s",
			  sim_huawei(sim) && sim->registered ? ",2" : "");
	sim_ok(sim);
}

static void do_cfun(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim, "+CFUN: 1");
	sim_ok(sim);
	if (c->type == SET && sim_arg_int(c->args, 1, 0) == 1)
		modem_boot(sim); /* AT+CFUN=1,1: reset */
}

static void do_ok(struct sim *sim, const struct cmd *c)
{
	sim_ok(sim);
}

/* Which port carries unsolicited codes (Huawei AT manual). */
static void do_portsel(struct sim *sim, const struct cmd *c)
{
	if (c->type == READ)
		port_line(sim, "^PORTSEL: 0");
	else if (c->type == TEST)
		port_line(sim, "^PORTSEL: (0,1)");
	sim_ok(sim);
}

static void do_sysinfo(struct sim *sim, const struct cmd *c)
{
	port_line(sim, "^SYSINFO:2,%d,0,5,1,,4", sim->registered ? 3 : 0);
	sim_ok(sim);
}

static void do_curc(struct sim *sim, const struct cmd *c)
{
	if (c->type == SET) {
		sim->curc = sim_arg_int(c->args, 0, 1) != 0;
		if (sim->curc) {
			timer_cancel(sim, T_NOISE);
			timer_add(sim, 1500, T_NOISE, 0, NULL);
		}
	} else if (c->type == READ) {
		port_line(sim, "^CURC: %d", sim->curc);
	}
	sim_ok(sim);
}

/* TS 27.007 6.5: hang up the call that rings */
static void do_chup(struct sim *sim, const struct cmd *c)
{
	simcall_hangup(sim, "AT+CHUP");
	sim_ok(sim);
}

/* The extended commands by name; huawei_only ones are unknown to the
 * SIM800 profile, as on the real modem. */
static const struct {
	const char *name;
	bool huawei_only;
	void (*run)(struct sim *sim, const struct cmd *c);
} extended[] = {
    {"+CGMI", false, do_cgmi},	    {"+GMI", false, do_cgmi},
    {"+CGMM", false, do_cgmm},	    {"+GMM", false, do_cgmm},
    {"+CGMR", false, do_cgmr},	    {"+GMR", false, do_cgmr},
    {"+CGSN", false, do_cgsn},	    {"+GSN", false, do_cgsn},
    {"+CIMI", false, do_cimi},	    {"+CMEE", false, do_cmee},
    {"+CSCS", false, do_cscs},	    {"+CMGF", false, do_cmgf},
    {"+CSDH", false, do_csdh},	    {"+CSMP", false, do_csmp},
    {"+CSMS", false, do_csms},	    {"+CPMS", false, sms_cpms},
    {"+CNMI", false, sms_cnmi},	    {"+CSCA", false, do_csca},
    {"+CPIN", false, do_cpin},	    {"+CREG", false, do_creg_cs},
    {"+CGREG", false, do_cgreg},    {"+CEREG", true, do_cereg},
    {"+CSQ", false, do_csq},	    {"+COPS", false, do_cops},
    {"+CCLK", false, do_cclk},	    {"+CUSD", false, do_cusd},
    {"+CMGL", false, sms_cmgl},	    {"+CMGR", false, sms_cmgr},
    {"+CMGD", false, sms_cmgd},	    {"+CMGS", false, sms_cmgs},
    {"+CFUN", false, do_cfun},	    {"+CLIP", false, do_ok},
    {"+CRC", false, do_ok},	    {"+CMMS", false, do_ok},
    {"+CHUP", false, do_chup},	    {"^PORTSEL", true, do_portsel},
    {"^SYSINFO", true, do_sysinfo}, {"^CURC", true, do_curc},
};

static void do_extended(struct sim *sim, const struct cmd *c)
{
	count_command(sim, c->name);
	for (size_t i = 0; i < sizeof(extended) / sizeof(extended[0]); i++)
		if (!strcmp(c->name, extended[i].name) &&
		    (!extended[i].huawei_only || sim_huawei(sim))) {
			extended[i].run(sim, c);
			return;
		}
	/* Unknown to this firmware: what real modems answer. */
	if (sim->cmee)
		cme(sim, 100);
	else
		sim_error(sim);
}

/* Basic V.250 commands: E, V, Q, Z, I, &F, &C, &D, X, sim-> Returns the
 * number of characters used, or -1 for an unknown one. */
static int do_basic(struct sim *sim, const char *p, bool *reply_done)
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

	count_command(sim, name);
	if (c == 'E')
		sim->echo = v != 0;
	else if (c == 'Z' || (p[0] == '&' && c == 'F'))
		reset_settings(sim);
	else if (c == 'I') {
		do_ati(sim);
		*reply_done = true;
	} else if (c == 'H')
		simcall_hangup(sim, "ATH"); /* V.250 6.3.6 */
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

static void execute_line(struct sim *sim, char *line)
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
		count_command(sim, "AT");
		sim_ok(sim);
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
			do_extended(sim, &c);
			return;
		}
		bool done = false;
		int k = do_basic(sim, p, &done);

		if (k < 0) {
			count_command(sim, "AT?");
			sim_error(sim);
			return;
		}
		p += k;
		if (done)
			return;
	}
	sim_ok(sim);
}

/* ---- input ---- */

void modem_input(struct sim *sim, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];

		if (sim->in_prompt) {
			if (sim->echo && c != CTRL_Z && c != ESC)
				port_write(sim, &c, 1);
			sms_prompt_input(sim, c);
			continue;
		}
		if (sim->echo)
			port_write(sim, &c, 1);
		if (c == '\r') {
			sim->in[sim->in_len] = '\0';
			sim->in_len = 0;
			execute_line(sim, sim->in);
		} else if (c == '\n' || c == ESC || c == CTRL_Z) {
			/* LF after CR, or a stray abort outside the prompt */
		} else if (c == '\b' || c == 0x7F) {
			if (sim->in_len)
				sim->in_len--;
		} else if (sim->in_len < sizeof(sim->in) - 1) {
			sim->in[sim->in_len++] = c;
		}
	}
}

/* ---- timers ---- */

static void boot_step(struct sim *sim, int step)
{
	/* SIM800 power-up sequence (SIM800 AT manual, "unsolicited result
	 * codes"); SMS commands fail with CMS 302 until "SMS Ready". */
	switch (step) {
	case 0:
		port_line(sim, "RDY");
		timer_add(sim, 100, T_BOOT, 1, NULL);
		break;
	case 1:
		port_line(sim, "+CFUN: 1");
		timer_add(sim, 100, T_BOOT, 2, NULL);
		break;
	case 2:
		port_line(sim, "+CPIN: %s",
			  sim->pin_required ? "SIM PIN" : "READY");
		if (!sim->pin_required)
			timer_add(sim, 500, T_BOOT, 3, NULL);
		break;
	case 3:
		port_line(sim, "Call Ready");
		timer_add(sim, 400, T_BOOT, 4, NULL);
		break;
	case 4:
		port_line(sim, "SMS Ready");
		sim->sms_ready = true;
		if (sim->npending)
			timer_add(sim, 200, T_PENDING, 0, NULL);
		break;
	case 10: /* E3531 */
		port_line(sim, "^SIMST:1");
		if (sim->pin_required)
			port_line(sim, "+CPIN: SIM PIN");
		break;
	}
}

void modem_timer(struct sim *sim, enum timer_kind kind, int arg,
		 const char *data)
{
	switch (kind) {
	case T_BOOT:
		boot_step(sim, arg);
		break;
	case T_NOISE:
		if (sim_huawei(sim) && sim->curc &&
		    (sim->in_len || sim->in_prompt)) {
			/* No URC while a command line is being typed: real
			 * firmware holds it until the line is done. */
			timer_add(sim, 100, T_NOISE, 0, NULL);
		} else if (sim_huawei(sim) && sim->curc) {
			noise_line(sim);
			timer_add(sim, 1200 + rand() % 800, T_NOISE, 0, NULL);
		}
		break;
	case T_CMGS:
		port_printf(sim, "\r\n+CMGS: %d\r\n\r\nOK\r\n", arg);
		break;
	case T_CUSD:
		port_line(sim, "+CUSD: 0,\"%s\",15", data);
		break;
	case T_HANG_END:
		sim->hang_until = 0;
		break;
	case T_NOREG_END:
		sim->registered = true;
		if (sim->creg_n)
			port_line(sim, "+CREG: 1");
		if (sim->npending)
			timer_add(sim, 200, T_PENDING, 0, NULL);
		break;
	case T_REPORT:
		sms_status_report(sim, arg, data);
		break;
	case T_PENDING:
		sms_deliver_pending(sim);
		break;
	case T_RING:
	case T_CALL_END:
		simcall_timer(sim, kind, arg);
		break;
	default:
		break;
	}
}
