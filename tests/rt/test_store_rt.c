/* store_rt: open requests keep codes unique, closing frees the code, a
 * head's open requests, due follow-ups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_rt.h"

static struct store *st;
static char db[64];
static int64_t conv, contact;

static int setup(void **state)
{
	char err[256];
	struct store_contact k;
	struct store_conversation c;
	bool created;

	(void)state;
	snprintf(db, sizeof(db), "/tmp/test_store_rt_%d.db", (int)getpid());
	unlink(db);
	st = store_open(db, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_contact_upsert(st, "+6281234567890", NULL, NULL,
					      "mobile", "Budi", 1, &k),
			 0);
	assert_int_equal(store_conversation_for(st, k.id, 1, &c, &created), 0);
	conv = c.id;
	contact = k.id;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_close(st);
	unlink(db);
	return 0;
}

static int64_t add(const char *code, const char *head, int64_t remind,
		   int64_t expire)
{
	struct store_rt_req r = {.conversation_id = conv,
				 .contact_id = contact,
				 .created_at = 1000,
				 .remind_at = remind,
				 .expire_at = expire};
	snprintf(r.service, sizeof(r.service), "ktp");
	snprintf(r.rt, sizeof(r.rt), "03");
	snprintf(r.head_name, sizeof(r.head_name), "Pak Budi");
	snprintf(r.head_phone, sizeof(r.head_phone), "%s", head);
	snprintf(r.code, sizeof(r.code), "%s", code);
	snprintf(r.created_by, sizeof(r.created_by), "test");
	return store_rt_insert(st, &r);
}

static void code_unique_among_open(void **state)
{
	(void)state;
	int64_t a = add("4821", "+6281299990001", 5000, 9000);
	assert_true(a > 0);
	assert_true(store_rt_code_open(st, "4821"));
	assert_int_equal(add("4821", "+6281355550004", 5000, 9000), -STORE_DUP);
	assert_int_equal(store_rt_close(st, a, "disetujui", NULL, "ya 4821",
					"+6281299990001", 2000),
			 STORE_OK);
	/* closing twice: not open any more */
	assert_int_equal(
	    store_rt_close(st, a, "ditolak", "x", "t", "+62", 2100),
	    STORE_NOTFOUND);
	assert_false(store_rt_code_open(st, "4821"));
	int64_t b = add("4821", "+6281355550004", 5000, 9000);
	assert_true(b > 0);
	struct store_rt_req r;
	assert_int_equal(store_rt_by_code(st, "4821", &r), STORE_OK);
	assert_int_equal(r.id, b); /* the open one first */
	assert_int_equal(store_rt_get(st, a, &r), STORE_OK);
	assert_string_equal(r.state, "disetujui");
	assert_string_equal(r.answer_raw, "ya 4821");
	assert_int_equal(r.answered_at, 2000);
}

static void head_open_and_due(void **state)
{
	struct store_rt_req out[4];

	(void)state;
	assert_true(add("1111", "+6281100001111", 5000, 9000) > 0);
	assert_true(add("2222", "+6281100001111", 6000, 9500) > 0);
	assert_int_equal(store_rt_open_by_head(st, "+6281100001111", out, 4),
			 2);
	assert_string_equal(out[0].code, "1111");
	assert_int_equal(store_rt_due(st, 4999, out, 4), 0);
	int n = store_rt_due(st, 5000, out, 4);
	assert_true(n >= 1);
	assert_int_equal(store_rt_set_reminded(st, out[0].id, 5000), 0);
	/* reminded: due again only at its expiry */
	int after = store_rt_due(st, 5000, out, 4);
	assert_int_equal(after, n - 1);
	assert_true(store_rt_next_due(st) >= 5000);
	assert_int_equal(
	    store_rt_log(st, out[0].id, "reminded", "x", "y", 5000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(code_unique_among_open, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(head_open_and_due, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
