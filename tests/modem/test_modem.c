/* Tests of modem/modem: the state machine driven over a socketpair by a
 * scripted peer playing the modem, with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "modem.h"
#include "pdu.h"

struct got_sms {
	int index;
	char sender[40];
	char text[400];
	char error[160];
	int parts, seq;
};

struct peer {
	struct modem *m;
	int fd; /* the test's end */
	int opens;
	bool refuse_open;
	uint64_t now;
	char in[65536];
	size_t inlen;
	char states[512];
	int sms_ret[16]; /* verdict per call of ops->sms */
	int nsms;
	/* ops->listing: declined unless 'batch'; the end returns end_ret */
	bool batch;
	int end_ret;
	char calls[64]; /* B (begin), s (sms), E (end), in order */
	struct got_sms sms[16];
	int nreports, report_mr, report_status;
	int nsent;
	uint64_t sent_id;
	enum modem_send_result sent_res;
	int sent_mrs[16], sent_nmrs;
	char sent_reason[256];
	int nparts_sent, last_part, last_part_mr;
	int nhealth;
	char ring[40];
	int nrings, nmissed, missed_rings;
	bool missed_hidden, missed_hung_up;
};

/* ---- the peer ---- */

static int p_open(void *ud, const char *dev, char *err, size_t errlen)
{
	struct peer *p = ud;
	int sv[2];

	if (p->refuse_open) {
		snprintf(err, errlen, "%s: no such device", dev);
		return -1;
	}
	assert_int_equal(socketpair(AF_UNIX,
				    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
				    0, sv),
			 0);
	if (p->fd >= 0)
		close(p->fd);
	p->fd = sv[1];
	p->inlen = 0;
	p->opens++;
	return sv[0];
}

static void p_close(void *ud, int fd)
{
	close(fd);
}

static void pull(struct peer *p)
{
	ssize_t n;

	while ((n = read(p->fd, p->in + p->inlen,
			 sizeof(p->in) - 1 - p->inlen)) > 0)
		p->inlen += (size_t)n;
	p->in[p->inlen] = '\0';
}

static void consume(struct peer *p, size_t n)
{
	memmove(p->in, p->in + n, p->inlen - n);
	p->inlen -= n;
	p->in[p->inlen] = '\0';
}

/* The next thing the modem wrote must be cmd + CR (ESC bytes before it,
 * sent to abort a prompt, are skipped). */
static void expect(struct peer *p, const char *cmd)
{
	char *cr;

	pull(p);
	while (p->inlen && p->in[0] == 0x1b)
		consume(p, 1);
	cr = memchr(p->in, '\r', p->inlen);
	if (!cr || (size_t)(cr - p->in) != strlen(cmd) ||
	    memcmp(p->in, cmd, strlen(cmd)) != 0)
		fail_msg("expected \"%s\", modem wrote \"%s\"", cmd, p->in);
	consume(p, (size_t)(cr - p->in) + 1);
}

static void expect_nothing(struct peer *p)
{
	pull(p);
	while (p->inlen && p->in[0] == 0x1b)
		consume(p, 1);
	if (p->inlen)
		fail_msg("expected silence, modem wrote \"%s\"", p->in);
}

static void tick(struct peer *p)
{
	/* what the poll loop does: run the modem while its deadline is due */
	for (int i = 0; i < 100 && modem_deadline(p->m) <= p->now; i++)
		modem_tick(p->m, p->now);
}

static void reply(struct peer *p, const char *text)
{
	size_t n = strlen(text);

	assert_int_equal(write(p->fd, text, n), (ssize_t)n);
	modem_readable(p->m, p->now);
	tick(p);
}

static void advance(struct peer *p, uint64_t ms)
{
	p->now += ms;
	tick(p);
}

/* cmd, then the answer lines (joined with CRLF) and a final result */
static void chat(struct peer *p, const char *cmd, const char *answer)
{
	size_t n = strlen(answer) + 5;
	char *buf = malloc(n);

	assert_non_null(buf);
	expect(p, cmd);
	snprintf(buf, n, "\r\n%s\r\n", answer);
	reply(p, buf);
	free(buf);
}

/* ---- ops ---- */

static int o_sms(void *ud, const struct modem_sms *s)
{
	struct peer *p = ud;
	struct got_sms *g = &p->sms[p->nsms];

	g->index = s->index;
	snprintf(g->sender, sizeof(g->sender), "%s", s->sender);
	snprintf(g->text, sizeof(g->text), "%s", s->text ? s->text : "");
	snprintf(g->error, sizeof(g->error), "%s", s->error ? s->error : "");
	g->parts = s->parts;
	g->seq = s->seq;
	strncat(p->calls, "s", sizeof(p->calls) - strlen(p->calls) - 1);
	return p->sms_ret[p->nsms++];
}

static int o_listing(void *ud, bool begin)
{
	struct peer *p = ud;

	if (!p->batch)
		return -1;
	strncat(p->calls, begin ? "B" : "E",
		sizeof(p->calls) - strlen(p->calls) - 1);
	return begin ? 0 : p->end_ret;
}

static int o_report(void *ud, const struct modem_report *r)
{
	struct peer *p = ud;

	p->nreports++;
	p->report_mr = r->mr;
	p->report_status = r->status;
	return 0;
}

static void o_sent(void *ud, uint64_t id, enum modem_send_result res,
		   const int *mrs, int n, const char *reason)
{
	struct peer *p = ud;

	p->nsent++;
	p->sent_id = id;
	p->sent_res = res;
	p->sent_nmrs = n;
	if (n > 0)
		memcpy(p->sent_mrs, mrs, (size_t)n * sizeof(int));
	snprintf(p->sent_reason, sizeof(p->sent_reason), "%s", reason);
}

static void o_part_sent(void *ud, uint64_t id, int part, int nparts, int mr)
{
	struct peer *p = ud;

	p->nparts_sent++;
	p->last_part = part;
	p->last_part_mr = mr;
}

static void o_state(void *ud, enum modem_state st, const char *why)
{
	struct peer *p = ud;
	size_t n = strlen(p->states);

	snprintf(p->states + n, sizeof(p->states) - n, "%s%s", n ? "," : "",
		 modem_state_name(st));
}

static void o_health(void *ud, const struct modem_health *h)
{
	((struct peer *)ud)->nhealth++;
}

static void o_ring(void *ud, const struct modem_ring *r)
{
	struct peer *p = ud;

	snprintf(p->ring, sizeof(p->ring), "%s", r->number);
	if (r->kind == MODEM_RING_RINGING) {
		p->nrings++;
		return;
	}
	p->nmissed++;
	p->missed_rings = r->rings;
	p->missed_hidden = r->hidden;
	p->missed_hung_up = r->hung_up;
}

static void o_log(void *ud, enum modem_log_level lvl, const char *msg)
{
	if (getenv("TEST_MODEM_VERBOSE"))
		fprintf(stderr, "log %d: %s\n", lvl, msg);
}

static const struct modem_ops ops = {
    .sms = o_sms,
    .report = o_report,
    .listing = o_listing,
    .sent = o_sent,
    .part_sent = o_part_sent,
    .state = o_state,
    .health = o_health,
    .ring = o_ring,
    .log = o_log,
};

static const struct modem_port_ops port_ops = {.open = p_open,
					       .close = p_close};

/* [modem] send_timeout of the next peer_new (0: the library's default) */
static unsigned peer_send_timeout_ms;

static struct peer *peer_new(const char *pin, const char *ussd)
{
	struct peer *p = calloc(1, sizeof(*p));
	struct modem_config cfg = {
	    .device = "/dev/fake-modem",
	    .pin = pin,
	    .storage = "SM",
	    .ussd_balance = ussd,
	    .balance_interval_s = ussd ? 3600 : 0,
	    .cmd_timeout_ms = 10000,
	    .send_timeout_ms = peer_send_timeout_ms,
	};

	p->fd = -1;
	p->now = 1000;
	p->m = modem_new(&cfg, &ops, p);
	assert_non_null(p->m);
	modem_set_port_ops(p->m, &port_ops, p);
	return p;
}

static void peer_free(struct peer *p)
{
	modem_free(p->m);
	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

/* ---- scripted start-up ---- */

static void probe_and_identify(struct peer *p)
{
	tick(p); /* opens, ESC */
	assert_int_equal(modem_state(p->m), MODEM_PROBE);
	advance(p, 300); /* drain done */
	chat(p, "AT", "OK");
	chat(p, "ATZ", "OK");
	chat(p, "ATE0", "OK");
	chat(p, "AT+CMEE=1", "OK");
	chat(p, "AT+CGMI", "SIMCOM_Ltd\r\n\r\nOK");
	chat(p, "AT+CGMM", "SIMCOM_SIM800L\r\n\r\nOK");
	chat(p, "AT+CGSN", "861234567890123\r\n\r\nOK");
	chat(p, "AT+CLIP=1", "OK");
}

static void sms_setup_and_register(struct peer *p)
{
	chat(p, "AT+CMGF=0", "OK");
	chat(p, "AT+CPMS=\"SM\",\"SM\",\"SM\"",
	     "+CPMS: 0,30,0,30,0,30\r\n\r\nOK");
	chat(p, "AT+CNMI=2,1,0,2,0", "OK");
	chat(p, "AT+CSCA?", "+CSCA: \"+62816124\",145\r\n\r\nOK");
	chat(p, "AT+CREG=2", "OK");
	chat(p, "AT+CREG?", "+CREG: 2,1,\"1A2B\",\"00C3\"\r\n\r\nOK");
	assert_int_equal(modem_state(p->m), MODEM_READY);
}

static void answer_health(struct peer *p)
{
	chat(p, "AT+CSQ", "+CSQ: 20,0\r\n\r\nOK");
	chat(p, "AT+CREG?", "+CREG: 2,1,\"1A2B\",\"00C3\"\r\n\r\nOK");
	chat(p, "AT+COPS=3,0", "OK");
	chat(p, "AT+COPS?", "+COPS: 0,0,\"TELKOMSEL\",0\r\n\r\nOK");
	chat(p, "AT+CCLK?", "+CCLK: \"24/05/01,10:20:30+28\"\r\n\r\nOK");
}

static void bring_up(struct peer *p)
{
	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	sms_setup_and_register(p);
	chat(p, "AT+CMGL=4", "OK"); /* catch-up drain: empty */
	answer_health(p);
	expect_nothing(p);
}

static void deliver_pdu(const char *from, const char *text,
			struct pdu_segment *seg)
{
	char err[160];

	assert_int_equal(pdu_encode_deliver(from, text, "+62816124", 1714558830,
					    0, seg, 1, err, sizeof(err)),
			 1);
}

/* ---- tests ---- */

static void test_full_init(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	const struct modem_health *h;

	bring_up(p);
	assert_string_equal(p->states, "probe,init,sim,register,ready");
	assert_true(modem_can_send(p->m));
	h = modem_get_health(p->m);
	assert_string_equal(h->manufacturer, "SIMCOM_Ltd");
	assert_string_equal(h->model, "SIMCOM_SIM800L");
	assert_string_equal(h->imei, "861234567890123");
	assert_int_equal(h->rssi_dbm, -73);
	assert_int_equal(h->creg_stat, 1);
	assert_string_equal(h->operator_name, "TELKOMSEL");
	/* 10:20:30 at UTC+7 (28 quarter hours) = 03:20:30 UTC */
	assert_int_equal(h->network_time, 1714533630);
	assert_int_equal(p->nhealth, 1);
	/* a minute later the health queries run again */
	advance(p, 60000);
	answer_health(p);
	assert_int_equal(p->nhealth, 2);
	peer_free(p);
}

static void test_huawei_curc_and_cnmi_fallback(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	tick(p);
	advance(p, 300);
	/* echo still on at first: the echoed command is dropped */
	expect(p, "AT");
	reply(p, "AT\r\r\nOK\r\n");
	chat(p, "ATZ", "OK");
	chat(p, "ATE0", "OK");
	chat(p, "AT+CMEE=1", "OK");
	chat(p, "AT+CGMI", "^RSSI:14\r\nhuawei\r\n\r\nOK");
	chat(p, "AT^CURC=0", "OK");
	chat(p, "AT+CGMM", "E3531\r\n\r\nOK");
	chat(p, "AT+CGSN", "866666666666666\r\n\r\nOK");
	chat(p, "AT+CLIP=1", "OK");
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	chat(p, "AT+CMGF=0", "OK");
	chat(p, "AT+CPMS=\"SM\",\"SM\",\"SM\"",
	     "+CPMS: 0,30,0,30,0,30\r\n\r\nOK");
	chat(p, "AT+CNMI=2,1,0,2,0", "+CMS ERROR: 303");
	chat(p, "AT+CNMI=2,1,2,1,0", "ERROR");
	chat(p, "AT+CNMI=2,1,2,2,0", "OK");
	chat(p, "AT+CSCA?", "+CSCA: \"+62816124\",145\r\n\r\nOK");
	chat(p, "AT+CREG=2", "OK");
	/* searching: poll +CEREG, then again after a pause */
	chat(p, "AT+CREG?", "+CREG: 2,2\r\n\r\nOK");
	chat(p, "AT+CEREG?", "+CEREG: 0,2\r\n\r\nOK");
	expect_nothing(p);
	assert_int_equal(modem_state(p->m), MODEM_REGISTER);
	advance(p, 3000);
	chat(p, "AT+CREG?", "+CREG: 2,0\r\n\r\nOK");
	chat(p, "AT+CEREG?", "+CEREG: 0,1\r\n\r\nOK");
	assert_int_equal(modem_state(p->m), MODEM_READY);
	assert_string_equal(modem_get_health(p->m)->manufacturer, "huawei");
	chat(p, "AT+CMGL=4", "^HCSQ:\"LTE\",50,40,100,20\r\nOK");
	/* Huawei keeps new SMS in ME before +CPMS: that is listed too */
	chat(p, "AT+CPMS=\"ME\"", "+CPMS: 0,30,0,30,0,30\r\n\r\nOK");
	chat(p, "AT+CMGL=4", "OK");
	chat(p, "AT+CPMS=\"SM\"", "+CPMS: 0,30,0,30,0,30\r\n\r\nOK");
	answer_health(p);
	/* ^CURC=0 was accepted: a ^BOOT now means the stick restarted */
	advance(p, 30000);
	reply(p, "\r\n^BOOT:12345,0,0,0,72\r\n");
	assert_int_equal(modem_state(p->m), MODEM_PROBE);
	peer_free(p);
}

static void test_pin_sent_once(void **st)
{
	struct peer *p = peer_new("1234", NULL);

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: SIM PIN\r\n\r\nOK");
	chat(p, "AT+CPIN=\"1234\"", "OK");
	expect_nothing(p);
	advance(p, 3000);
	/* the SIM still wants a PIN: stop, never send it a second time */
	chat(p, "AT+CPIN?", "+CPIN: SIM PIN\r\n\r\nOK");
	assert_int_equal(modem_state(p->m), MODEM_FATAL);
	assert_non_null(
	    strstr(modem_last_reason(p->m), "not sending it again"));
	assert_int_equal(modem_fd(p->m), -1);
	advance(p, 120000);
	assert_int_equal(p->opens, 1);
	/* a send while FATAL comes back at once for the daemon to keep */
	assert_int_equal(modem_send(p->m, 5, "+6281234567890", "Tes"), 0);
	assert_int_equal(p->nsent, 1);
	assert_int_equal(p->sent_res, MODEM_SEND_RETRY);
	peer_free(p);
}

static void test_pin_accepted(void **st)
{
	struct peer *p = peer_new("1234", NULL);

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CME ERROR: 11");
	chat(p, "AT+CPIN=\"1234\"", "OK");
	advance(p, 3000);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	sms_setup_and_register(p);
	peer_free(p);
}

static void test_pin_rejected(void **st)
{
	struct peer *p = peer_new("9999", NULL);

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: SIM PIN\r\n\r\nOK");
	chat(p, "AT+CPIN=\"9999\"", "+CME ERROR: 16");
	assert_int_equal(modem_state(p->m), MODEM_FATAL);
	assert_non_null(strstr(modem_last_reason(p->m), "rejected the PIN"));
	peer_free(p);
}

static void test_puk_and_missing_pin_fatal(void **st)
{
	struct peer *p = peer_new("1234", NULL);

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: SIM PUK\r\n\r\nOK");
	assert_int_equal(modem_state(p->m), MODEM_FATAL);
	assert_non_null(strstr(modem_last_reason(p->m), "PUK"));
	assert_string_equal(p->states, "probe,init,sim,fatal");
	peer_free(p);

	p = peer_new(NULL, NULL);
	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: SIM PIN\r\n\r\nOK");
	assert_int_equal(modem_state(p->m), MODEM_FATAL);
	assert_non_null(strstr(modem_last_reason(p->m), "[modem] pin"));
	expect_nothing(p);
	peer_free(p);
}

static void test_sim_busy_waits(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CME ERROR: 14");
	expect_nothing(p);
	assert_int_equal(modem_state(p->m), MODEM_SIM);
	advance(p, 2000);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	/* SIM800 before "SMS Ready": CMS 302, wait and retry */
	chat(p, "AT+CMGF=0", "+CMS ERROR: 302");
	advance(p, 2000);
	sms_setup_and_register(p);
	peer_free(p);
}

static void test_drain_deletes_only_committed(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment a, b;
	char buf[2048];

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	sms_setup_and_register(p);
	deliver_pdu("+6281234567890", "Selamat pagi, surat pengantar?", &a);
	deliver_pdu("+6289876543210", "Jam buka kantor?", &b);
	p->sms_ret[0] = 0;  /* committed */
	p->sms_ret[1] = -1; /* store failed: must stay on the SIM */
	snprintf(buf, sizeof(buf),
		 "+CMGL: 0,1,,%d\r\n%s\r\n^RSSI:12\r\n+CMGL: 3,1,,%d\r\n%s\r\n"
		 "\r\nOK",
		 a.tpdu_len, a.hex, b.tpdu_len, b.hex);
	chat(p, "AT+CMGL=4", buf);
	assert_int_equal(p->nsms, 2);
	assert_int_equal(p->sms[0].index, 0);
	assert_string_equal(p->sms[0].sender, "+6281234567890");
	assert_string_equal(p->sms[0].text, "Selamat pagi, surat pengantar?");
	assert_int_equal(p->sms[1].index, 3);
	chat(p, "AT+CMGD=0", "OK");
	/* no AT+CMGD=3: the health queries come next */
	answer_health(p);
	expect_nothing(p);
	/* the daemon asks for a rescan: the kept one is read again */
	modem_rescan(p->m);
	tick(p);
	p->sms_ret[2] = 0;
	snprintf(buf, sizeof(buf), "+CMGL: 3,1,,%d\r\n%s\r\n\r\nOK", b.tpdu_len,
		 b.hex);
	chat(p, "AT+CMGL=4", buf);
	chat(p, "AT+CMGD=3", "OK");
	assert_int_equal(p->nsms, 3);
	peer_free(p);
}

/* modem.h ops->listing: a listing is one commit; nothing is deleted
 * before it is durable, and a failed one is listed again at once with a
 * commit per message, so the one that cannot be stored stays alone. */
static void test_listing_is_one_commit(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment a, b;
	char buf[2048];

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	sms_setup_and_register(p);
	deliver_pdu("+6281234567890", "Selamat pagi, surat pengantar?", &a);
	deliver_pdu("+6289876543210", "Jam buka kantor?", &b);
	snprintf(buf, sizeof(buf),
		 "+CMGL: 0,1,,%d\r\n%s\r\n+CMGL: 3,1,,%d\r\n%s\r\n\r\nOK",
		 a.tpdu_len, a.hex, b.tpdu_len, b.hex);
	p->batch = true;
	p->end_ret = -1; /* the listing's commit fails */
	chat(p, "AT+CMGL=4", buf);
	assert_string_equal(p->calls, "BssE");
	/* no AT+CMGD at all: listed again, each message on its own */
	p->calls[0] = '\0';
	p->sms_ret[2] = 0;
	p->sms_ret[3] = -1; /* this one cannot be stored */
	chat(p, "AT+CMGL=4", buf);
	assert_string_equal(p->calls, "ss");
	chat(p, "AT+CMGD=0", "OK");
	answer_health(p);
	expect_nothing(p);
	/* the next listing is one commit again, and deletes after it */
	p->calls[0] = '\0';
	p->end_ret = 0;
	p->sms_ret[4] = 0;
	modem_rescan(p->m);
	tick(p);
	snprintf(buf, sizeof(buf), "+CMGL: 3,1,,%d\r\n%s\r\n\r\nOK", b.tpdu_len,
		 b.hex);
	chat(p, "AT+CMGL=4", buf);
	assert_string_equal(p->calls, "BsE");
	chat(p, "AT+CMGD=3", "OK");
	assert_int_equal(p->nsms, 5);
	peer_free(p);
}

static void test_cmgl_hang_falls_back_to_cmgr(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment a;
	char buf[1024];

	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	sms_setup_and_register(p);
	expect(p, "AT+CMGL=4");
	advance(p, 30000); /* it never answers */
	assert_int_equal(modem_state(p->m), MODEM_CLOSED);
	advance(p, 1000);
	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	sms_setup_and_register(p);
	/* count, then read slot by slot until the used one was seen */
	chat(p, "AT+CPMS?",
	     "+CPMS: \"SM\",1,30,\"SM\",1,30,\"SM\",1,30\r\n\r\nOK");
	chat(p, "AT+CMGR=0", "+CMS ERROR: 321");
	deliver_pdu("+6281234567890", "Halo", &a);
	snprintf(buf, sizeof(buf), "+CMGR: 1,,%d\r\n%s\r\n\r\nOK", a.tpdu_len,
		 a.hex);
	chat(p, "AT+CMGR=1", buf);
	chat(p, "AT+CMGD=1", "OK");
	assert_int_equal(p->nsms, 1);
	assert_string_equal(p->sms[0].text, "Halo");
	answer_health(p);
	expect_nothing(p);
	peer_free(p);
}

static void test_cmti_read_and_delete(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment a;
	char buf[1024];

	bring_up(p);
	deliver_pdu("+6281234567890", "Halo", &a);
	reply(p, "\r\n+CMTI: \"SM\",5\r\n");
	snprintf(buf, sizeof(buf), "+CMGR: 0,,%d\r\n%s\r\n\r\nOK", a.tpdu_len,
		 a.hex);
	chat(p, "AT+CMGR=5", buf);
	assert_int_equal(p->nsms, 1);
	assert_int_equal(p->sms[0].index, 5);
	assert_string_equal(p->sms[0].text, "Halo");
	chat(p, "AT+CMGD=5", "OK");
	expect_nothing(p);

	/* Huawei E3531 names ME: switch mem1, read, delete, switch back */
	p->sms_ret[1] = 0;
	reply(p, "\r\n+CMTI: \"ME\",0\r\n");
	chat(p, "AT+CPMS=\"ME\"", "+CPMS: 1,100,0,30,0,30\r\n\r\nOK");
	chat(p, "AT+CMGR=0", buf);
	chat(p, "AT+CMGD=0", "OK");
	chat(p, "AT+CPMS=\"SM\"", "+CPMS: 0,30,0,30,0,30\r\n\r\nOK");
	assert_int_equal(p->nsms, 2);

	/* an index already gone: CMS 321, nothing delivered or deleted */
	reply(p, "\r\n+CMTI: \"SM\",7\r\n");
	chat(p, "AT+CMGR=7", "+CMS ERROR: 321");
	expect_nothing(p);
	assert_int_equal(p->nsms, 2);
	/* memory full: read everything and delete what was stored */
	reply(p, "\r\n+CMTI: \"SM\",8\r\n");
	chat(p, "AT+CMGR=8", "+CMS ERROR: 322");
	p->sms_ret[2] = 0;
	snprintf(buf, sizeof(buf), "+CMGL: 1,0,,%d\r\n%s\r\n\r\nOK", a.tpdu_len,
		 a.hex);
	chat(p, "AT+CMGL=4", buf);
	chat(p, "AT+CMGD=1", "OK");
	assert_int_equal(p->nsms, 3);
	peer_free(p);
}

static void test_cmt_routed_and_ring(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment a;
	char buf[1024];

	bring_up(p);
	deliver_pdu("+6281234567890", "Langsung", &a);
	snprintf(buf, sizeof(buf), "\r\n+CMT: ,%d\r\n%s\r\n", a.tpdu_len,
		 a.hex);
	reply(p, buf);
	assert_int_equal(p->nsms, 1);
	assert_int_equal(p->sms[0].index, -1);
	assert_string_equal(p->sms[0].text, "Langsung");
	expect_nothing(p); /* routed: nothing to delete */
	reply(p, "\r\nRING\r\n\r\n+CLIP: \"+6281111\",145,\"\",0,\"\",0\r\n");
	assert_string_equal(p->ring, "+6281111");
	expect_nothing(p); /* hangup_after_rings defaults to 2 */
	reply(p, "\r\nRING\r\n\r\n+CLIP: \"+6281111\",145,\"\",0,\"\",0\r\n");
	expect(p, "ATH"); /* never answered: hung up on the second ring */
	assert_int_equal(p->nmissed, 0);
	reply(p, "\r\nOK\r\n");
	assert_int_equal(p->nmissed, 1);
	assert_int_equal(p->missed_rings, 2);
	assert_false(p->missed_hidden);
	assert_true(p->missed_hung_up);
	assert_string_equal(p->ring, "+6281111");
	peer_free(p);
}

/* A withheld number (CLI validity 1) whose caller gives up after one ring:
 * one missed call, hidden, nothing sent to the modem. */
static void test_ring_withheld_caller_gives_up(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	reply(p, "\r\nRING\r\n\r\n+CLIP: \"\",128,\"\",0,\"\",1\r\n");
	reply(p, "\r\nNO CARRIER\r\n");
	expect_nothing(p);
	assert_int_equal(p->nmissed, 1);
	assert_true(p->missed_hidden);
	assert_false(p->missed_hung_up);
	assert_string_equal(p->ring, "");
	/* a modem that says nothing at the end: the call times out */
	reply(p, "\r\nRING\r\n");
	advance(p, 20000);
	assert_int_equal(p->nmissed, 2);
	peer_free(p);
}

/* One AT+CMGS round: returns the PDU hex the modem wrote (no Ctrl-Z). */
static void cmgs_round(struct peer *p, int mr, char *pdu, size_t pdulen)
{
	char *cr, buf[64];

	pull(p);
	cr = strchr(p->in, '\r');
	assert_non_null(cr);
	assert_memory_equal(p->in, "AT+CMGS=", 8);
	consume(p, (size_t)(cr - p->in) + 1);
	reply(p, "\r\n> ");
	pull(p);
	assert_int_equal(p->in[p->inlen - 1], 0x1a);
	snprintf(pdu, pdulen, "%.*s", (int)p->inlen - 1, p->in);
	consume(p, p->inlen);
	snprintf(buf, sizeof(buf), "\r\n+CMGS: %d\r\n\r\nOK\r\n", mr);
	reply(p, buf);
}

static void test_send_with_prompt(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment segs[4];
	char err[128], want[512];
	char longtext[400];
	int n;

	bring_up(p);
	assert_int_equal(modem_send(p->m, 77, "+6281234567890", "Surat siap"),
			 0);
	tick(p);
	n = pdu_encode_submit("+6281234567890", "Surat siap", NULL, 0, true,
			      segs, 4, err, sizeof(err));
	assert_int_equal(n, 1);
	snprintf(want, sizeof(want), "AT+CMGS=%d", segs[0].tpdu_len);
	expect(p, want);
	reply(p, "\r\n> ");
	pull(p);
	/* the PDU hex, then Ctrl-Z (TS 27.005 3.5.1) */
	assert_int_equal(p->in[p->inlen - 1], 0x1a);
	assert_int_equal(p->inlen, strlen(segs[0].hex) + 1);
	consume(p, p->inlen);
	assert_int_equal(p->nsent, 0);
	reply(p, "\r\n+CMGS: 42\r\n\r\nOK\r\n");
	assert_int_equal(p->nsent, 1);
	assert_int_equal(p->sent_id, 77);
	assert_int_equal(p->sent_res, MODEM_SEND_OK);
	assert_int_equal(p->sent_nmrs, 1);
	assert_int_equal(p->sent_mrs[0], 42);

	/* two parts go back to back, each after its own prompt */
	memset(longtext, 'a', 200);
	longtext[200] = '\0';
	assert_int_equal(modem_send(p->m, 78, "+6281234567890", longtext), 0);
	tick(p);
	for (int i = 0; i < 2; i++)
		cmgs_round(p, 50 + i, want, sizeof(want));
	assert_int_equal(p->nsent, 2);
	assert_int_equal(p->sent_res, MODEM_SEND_OK);
	assert_int_equal(p->sent_nmrs, 2);
	assert_int_equal(p->sent_mrs[1], 51);

	/* text that cannot be encoded is refused at once */
	assert_int_equal(modem_send(p->m, 79, "", "x"), -1);
	peer_free(p);
}

/* A long SMS cut off after part 1 (crash, or part 2 refused) goes on with
 * part 2 under the same reference: the phone joins it with part 1 and the
 * resident does not get part 1 twice (TS 23.040 9.2.3.24.1). */
static void test_send_resume_from_part(void **st)
{
	struct peer *p = peer_new(NULL, NULL);
	struct pdu_segment segs[4];
	char text[300], err[128], pdu[1024];

	memset(text, 'k', 250);
	text[250] = '\0';
	assert_int_equal(pdu_encode_submit("+6281234567890", text, NULL, 0x2a,
					   true, segs, 4, err, sizeof(err)),
			 2);
	bring_up(p);
	assert_int_equal(
	    modem_send_resume(p->m, 61, "+6281234567890", text, 0x2a, 1), 0);
	tick(p);
	cmgs_round(p, 99, pdu, sizeof(pdu));
	assert_string_equal(pdu, segs[1].hex);
	assert_int_equal(p->nparts_sent, 1);
	assert_int_equal(p->last_part, 1);
	assert_int_equal(p->last_part_mr, 99);
	assert_int_equal(p->sent_res, MODEM_SEND_OK);
	assert_int_equal(p->sent_nmrs, 1);
	assert_int_equal(p->sent_mrs[0], 99);
	expect_nothing(p); /* part 1 is not sent again */

	/* every part already out: done at once, nothing written */
	p->nsent = 0;
	assert_int_equal(
	    modem_send_resume(p->m, 62, "+6281234567890", text, 0x2b, 2), 0);
	assert_int_equal(p->nsent, 1);
	assert_int_equal(p->sent_id, 62);
	assert_int_equal(p->sent_res, MODEM_SEND_OK);
	tick(p);
	expect_nothing(p);
	peer_free(p);
}

static void send_and_fail(struct peer *p, uint64_t id, const char *error)
{
	char buf[128];

	assert_int_equal(modem_send(p->m, id, "+6281234567890", "Tes"), 0);
	tick(p);
	pull(p);
	assert_memory_equal(p->in, "AT+CMGS=", 8);
	consume(p, p->inlen);
	snprintf(buf, sizeof(buf), "\r\n%s\r\n", error);
	reply(p, buf);
}

static void test_send_errors_mapped(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	send_and_fail(p, 1, "+CMS ERROR: 304");
	assert_int_equal(p->sent_res, MODEM_SEND_FAILED);
	assert_non_null(strstr(p->sent_reason, "304"));
	send_and_fail(p, 2, "+CMS ERROR: 331");
	assert_int_equal(p->sent_res, MODEM_SEND_RETRY);
	assert_int_equal(modem_state(p->m), MODEM_READY);
	/* 300-303: retry, and the modem is initialised again */
	send_and_fail(p, 3, "+CMS ERROR: 302");
	assert_int_equal(p->sent_id, 3);
	assert_int_equal(p->sent_res, MODEM_SEND_RETRY);
	assert_int_equal(modem_state(p->m), MODEM_PROBE);
	assert_int_equal(p->opens, 1);
	advance(p, 300);
	chat(p, "AT", "OK");
	assert_int_equal(modem_state(p->m), MODEM_INIT);
	peer_free(p);
}

/* [modem] send_timeout: a +CMGS the network never answers is given up
 * after the configured time, not the default minute. */
static void test_send_timeout_is_configured(void **st)
{
	peer_send_timeout_ms = 15000;
	struct peer *p = peer_new(NULL, NULL);

	peer_send_timeout_ms = 0;
	bring_up(p);
	assert_int_equal(modem_send(p->m, 9, "+6281234567890", "Tes"), 0);
	tick(p);
	pull(p);
	consume(p, p->inlen);
	reply(p, "\r\n> ");
	advance(p, 14000);
	assert_int_equal(p->nsent, 0);
	advance(p, 1000);
	assert_int_equal(p->nsent, 1);
	assert_int_equal(p->sent_res, MODEM_SEND_RETRY);
	assert_int_equal(modem_state(p->m), MODEM_CLOSED);
	peer_free(p);
}

static void test_timeout_recovers_and_reinits(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	assert_int_equal(modem_send(p->m, 9, "+6281234567890", "Tes"), 0);
	tick(p);
	pull(p);
	consume(p, p->inlen);
	reply(p, "\r\n> ");
	pull(p);
	consume(p, p->inlen);
	/* a URC flood does not move the 60 s deadline */
	for (int i = 0; i < 59; i++) {
		advance(p, 1000);
		reply(p, "\r\n^RSSI:17\r\n");
	}
	assert_int_equal(p->nsent, 0);
	advance(p, 1000);
	assert_int_equal(p->nsent, 1);
	assert_int_equal(p->sent_res, MODEM_SEND_RETRY);
	assert_int_equal(modem_state(p->m), MODEM_CLOSED);
	assert_int_equal(modem_fd(p->m), -1);
	/* reopen after the 1 s back-off and run everything again */
	p->states[0] = '\0';
	advance(p, 1000);
	assert_int_equal(p->opens, 2);
	bring_up(p);
	assert_string_equal(p->states, "probe,init,sim,register,ready");
	peer_free(p);
}

static void test_reopen_backoff_and_hangup(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	/* the stick re-enumerates: the port closes, then is missing */
	close(p->fd);
	p->fd = -1;
	p->refuse_open = true;
	modem_readable(p->m, p->now);
	assert_int_equal(modem_state(p->m), MODEM_CLOSED);
	/* back-off 1, 2, 4, 8 s */
	advance(p, 1000);
	assert_int_equal(modem_deadline(p->m), p->now + 2000);
	advance(p, 2000);
	assert_int_equal(modem_deadline(p->m), p->now + 4000);
	advance(p, 4000);
	assert_int_equal(modem_deadline(p->m), p->now + 8000);
	p->refuse_open = false;
	advance(p, 8000);
	assert_int_equal(p->opens, 2);
	assert_int_equal(modem_state(p->m), MODEM_PROBE);
	peer_free(p);
}

static void test_rdy_reinits(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	p->states[0] = '\0';
	reply(p, "\r\nRDY\r\n");
	assert_int_equal(modem_state(p->m), MODEM_PROBE);
	assert_int_equal(p->opens, 1); /* same port, init again */
	/* the rest of the SIM800 boot banner does not restart it again */
	reply(p, "\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n");
	advance(p, 300);
	probe_and_identify(p);
	chat(p, "AT+CPIN?", "+CPIN: READY\r\n\r\nOK");
	reply(p, "\r\nSMS Ready\r\n");
	sms_setup_and_register(p);
	assert_string_equal(p->states, "probe,init,sim,register,ready");
	peer_free(p);
}

static void test_probe_retries_then_recovers(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	tick(p);
	advance(p, 300);
	for (int i = 0; i < 5; i++) {
		expect(p, "AT");
		advance(p, 2000);
	}
	assert_int_equal(modem_state(p->m), MODEM_CLOSED);
	assert_non_null(strstr(modem_last_reason(p->m), "no answer to AT"));
	peer_free(p);
}

static void test_garbage_burst_recovers(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	for (int i = 0; i < 8; i++)
		reply(p, "\x01\x02\x03\xfe\r\n");
	assert_int_equal(modem_state(p->m), MODEM_CLOSED);
	peer_free(p);
}

static void test_balance_ussd(void **st)
{
	struct peer *p = peer_new(NULL, "*888#");

	bring_up(p);
	advance(p, 10000);
	chat(p, "AT+CUSD=1,\"*888#\",15", "OK");
	reply(p, "\r\n+CUSD: 0,\"Sisa pulsa Anda Rp 12.345,00 berlaku s.d. "
		 "01-06-2024\",15\r\n");
	assert_int_equal(modem_get_health(p->m)->balance, 12345);
	assert_non_null(
	    strstr(modem_get_health(p->m)->balance_text, "Sisa pulsa"));
	peer_free(p);
}

static void test_status_report_via_cdsi(void **st)
{
	struct peer *p = peer_new(NULL, NULL);

	bring_up(p);
	/* TS 23.040 9.2.2.3 SMS-STATUS-REPORT: SMSC 00, first octet 06,
	 * MR 2A, RA +6281234567890, SCTS, DT, ST 00 */
	reply(p, "\r\n+CDSI: \"SM\",2\r\n");
	chat(p, "AT+CMGR=2",
	     "+CMGR: 0,,26\r\n00062A0D91261832547698F0"
	     "42501002500282"
	     "42501002501282"
	     "00\r\n\r\nOK");
	assert_int_equal(p->nreports, 1);
	assert_int_equal(p->report_mr, 42);
	assert_int_equal(p->report_status, 0);
	chat(p, "AT+CMGD=2", "OK");
	peer_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_init),
	    cmocka_unit_test(test_huawei_curc_and_cnmi_fallback),
	    cmocka_unit_test(test_ring_withheld_caller_gives_up),
	    cmocka_unit_test(test_pin_sent_once),
	    cmocka_unit_test(test_pin_accepted),
	    cmocka_unit_test(test_pin_rejected),
	    cmocka_unit_test(test_puk_and_missing_pin_fatal),
	    cmocka_unit_test(test_sim_busy_waits),
	    cmocka_unit_test(test_drain_deletes_only_committed),
	    cmocka_unit_test(test_listing_is_one_commit),
	    cmocka_unit_test(test_cmgl_hang_falls_back_to_cmgr),
	    cmocka_unit_test(test_cmti_read_and_delete),
	    cmocka_unit_test(test_cmt_routed_and_ring),
	    cmocka_unit_test(test_send_with_prompt),
	    cmocka_unit_test(test_send_resume_from_part),
	    cmocka_unit_test(test_send_errors_mapped),
	    cmocka_unit_test(test_timeout_recovers_and_reinits),
	    cmocka_unit_test(test_send_timeout_is_configured),
	    cmocka_unit_test(test_reopen_backoff_and_hangup),
	    cmocka_unit_test(test_rdy_reinits),
	    cmocka_unit_test(test_probe_retries_then_recovers),
	    cmocka_unit_test(test_garbage_burst_recovers),
	    cmocka_unit_test(test_balance_ussd),
	    cmocka_unit_test(test_status_report_via_cdsi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
