/* test_store_list: the query plans of the inbox's conversation list
 * (issue 17). Every filter and search the API can ask for is answered
 * from an index, newest first, stopping at its page: no query may scan
 * the messages or conversations table itself, which at a million
 * messages costs seconds and holds up the poll loop. The SQL is the
 * store's own (store_conv_plans), not a copy; the plans do not depend on
 * the data (the store never runs ANALYZE), so an empty store says what a
 * big one would do. */
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
#include "store.h"
#include "store_int.h"
#include "store_list.h"

#include "store_fixture.h"

static int setup(void **state)
{
	(void)state;
	return store_fixture_setup("store-list");
}

/* The names the list's SQL gives messages and conversations (store_list.c):
 * the tables themselves, c (the listed conversation), m, x and lm. */
static bool big_table(const char *name, size_t n)
{
	static const char *const names[] = {
	    "messages", "conversations", "c", "m", "x", "lm"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && strncmp(name, names[i], n) == 0)
			return true;
	return false;
}

/* A plan line "SCAN <table>" with no index: the whole table is read. A
 * "SCAN c USING INDEX conversations_updated" walks an index in list
 * order and stops at the LIMIT, so it is allowed. */
static bool full_scan(const char *line)
{
	if (strncmp(line, "SCAN ", 5) != 0 || strstr(line, " USING "))
		return false;
	const char *t = line + 5;
	size_t n = strcspn(t, " \n");
	return big_table(t, n);
}

static void check_plans(struct store *st, const char *what,
			struct store_conv_filter f)
{
	f.now_ms = 1700000000000;
	if (!f.limit)
		f.limit = 50;
	char *plans = store_conv_plans(st, &f);

	if (!plans)
		fail_msg("%s: no plan: %s", what, store_errmsg(st));
	if (getenv("SIMPUL_PRINT_PLANS")) /* to look at them by hand */
		print_message("-- %s\n%s", what, plans);
	for (char *save, *l = strtok_r(plans, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		if (full_scan(l))
			fail_msg("%s: full scan: %s", what, l);
	free(plans);
}

static void every_list_uses_an_index(void **state)
{
	(void)state;
	struct store *st = open_db();
	static const char *const boxes[] = {"", "kerja", "otomatis", "lainnya"};
	static const char *const statuses[] = {"baru", "diproses", "open",
					       "selesai"};
	char what[64];

	for (size_t i = 0; i < 4; i++) {
		check_plans(st, boxes[i],
			    (struct store_conv_filter){.box = boxes[i]});
		snprintf(what, sizeof(what), "%s, next page", boxes[i]);
		check_plans(st, what,
			    (struct store_conv_filter){.box = boxes[i],
						       .before_at = 1,
						       .before_id = 9});
	}
	for (size_t i = 0; i < 4; i++)
		check_plans(st, statuses[i],
			    (struct store_conv_filter){.box = "kerja",
						       .status = statuses[i]});
	check_plans(st, "channel",
		    (struct store_conv_filter){.channel = "sms"});
	check_plans(st, "category",
		    (struct store_conv_filter){.category = "layanan/ktp"});
	check_plans(st, "category part",
		    (struct store_conv_filter){.category = "ktp"});
	check_plans(st, "assignee",
		    (struct store_conv_filter){.assignee = "siti"});
	check_plans(st, "no assignee",
		    (struct store_conv_filter){.assignee = "none"});
	check_plans(
	    st, "overdue",
	    (struct store_conv_filter){.box = "kerja", .overdue = true});
	check_plans(st, "offset",
		    (struct store_conv_filter){.box = "kerja", .offset = 5000});
	store_close(st);
}

static void every_search_uses_an_index(void **state)
{
	(void)state;
	struct store *st = open_db();
	static const char *const qs[] = {"ktp",	       "got mampet banjir",
					 "0813555",    "+62 813 555",
					 "sari wulan", "\"*-:",
					 "3636"};

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		check_plans(st, qs[i], (struct store_conv_filter){.q = qs[i]});
		check_plans(st, qs[i],
			    (struct store_conv_filter){.box = "kerja",
						       .status = "baru",
						       .q = qs[i],
						       .before_at = 1,
						       .before_id = 9});
	}
	store_close(st);
}

/* Ten residents write 1,100 messages about their KTP, in one group
 * commit as the daemon would. */
static void fill(struct store *st)
{
	struct inbox *ib = inbox_new(st);
	char from[32], body[64], sid[32];

	assert_int_equal(inbox_begin(ib), 0);
	for (int i = 0; i < 1100; i++) {
		snprintf(from, sizeof(from), "+62812345000%02d", i % 10);
		snprintf(body, sizeof(body), "mau urus ktp, pesan %d", i);
		snprintf(sid, sizeof(sid), "ktp-%d", i);
		struct inbox_msg m = {.channel = "sms",
				      .from = from,
				      .body = body,
				      .at_ms = 1700000000000 + i * 1000,
				      .source_id = sid};
		assert_int_equal(inbox_add(ib, &m, NULL), INBOX_STORED);
	}
	assert_int_equal(inbox_commit(ib), 0);
	inbox_free(ib);
}

static json_t *list(struct store *st, const char *q, int limit,
		    const char *before)
{
	struct store_conv_filter f = {
	    .q = q, .limit = limit, .now_ms = 1800000000000};

	if (before)
		assert_true(store_conv_cursor(before, &f));
	json_t *j = store_conversations_json(st, &f, 0);
	if (!j)
		fail_msg("%s: %s", q ? q : "(list)", store_errmsg(st));
	return j;
}

/* Search stops at the newest STORE_SEARCH_MSGS matching messages and
 * says so; whole words and prefixes find the same people; the keyset
 * pages add up to the one long page. */
static void search_and_pages(void **state)
{
	(void)state;
	struct store *st = open_db();
	fill(st);
	/* whole words, and a prefix (no message has the word "pesa") */
	static const char *const qs[] = {"ktp", "KTP urus", "pesa"};

	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		json_t *j = list(st, qs[i], 50, NULL);
		assert_int_equal(json_array_size(json_object_get(j, "items")),
				 10);
		assert_true(json_is_true(json_object_get(j, "more")));
		json_decref(j);
	}
	/* one or two letters are never a prefix (they begin too much) */
	json_t *none = list(st, "kt", 50, NULL);
	assert_int_equal(json_array_size(json_object_get(none, "items")), 0);
	json_decref(none);
	json_t *one = list(st, "0812 3450 0003", 50, NULL);
	assert_int_equal(json_array_size(json_object_get(one, "items")), 1);
	json_decref(one);

	json_t *all = list(st, NULL, 50, NULL), *page = list(st, NULL, 3, NULL);
	json_t *items = json_object_get(all, "items");
	size_t n = 0;
	assert_int_equal(json_integer_value(json_object_get(all, "total")), 10);
	assert_true(json_is_null(json_object_get(all, "next")));
	for (;;) {
		json_t *it;
		size_t k;
		json_array_foreach(json_object_get(page, "items"), k, it)
		{
			json_t *want = json_array_get(items, n++);
			assert_int_equal(
			    json_integer_value(json_object_get(it, "id")),
			    json_integer_value(json_object_get(want, "id")));
		}
		const char *next =
		    json_string_value(json_object_get(page, "next"));
		if (!next)
			break;
		json_t *p = list(st, NULL, 3, next);
		json_decref(page);
		page = p;
	}
	assert_int_equal(n, 10);
	json_decref(page);
	json_decref(all);
	store_close(st);
}

static size_t found(struct store *st, const char *q)
{
	json_t *j = list(st, q, 50, NULL);
	size_t n = json_array_size(json_object_get(j, "items"));

	json_decref(j);
	return n;
}

static void wa(struct store *st, const char *name, const char *body,
	       const char *sid)
{
	struct inbox *ib = inbox_new(st);
	struct inbox_msg m = {.channel = "whatsapp",
			      .from = "6281355550001",
			      .name = name,
			      .body = body,
			      .source_id = sid};

	assert_int_equal(inbox_begin(ib), 0);
	assert_int_equal(inbox_add(ib, &m, NULL), INBOX_STORED);
	assert_int_equal(inbox_commit(ib), 0);
	inbox_free(ib);
}

/* A store of schema 11 (before contacts_fts) migrates: its people are
 * found by name and number at once, and a new name is found after the
 * trigger re-indexes the row. */
static void people_found_after_migration(void **state)
{
	(void)state;
	char err[256];
	struct store *st = store_open_version(db, 11, err, sizeof(err));

	assert_non_null(st);
	wa(st, "Sari Wulandari", "selamat pagi", "old-1");
	store_close(st);
	st = open_db();
	assert_int_equal(store_version(st), STORE_SCHEMA_VERSION);
	assert_int_equal(found(st, "sari wulan"), 1);
	assert_int_equal(found(st, "WULANDARI"), 1);
	assert_int_equal(found(st, "0813555"), 1);
	assert_int_equal(found(st, "+62 813 555"), 1);
	assert_int_equal(found(st, "budi"), 0);
	wa(st, "Budi Santoso", "ini nomor baru saya", "new-1");
	assert_int_equal(found(st, "budi sant"), 1);
	assert_int_equal(found(st, "wulandari"), 0);
	store_close(st);
}

/* FTS5's own check of messages_fts against the messages table: every
 * message indexed once, with its body as stored. */
static void index_matches_messages(struct store *st)
{
	assert_int_equal(store_exec(st, "INSERT INTO messages_fts(messages_fts,"
					" rank) VALUES ('integrity-check', 1)"),
			 STORE_OK);
}

static void resident(struct store *st, const char *channel, const char *from,
		     const char *body, const char *sid)
{
	struct inbox *ib = inbox_new(st);
	struct inbox_msg m = {
	    .channel = channel, .from = from, .body = body, .source_id = sid};

	assert_int_equal(inbox_begin(ib), 0);
	assert_int_equal(inbox_add(ib, &m, NULL), INBOX_STORED);
	assert_int_equal(inbox_commit(ib), 0);
	inbox_free(ib);
}

static int64_t reply(struct store *st, const char *body)
{
	struct store_contact k;
	struct store_conversation c;
	bool created;

	assert_int_equal(store_contact_upsert(st, "+6281234500001", NULL, NULL,
					      "mobile", NULL, 1, &k),
			 STORE_OK);
	assert_int_equal(store_conversation_for(st, k.id, 1, &c, &created),
			 STORE_OK);
	return store_outbox_enqueue(st, c.id, k.id, "sms", "+6281234500001",
				    body, "siti", 1);
}

/* Schema 14 indexes messages for search when their transaction commits,
 * not by a trigger per INSERT: every way a message is stored must still
 * be found right after its commit. A resident's SMS and WhatsApp (the
 * group commit), a reply queued in a transaction of its own (an RT
 * outcome, an announcement: store_begin/store_commit) and one queued
 * outside any (a staff reply, a survey question). What is rolled back is
 * not found, and what is stored after it is. */
static void every_path_is_found(void **state)
{
	(void)state;
	struct store *st = open_db();

	resident(st, "sms", "+6281234500001", "lampu jalan padam", "p-1");
	assert_int_equal(found(st, "lampu"), 1);
	resident(st, "whatsapp", "6281355550002", "got mampet", "p-2");
	assert_int_equal(found(st, "mampet"), 1);
	assert_int_equal(store_begin(st), STORE_OK);
	assert_true(reply(st, "permintaan disetujui ketua RT") > 0);
	assert_int_equal(store_commit(st), STORE_OK);
	assert_int_equal(found(st, "disetujui"), 1);
	assert_true(reply(st, "surat pengantar siap diambil") > 0);
	assert_int_equal(found(st, "pengantar"), 1);

	assert_int_equal(store_begin(st), STORE_OK);
	assert_int_equal(store_savepoint(st), STORE_OK);
	assert_true(reply(st, "kucing hilang") > 0);
	store_rollback_savepoint(st);
	assert_true(reply(st, "anjing menggonggong") > 0);
	assert_int_equal(store_commit(st), STORE_OK);
	assert_int_equal(store_begin(st), STORE_OK);
	assert_true(reply(st, "kucing hilang lagi") > 0);
	store_rollback(st);
	assert_true(reply(st, "burung berkicau") > 0);
	assert_int_equal(found(st, "kucing"), 0);
	assert_int_equal(found(st, "anjing"), 1);
	assert_int_equal(found(st, "burung"), 1);
	index_matches_messages(st);
	store_close(st);
}

/* A store of schema 13 (messages indexed by a trigger) migrates: what it
 * held is found, and so is what comes after, each indexed once. */
static void found_across_the_index_migration(void **state)
{
	(void)state;
	char err[256];
	struct store *st = store_open_version(db, 13, err, sizeof(err));

	assert_non_null(st);
	resident(st, "sms", "+6281234500001", "sampah menumpuk", "m-1");
	assert_true(reply(st, "petugas kebersihan datang") > 0);
	store_close(st);
	st = open_db();
	assert_int_equal(store_version(st), STORE_SCHEMA_VERSION);
	resident(st, "sms", "+6281234500001", "terima kasih sampah diangkut",
		 "m-2");
	assert_int_equal(found(st, "menumpuk"), 1);
	assert_int_equal(found(st, "kebersihan"), 1);
	assert_int_equal(found(st, "diangkut"), 1);
	index_matches_messages(st);
	store_close(st);
}

/* What the index itself holds for a word, without store_fts_flush. */
static int64_t indexed(struct store *st, const char *word)
{
	static const char sql[] = "SELECT count(*) FROM messages_fts"
				  " WHERE messages_fts MATCH ?3";

	return store_scalar64(st, sql, 0, 0, word);
}

static int64_t mark(struct store *st, const char *name)
{
	static const char sql[] = "SELECT value FROM counters WHERE name = ?3";

	return store_scalar64(st, sql, 0, 0, name);
}

/* Schema 19 indexes messages and people in batches: what waits is not
 * in the index yet, yet a search finds it (it indexes what waits
 * first), and a batch is indexed by the commit that fills it. What waits
 * survives a restart. */
static void search_finds_what_waits_for_its_batch(void **state)
{
	(void)state;
	struct store *st = open_db();

	resident(st, "whatsapp", "6281355550003", "lampu padam di gang 2",
		 "b-1");
	assert_true(reply(st, "silakan datang ke kantor") > 0);
	assert_int_equal(indexed(st, "lampu"), 0);
	assert_int_equal(mark(st, "fts_messages"), 0);
	store_close(st);
	st = open_db();
	assert_int_equal(found(st, "lampu"), 1);
	assert_int_equal(indexed(st, "lampu"), 1);
	assert_int_equal(found(st, "0813555"), 1); /* the person, by number */
	int64_t m = mark(st, "fts_messages");
	assert_true(m > 0);
	for (int i = 0; i < STORE_FTS_BATCH; i++)
		assert_true(reply(st, "berkas sudah lengkap") > 0);
	assert_int_equal(indexed(st, "lengkap"), STORE_FTS_BATCH);
	assert_int_equal(mark(st, "fts_messages"), m + STORE_FTS_BATCH);
	/* inside a transaction: indexed with it, and gone with it */
	for (int keep = 0; keep < 2; keep++) {
		assert_int_equal(store_begin(st), STORE_OK);
		assert_true(reply(st, keep ? "ktp selesai" : "kk hilang") > 0);
		assert_int_equal(store_fts_flush(st), STORE_OK);
		assert_int_equal(indexed(st, keep ? "selesai" : "hilang"), 1);
		if (keep)
			assert_int_equal(store_commit(st), STORE_OK);
		else
			store_rollback(st);
	}
	assert_int_equal(indexed(st, "hilang"), 0);
	assert_int_equal(indexed(st, "selesai"), 1);
	index_matches_messages(st);
	store_close(st);
	/* what a search indexed is still there after a restart */
	st = open_db();
	assert_int_equal(indexed(st, "lampu"), 1);
	assert_int_equal(indexed(st, "selesai"), 1);
	store_close(st);
}

/* The triggers change the index only for rows in it: a waiting message
 * deleted or edited, or a waiting person renamed, leaves the index whole,
 * and the batch takes the row as it is then. Deleting the newest rows
 * lowers the mark, so the id SQLite hands out again is indexed. */
static void triggers_change_only_what_is_indexed(void **state)
{
	(void)state;
	struct store *st = open_db();

	wa(st, "Sari Wulandari", "akta kelahiran", "t-1");
	assert_int_equal(store_exec(st,
				    "UPDATE messages SET body ="
				    " 'akta kematian' WHERE id = 1;"
				    "UPDATE contacts SET name = 'Sari Dewi'"),
			 STORE_OK);
	assert_int_equal(found(st, "kelahiran"), 0);
	assert_int_equal(found(st, "kematian"), 1);
	assert_int_equal(found(st, "wulandari"), 0);
	assert_int_equal(found(st, "sari dewi"), 1);
	/* indexed now: the triggers keep the index in step */
	assert_int_equal(
	    store_exec(st, "UPDATE messages SET body ="
			   " 'akta nikah' WHERE id = 1;"
			   "UPDATE contacts SET name = 'Dewi Lestari'"),
	    STORE_OK);
	assert_int_equal(found(st, "kematian"), 0);
	assert_int_equal(found(st, "nikah"), 1);
	assert_int_equal(found(st, "lestari"), 1);
	int64_t waiting = reply(st, "kucing hilang");
	assert_int_equal(store_exec(st, "DELETE FROM messages WHERE id ="
					" (SELECT max(id) FROM messages)"),
			 STORE_OK);
	assert_int_equal(found(st, "kucing"), 0);
	/* the newest indexed row deleted: its id comes back, and is found */
	assert_true(reply(st, "burung berkicau") == waiting);
	assert_int_equal(found(st, "burung"), 1);
	assert_int_equal(store_exec(st, "DELETE FROM messages WHERE id ="
					" (SELECT max(id) FROM messages)"),
			 STORE_OK);
	assert_int_equal(mark(st, "fts_messages"), waiting - 1);
	assert_true(reply(st, "ayam berkokok") == waiting);
	assert_int_equal(found(st, "ayam"), 1);
	assert_int_equal(found(st, "burung"), 0);
	index_matches_messages(st);
	store_close(st);
}

/* A store of schema 18 (every message indexed at its commit) starts its
 * marks at its newest rows: nothing indexed twice, nothing left out. */
static void marks_start_at_the_newest_rows(void **state)
{
	(void)state;
	char err[256];
	struct store *st = store_open_version(db, 18, err, sizeof(err));

	assert_non_null(st);
	resident(st, "sms", "+6281234500001", "drainase tersumbat", "k-1");
	assert_true(reply(st, "petugas segera datang") > 0);
	store_close(st);
	st = open_db();
	assert_int_equal(mark(st, "fts_messages"), 2);
	assert_int_equal(mark(st, "fts_contacts"), 1);
	resident(st, "sms", "+6281234500009", "drainase lagi", "k-2");
	assert_int_equal(found(st, "drainase"), 2);
	assert_int_equal(found(st, "petugas"), 1);
	index_matches_messages(st);
	store_close(st);
}

/* The rule above catches what it should: a query on an unindexed column
 * has the plan it forbids. */
static void the_rule_sees_a_full_scan(void **state)
{
	(void)state;
	assert_true(full_scan("SCAN c"));
	assert_true(full_scan("SCAN messages"));
	assert_false(full_scan("SCAN c USING INDEX conversations_updated"));
	assert_false(full_scan("SCAN k"));
	assert_false(full_scan("SCAN hit"));
	assert_false(full_scan("SEARCH m USING INTEGER PRIMARY KEY (rowid=?)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(every_list_uses_an_index, teardown),
	    cmocka_unit_test_teardown(every_search_uses_an_index, teardown),
	    cmocka_unit_test_teardown(search_and_pages, teardown),
	    cmocka_unit_test_teardown(people_found_after_migration, teardown),
	    cmocka_unit_test_teardown(every_path_is_found, teardown),
	    cmocka_unit_test_teardown(found_across_the_index_migration,
				      teardown),
	    cmocka_unit_test_teardown(search_finds_what_waits_for_its_batch,
				      teardown),
	    cmocka_unit_test_teardown(triggers_change_only_what_is_indexed,
				      teardown),
	    cmocka_unit_test_teardown(marks_start_at_the_newest_rows, teardown),
	    cmocka_unit_test(the_rule_sees_a_full_scan),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
