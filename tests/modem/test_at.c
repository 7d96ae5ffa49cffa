/* Tests of modem/at: the syntax layer byte by byte and in random chunks,
 * the command queue with a fake clock, and the result iterator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at.h"

/* ---- syntax layer ---- */

struct evlog {
	char text[8192];
	size_t len;
};

static void ev_cb(void *ud, enum at_event ev, const char *line, size_t len)
{
	struct evlog *l = ud;
	const char *tag = ev == AT_EV_LINE	? "L"
			  : ev == AT_EV_PROMPT	? "P"
			  : ev == AT_EV_PDU	? "D"
			  : ev == AT_EV_GARBAGE ? "G"
						: "O";

	l->len += (size_t)snprintf(
	    l->text + l->len, sizeof(l->text) - l->len, "%s[%.*s]", tag,
	    ev == AT_EV_LINE || ev == AT_EV_PDU ? (int)len : 0, line);
}

/* Feeds input in chunks: chunk 0 = byte by byte, 1 = all at once, else
 * random sizes from the seed. */
static void feed_chunks(struct at_syntax *s, const char *in, size_t n,
			unsigned seed)
{
	size_t i = 0;

	srand(seed);
	while (i < n) {
		size_t k = seed == 0   ? 1
			   : seed == 1 ? n
				       : 1 + (size_t)(rand() % 17);

		if (k > n - i)
			k = n - i;
		at_syntax_feed(s, in + i, k);
		i += k;
	}
}

static void check_syntax_len(const char *in, size_t n, const char *want)
{
	for (unsigned seed = 0; seed < 200; seed++) {
		struct evlog l = {0};
		struct at_syntax *s = at_syntax_new(ev_cb, &l);

		feed_chunks(s, in, n, seed);
		if (strcmp(l.text, want) != 0)
			fail_msg("seed %u:\n got %s\nwant %s", seed, l.text,
				 want);
		at_syntax_free(s);
	}
}

static void check_syntax(const char *in, const char *want)
{
	check_syntax_len(in, strlen(in), want);
}

static void test_syntax_lines_echo_off(void **st)
{
	check_syntax("\r\n+CSQ: 17,99\r\n\r\nOK\r\n", "L[+CSQ: 17,99]L[OK]");
}

static void test_syntax_echo_on(void **st)
{
	/* ATE1: the command line comes back ending in CR only */
	check_syntax("AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\nOK\r\nat\r\r\nOK\r\n",
		     "L[+CSQ: 17,99]L[OK]L[OK]");
}

static void test_syntax_prompt_no_newline(void **st)
{
	/* echo on: prompt, then our echoed PDU ending in Ctrl-Z */
	check_syntax("AT+CMGS=18\r\r\n> 0011000B916281\x1a\r\n+CMGS: 7\r\n"
		     "\r\nOK\r\n",
		     "P[]L[+CMGS: 7]L[OK]");
	check_syntax("\r\n> ", "P[]");
}

static void test_syntax_pdu_lines(void **st)
{
	check_syntax("\r\n+CMGL: 1,0,,24\r\n07916281\r\n+CMGL: 2,1,\"x,y\",3"
		     "\r\nABCDEF\r\n\r\nOK\r\n",
		     "L[+CMGL: 1,0,,24]D[07916281]L[+CMGL: 2,1,\"x,y\",3]"
		     "D[ABCDEF]L[OK]");
	/* an empty slot answers with a header and OK: OK is not a PDU */
	check_syntax("\r\n+CMGR: 0,,0\r\n\r\nOK\r\n0011\r\n",
		     "L[+CMGR: 0,,0]L[OK]L[0011]");
	/* a URC between header and PDU line does not orphan the PDU */
	check_syntax("+CMT: ,24\r\n^RSSI:5\r\n0791AB\r\n",
		     "L[+CMT: ,24]L[^RSSI:5]D[0791AB]");
}

static void test_syntax_garbage_and_overflow(void **st)
{
	char big[AT_LINE_MAX * 3 + 64];
	struct evlog l = {0};
	struct at_syntax *s;

	static const char junk[] = "\x00\x01\xff junk\r\nOK\r\n";

	check_syntax_len(junk, sizeof(junk) - 1, "G[]L[OK]");
	memset(big, 'A', sizeof(big));
	memcpy(big, "\r\nX", 3);
	memcpy(big + sizeof(big) - 8, "\r\nOK\r\n", 6);
	s = at_syntax_new(ev_cb, &l);
	for (unsigned i = 0; i < sizeof(big) - 2; i++)
		at_syntax_feed(s, big + i, 1);
	assert_string_equal(l.text, "O[]L[OK]");
	at_syntax_free(s);
}

/* ---- command queue ---- */

struct rig {
	struct at *a;
	char out[4096];
	size_t outlen;
	int ncb;
	struct at_response last;
	char lines[16][256];
	char pdus[16][256];
	char final[64];
	char urcs[2048];
	int ngarbage;
};

static int w_cb(void *ud, const void *buf, size_t len)
{
	struct rig *r = ud;

	memcpy(r->out + r->outlen, buf, len);
	r->outlen += len;
	r->out[r->outlen] = '\0';
	return 0;
}

static void cmd_cb(void *ud, const struct at_response *resp)
{
	struct rig *r = ud;

	r->ncb++;
	r->last = *resp;
	snprintf(r->final, sizeof(r->final), "%s", resp->final);
	for (size_t i = 0; i < resp->nlines && i < 16; i++) {
		snprintf(r->lines[i], 256, "%s", resp->lines[i]);
		snprintf(r->pdus[i], 256, "%s",
			 resp->pdus[i] ? resp->pdus[i] : "-");
	}
}

static void urc_cb(void *ud, const char *line, const char *pdu)
{
	struct rig *r = ud;
	size_t n = strlen(r->urcs);

	snprintf(r->urcs + n, sizeof(r->urcs) - n, "{%s|%s}", line,
		 pdu ? pdu : "-");
}

static void garbage_cb(void *ud, enum at_event ev)
{
	((struct rig *)ud)->ngarbage++;
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));

	r->a = at_new(w_cb, r);
	at_register_urc(r->a, "+CMTI:", urc_cb, r);
	at_register_urc(r->a, "^RSSI:", urc_cb, r);
	at_register_urc(r->a, "+CMT:", urc_cb, r);
	at_register_urc(r->a, "RING", urc_cb, r);
	at_register_urc(r->a, NULL, urc_cb, r);
	at_set_garbage_handler(r->a, garbage_cb, r);
	return r;
}

static void rig_free(struct rig *r)
{
	at_free(r->a);
	free(r);
}

static void feed(struct rig *r, const char *s, uint64_t now)
{
	at_feed(r->a, s, strlen(s), now);
}

static void test_queue_basic_and_urcs_inside(void **st)
{
	struct rig *r = rig_new();

	at_set_time(r->a, 1000);
	assert_int_not_equal(
	    at_send(r->a, "AT+CMGL=4", "+CMGL:", 5000, cmd_cb, r), 0);
	assert_int_not_equal(at_send(r->a, "AT+CSQ", "+CSQ:", 5000, cmd_cb, r),
			     0);
	/* only the first is written until it completes */
	assert_string_equal(r->out, "AT+CMGL=4\r");
	assert_int_equal(at_deadline(r->a), 6000);
	feed(r,
	     "\r\n+CMGL: 1,0,,3\r\n^RSSI:9\r\nAABBCC\r\n+CMTI: \"SM\",4\r\n"
	     "+CMGL: 2,0,,1\r\nDD\r\nRING\r\n\r\nOK\r\n",
	     1500);
	assert_int_equal(r->ncb, 1);
	assert_int_equal(r->last.result, AT_OK);
	assert_int_equal(r->last.nlines, 2);
	assert_string_equal(r->lines[0], "+CMGL: 1,0,,3");
	assert_string_equal(r->pdus[0], "AABBCC");
	assert_string_equal(r->lines[1], "+CMGL: 2,0,,1");
	assert_string_equal(r->pdus[1], "DD");
	assert_string_equal(r->urcs, "{^RSSI:9|-}{+CMTI: \"SM\",4|-}{RING|-}");
	/* the next command went out at once with its own deadline */
	assert_string_equal(r->out, "AT+CMGL=4\rAT+CSQ\r");
	assert_int_equal(at_deadline(r->a), 6500);
	feed(r, "\r\n+CME ERROR: 100\r\n", 1600);
	assert_int_equal(r->last.result, AT_CME_ERROR);
	assert_int_equal(r->last.code, 100);
	assert_int_equal(at_deadline(r->a), UINT64_MAX);
	rig_free(r);
}

/* The same response with URCs inside, in random chunks, for many seeds:
 * the command gets exactly its lines and PDUs, the handlers the rest. */
static void test_queue_random_chunks(void **st)
{
	static const char in[] =
	    "AT+CMGL=4\r\r\n+CMGL: 0,1,\"a,b\",2\r\n^RSSI:9\r\nA1B2\r\n"
	    "+CMT: ,3\r\n0791AB\r\n+CMGL: 5,0,,1\r\nFF\r\nRING\r\n"
	    "\r\nOK\r\n+CMTI: \"ME\",2\r\n";

	for (unsigned seed = 0; seed < 300; seed++) {
		struct rig *r = rig_new();
		size_t i = 0, n = sizeof(in) - 1;

		at_send(r->a, "AT+CMGL=4", "+CMGL:", 5000, cmd_cb, r);
		srand(seed);
		while (i < n) {
			size_t k = seed == 0 ? 1 : 1 + (size_t)(rand() % 9);

			if (k > n - i)
				k = n - i;
			at_feed(r->a, in + i, k, 10);
			i += k;
		}
		assert_int_equal(r->ncb, 1);
		assert_int_equal(r->last.result, AT_OK);
		assert_int_equal(r->last.nlines, 2);
		assert_string_equal(r->lines[0], "+CMGL: 0,1,\"a,b\",2");
		assert_string_equal(r->pdus[0], "A1B2");
		assert_string_equal(r->lines[1], "+CMGL: 5,0,,1");
		assert_string_equal(r->pdus[1], "FF");
		assert_string_equal(r->urcs, "{^RSSI:9|-}{+CMT: ,3|0791AB}"
					     "{RING|-}{+CMTI: \"ME\",2|-}");
		rig_free(r);
	}
}

static void test_queue_urc_flood_keeps_deadline(void **st)
{
	struct rig *r = rig_new();

	at_set_time(r->a, 0);
	at_send(r->a, "AT+CSQ", "+CSQ:", 10000, cmd_cb, r);
	for (uint64_t t = 100; t < 10000; t += 100) {
		feed(r, "\r\n^RSSI:12\r\n", t);
		at_tick(r->a, t);
		assert_int_equal(r->ncb, 0);
		assert_int_equal(at_deadline(r->a), 10000);
	}
	at_tick(r->a, 10000);
	assert_int_equal(r->ncb, 1);
	assert_int_equal(r->last.result, AT_TIMEOUT);
	rig_free(r);
}

static void test_queue_cms_error_and_collect_all(void **st)
{
	struct rig *r = rig_new();

	at_send(r->a, "AT+CMGR=3", "+CMGR:", 1000, cmd_cb, r);
	feed(r, "\r\n+CMS ERROR: 321\r\n", 1);
	assert_int_equal(r->last.result, AT_CMS_ERROR);
	assert_int_equal(r->last.code, 321);
	/* NULL prefixes collect bare lines, URCs still go to handlers */
	at_send(r->a, "AT+CGMI", NULL, 1000, cmd_cb, r);
	feed(r, "\r\nhuawei\r\n^RSSI:3\r\n\r\nOK\r\n", 2);
	assert_int_equal(r->last.nlines, 1);
	assert_string_equal(r->lines[0], "huawei");
	assert_string_equal(r->urcs, "{^RSSI:3|-}");
	/* a line no one claims while a prefixed command runs: fallback */
	at_send(r->a, "AT+CSQ", "+CSQ:", 1000, cmd_cb, r);
	feed(r, "\r\nWEIRD\r\n+CSQ: 5,99\r\n\r\nCOMMAND NOT SUPPORT\r\n", 3);
	assert_int_equal(r->last.result, AT_NOT_SUPPORTED);
	assert_string_equal(r->urcs, "{^RSSI:3|-}{WEIRD|-}");
	rig_free(r);
}

static void test_queue_pdu_after_prompt(void **st)
{
	struct rig *r = rig_new();

	at_send_pdu(r->a, "AT+CMGS=18", "+CMGS:", "0011AB", 60000, cmd_cb, r);
	assert_string_equal(r->out, "AT+CMGS=18\r");
	feed(r, "\r\n> ", 10);
	assert_string_equal(r->out, "AT+CMGS=18\r0011AB\x1a");
	feed(r, "\r\n+CMGS: 42\r\n\r\nOK\r\n", 20);
	assert_int_equal(r->last.result, AT_OK);
	assert_string_equal(r->lines[0], "+CMGS: 42");
	/* an unexpected prompt is aborted with ESC */
	r->outlen = 0;
	feed(r, "\r\n> ", 30);
	assert_memory_equal(r->out, "\x1b", 1);
	rig_free(r);
}

static void test_queue_cmt_urc_with_pdu(void **st)
{
	struct rig *r = rig_new();

	at_send(r->a, "AT+CSQ", "+CSQ:", 1000, cmd_cb, r);
	feed(r, "\r\n+CMT: ,3\r\n0791AB\r\n+CSQ: 9,0\r\nOK\r\n", 1);
	assert_string_equal(r->urcs, "{+CMT: ,3|0791AB}");
	assert_int_equal(r->last.nlines, 1);
	rig_free(r);
}

static int reset_in_cb_count;
static void reset_cb(void *ud, const struct at_response *resp)
{
	struct rig *r = ud;

	reset_in_cb_count++;
	if (resp->result == AT_TIMEOUT)
		at_reset(r->a);
}

static void test_queue_reset_from_callback(void **st)
{
	struct rig *r = rig_new();

	reset_in_cb_count = 0;
	at_send(r->a, "AT", NULL, 100, reset_cb, r);
	at_send(r->a, "AT+CSQ", NULL, 100, cmd_cb, r);
	at_tick(r->a, 100);
	assert_int_equal(reset_in_cb_count, 1);
	assert_int_equal(r->ncb, 1);
	assert_int_equal(r->last.result, AT_CANCELLED);
	assert_int_equal(at_pending(r->a), 0);
	/* the cancelled command was never written */
	assert_string_equal(r->out, "AT\r");
	feed(r, "\x01\x02\r\n", 200);
	assert_int_equal(r->ngarbage, 1);
	rig_free(r);
}

/* ---- iterator ---- */

static void test_iter(void **st)
{
	struct at_iter it;
	int n;
	long h;
	char s[32];

	assert_true(at_iter_begin(&it, "+CMGL: 3,0,,24", "+CMGL:"));
	assert_true(at_iter_next_number(&it, &n));
	assert_int_equal(n, 3);
	assert_true(at_iter_next_number(&it, &n));
	assert_int_equal(n, 0);
	assert_false(at_iter_next_string(&it, s, sizeof(s)));
	assert_true(at_iter_next_number(&it, &n));
	assert_int_equal(n, 24);
	assert_true(at_iter_at_end(&it));
	assert_false(at_iter_next_number(&it, &n));

	assert_true(
	    at_iter_begin(&it, "+CREG: 2,1,\"1A2B\",\"00C3\"", "+CREG:"));
	assert_true(at_iter_skip(&it));
	assert_true(at_iter_next_number(&it, &n));
	assert_int_equal(n, 1);
	assert_true(at_iter_next_hex(&it, &h));
	assert_int_equal(h, 0x1a2b);
	assert_true(at_iter_next_hex(&it, &h));
	assert_int_equal(h, 0xc3);

	assert_true(
	    at_iter_begin(&it, "+CUSD: 0,\"Sisa, Rp 5.000\",15", "+CUSD:"));
	assert_true(at_iter_skip(&it));
	assert_true(at_iter_next_string(&it, s, sizeof(s)));
	assert_string_equal(s, "Sisa, Rp 5.000");
	assert_true(at_iter_next_number(&it, &n));
	assert_int_equal(n, 15);

	assert_true(at_iter_begin(&it, "+CPMS: \"SM\",1,30", "+CPMS:"));
	assert_true(at_iter_next_string(&it, s, 3));
	assert_string_equal(s, "SM");
	assert_false(at_iter_begin(&it, "+CSQ: 1,2", "+CREG:"));
	assert_true(at_iter_begin(&it, "+CSQ: x,2", "+CSQ:"));
	assert_false(at_iter_next_number(&it, &n));
	assert_true(at_iter_next_number(&it, &n));
	assert_int_equal(n, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_syntax_lines_echo_off),
	    cmocka_unit_test(test_syntax_echo_on),
	    cmocka_unit_test(test_syntax_prompt_no_newline),
	    cmocka_unit_test(test_syntax_pdu_lines),
	    cmocka_unit_test(test_syntax_garbage_and_overflow),
	    cmocka_unit_test(test_queue_basic_and_urcs_inside),
	    cmocka_unit_test(test_queue_random_chunks),
	    cmocka_unit_test(test_queue_urc_flood_keeps_deadline),
	    cmocka_unit_test(test_queue_cms_error_and_collect_all),
	    cmocka_unit_test(test_queue_pdu_after_prompt),
	    cmocka_unit_test(test_queue_cmt_urc_with_pdu),
	    cmocka_unit_test(test_queue_reset_from_callback),
	    cmocka_unit_test(test_iter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
