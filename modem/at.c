/* at: AT command chat; see at.h. Modelled on oFono's gatchat (gatsyntax.c,
 * gatchat.c, gatresult.c) but pure: no I/O, no clock of its own. */
#include "at.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------- syntax layer ---------------- */

struct at_syntax {
	at_syntax_cb cb;
	void *ud;
	char buf[AT_LINE_MAX + 1];
	size_t len;
	bool overflow;	 /* discarding until the end of an over-long line */
	bool bad;	 /* the line holds control bytes */
	bool expect_pdu; /* the last line was a PDU header */
	bool aborted;	 /* reset from inside a callback: stop feeding */
};

struct at_syntax *at_syntax_new(at_syntax_cb cb, void *ud)
{
	struct at_syntax *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cb = cb;
	s->ud = ud;
	return s;
}

void at_syntax_free(struct at_syntax *s)
{
	free(s);
}

void at_syntax_reset(struct at_syntax *s)
{
	s->len = 0;
	s->overflow = false;
	s->bad = false;
	s->expect_pdu = false;
	s->aborted = true;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* TS 27.005 3.4.1/3.4.3/3.4.2 (PDU mode): these headers are followed by one
 * line holding the hex PDU. */
static bool is_pdu_header(const char *line)
{
	return starts_with(line, "+CMT:") || starts_with(line, "+CMGR:") ||
	       starts_with(line, "+CMGL:") || starts_with(line, "+CDS:");
}

static bool is_hex_line(const char *line, size_t len)
{
	if (len < 2)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)line[i]))
			return false;
	return true;
}

/* With ATE1 the modem repeats our command line; no response begins with
 * "AT" (V.250 5.2.1), and no hex PDU contains a 'T'. */
static bool is_echo(const char *line)
{
	return (line[0] == 'A' || line[0] == 'a') &&
	       (line[1] == 'T' || line[1] == 't');
}

static void syntax_emit_line(struct at_syntax *s)
{
	const char *line = s->buf;
	size_t len = s->len;
	enum at_result r;
	int code;

	s->buf[len] = '\0';
	if (s->bad) {
		s->cb(s->ud, AT_EV_GARBAGE, line, len);
		return;
	}
	if (is_echo(line))
		return;
	if (s->expect_pdu && is_hex_line(line, len)) {
		s->expect_pdu = false;
		s->cb(s->ud, AT_EV_PDU, line, len);
		return;
	}
	/* A final result ends any wait for a PDU line (an empty +CMGR). */
	if (at_parse_final(line, &r, &code))
		s->expect_pdu = false;
	if (is_pdu_header(line))
		s->expect_pdu = true;
	s->cb(s->ud, AT_EV_LINE, line, len);
}

static void syntax_end_line(struct at_syntax *s)
{
	if (s->overflow)
		s->overflow = false;
	else if (s->len > 0)
		syntax_emit_line(s);
	s->len = 0;
	s->bad = false;
}

static void syntax_byte(struct at_syntax *s, unsigned char c)
{
	if (c == '\r' || c == '\n') {
		syntax_end_line(s);
		return;
	}
	if (c == 0x1a || c == 0x1b) {
		/* Ctrl-Z / ESC end the PDU we sent after the prompt; with ATE1
		 * the modem echoes it: drop the echoed text. */
		s->len = 0;
		s->bad = false;
		s->overflow = false;
		return;
	}
	if (s->overflow)
		return;
	if (s->len >= AT_LINE_MAX) {
		s->overflow = true;
		s->len = 0;
		s->bad = false;
		s->cb(s->ud, AT_EV_OVERFLOW, "", 0);
		return;
	}
	if ((c < 0x20 && c != '\t') || c == 0x7f || c == 0xff)
		s->bad = true;
	s->buf[s->len++] = (char)c;
	/* TS 27.005 3.5.1: "<CR><LF><greater_than><space>" with no line
	 * ending after it. */
	if (s->len == 2 && s->buf[0] == '>' && s->buf[1] == ' ') {
		s->len = 0;
		s->cb(s->ud, AT_EV_PROMPT, "> ", 2);
	}
}

void at_syntax_feed(struct at_syntax *s, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	/* A callback may reset the chat (the modem rebooted, the port is
	 * being closed): the rest of this chunk belongs to the old session. */
	s->aborted = false;
	for (size_t i = 0; i < len && !s->aborted; i++)
		syntax_byte(s, p[i]);
}

/* ---------------- final results ---------------- */

static const struct {
	const char *text;
	enum at_result res;
} finals[] = {
    {"OK", AT_OK},
    {"ERROR", AT_ERROR},
    {"NO CARRIER", AT_NO_CARRIER},
    {"NO ANSWER", AT_NO_ANSWER},
    {"NO DIALTONE", AT_NO_DIALTONE},
    {"BUSY", AT_BUSY},
    {"CONNECT", AT_CONNECT},
    {"COMMAND NOT SUPPORT", AT_NOT_SUPPORTED},
};

bool at_parse_final(const char *line, enum at_result *res, int *code)
{
	*code = -1;
	if (starts_with(line, "+CMS ERROR:") ||
	    starts_with(line, "+CME ERROR:")) {
		const char *p = line + 11;
		char *end;
		long v;

		*res = line[3] == 'S' ? AT_CMS_ERROR : AT_CME_ERROR;
		while (*p == ' ')
			p++;
		v = strtol(p, &end, 10);
		if (end != p && *end == '\0')
			*code = (int)v;
		return true;
	}
	for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++) {
		size_t n = strlen(finals[i].text);

		/* "CONNECT 115200" is final too (V.250 6.3.1.1) */
		if (strncmp(line, finals[i].text, n) == 0 &&
		    (line[n] == '\0' ||
		     (finals[i].res == AT_CONNECT && line[n] == ' '))) {
			*res = finals[i].res;
			return true;
		}
	}
	return false;
}

const char *at_result_name(enum at_result r)
{
	switch (r) {
	case AT_OK:
		return "OK";
	case AT_ERROR:
		return "ERROR";
	case AT_CMS_ERROR:
		return "+CMS ERROR";
	case AT_CME_ERROR:
		return "+CME ERROR";
	case AT_NO_CARRIER:
		return "NO CARRIER";
	case AT_NO_ANSWER:
		return "NO ANSWER";
	case AT_NO_DIALTONE:
		return "NO DIALTONE";
	case AT_BUSY:
		return "BUSY";
	case AT_CONNECT:
		return "CONNECT";
	case AT_NOT_SUPPORTED:
		return "COMMAND NOT SUPPORT";
	case AT_TIMEOUT:
		return "timeout";
	case AT_CANCELLED:
		return "cancelled";
	}
	return "?";
}

/* ---------------- command queue ---------------- */

struct at_cmd {
	struct at_cmd *next;
	unsigned id;
	char *text; /* with trailing CR */
	char *prefixes;
	char *pdu; /* hex + Ctrl-Z, or NULL */
	unsigned timeout_ms;
	at_cmd_cb cb;
	void *ud;
	bool written, pdu_written;
	uint64_t deadline;
	char **lines;
	char **pdus;
	size_t nlines, cap;
};

struct at_urc {
	struct at_urc *next;
	char *prefix; /* NULL: fallback */
	at_urc_cb cb;
	void *ud;
};

struct at {
	struct at_syntax *syn;
	at_write_fn write;
	void *write_ud;
	at_garbage_cb garbage;
	void *garbage_ud;
	struct at_cmd *head, *tail;
	struct at_urc *urcs;
	uint64_t now;
	unsigned next_id;
	unsigned generation; /* bumped by at_reset, to notice it in callbacks */
	/* a URC header waiting for its PDU line (+CMT, +CDS) */
	char *urc_pending;
	struct at_urc *urc_pending_h;
	bool last_to_cmd; /* the last line went to the command's lines */
};

static void at_on_event(void *ud, enum at_event ev, const char *line,
			size_t len);

struct at *at_new(at_write_fn write, void *write_ud)
{
	struct at *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->syn = at_syntax_new(at_on_event, a);
	if (!a->syn) {
		free(a);
		return NULL;
	}
	a->write = write;
	a->write_ud = write_ud;
	return a;
}

static void cmd_free(struct at_cmd *c)
{
	for (size_t i = 0; i < c->nlines; i++) {
		free(c->lines[i]);
		free(c->pdus[i]);
	}
	free(c->lines);
	free(c->pdus);
	free(c->text);
	free(c->prefixes);
	free(c->pdu);
	free(c);
}

static void urc_pending_clear(struct at *a)
{
	free(a->urc_pending);
	a->urc_pending = NULL;
	a->urc_pending_h = NULL;
}

static void cmd_finish(struct at_cmd *c, enum at_result res, int code,
		       const char *final)
{
	struct at_response r = {
	    .result = res,
	    .code = code,
	    .final = final,
	    .nlines = c->nlines,
	    .lines = (const char *const *)c->lines,
	    .pdus = (const char *const *)c->pdus,
	};

	if (c->cb)
		c->cb(c->ud, &r);
	cmd_free(c);
}

void at_reset(struct at *a)
{
	struct at_cmd *c = a->head;

	a->head = a->tail = NULL;
	a->generation++;
	at_syntax_reset(a->syn);
	urc_pending_clear(a);
	a->last_to_cmd = false;
	while (c) {
		struct at_cmd *next = c->next;

		cmd_finish(c, AT_CANCELLED, -1, "");
		c = next;
	}
}

void at_free(struct at *a)
{
	if (!a)
		return;
	at_reset(a);
	while (a->urcs) {
		struct at_urc *u = a->urcs;

		a->urcs = u->next;
		free(u->prefix);
		free(u);
	}
	at_syntax_free(a->syn);
	free(a);
}

void at_set_time(struct at *a, uint64_t now_ms)
{
	a->now = now_ms;
}

static void at_write(struct at *a, const char *buf, size_t len)
{
	/* A failed write is the caller's to notice (its write callback);
	 * the command then runs into its deadline. */
	(void)a->write(a->write_ud, buf, len);
}

static void at_kick(struct at *a)
{
	struct at_cmd *c = a->head;

	if (!c || c->written)
		return;
	c->written = true;
	c->deadline = a->now + c->timeout_ms;
	a->last_to_cmd = false;
	at_write(a, c->text, strlen(c->text));
}

static unsigned queue(struct at *a, const char *cmd, const char *prefixes,
		      const char *pdu, unsigned timeout_ms, at_cmd_cb cb,
		      void *ud)
{
	struct at_cmd *c = calloc(1, sizeof(*c));
	size_t n = strlen(cmd);

	if (!c)
		return 0;
	c->text = malloc(n + 2);
	c->prefixes = prefixes ? strdup(prefixes) : NULL;
	if (pdu) {
		size_t pn = strlen(pdu);

		c->pdu = malloc(pn + 2);
		if (c->pdu) {
			memcpy(c->pdu, pdu, pn);
			c->pdu[pn] = 0x1a; /* Ctrl-Z, TS 27.005 3.5.1 */
			c->pdu[pn + 1] = '\0';
		}
	}
	if (!c->text || (prefixes && !c->prefixes) || (pdu && !c->pdu)) {
		cmd_free(c);
		return 0;
	}
	memcpy(c->text, cmd, n);
	c->text[n] = '\r'; /* V.250 5.2.1: S3 ends the command line */
	c->text[n + 1] = '\0';
	c->timeout_ms = timeout_ms;
	c->cb = cb;
	c->ud = ud;
	c->id = ++a->next_id;
	if (c->id == 0)
		c->id = ++a->next_id;
	if (a->tail)
		a->tail->next = c;
	else
		a->head = c;
	a->tail = c;
	at_kick(a);
	return c->id;
}

unsigned at_send(struct at *a, const char *cmd, const char *prefixes,
		 unsigned timeout_ms, at_cmd_cb cb, void *ud)
{
	return queue(a, cmd, prefixes, NULL, timeout_ms, cb, ud);
}

unsigned at_send_pdu(struct at *a, const char *cmd, const char *prefixes,
		     const char *pdu_hex, unsigned timeout_ms, at_cmd_cb cb,
		     void *ud)
{
	return queue(a, cmd, prefixes, pdu_hex, timeout_ms, cb, ud);
}

int at_write_raw(struct at *a, const void *buf, size_t len)
{
	return a->write(a->write_ud, buf, len);
}

size_t at_pending(const struct at *a)
{
	size_t n = 0;

	for (const struct at_cmd *c = a->head; c; c = c->next)
		n++;
	return n;
}

uint64_t at_deadline(const struct at *a)
{
	if (a->head && a->head->written)
		return a->head->deadline;
	return UINT64_MAX;
}

/* Takes the head off the queue, reports it, and writes the next command
 * unless the callback reset the engine. */
static void complete_head(struct at *a, enum at_result res, int code,
			  const char *final)
{
	struct at_cmd *c = a->head;
	unsigned gen;

	a->head = c->next;
	if (!a->head)
		a->tail = NULL;
	a->last_to_cmd = false;
	gen = a->generation;
	cmd_finish(c, res, code, final);
	if (gen == a->generation)
		at_kick(a);
}

void at_tick(struct at *a, uint64_t now_ms)
{
	a->now = now_ms;
	if (a->head && a->head->written && now_ms >= a->head->deadline)
		complete_head(a, AT_TIMEOUT, -1, "");
}

void at_feed(struct at *a, const void *buf, size_t len, uint64_t now_ms)
{
	a->now = now_ms;
	at_syntax_feed(a->syn, buf, len);
}

int at_register_urc(struct at *a, const char *prefix, at_urc_cb cb, void *ud)
{
	struct at_urc *u = calloc(1, sizeof(*u));

	if (!u)
		return -1;
	if (prefix) {
		u->prefix = strdup(prefix);
		if (!u->prefix) {
			free(u);
			return -1;
		}
	}
	u->cb = cb;
	u->ud = ud;
	u->next = a->urcs;
	a->urcs = u;
	return 0;
}

void at_set_garbage_handler(struct at *a, at_garbage_cb cb, void *ud)
{
	a->garbage = cb;
	a->garbage_ud = ud;
}

static bool prefix_match(const char *prefixes, const char *line)
{
	const char *p = prefixes;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n > 0 && strncmp(line, p, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

static struct at_urc *find_urc(struct at *a, const char *line)
{
	for (struct at_urc *u = a->urcs; u; u = u->next)
		if (u->prefix && starts_with(line, u->prefix))
			return u;
	return NULL;
}

static struct at_urc *fallback_urc(struct at *a)
{
	for (struct at_urc *u = a->urcs; u; u = u->next)
		if (!u->prefix)
			return u;
	return NULL;
}

static void cmd_add_line(struct at_cmd *c, const char *line)
{
	if (c->nlines == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		char **l = realloc(c->lines, cap * sizeof(*l));
		char **p;

		if (!l)
			return;
		c->lines = l;
		p = realloc(c->pdus, cap * sizeof(*p));
		if (!p)
			return;
		c->pdus = p;
		c->cap = cap;
	}
	c->lines[c->nlines] = strdup(line);
	if (!c->lines[c->nlines])
		return;
	c->pdus[c->nlines] = NULL;
	c->nlines++;
}

static void dispatch_urc(struct at *a, struct at_urc *u, const char *line)
{
	/* +CMT/+CDS carry their PDU on the next line: hold the header. */
	if (starts_with(line, "+CMT:") || starts_with(line, "+CDS:")) {
		urc_pending_clear(a);
		a->urc_pending = strdup(line);
		a->urc_pending_h = u;
		return;
	}
	if (u)
		u->cb(u->ud, line, NULL);
}

/* Hands a +CMT/+CDS header held back for its PDU line to its handler,
 * with pdu (NULL: none came). Returns whether one was pending. */
static bool flush_pending_urc(struct at *a, const char *pdu)
{
	struct at_urc *h = a->urc_pending_h;
	char *hdr = a->urc_pending;

	if (!hdr)
		return false;
	a->urc_pending = NULL;
	a->urc_pending_h = NULL;
	if (h)
		h->cb(h->ud, hdr, pdu);
	free(hdr);
	return true;
}

static void on_line(struct at *a, const char *line)
{
	struct at_cmd *c = a->head;
	struct at_urc *u;
	enum at_result res;
	int code;

	/* a header with no PDU line after it: report it bare */
	flush_pending_urc(a, NULL);
	/* last_to_cmd survives URC lines: a ^RSSI between a +CMGL header
	 * and its PDU line must not orphan the PDU. */
	if (c && c->written && at_parse_final(line, &res, &code)) {
		complete_head(a, res, code, line);
		return;
	}
	if (c && c->written && c->prefixes && prefix_match(c->prefixes, line)) {
		cmd_add_line(c, line);
		a->last_to_cmd = true;
		return;
	}
	u = find_urc(a, line);
	if (u || !c || !c->written || c->prefixes) {
		dispatch_urc(a, u ? u : fallback_urc(a), line);
		return;
	}
	cmd_add_line(c, line);
	a->last_to_cmd = true;
}

static void on_pdu(struct at *a, const char *line)
{
	struct at_cmd *c = a->head;

	if (flush_pending_urc(a, line))
		return;
	if (a->last_to_cmd && c && c->nlines > 0 && !c->pdus[c->nlines - 1]) {
		c->pdus[c->nlines - 1] = strdup(line);
		a->last_to_cmd = false;
		return;
	}
	/* a PDU line nobody waits for */
	struct at_urc *f = fallback_urc(a);

	if (f)
		f->cb(f->ud, line, NULL);
}

static void on_prompt(struct at *a)
{
	struct at_cmd *c = a->head;

	if (!c || !c->written || !c->pdu || c->pdu_written) {
		/* An unexpected prompt would swallow the next command as
		 * PDU text: abort it with ESC (TS 27.005 3.5.1). */
		at_write(a, "\x1b", 1);
		return;
	}
	c->pdu_written = true;
	at_write(a, c->pdu, strlen(c->pdu));
}

static void at_on_event(void *ud, enum at_event ev, const char *line,
			size_t len)
{
	struct at *a = ud;

	(void)len;
	switch (ev) {
	case AT_EV_LINE:
		on_line(a, line);
		break;
	case AT_EV_PDU:
		on_pdu(a, line);
		break;
	case AT_EV_PROMPT:
		on_prompt(a);
		break;
	case AT_EV_GARBAGE:
	case AT_EV_OVERFLOW:
		if (a->garbage)
			a->garbage(a->garbage_ud, ev);
		break;
	}
}

/* ---------------- result iterator ---------------- */

bool at_iter_begin(struct at_iter *it, const char *line, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;

	it->p = line;
	it->end = false;
	if (n && strncmp(line, prefix, n) != 0) {
		it->end = true;
		return false;
	}
	it->p = line + n;
	while (*it->p == ' ')
		it->p++;
	return true;
}

/* Copies the next field (unquoted, without surrounding spaces) into buf and
 * moves past its comma. Returns false when there is no field left. */
static bool iter_field(struct at_iter *it, char *buf, size_t len, bool *quoted)
{
	const char *p = it->p;
	size_t n = 0;

	*quoted = false;
	if (it->end)
		return false;
	while (*p == ' ')
		p++;
	if (*p == '"') {
		*quoted = true;
		p++;
		while (*p && *p != '"') {
			if (n + 1 < len)
				buf[n++] = *p;
			p++;
		}
		if (*p == '"')
			p++;
		while (*p && *p != ',')
			p++;
	} else {
		while (*p && *p != ',') {
			if (n + 1 < len)
				buf[n++] = *p;
			p++;
		}
		while (n > 0 && buf[n - 1] == ' ')
			n--;
	}
	if (len)
		buf[n] = '\0';
	if (*p == ',')
		it->p = p + 1;
	else {
		it->p = p;
		it->end = true;
	}
	return true;
}

/* One numeric field in the given base; false if absent or not a number. */
static bool next_long(struct at_iter *it, int base, long *out)
{
	char buf[32], *end;
	bool q;

	if (!iter_field(it, buf, sizeof(buf), &q) || !buf[0])
		return false;
	long v = strtol(buf, &end, base);
	if (*end)
		return false;
	*out = v;
	return true;
}

bool at_iter_next_number(struct at_iter *it, int *out)
{
	long v;

	if (!next_long(it, 10, &v))
		return false;
	*out = (int)v;
	return true;
}

bool at_iter_next_hex(struct at_iter *it, long *out)
{
	return next_long(it, 16, out);
}

bool at_iter_next_string(struct at_iter *it, char *buf, size_t len)
{
	bool q;
	char tmp[1];

	if (!buf || !len)
		return iter_field(it, tmp, sizeof(tmp), &q);
	if (!iter_field(it, buf, len, &q))
		return false;
	return q || buf[0];
}

bool at_iter_skip(struct at_iter *it)
{
	char tmp[1];
	bool q;

	return iter_field(it, tmp, sizeof(tmp), &q);
}

bool at_iter_at_end(const struct at_iter *it)
{
	return it->end;
}
