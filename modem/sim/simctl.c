/* simpul-modemsim: the control socket's line protocol. One reply line per
 * command: "OK ..." or "ERR reason"; listings are JSON. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pdu.h"
#include "sim.h"

#define MAX_SEGS 16

void sb_add(struct strbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->cap + n + 1) * 2;
		char *p = realloc(b->s, cap);

		if (!p)
			return;
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

void sb_printf(struct strbuf *b, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, buf,
		       (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void sb_json_str(struct strbuf *b, const char *s)
{
	sb_add(b, "\"", 1);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c == '\n')
			sb_add(b, "\\n", 2);
		else if (c == '\r')
			sb_add(b, "\\r", 2);
		else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else
			sb_add(b, (const char *)&c, 1);
	}
	sb_add(b, "\"", 1);
}

/* "\n" in a control line stands for a line break, "\\" for a backslash. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == 'n') {
			*w++ = '\n';
			r++;
		} else if (r[0] == '\\' && r[1] == '\\') {
			*w++ = '\\';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static char *next_word(char **p)
{
	char *s = *p, *w;

	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	w = s;
	while (*s && *s != ' ')
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return w;
}

static void err(struct strbuf *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sb_printf(r, "ERR %s", buf);
}

static int encode(struct sim *sim, const char *from, const char *text, int ref,
		  struct pdu_segment *segs, struct strbuf *r)
{
	char e[256];
	int n = pdu_encode_deliver(from, text, sim->smsc, (int64_t)wall_now(),
				   ref, segs, MAX_SEGS, e, sizeof(e));

	if (n < 0)
		err(r, "%s", e);
	return n;
}

static void deliver_all(struct sim *sim, struct pdu_segment *segs,
			const int *order, int n, struct strbuf *r, int reported)
{
	int waiting = 0;

	for (int i = 0; i < n; i++) {
		int rc = modem_deliver(sim, segs[order[i]].hex,
				       segs[order[i]].tpdu_len);

		if (rc < 0) {
			err(r, "the SMSC queue is full");
			return;
		}
		waiting += rc;
	}
	if (waiting)
		sb_printf(r, "OK %d (%d waiting at the SMSC)", reported,
			  waiting);
	else
		sb_printf(r, "OK %d", reported);
}

static void cmd_sms(struct sim *sim, char *rest, struct strbuf *r)
{
	static struct pdu_segment segs[MAX_SEGS];
	int order[MAX_SEGS];
	char *from = next_word(&rest);

	if (!from || !rest) {
		err(r, "usage: sms FROM TEXT");
		return;
	}
	while (*rest == ' ')
		rest++;
	unescape(rest);
	sim->next_ref[0] = (sim->next_ref[0] + 1) & 255;
	int n = encode(sim, from, rest, sim->next_ref[0], segs, r);

	if (n < 0)
		return;
	for (int i = 0; i < n; i++)
		order[i] = i;
	deliver_all(sim, segs, order, n, r, n);
}

static void cmd_parts(struct sim *sim, char *rest, struct strbuf *r)
{
	static struct pdu_segment segs[MAX_SEGS];
	int order[64], norder = 0;
	char *from = next_word(&rest), *ref = next_word(&rest);
	char *ord = next_word(&rest);

	if (!from || !ref || !ord || !*rest) {
		err(r, "usage: parts FROM REF ORDER TEXT (ORDER like 3,1,2)");
		return;
	}
	unescape(rest);
	int n = encode(sim, from, rest, atoi(ref), segs, r);

	if (n < 0)
		return;
	for (char *t = strtok(ord, ","); t && norder < 64;
	     t = strtok(NULL, ",")) {
		int k = atoi(t);

		if (k < 1 || k > n) {
			err(r,
			    "part %s does not exist: the text makes %d parts",
			    t, n);
			return;
		}
		order[norder++] = k - 1;
	}
	deliver_all(sim, segs, order, norder, r, norder);
}

static void cmd_pdu(struct sim *sim, char *rest, struct strbuf *r)
{
	char *hex = next_word(&rest);
	unsigned smsc = 0;

	if (!hex) {
		err(r, "usage: pdu HEX");
		return;
	}
	size_t hl = strlen(hex);
	int len = (int)(hl / 2);

	/* <length> counts the TPDU only (TS 27.005 3.1); a corrupt PDU
	 * keeps whatever its first octet claims. */
	if (sscanf(hex, "%2x", &smsc) == 1 && (int)smsc + 1 < len)
		len -= (int)smsc + 1;
	int rc = modem_deliver(sim, hex, len);

	if (rc < 0)
		err(r, "the SMSC queue is full");
	else
		sb_printf(r, "OK %s", rc ? "waiting at the SMSC" : "stored");
}

static void cmd_fault(struct sim *sim, char *rest, struct strbuf *r)
{
	char *what = next_word(&rest), *a1 = next_word(&rest);
	char *a2 = next_word(&rest), *a3 = next_word(&rest);
	int secs = a1 ? atoi(a1) : 0;

	if (!what) {
		err(r,
		    "usage: fault hang|garbage|unplug|cms|slow|full|pin|noreg|"
		    "reboot|clear ...");
		return;
	}
	if (!strcmp(what, "hang") && secs > 0) {
		sim->hang_until = now_ms() + secs * 1000;
		sim->out_len = 0;
		timer_cancel(sim, T_HANG_END);
		timer_add(sim, secs * 1000, T_HANG_END, 0, NULL);
	} else if (!strcmp(what, "garbage")) {
		char g[128];

		for (size_t i = 0; i < sizeof(g); i++)
			g[i] = (char)(rand() & 255);
		port_write(sim, g, sizeof(g));
	} else if (!strcmp(what, "unplug") && secs > 0) {
		port_unplug(sim, secs);
	} else if (!strcmp(what, "cms") && a1) {
		sim->cms_fault_code = atoi(a1);
		sim->cms_fault_count = a2 ? atoi(a2) : 1;
		sim->cms_fault_after =
		    a3 ? atoi(a3) : 0; /* sends let through */
	} else if (!strcmp(what, "slow") && a1) {
		sim->cmgs_delay_ms = atoi(a1) > 0 ? atoi(a1) : 400;
	} else if (!strcmp(what, "full")) {
		int used = 0;

		for (int i = 0; i < sim->capacity; i++)
			used += sim->mems[sim->mem_sel[2]].slots[i].used;
		sim->cap_limit = used;
	} else if (!strcmp(what, "pin") && a1) {
		snprintf(sim->pin, sizeof(sim->pin), "%s", a1);
		sim->pin_required = true;
		sim->puk = false;
		sim->pin_tries = 0;
	} else if (!strcmp(what, "noreg") && secs > 0) {
		sim->registered = false;
		if (sim->creg_n)
			port_line(sim, "+CREG: 2");
		timer_cancel(sim, T_NOREG_END);
		timer_add(sim, secs * 1000, T_NOREG_END, 0, NULL);
	} else if (!strcmp(what, "reboot")) {
		modem_boot(sim);
	} else if (!strcmp(what, "clear")) {
		sim->hang_until = 0;
		sim->cms_fault_count = sim->cms_fault_after = 0;
		sim->cmgs_delay_ms = 400;
		sim->cap_limit = sim->capacity;
		sim->registered = true;
		timer_cancel(sim, T_HANG_END);
		timer_cancel(sim, T_NOREG_END);
		if (sim->npending)
			timer_add(sim, 100, T_PENDING, 0, NULL);
	} else {
		err(r, "unknown fault or missing argument: %s", what);
		return;
	}
	sb_printf(r, "OK");
}

/* call NUMBER|hidden [RINGS]: rings RINGS times (4), then gives up. */
static void cmd_call(struct sim *sim, char *rest, struct strbuf *r)
{
	char *num = next_word(&rest), *n = next_word(&rest);
	int rings = n ? atoi(n) : 4;
	int id;

	if (!num || rings < 1) {
		err(r, "usage: call NUMBER|hidden [RINGS]");
		return;
	}
	id = simcall_start(sim, strcmp(num, "hidden") ? num : "", rings);
	if (id < 0)
		err(r, "a call is already ringing");
	else
		sb_printf(r, "OK %d", id);
}

static void cmd_sent(struct sim *sim, struct strbuf *r)
{
	sb_printf(r, "OK [");
	for (int i = 0; i < sim->nsent; i++) {
		struct sent *s = &sim->sent[i];
		struct strbuf text = {0};

		for (int k = 0; k < s->parts; k++)
			if (s->texts[k])
				sb_add(&text, s->texts[k], strlen(s->texts[k]));
		sb_printf(r, "%s{\"to\":", i ? "," : "");
		sb_json_str(r, s->to);
		sb_printf(r, ",\"text\":");
		sb_json_str(r, text.s ? text.s : "");
		sb_printf(r,
			  ",\"mr\":%d,\"parts\":%d,\"received_parts\":%d,"
			  "\"repeated_parts\":%d,\"ref\":%d,\"pdus\":[",
			  s->mr, s->parts, s->got, s->repeats, s->ref);
		for (int k = 0, first = 1; k < s->parts; k++) {
			if (!s->pdus[k])
				continue;
			sb_printf(r, "%s", first ? "" : ",");
			sb_json_str(r, s->pdus[k]);
			first = 0;
		}
		sb_printf(r, "]}");
		free(text.s);
	}
	sb_printf(r, "]");
}

static void cmd_stored(struct sim *sim, struct strbuf *r)
{
	int first = 1;

	sb_printf(r, "OK [");
	for (int m = 0; m < 2; m++) {
		for (int i = 0; i < sim->capacity; i++) {
			struct slot *s = &sim->mems[m].slots[i];

			if (!s->used)
				continue;
			sb_printf(r,
				  "%s{\"mem\":\"%s\",\"index\":%d,\"stat\":%d,"
				  "\"pdu\":",
				  first ? "" : ",", sim->mems[m].name,
				  i + modem_index_base(sim), s->stat);
			sb_json_str(r, s->pdu);
			sb_printf(r, "}");
			first = 0;
		}
	}
	sb_printf(r, "]");
}

static void cmd_stats(struct sim *sim, struct strbuf *r)
{
	sb_printf(r,
		  "OK {\"commands\":%llu,\"errors\":%llu,\"deletes\":%llu,"
		  "\"sends\":%llu,\"received\":%llu,\"reads\":%llu,"
		  "\"lists\":%llu,\"pending\":%d,\"bytes_in\":%llu,"
		  "\"path\":",
		  (unsigned long long)sim->stats.commands,
		  (unsigned long long)sim->stats.errors,
		  (unsigned long long)sim->stats.deletes,
		  (unsigned long long)sim->stats.sends,
		  (unsigned long long)sim->stats.received,
		  (unsigned long long)sim->stats.reads,
		  (unsigned long long)sim->stats.lists, sim->npending,
		  (unsigned long long)sim->stats.bytes_in);
	sb_json_str(r, sim->master >= 0 ? sim->path : "");
	sb_printf(r, ",\"seen\":{");
	for (int i = 0; i < sim->nseen; i++) {
		sb_printf(r, "%s", i ? "," : "");
		sb_json_str(r, sim->seen[i].name);
		sb_printf(r, ":%d", sim->seen[i].count);
	}
	sb_printf(r, "}}");
}

void control_command(struct sim *sim, char *line, struct strbuf *r)
{
	char *rest = line;
	char *cmd = next_word(&rest);

	if (!cmd) {
		err(r, "empty command");
	} else if (!strcmp(cmd, "sms")) {
		cmd_sms(sim, rest, r);
	} else if (!strcmp(cmd, "parts")) {
		cmd_parts(sim, rest, r);
	} else if (!strcmp(cmd, "pdu")) {
		cmd_pdu(sim, rest, r);
	} else if (!strcmp(cmd, "raw")) {
		unescape(rest);
		port_line(sim, "%s", rest);
		sb_printf(r, "OK");
	} else if (!strcmp(cmd, "fault")) {
		cmd_fault(sim, rest, r);
	} else if (!strcmp(cmd, "credit")) {
		char *a = next_word(&rest);

		if (!a) {
			err(r, "usage: credit AMOUNT");
			return;
		}
		snprintf(sim->credit, sizeof(sim->credit), "%s", a);
		sb_printf(r, "OK");
	} else if (!strcmp(cmd, "call")) {
		cmd_call(sim, rest, r);
	} else if (!strcmp(cmd, "calls")) {
		simcall_list(sim, r);
	} else if (!strcmp(cmd, "sent")) {
		cmd_sent(sim, r);
	} else if (!strcmp(cmd, "stored")) {
		cmd_stored(sim, r);
	} else if (!strcmp(cmd, "stats")) {
		cmd_stats(sim, r);
	} else {
		err(r,
		    "unknown command '%s' (sms, parts, pdu, raw, fault, "
		    "credit, call, calls, sent, stored, stats)",
		    cmd);
	}
}
