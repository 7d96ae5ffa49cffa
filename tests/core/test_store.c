#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inbox.h"
#include "inbox_one.h"
#include "store.h"
#include "store_int.h"
#include "store_call.h"
#include "store_ops.h"
#include "store_people.h"
#include "store_ui.h"
#include "wa_inbox.h"
#include "wa_parse.h"

#include "store_fixture.h"

static int setup(void **state)
{
	return store_fixture_setup("store");
}

static int count_messages(struct store *st)
{
	json_t *j = store_inbox_json(st, 1000, 0, 0);
	int n = (int)json_array_size(j);

	json_decref(j);
	return n;
}

static void migrates_from_empty(void **state)
{
	struct store *st = open_db();

	assert_int_equal(store_version(st), STORE_SCHEMA_VERSION);
	store_close(st);
	st = open_db(); /* reopening is a no-op */
	assert_int_equal(store_version(st), STORE_SCHEMA_VERSION);
	store_close(st);
}

/* Data written at every earlier version survives the later migrations. */
static void migrates_from_each_version(void **state)
{
	for (int v = 1; v < STORE_SCHEMA_VERSION; v++) {
		char err[256];
		teardown(state);
		struct store *st = store_open_version(db, v, err, sizeof(err));
		assert_non_null(st);
		assert_int_equal(store_version(st), v);
		struct inbox *ib = inbox_new(st);
		struct inbox_msg m = {.channel = "sms",
				      .from = "081234567890",
				      .body = "halo",
				      .source_id = "old-1"};
		assert_int_equal(inbox_one(ib, &m, NULL), INBOX_STORED);
		inbox_free(ib);
		store_close(st);
		st = open_db();
		assert_int_equal(store_version(st), STORE_SCHEMA_VERSION);
		assert_int_equal(count_messages(st), 1);
		store_close(st);
	}
}

/* Schema 9: a name staff gave survives the WhatsApp profile name that
 * every later webhook writes, and clearing it brings the profile back. */
static void staff_name_wins_over_profile(void **state)
{
	struct store *st = open_db();
	struct inbox *ib = inbox_new(st);
	struct inbox_msg m = {.channel = "whatsapp",
			      .from = "6281355550001",
			      .name = "Sari",
			      .body = "halo",
			      .source_id = "wamid.s1"};
	struct store_contact k;
	int64_t id;

	assert_int_equal(inbox_one(ib, &m, &id), INBOX_STORED);
	assert_int_equal(store_contact_upsert(st, NULL, "6281355550001", NULL,
					      "mobile", NULL, 1, &k),
			 STORE_OK);
	struct store_contact_edit e = {.name = "Bu Sari Wulandari", .rw = "05"};
	assert_int_equal(store_contact_edit(st, k.id, &e, 2), STORE_OK);
	m.name = "S@ri";
	m.source_id = "wamid.s2";
	assert_int_equal(inbox_one(ib, &m, &id), INBOX_STORED);
	assert_int_equal(store_contact_get(st, k.id, &k), STORE_OK);
	assert_string_equal(k.name, "Bu Sari Wulandari");
	json_t *page = store_contact_page_json(st, k.id, 0);
	json_t *c = json_object_get(page, "contact");
	assert_string_equal(
	    json_string_value(json_object_get(c, "profile_name")), "S@ri");
	assert_string_equal(json_string_value(json_object_get(c, "rw")), "05");
	json_decref(page);
	e = (struct store_contact_edit){.name = ""};
	assert_int_equal(store_contact_edit(st, k.id, &e, 3), STORE_OK);
	assert_int_equal(store_contact_get(st, k.id, &k), STORE_OK);
	assert_string_equal(k.name, "S@ri");
	inbox_free(ib);
	store_close(st);
}

/* 'SELECT count(*) ...' on the file itself, outside the store. */
static int file_count(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *s;
	int n = -1;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	if (sqlite3_prepare_v2(h, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return n;
}

/* A new store is made in one transaction: when its last migration fails
 * nothing of the earlier ones is left, and the next open makes it whole. */
static void new_store_is_made_whole_or_not_at_all(void **state)
{
	char err[256];
	sqlite3 *h;

	/* the last migration creates the view message_totals */
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(h, "CREATE TABLE message_totals(x)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	assert_null(store_open(db, err, sizeof(err)));
	assert_non_null(strstr(err, "failed"));
	assert_int_equal(file_count("PRAGMA user_version"), 0);
	assert_int_equal(file_count("SELECT count(*) FROM sqlite_master"), 1);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_exec(h, "DROP TABLE message_totals", NULL, NULL, NULL);
	sqlite3_close(h);
	struct store *st = open_db();
	assert_int_equal(store_version(st), STORE_SCHEMA_VERSION);
	store_close(st);
}

static void newer_schema_is_refused(void **state)
{
	struct store *st = open_db();
	char err[256];

	store_close(st);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "sqlite3 %s 'PRAGMA user_version=99'", db);
	if (system(cmd) != 0)
		skip();
	assert_null(store_open(db, err, sizeof(err)));
	assert_non_null(strstr(err, "newer than this simpul"));
}

static void duplicate_stored_once(void **state)
{
	struct store *st = open_db();
	struct inbox *ib = inbox_new(st);
	struct inbox_msg m = {.channel = "whatsapp",
			      .from = "6281234567890",
			      .body = "syarat ktp",
			      .source_id = "wamid.AAA"};

	assert_int_equal(inbox_one(ib, &m, NULL), INBOX_STORED);
	assert_int_equal(inbox_one(ib, &m, NULL), INBOX_DUPLICATE);
	/* Same source id on the other channel is another message. */
	m.channel = "sms";
	assert_int_equal(inbox_one(ib, &m, NULL), INBOX_STORED);
	assert_int_equal(count_messages(st), 2);
	inbox_free(ib);
	store_close(st);
}

static void sms_and_whatsapp_are_one_contact(void **state)
{
	struct store *st = open_db();
	struct inbox *ib = inbox_new(st);
	struct inbox_msg a = {.channel = "sms",
			      .from = "+6281234567890",
			      .body = "ktp",
			      .source_id = "s1"};
	struct inbox_msg b = {.channel = "whatsapp",
			      .from = "6281234567890",
			      .name = "Bu Sri",
			      .body = "foto ktp",
			      .source_id = "w1"};
	int64_t ida, idb;

	assert_int_equal(inbox_one(ib, &a, &ida), INBOX_STORED);
	assert_int_equal(inbox_one(ib, &b, &idb), INBOX_STORED);
	json_t *j = store_inbox_json(st, 10, 0, 0);
	json_t *m0 = json_array_get(j, 0), *m1 = json_array_get(j, 1);
	assert_int_equal(
	    json_integer_value(json_object_get(m0, "conversation")),
	    json_integer_value(json_object_get(m1, "conversation")));
	assert_string_equal(json_string_value(json_object_get(m0, "peer")),
			    "+6281234567890");
	json_t *c = store_conversation_json(
	    st, json_integer_value(json_object_get(m0, "conversation")), 0);
	json_t *k = json_object_get(c, "contact");
	assert_string_equal(json_string_value(json_object_get(k, "name")),
			    "Bu Sri");
	assert_string_equal(json_string_value(json_object_get(k, "wa_id")),
			    "6281234567890");
	json_decref(c);
	json_decref(j);
	inbox_free(ib);
	store_close(st);
}

static int enqueue_reply(void *ud, struct inbox_ctx *ctx)
{
	return store_outbox_enqueue(ctx->st, ctx->conv.id, ctx->contact.id,
				    ctx->msg->channel, ctx->peer, "balasan",
				    "auto", ctx->now_ms) < 0
		   ? -1
		   : 0;
}

/* A disk error at any statement of the inbound transaction leaves
 * nothing: no contact, no message, no queued reply. */
static void inbound_is_atomic(void **state)
{
	int failed = 0, last_failed = 0;
	bool first_failed = false;

	for (int n = 1; n < 40; n++) {
		teardown(state);
		struct store *st = open_db();
		struct inbox *ib = inbox_new(st);
		inbox_add_responder(ib, INBOX_STAGE_AUTOREPLY, enqueue_reply,
				    NULL);
		struct inbox_msg m = {.channel = "sms",
				      .from = "081234567890",
				      .body = "ktp",
				      .source_id = "x1"};
		store_fail_after(st, n);
		enum inbox_result r = inbox_one(ib, &m, NULL);
		store_fail_after(st, 0);
		int msgs = count_messages(st);
		json_t *s = store_status_json(st);
		int q = (int)json_integer_value(json_object_get(s, "queued"));
		json_decref(s);
		if (r == INBOX_STORED) {
			assert_int_equal(msgs, 2);
			assert_int_equal(q, 1);
		} else {
			/* the injected error, not another outcome */
			assert_int_equal(r, INBOX_FAILED);
			failed++;
			last_failed = n;
			first_failed = first_failed || n == 1;
			assert_int_equal(msgs, 0);
			assert_int_equal(q, 0);
			/* and the message can be stored again afterwards */
			assert_int_equal(inbox_one(ib, &m, NULL), INBOX_STORED);
		}
		inbox_free(ib);
		store_close(st);
	}
	/* The injection bit: the first statement and several more failed the
	 * store (contact, conversation, message, reply, ...; a statement whose
	 * error is handled may not), and the range went past the last one,
	 * so success after all statements was seen too. */
	assert_true(failed >= 4);
	assert_true(first_failed);
	assert_true(last_failed < 39);
}

static void sending_goes_back_to_queue_after_crash(void **state)
{
	struct store *st = open_db();
	struct store_contact c;
	struct store_conversation conv;
	bool created;
	struct store_out o;

	store_contact_upsert(st, "+6281234567890", NULL, NULL, "mobile", NULL,
			     1000, &c);
	store_conversation_for(st, c.id, 1000, &conv, &created);
	int64_t id = store_outbox_enqueue(
	    st, conv.id, c.id, "sms", "+6281234567890", "halo", "auto", 1000);
	assert_true(id > 0);
	assert_int_equal(store_outbox_next(st, "sms", 2000, &o), STORE_OK);
	free(o.body);
	store_outbox_set(st, id, "sending", NULL, NULL, 0);
	assert_int_equal(store_outbox_next(st, "sms", 2000, &o),
			 STORE_NOTFOUND);
	store_close(st);
	st = open_db(); /* "restart" */
	assert_int_equal(store_outbox_recover(st), 1);
	assert_int_equal(store_outbox_next(st, "sms", 2000, &o), STORE_OK);
	assert_int_equal(o.id, id);
	assert_int_equal(o.attempts, 1);
	free(o.body);
	store_close(st);
}

static void status_never_downgrades(void **state)
{
	struct store *st = open_db();
	struct store_contact c;
	struct store_conversation conv;
	bool created;

	store_contact_upsert(st, "+6281234567890", NULL, NULL, "mobile", NULL,
			     1, &c);
	store_conversation_for(st, c.id, 1, &conv, &created);
	int64_t id = store_outbox_enqueue(st, conv.id, c.id, "whatsapp",
					  "+6281234567890", "x", "staf", 1);
	store_outbox_set(st, id, "sent", "wamid.1", NULL, 0);
	/* The live path of a webhook status (daemon/whatsapp/wa_inbox.c). */
	struct wa_status read = {.wamid = "wamid.1", .status = "read"};
	struct wa_status late = {.wamid = "wamid.1", .status = "delivered"};
	assert_int_equal(wa_inbox_status(st, &read), 0);
	assert_int_equal(wa_inbox_status(st, &late), 0);
	json_t *j = store_inbox_json(st, 1, 0, 0);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(j, 0), "status")),
	    "read");
	json_decref(j);
	store_close(st);
}

static void parts_dedupe_even_after_assembly(void **state)
{
	struct store *st = open_db();
	struct store_part *p;

	assert_int_equal(store_part_add(st, "p1", "k", "+62", 2, 1, "a", 1, 1),
			 STORE_OK);
	assert_int_equal(store_part_add(st, "p1", "k", "+62", 2, 1, "a", 1, 1),
			 STORE_DUP);
	assert_int_equal(store_part_add(st, "p2", "k", "+62", 2, 2, "b", 1, 1),
			 STORE_OK);
	int n = store_parts_get(st, "k", &p);
	assert_int_equal(n, 2);
	assert_string_equal(p[1].text, "b");
	store_parts_free(p, n);
	store_parts_done(st, "k", 7);
	assert_int_equal(store_part_add(st, "p2", "k", "+62", 2, 2, "b", 1, 1),
			 STORE_DUP);
	assert_int_equal(store_parts_get(st, "k", &p), 0);
	store_parts_free(p, 0);
	store_close(st);
}

/* store_history at now_ms, looking back to since_ms, with the loop
 * breaker's window of 10 minutes. */
/* One resident and their open conversation, at time t. */
static void resident_conversation(struct store *st, int64_t t,
				  struct store_conversation *c)
{
	struct store_contact k;
	bool created;

	assert_int_equal(store_contact_upsert(st, "+6281234567890", NULL, NULL,
					      "mobile", NULL, t, &k),
			 STORE_OK);
	assert_int_equal(store_conversation_for(st, k.id, t, c, &created),
			 STORE_OK);
}

static int history(struct store *st, int64_t conv, const char *text,
		   int64_t now_ms, int64_t since_ms, struct store_history *h)
{
	struct store_history_q q = {
	    .now_ms = now_ms, .since_ms = since_ms, .same_text_ms = 600000};

	return store_history(st, conv, text, &q, h);
}

static void add_row(struct store *st, const struct store_conversation *c,
		    const char *dir, const char *author, const char *kind,
		    const char *body, int64_t at)
{
	struct store_message m = {.conversation_id = c->id,
				  .contact_id = c->contact_id,
				  .channel = "sms",
				  .direction = dir,
				  .peer = "+6281234567890",
				  .body = body,
				  .at = at,
				  .status = "sent",
				  .kind = kind,
				  .author = author};
	int64_t id;

	assert_int_equal(store_message_insert(st, &m, &id), STORE_OK);
}

/* The rules' look back reads the rows of their window and no older: a
 * staff reply or a closed-hours reply from last month is not "recent",
 * whatever the conversation holds (it was read whole for each message,
 * and grew with years of them); within the window every count is right. */
static void history_is_read_back_to_the_window(void **state)
{
	(void)state;
	struct store *st = open_db();
	struct store_conversation c;
	struct store_history h;
	const int64_t T = 1700000000000, H = 3600000;

	resident_conversation(st, T, &c);
	add_row(st, &c, "out", "siti", "text", "Baik bu", T);
	add_row(st, &c, "out", "auto", "closed", "Kantor tutup", T + H);
	add_row(st, &c, "out", "auto", "text", "Syarat KTP lama", T + 2 * H);
	add_row(st, &c, "in", NULL, "text", "halo", T + 3 * H);
	int64_t now = T + 30 * 24 * H;
	add_row(st, &c, "out", "system", "text", "Nomor tiket", now - 3 * H);
	add_row(st, &c, "out", "auto", "text", "Syarat KK", now - 2 * H);
	add_row(st, &c, "out", "auto", "closed", "Tutup", now - 30 * 60000);
	add_row(st, &c, "out", "auto", "text", "Syarat KTP", now - 20 * 60000);
	add_row(st, &c, "in", NULL, "text", "halo", now - 11 * 60000);
	add_row(st, &c, "in", NULL, "text", "halo", now - 5 * 60000);
	add_row(st, &c, "in", NULL, "text", "halo", now);

	assert_int_equal(history(st, c.id, "halo", now, now - 12 * H, &h),
			 STORE_OK);
	assert_int_equal(h.auto_last_hour, 2);
	assert_true(h.last_auto == now - 20 * 60000);
	assert_true(h.last_closed_auto == now - 30 * 60000);
	assert_int_equal(h.last_staff, 0); /* a month ago; "system" is none */
	assert_string_equal(h.last_auto_text, "Syarat KTP");
	assert_int_equal(h.same_text, 2); /* 11 min ago is outside 10 */

	/* counted no further than the loop breaker asks */
	struct store_history_q q = {.now_ms = now,
				    .since_ms = now - 12 * H,
				    .same_text_ms = 600000,
				    .same_text_max = 1};
	assert_int_equal(store_history(st, c.id, "halo", &q, &h), STORE_OK);
	assert_int_equal(h.same_text, 1);

	/* looking back over the whole month finds the old ones */
	assert_int_equal(history(st, c.id, "halo", now, T - 1, &h), STORE_OK);
	assert_true(h.last_staff == T);
	assert_int_equal(h.auto_last_hour, 2);

	/* a window with no reply in it: nothing, not the month-old text */
	assert_int_equal(history(st, c.id, "x", now + 12 * H, now + H, &h),
			 STORE_OK);
	assert_int_equal(h.last_auto, 0);
	assert_int_equal(h.last_closed_auto, 0);
	assert_string_equal(h.last_auto_text, "");
	assert_int_equal(h.same_text, 0);
	store_close(st);
}

static bool always_spent(void *ud, const struct store_history *h)
{
	int *calls = ud;

	(*calls)++;
	return h->auto_last_hour >= 1;
}

/* When the replies read already decide (the caller's spent(), from the
 * rules' budgets), the loop breakers' rows are not read: no same-text
 * count, no last reply's text; the replies and the conversation's state
 * still are. */
static void history_stops_when_the_budget_decides(void **state)
{
	(void)state;
	struct store *st = open_db();
	struct store_conversation c;
	struct store_history h;
	const int64_t T = 1700000000000;
	int calls = 0;

	resident_conversation(st, T, &c);
	add_row(st, &c, "in", NULL, "text", "halo", T);
	assert_int_equal(store_conv_state(st, c.id, "kk,ktp", false, T),
			 STORE_OK);
	struct store_history_q q = {.now_ms = T + 1000,
				    .since_ms = T - 3600000,
				    .same_text_ms = 600000,
				    .spent = always_spent,
				    .ud = &calls};
	assert_int_equal(store_history(st, c.id, "halo", &q, &h), STORE_OK);
	assert_int_equal(calls, 1); /* no reply yet: not spent */
	assert_int_equal(h.same_text, 1);
	add_row(st, &c, "out", "auto", "text", "Syarat KTP", T + 500);
	assert_int_equal(store_history(st, c.id, "halo", &q, &h), STORE_OK);
	assert_int_equal(calls, 2);
	assert_int_equal(h.auto_last_hour, 1);
	assert_true(h.last_auto == T + 500);
	assert_int_equal(h.same_text, 0);
	assert_string_equal(h.last_auto_text, "");
	assert_string_equal(h.last_choices, "kk,ktp");
	store_close(st);
}

/* Pages the connection asked its cache for since the last call. */
static int pages_fetched(struct store *st)
{
	int hit = 0, miss = 0, hi;

	sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_HIT, &hit, &hi,
			  1);
	sqlite3_db_status(store_db(st), SQLITE_DBSTATUS_CACHE_MISS, &miss, &hi,
			  1);
	return hit + miss;
}

/* The loop breaker counts the inbound rows whose body is the same text:
 * found by the hash in the conversation's index (schema 17), but always
 * compared by body, so a row whose hash collides is not counted, and a
 * row without a hash (stored before schema 17, or by another tool) is. A
 * resident who wrote 200 other long texts in the window costs no read of
 * those rows: the count asks the cache for index pages only (one row per
 * table page here, so reading them would ask for 200 more). */
static void same_text_is_found_by_hash_and_body(void **state)
{
	(void)state;
	struct store *st = open_db();
	struct store_conversation c;
	struct store_history h;
	const int64_t T = 1700000000000;
	char body[800];

	resident_conversation(st, T, &c);
	for (int i = 0; i < 200; i++) {
		memset(body, 'a' + i % 26, sizeof(body) - 1);
		body[sizeof(body) - 1] = '\0';
		snprintf(body, 16, "pesan ke-%d", i);
		body[strlen(body)] = ' ';
		add_row(st, &c, "in", NULL, "text", body, T + i);
	}
	add_row(st, &c, "in", NULL, "text", "halo", T + 300);
	add_row(st, &c, "in", NULL, "text", "halo", T + 301);
	add_row(st, &c, "in", NULL, "text", "hallo", T + 302);
	add_row(st, &c, "out", "auto", "text", "halo", T + 303);
	/* one as an older version stored it, one colliding with "halo" */
	assert_int_equal(store_exec(st, "UPDATE messages SET body_hash = NULL"
					" WHERE id = (SELECT max(id) - 2"
					" FROM messages)"),
			 STORE_OK);
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "UPDATE messages SET body_hash = %lld WHERE id ="
		 " (SELECT max(id) - 1 FROM messages)",
		 (long long)store_body_hash("halo"));
	assert_int_equal(store_exec(st, sql), STORE_OK);
	assert_int_equal(history(st, c.id, "halo", T + 400, T, &h), STORE_OK);
	assert_int_equal(h.same_text, 2);

	pages_fetched(st);
	assert_int_equal(history(st, c.id, "selamat pagi", T + 400, T, &h),
			 STORE_OK);
	assert_int_equal(h.same_text, 0);
	int pages = pages_fetched(st);
	print_message("same-text count over 204 rows: %d pages\n", pages);
	assert_true(pages < 60);
	store_close(st);
}

static void cat_count(void *ud, const char *a, const char *b, int64_t n)
{
	char *out = ud;
	size_t len = strlen(out);

	snprintf(out + len, 200 - len, "%s/%s %lld ", a, b, (long long)n);
}

/* The counters of `simpulctl status`, now each from an index: inbound
 * and outbound, and the queue by status on both channels. */
static void status_counts(void **state)
{
	(void)state;
	struct store *st = open_db();
	struct store_contact k;
	struct store_conversation c;
	bool created;
	static const char *const rows[][3] = {
	    {"sms", "in", "received"},	   {"whatsapp", "in", "received"},
	    {"sms", "out", "queued"},	   {"whatsapp", "out", "sending"},
	    {"whatsapp", "out", "failed"}, {"sms", "out", "delivered"},
	};

	assert_int_equal(store_contact_upsert(st, "+6281234567890", NULL, NULL,
					      "mobile", NULL, 1000, &k),
			 STORE_OK);
	assert_int_equal(store_conversation_for(st, k.id, 1000, &c, &created),
			 STORE_OK);
	for (int i = 0; i < 6; i++) {
		struct store_message m = {.conversation_id = c.id,
					  .contact_id = k.id,
					  .channel = rows[i][0],
					  .direction = rows[i][1],
					  .peer = "+6281234567890",
					  .body = "x",
					  .at = 2000 + i,
					  .status = rows[i][2],
					  .kind = "text"};
		int64_t id;
		assert_int_equal(store_message_insert(st, &m, &id), STORE_OK);
	}
	json_t *j = store_status_json(st);
	assert_int_equal(json_integer_value(json_object_get(j, "messages_in")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(j, "messages_out")),
			 4);
	assert_int_equal(json_integer_value(json_object_get(j, "queued")), 2);
	assert_int_equal(json_integer_value(json_object_get(j, "failed")), 1);
	assert_int_equal(
	    json_integer_value(json_object_get(j, "conversations_open")), 1);
	json_decref(j);
	/* the same once the batch is counted into message_counts */
	assert_int_equal(store_fts_flush(st), STORE_OK);
	assert_int_equal(
	    store_scalar64(st, "SELECT sum(n) FROM message_counts", 0, 0, NULL),
	    6);
	j = store_status_json(st);
	assert_int_equal(json_integer_value(json_object_get(j, "messages_in")),
			 2);
	assert_int_equal(json_integer_value(json_object_get(j, "messages_out")),
			 4);
	json_decref(j);

	/* kept by the triggers through a delete (retention), a row that
	 * becomes a staff notice, and a notice stored */
	assert_int_equal(sqlite3_exec(store_db(st),
				      "DELETE FROM messages WHERE id = 1;"
				      "UPDATE messages SET kind = 'notice'"
				      " WHERE id = 5;",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	struct store_message m = {.conversation_id = c.id,
				  .contact_id = k.id,
				  .channel = "sms",
				  .direction = "in",
				  .peer = "simpul",
				  .body = "pulsa habis",
				  .at = 3000,
				  .status = "received",
				  .kind = "notice"};
	int64_t id;
	assert_int_equal(store_message_insert(st, &m, &id), STORE_OK);
	char got[200] = "";
	assert_int_equal(store_count_messages(st, cat_count, got), STORE_OK);
	assert_string_equal(got, "sms/in 0 sms/out 2 whatsapp/in 1 "
				 "whatsapp/out 1 ");
	/* rows still waiting for their batch, made a notice or deleted */
	int64_t a, b;
	m.kind = "text";
	assert_int_equal(store_message_insert(st, &m, &a), STORE_OK);
	m.direction = "out";
	assert_int_equal(store_message_insert(st, &m, &b), STORE_OK);
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "UPDATE messages SET kind = 'notice' WHERE id = %lld;"
		 "DELETE FROM messages WHERE id = %lld;",
		 (long long)a, (long long)b);
	assert_int_equal(store_exec(st, sql), STORE_OK);
	for (int i = 0; i < 2; i++) {
		got[0] = '\0';
		assert_int_equal(store_count_messages(st, cat_count, got),
				 STORE_OK);
		assert_string_equal(got, "sms/in 0 sms/out 2 whatsapp/in 1 "
					 "whatsapp/out 1 ");
		assert_int_equal(store_fts_flush(st), STORE_OK);
	}
	store_close(st);
}

/* A full scan's plan line names the table: "SCAN messages" (with or
 * without "USING ... INDEX"); a search is "SEARCH". */
static void no_big_scan(void *ud, const char *sql, int steps)
{
	struct store *st = ud;
	char *q = NULL;
	sqlite3_stmt *s;

	assert_true(asprintf(&q, "EXPLAIN QUERY PLAN %s", sql) > 0);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), q, -1, &s, NULL),
			 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(s, 3);
		static const char *const big[] = {
		    "SCAN messages", "SCAN conversations", "SCAN contacts"};
		for (int i = 0; i < 3; i++)
			if (strncmp(d, big[i], strlen(big[i])) == 0 &&
			    (d[strlen(big[i])] == ' ' || !d[strlen(big[i])]))
				fail_msg("%d steps of %s in: %s", steps, d,
					 sql);
	}
	sqlite3_finalize(s);
	free(q);
}

static void no_sort(void *ud, const char *sql, int n)
{
	(void)ud;
	fail_msg("sorted %d time(s) (a temporary b-tree per message): %s", n,
		 sql);
}

/* What runs for each message (the inbound transaction with its reply,
 * the rules' look back, a new ticket and a CEK, the outbox, a delivery
 * report) never walks the whole of messages, conversations or contacts:
 * at a million messages each such walk held the loop for 0.1-1.5 s. The
 * planner has no statistics (no ANALYZE), so a plan on a small store is
 * the plan on a big one. Nor does it sort: a temporary b-tree opened
 * and sorted for each message (the open conversation's lookup did). */

static void per_message_statements_walk_no_table(void **state)
{
	(void)state;
	struct store *st = open_db();
	struct inbox *ib = inbox_new(st);
	struct store_conversation c;
	struct store_history h;
	struct store_out out;
	const int64_t T = 1700000000000;

	inbox_add_responder(ib, INBOX_STAGE_AUTOREPLY, enqueue_reply, NULL);
	for (int i = 0; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof(id), "s%d", i);
		struct inbox_msg m = {.channel = i % 2 ? "whatsapp" : "sms",
				      .from = i % 3 ? "081234567890"
						    : "081298765432",
				      .body = "lampu jalan mati",
				      .source_id = id};
		assert_int_equal(inbox_one(ib, &m, NULL), INBOX_STORED);
	}
	assert_int_equal(store_conversation_get(st, 1, &c), STORE_OK);
	struct store_history_q q = {.now_ms = T,
				    .since_ms = T - 43200000,
				    .same_text_ms = 600000,
				    .same_text_max = 3};
	assert_int_equal(store_history(st, c.id, "lampu", &q, &h), STORE_OK);
	assert_int_equal(store_ticket_find(st, "KLS-2611-123456", &c),
			 STORE_NOTFOUND);
	assert_int_equal(store_conversation_ticket(st, 1, "KLS-2611-123456",
						   "pengaduan/lampu", T),
			 STORE_OK);
	assert_int_equal(store_ticket_find(st, "kls-2611-123456", &c),
			 STORE_OK);
	assert_int_equal(c.id, 1);
	assert_true(store_outbox_recover(st) >= 0);
	assert_int_equal(store_outbox_next(st, "sms", T * 2, &out), STORE_OK);
	free(out.body);
	store_last_reply_of_kind(st, 1, "miskol");
	store_fullscans(st, no_big_scan, st);
	store_stmt_counts(st, SQLITE_STMTSTATUS_SORT, no_sort, st);
	inbox_free(ib);
	store_close(st);
}

/* What a digit answers and whether "Sama-sama" was sent are kept per
 * conversation: a resident's "2" answers the question they were asked,
 * and a second "terima kasih" gets no second reply. */
static void conversation_state_is_kept(void **state)
{
	struct store *st = open_db();
	struct store_contact k;
	struct store_conversation c, c2;
	struct store_history h;
	bool created;

	assert_int_equal(store_contact_upsert(st, "+6281234567890", NULL, NULL,
					      "mobile", NULL, 1000, &k),
			 STORE_OK);
	assert_int_equal(store_conversation_for(st, k.id, 1000, &c, &created),
			 STORE_OK);
	assert_int_equal(history(st, c.id, "x", 2000, 0, &h), STORE_OK);
	assert_string_equal(h.last_choices, "");
	assert_false(h.closer_sent);

	assert_int_equal(store_conv_state(st, c.id, "kk,drainase", false, 3000),
			 STORE_OK);
	assert_int_equal(store_conv_state(st, c.id, NULL, true, 4000),
			 STORE_OK);
	assert_int_equal(history(st, c.id, "x", 5000, 0, &h), STORE_OK);
	assert_string_equal(h.last_choices, "kk,drainase");
	assert_true(h.closer_sent);

	/* a later menu replaces the choice; the closer stays used up */
	assert_int_equal(store_conv_state(st, c.id, "menu", false, 6000),
			 STORE_OK);
	assert_int_equal(history(st, c.id, "x", 7000, 0, &h), STORE_OK);
	assert_string_equal(h.last_choices, "menu");
	assert_true(h.closer_sent);

	/* a new conversation starts with no state */
	assert_int_equal(
	    store_conversation_set(st, c.id, "status", "selesai", 8000),
	    STORE_OK);
	assert_int_equal(store_conversation_for(st, k.id, 9000, &c2, &created),
			 STORE_OK);
	assert_true(c2.id != c.id);
	assert_int_equal(history(st, c2.id, "x", 9000, 0, &h), STORE_OK);
	assert_string_equal(h.last_choices, "");
	assert_false(h.closer_sent);
	store_close(st);
}

static int count_notes(struct store *st, int64_t conv)
{
	sqlite3_stmt *s;
	int n;

	assert_int_equal(sqlite3_prepare_v2(store_db(st),
					    "SELECT count(*) FROM notes WHERE "
					    "conversation_id = ?",
					    -1, &s, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(s, 1, conv);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* A note added "once" is not written again while it is the newest note
 * of its conversation; after another note, or by another author, it is. */
/* A sender known only by its raw text (an operator's promo) is one
 * contact across its messages, found through contacts_raw, which holds
 * only such senders (schema 20); a number's contact is not found by its
 * raw text. */
static void raw_sender_is_one_contact(void **state)
{
	struct store *st = open_db();
	struct store_contact a, b, p;

	(void)state;
	assert_int_equal(store_contact_upsert(st, NULL, NULL, "TELKOMSEL",
					      "alnum", NULL, 1, &a),
			 STORE_OK);
	assert_int_equal(store_contact_upsert(st, NULL, NULL, "TELKOMSEL",
					      "alnum", NULL, 2, &b),
			 STORE_OK);
	assert_int_equal(a.id, b.id);
	assert_int_equal(store_contact_upsert(st, "+6281234567890", NULL,
					      "081234567890", "mobile", NULL, 3,
					      &p),
			 STORE_OK);
	assert_int_equal(store_contact_upsert(st, NULL, NULL, "081234567890",
					      "invalid", NULL, 4, &b),
			 STORE_OK);
	assert_true(b.id != p.id && b.id != a.id);
	assert_int_equal(store_scalar64(st,
					"SELECT count(*) FROM contacts"
					" INDEXED BY contacts_raw"
					" WHERE " STORE_RAW_ONLY,
					0, 0, NULL),
			 2);
	store_close(st);
}

/* The inbox's revision moves with what the inbox shows (a conversation,
 * a note, a contact's edit) and not with what it does not (users); a
 * store opened again starts at a number the last one did not hand out,
 * and the old triggers are gone. */
static void ui_rev_moves_with_what_the_inbox_shows(void **state)
{
	struct store *st = open_db();
	struct store_conversation c;
	int64_t r = store_ui_rev(st);

	(void)state;
	assert_int_equal(store_user_add(st, "siti", "staff", "x", 1), STORE_OK);
	assert_int_equal(store_ui_rev(st), r);
	resident_conversation(st, 1000, &c);
	assert_true(store_ui_rev(st) > r);
	r = store_ui_rev(st);
	assert_true(store_note_add(st, c.id, "siti", "sudah ditelepon", 2000) >
		    0);
	assert_true(store_ui_rev(st) > r);
	r = store_ui_rev(st);
	assert_int_equal(store_exec(st, "UPDATE contacts SET name = 'Bu Ani'"),
			 STORE_OK);
	assert_true(store_ui_rev(st) > r);
	r = store_ui_rev(st);
	store_close(st);
	st = open_db();
	assert_true(store_ui_rev(st) != r);
	assert_int_equal(store_scalar64(st,
					"SELECT count(*) FROM sqlite_schema"
					" WHERE name LIKE 'ui_rev%'",
					0, 0, NULL),
			 0);
	store_close(st);
}

static void note_once_while_newest(void **state)
{
	struct store *st = open_db();
	struct store_conversation c;
	const char *why = "Layanan KTP perlu konfirmasi RT, tetapi belum "
			  "dikirim: RT warga belum diketahui.";

	(void)state;
	resident_conversation(st, 1000, &c);
	assert_true(store_note_add_once(st, c.id, "simpul", why, 2000) > 0);
	assert_int_equal(store_note_add_once(st, c.id, "simpul", why, 3000), 0);
	assert_int_equal(count_notes(st, c.id), 1);
	assert_true(store_note_add_once(st, c.id, "ani", why, 4000) > 0);
	assert_true(store_note_add(st, c.id, "ani", "sudah ditelepon", 5000) >
		    0);
	assert_true(store_note_add_once(st, c.id, "simpul", why, 6000) > 0);
	assert_int_equal(store_note_add_once(st, c.id, "simpul", why, 7000), 0);
	assert_int_equal(count_notes(st, c.id), 4);
	store_close(st);
}

/* Every call site caches its statement, for the life of the daemon: more
 * sites than any fixed room must still all work (the cache once held 96,
 * then 192, and the next statement failed, and with it the message). */
static void statement_cache_has_no_ceiling(void **state)
{
	enum { N = 600 };
	static char sql[N][40];
	struct store *st = open_db();

	(void)state;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			snprintf(sql[i], sizeof(sql[i]), "SELECT %d", i);
			sqlite3_stmt *s = store_stmt(st, sql[i]);
			assert_non_null(s);
			assert_int_equal(store_step(st, s), SQLITE_ROW);
			assert_int_equal(sqlite3_column_int(s, 0), i);
		}
	store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(migrates_from_empty, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(statement_cache_has_no_ceiling,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(migrates_from_each_version, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(newer_schema_is_refused, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		new_store_is_made_whole_or_not_at_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(staff_name_wins_over_profile, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(duplicate_stored_once, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(sms_and_whatsapp_are_one_contact,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(inbound_is_atomic, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		sending_goes_back_to_queue_after_crash, setup, teardown),
	    cmocka_unit_test_setup_teardown(status_never_downgrades, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(parts_dedupe_even_after_assembly,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(conversation_state_is_kept, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(history_is_read_back_to_the_window,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		history_stops_when_the_budget_decides, setup, teardown),
	    cmocka_unit_test_setup_teardown(same_text_is_found_by_hash_and_body,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(status_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(note_once_while_newest, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(raw_sender_is_one_contact, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		ui_rev_moves_with_what_the_inbox_shows, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		per_message_statements_walk_no_table, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
