/* fuzz_at: the AT chat (modem/at.c) fed bytes from a modem.
 *
 * Input: byte 0 picks the commands in flight; then records of one control
 * byte and up to 64 data bytes: c & 0x3f + 1 bytes are fed in one chunk,
 * c & 0x40 advances the clock by 1 s and ticks, c & 0x80 by 100 s (every
 * command times out). Checks:
 *  - the syntax layer gives the same events whether the whole input comes
 *    in one chunk, byte by byte, or in the fuzzer's chunks (a push parser,
 *    doc/architecture.md);
 *  - every line it reports is NUL-free, has no CR/LF and fits AT_LINE_MAX;
 *  - the command queue survives any response, URCs between its lines,
 *    timeouts and a reset from inside its own callback;
 *  - at_iter never reads past a line. */
#include "fuzz.h"

#include "at.h"

/* ---- syntax layer: events must not depend on chunking ---- */

struct trace {
	uint64_t h; /* FNV-1a over (event, line) */
	size_t n;
};

static void trace_cb(void *ud, enum at_event ev, const char *line, size_t len)
{
	struct trace *t = ud;

	FUZZ_CHECK(len <= AT_LINE_MAX);
	if (ev == AT_EV_LINE || ev == AT_EV_PDU) {
		FUZZ_CHECK(line != NULL);
		FUZZ_CHECK(strlen(line) == len);
		FUZZ_CHECK(!memchr(line, '\r', len) &&
			   !memchr(line, '\n', len));
	}
	t->h = (t->h ^ (uint64_t)ev) * 0x100000001b3ull;
	for (size_t i = 0; line && i < len; i++)
		t->h = (t->h ^ (unsigned char)line[i]) * 0x100000001b3ull;
	t->h = (t->h ^ 0xff) * 0x100000001b3ull;
	t->n++;
}

static struct trace syntax_run(const uint8_t *d, size_t n, const uint8_t *sizes,
			       size_t nsizes, int mode)
{
	struct trace t = {0xcbf29ce484222325ull, 0};
	struct at_syntax *s = at_syntax_new(trace_cb, &t);
	size_t i = 0, k = 0;

	FUZZ_CHECK(s != NULL);
	while (i < n) {
		size_t len = mode == 0 ? n
			     : mode == 1
				 ? 1
				 : (size_t)(sizes[k++ % nsizes] % 97) + 1;
		if (len > n - i)
			len = n - i;
		at_syntax_feed(s, d + i, len);
		i += len;
	}
	at_syntax_free(s);
	return t;
}

static void check_syntax(const uint8_t *d, size_t n)
{
	if (n == 0)
		return;
	struct trace whole = syntax_run(d, n, NULL, 0, 0);
	struct trace bytes = syntax_run(d, n, NULL, 0, 1);
	struct trace chunks = syntax_run(d, n, d, n, 2);

	FUZZ_CHECK(whole.n == bytes.n && whole.h == bytes.h);
	FUZZ_CHECK(whole.n == chunks.n && whole.h == chunks.h);
}

/* ---- command queue ---- */

struct chat {
	struct at *at;
	uint8_t flags;
	int requeued;
	int resets;
};

static int write_fn(void *ud, const void *buf, size_t len)
{
	return 0;
}

static void walk_line(const char *line)
{
	struct at_iter it;
	char s[16];
	int v;
	long h;

	if (!at_iter_begin(&it, line, NULL))
		return;
	for (int i = 0; i < 12 && !at_iter_at_end(&it); i++) {
		switch (i % 4) {
		case 0:
			at_iter_next_number(&it, &v);
			break;
		case 1:
			at_iter_next_string(&it, s, sizeof(s));
			FUZZ_CHECK(strlen(s) < sizeof(s));
			break;
		case 2:
			at_iter_next_hex(&it, &h);
			break;
		default:
			at_iter_skip(&it);
			break;
		}
	}
	/* The same line through the prefixes the modem code uses. */
	static const char *const pfx[] = {
	    "+CMGL:", "+CREG:", "+CMTI:", "+CSQ:", "+CPMS:", "+CUSD:"};
	for (size_t p = 0; p < sizeof(pfx) / sizeof(pfx[0]); p++) {
		if (!at_iter_begin(&it, line, pfx[p]))
			continue;
		while (!at_iter_at_end(&it) && at_iter_next_string(&it, s, 4))
			;
	}
}

static void queue_some(struct chat *c);

static void cmd_cb(void *ud, const struct at_response *r)
{
	struct chat *c = ud;

	FUZZ_CHECK(at_result_name(r->result) != NULL);
	FUZZ_CHECK(r->final != NULL);
	for (size_t i = 0; i < r->nlines; i++) {
		FUZZ_CHECK(r->lines[i] != NULL);
		walk_line(r->lines[i]);
		if (r->pdus[i])
			FUZZ_CHECK(strlen(r->pdus[i]) <= AT_LINE_MAX);
	}
	if (r->result == AT_CANCELLED)
		return;
	/* A reset from inside a callback (the modem rebooted) must be safe. */
	if ((c->flags & 0x10) && r->result == AT_CMS_ERROR && c->resets < 3) {
		c->resets++;
		at_reset(c->at);
	}
	if (c->requeued < 40) {
		c->requeued++;
		queue_some(c);
	}
}

static void urc_cb(void *ud, const char *line, const char *pdu)
{
	struct chat *c = ud;

	FUZZ_CHECK(line != NULL);
	walk_line(line);
	if (pdu)
		FUZZ_CHECK(strlen(pdu) <= AT_LINE_MAX);
	if ((c->flags & 0x20) && strncmp(line, "RDY", 3) == 0 &&
	    c->resets < 3) {
		c->resets++;
		at_reset(c->at);
	}
}

static void garbage_cb(void *ud, enum at_event ev)
{
	FUZZ_CHECK(ev == AT_EV_GARBAGE || ev == AT_EV_OVERFLOW);
}

static void queue_some(struct chat *c)
{
	switch (c->requeued % 5) {
	case 0:
		at_send(c->at, "AT+CMGL=4", "+CMGL:", 5000, cmd_cb, c);
		break;
	case 1:
		at_send(c->at, "AT+CREG?", "+CREG:|+CEREG:", 5000, cmd_cb, c);
		break;
	case 2:
		at_send_pdu(c->at, "AT+CMGS=12",
			    "+CMGS:", "0001000C9126181234567800000441F1980C",
			    60000, cmd_cb, c);
		break;
	case 3:
		at_send(c->at, "AT+CGMI", NULL, 5000, cmd_cb, c);
		break;
	default:
		at_send(c->at, "AT+CMGR=1", "+CMGR:", 5000, cmd_cb, c);
		break;
	}
}

static void check_chat(const uint8_t *d, size_t n)
{
	struct chat c = {0};
	uint64_t now = 1000;

	if (n == 0)
		return;
	c.flags = d[0];
	c.at = at_new(write_fn, NULL);
	FUZZ_CHECK(c.at != NULL);
	at_set_time(c.at, now);
	at_register_urc(c.at, "+CMTI:", urc_cb, &c);
	at_register_urc(c.at, "+CMT:", urc_cb, &c);
	at_register_urc(c.at, "RDY", urc_cb, &c);
	at_register_urc(c.at, "^RSSI", urc_cb, &c);
	at_register_urc(c.at, NULL, urc_cb, &c);
	at_set_garbage_handler(c.at, garbage_cb, &c);
	for (int i = 0; i <= (d[0] & 7); i++, c.requeued++)
		queue_some(&c);

	size_t i = 1;
	while (i < n) {
		uint8_t ctl = d[i++];
		size_t len = (size_t)(ctl & 0x3f) + 1;
		if (len > n - i)
			len = n - i;
		at_feed(c.at, d + i, len, now);
		i += len;
		if (ctl & 0x40)
			now += 1000;
		if (ctl & 0x80)
			now += 100000;
		if (ctl & 0xc0) {
			uint64_t dl = at_deadline(c.at);
			FUZZ_CHECK(dl >= 1000 || dl == 0);
			at_tick(c.at, now);
		}
	}
	at_free(c.at);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	check_syntax(data, size);
	check_chat(data, size);
	return 0;
}
