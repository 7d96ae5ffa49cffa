/* The office event log (daemon/store/store_events.c): sequence numbers,
 * the acknowledged watermark, privacy, pruning, and the capture of
 * messages, tickets and SLA breaches from the store's tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "store_events.h"

#define DAY 86400000LL
#define NOW (1800000000LL * 1000)

#include "store_fixture.h"

static int setup(void **state)
{
	return store_fixture_setup("evlog");
}

/* What another part of simpuld would have written: raw SQL on a second
 * connection stands in for inbox and autoreply here. */
static void sql(const char *q)
{
	sqlite3 *h;
	char *err = NULL;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	if (sqlite3_exec(h, q, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", q, err);
	sqlite3_close(h);
}

static void test_sequence_and_watermark(void **state)
{
	struct store *st = open_db();
	struct store_event ev = {.at_ms = NOW, .kind = STORE_EV_MSG_IN};
	struct store_event out[8];

	snprintf(ev.detail, sizeof ev.detail, "+6281234567890");
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(store_events_append(st, &ev, false), STORE_OK);
		assert_int_equal(ev.seq, i);
	}
	assert_int_equal(store_events_read(st, 2, out, 8), 3);
	assert_int_equal(out[0].seq, 3);
	assert_int_equal(out[2].seq, 5);
	assert_int_equal(out[0].kind, STORE_EV_MSG_IN);
	/* The number stayed on the Pi. */
	assert_string_equal(out[0].detail, "");
	assert_int_equal(store_events_set_acked(st, 4), STORE_OK);
	assert_int_equal(store_events_set_acked(st, 2), STORE_OK);
	assert_int_equal(store_events_acked(st), 4); /* never backwards */
	store_close(st);

	/* A restart resumes from the watermark. */
	st = open_db();
	assert_int_equal(store_events_acked(st), 4);
	assert_int_equal(store_events_last(st), 5);
	store_close(st);
}

static void test_prune_keeps_unacknowledged(void **state)
{
	struct store *st = open_db();
	struct store_event ev = {.at_ms = NOW - 100 * DAY,
				 .kind = STORE_EV_CREDIT};

	for (int i = 0; i < 4; i++)
		assert_int_equal(store_events_append(st, &ev, false), STORE_OK);
	store_events_set_acked(st, 2);
	assert_int_equal(store_events_prune(st, NOW - 90 * DAY), 2);
	/* Numbers are not reused after pruning. */
	assert_int_equal(store_events_append(st, &ev, false), STORE_OK);
	assert_int_equal(ev.seq, 5);
	store_close(st);
}

static int kinds(struct store *st, int64_t after, char *out, size_t n)
{
	struct store_event evs[16];
	int k = store_events_read(st, after, evs, 16);

	out[0] = '\0';
	for (int i = 0; i < k; i++) {
		strncat(out, store_events_kind_name(evs[i].kind),
			n - strlen(out) - 1);
		strncat(out, " ", n - strlen(out) - 1);
		if (evs[i].detail[0] || strstr(evs[i].channel, "62") ||
		    strstr(evs[i].category, "62") ||
		    strstr(evs[i].ticket, "62"))
			fail_msg("a phone number in event %d", i);
	}
	return k;
}

static void test_capture(void **state)
{
	struct store *st = open_db();
	char got[256];

	sql("INSERT INTO contacts(id, phone, kind, created_at, updated_at)"
	    " VALUES (1, '+6281234567890', 'warga', 0, 0);"
	    "INSERT INTO conversations(id, contact_id, category, ticket,"
	    " due_at, opened_at, updated_at) VALUES (1, 1, 'ktp', 'T-0001',"
	    " 1800000000000 - 86400000, 1800000000000, 1800000000000);"
	    "INSERT INTO messages(conversation_id, contact_id, channel,"
	    " direction, peer, body, at, status, created_at) VALUES (1, 1,"
	    " 'sms', 'in', '+6281234567890', 'mau urus KTP', 1800000000000,"
	    " 'received', 0), (1, 1, 'sms', 'out', '+6281234567890',"
	    " 'Syarat KTP: ...', 1800000000000, 'queued', 0);");
	assert_int_equal(store_events_capture(st, NOW, false, 100), 4);
	assert_int_equal(kinds(st, 0, got, sizeof got), 4);
	assert_string_equal(got, "msg_in msg_out ticket_open sla_breach ");
	/* Nothing twice. */
	assert_int_equal(store_events_capture(st, NOW + 1000, false, 100), 0);
	sql("UPDATE conversations SET status = 'selesai',"
	    " closed_at = 1800000000000 + 1000 WHERE id = 1");
	assert_int_equal(store_events_capture(st, NOW + 2000, false, 100), 1);
	kinds(st, 4, got, sizeof got);
	assert_string_equal(got, "ticket_close ");
	store_close(st);
}

static void test_capture_personal_when_allowed(void **state)
{
	struct store *st = open_db();
	struct store_event ev;

	sql("INSERT INTO contacts(id, phone, kind, created_at, updated_at)"
	    " VALUES (1, '+6281234567890', 'warga', 0, 0);"
	    "INSERT INTO conversations(id, contact_id, opened_at, updated_at)"
	    " VALUES (1, 1, 0, 0);"
	    "INSERT INTO messages(conversation_id, contact_id, channel,"
	    " direction, peer, at, status, created_at) VALUES (1, 1,"
	    " 'whatsapp', 'in', '+6281234567890', 1, 'received', 0);");
	assert_int_equal(store_events_capture(st, NOW, true, 100), 1);
	assert_int_equal(store_events_read(st, 0, &ev, 1), 1);
	assert_string_equal(ev.channel, "whatsapp");
	assert_string_equal(ev.detail, "+6281234567890");
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sequence_and_watermark, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_prune_keeps_unacknowledged,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capture, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capture_personal_when_allowed,
					    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
