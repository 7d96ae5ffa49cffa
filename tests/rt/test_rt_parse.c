/* rt_parse: a Ketua RT's answer in every form, an RT written in a
 * resident's message, six-digit codes, working hours. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_parse.h"

struct ans_case {
	const char *text;
	enum rt_verdict v;
	const char *code, *reason;
	bool bad;
};

static const struct ans_case ans_cases[] = {
    {"YA 482193", RT_YES, "482193", "", false},
    {"ya 482193", RT_YES, "482193", "", false},
    {"  Ya   482193  ", RT_YES, "482193", "", false},
    {"Y 482193", RT_YES, "482193", "", false},
    {"IYA 482193", RT_YES, "482193", "", false},
    {"iyaa, 482193", RT_YES, "482193", "", false},
    {"OK 482193", RT_YES, "482193", "", false},
    {"Oke", RT_YES, "", "", false},
    {"SETUJU 482193", RT_YES, "482193", "", false},
    {"benar.482193", RT_YES, "482193", "", false},
    {"ya482193", RT_YES, "482193", "", false},
    {"482193 ya", RT_YES, "482193", "", false},
    {"Ya benar 482193", RT_YES, "482193", "", false},
    {"ya", RT_YES, "", "", false},
    {"YA 482", RT_YES, "", "", true},
    {"YA 4821", RT_YES, "", "", true}, /* four digits are no code */
    {"ya 4821938", RT_YES, "", "", true},
    {"TIDAK 482193", RT_NO, "482193", "", false},
    {"tidak 482193 bukan warga sini", RT_NO, "482193", "bukan warga sini",
     false},
    {"TIDAK 482193 Bukan warga sini.", RT_NO, "482193", "Bukan warga sini",
     false},
    {"T 482193", RT_NO, "482193", "", false},
    {"tdk 482193 sudah pindah", RT_NO, "482193", "sudah pindah", false},
    {"TOLAK 482193", RT_NO, "482193", "", false},
    {"tidak, sudah pindah", RT_NO, "", "sudah pindah", false},
    {"tidak sudah pindah 482193", RT_NO, "482193", "sudah pindah", false},
    {"Selamat pagi", RT_NONE, "", "", false},
    {"yayasan", RT_NONE, "", "", false},
    {"terima kasih", RT_NONE, "", "", false},
    {"KTP RT 3", RT_NONE, "", "", false},
    {"", RT_NONE, "", "", false},
    {"482193", RT_NONE, "", "", false},
};

static void answers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(ans_cases) / sizeof(ans_cases[0]); i++) {
		const struct ans_case *c = &ans_cases[i];
		struct rt_answer a;
		enum rt_verdict v = rt_parse_answer(c->text, &a);
		if (v != c->v || strcmp(a.code, c->code) ||
		    strcmp(a.reason, c->reason) || a.code_bad != c->bad)
			fail_msg(
			    "'%s': verdict %d code '%s' reason '%s' bad %d",
			    c->text, v, a.code, a.reason, a.code_bad);
	}
}

static void answers_any_case(void **state)
{
	static const char *const yes[] = {"ya", "y",	  "iya",
					  "ok", "setuju", "benar"};
	char text[32];

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		for (int mask = 0; mask < 8; mask++) {
			size_t n = strlen(yes[i]);
			for (size_t j = 0; j < n; j++)
				text[j] = (char)((mask >> (j % 3)) & 1
						     ? yes[i][j] - 32
						     : yes[i][j]);
			snprintf(text + n, sizeof(text) - n, " 123456");
			struct rt_answer a;
			assert_int_equal(rt_parse_answer(text, &a), RT_YES);
			assert_string_equal(a.code, "123456");
		}
	}
}

struct rt_case {
	const char *text;
	bool found;
	int rt, rw;
};

static const struct rt_case rt_cases[] = {
    {"KTP RT 3", true, 3, 0},
    {"mau urus ktp rt03", true, 3, 0},
    {"RT.003", true, 3, 0},
    {"saya warga RT 03/05", true, 3, 5},
    {"rt 3 rw 5", true, 3, 5},
    {"RT 003 RW 005 kelurahan", true, 3, 5},
    {"RT:12", true, 12, 0},
    {"RT 3/RW 5", true, 3, 5},
    {"kartu keluarga", false, 0, 0},
    {"pertama kali", false, 0, 0},
    {"RT", false, 0, 0},
    {"RT 0", false, 0, 0},
    {"RTX 3", false, 0, 0},
    {"nomor 3 RT", false, 0, 0},
};

static void rt_in_text(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rt_cases) / sizeof(rt_cases[0]); i++) {
		const struct rt_case *c = &rt_cases[i];
		int rt = 0, rw = 0;
		bool f = rt_find_in_text(c->text, &rt, &rw);
		if (f != c->found || (f && (rt != c->rt || rw != c->rw)))
			fail_msg("'%s': found %d rt %d rw %d", c->text, f, rt,
				 rw);
	}
}

static void contact_rt_field(void **state)
{
	int rt, rw;

	(void)state;
	assert_true(rt_parse_number("003/005", &rt, &rw));
	assert_int_equal(rt, 3);
	assert_int_equal(rw, 5);
	assert_true(rt_parse_number("3", &rt, &rw));
	assert_int_equal(rt, 3);
	assert_int_equal(rw, 0);
	assert_true(rt_parse_number("RT 04 RW 05", &rt, &rw));
	assert_int_equal(rt, 4);
	assert_int_equal(rw, 5);
	assert_false(rt_parse_number("", &rt, &rw));
	assert_false(rt_parse_number("3/x", &rt, &rw));
}

/* ---- codes ---- */

struct taken_set {
	bool used[1000000];
	uint32_t seed;
	const char *only_free; /* all_but_one: the one code not taken */
};

static uint32_t lcg(void *ud, uint32_t n)
{
	struct taken_set *t = ud;
	t->seed = t->seed * 1103515245u + 12345u;
	return (t->seed >> 8) % n;
}

static bool is_taken(void *ud, const char *code)
{
	struct taken_set *t = ud;
	return t->used[atoi(code)];
}

static bool all_but_one(void *ud, const char *code)
{
	return strcmp(code, ((struct taken_set *)ud)->only_free) != 0;
}

static bool all_taken(void *ud, const char *code)
{
	(void)ud, (void)code;
	return true;
}

static void codes_unique_until_full(void **state)
{
	struct taken_set *t = calloc(1, sizeof(*t));
	char code[8];

	(void)state;
	t->seed = 42;
	for (int i = 0; i < 20000; i++) {
		assert_int_equal(rt_make_code(lcg, is_taken, t, code), 0);
		assert_int_equal(strlen(code), 6);
		int v = atoi(code);
		assert_true(v >= 100000 && v <= 999999);
		assert_false(t->used[v]);
		t->used[v] = true;
	}
	/* a nearly full space still ends, on the one code left */
	t->only_free = "100000";
	assert_int_equal(rt_make_code(lcg, all_but_one, t, code), 0);
	assert_string_equal(code, "100000");
	assert_int_equal(rt_make_code(lcg, all_taken, t, code), -1);
	free(t);
}

/* ---- working hours on a fake calendar: open 08-16 UTC, Mon-Fri ---- */

static bool fake_open(const void *ud, int64_t t)
{
	(void)ud;
	int64_t day = t / 86400, sec = t % 86400;
	int wday = (int)((day + 4) % 7); /* 1970-01-01 was a Thursday */
	return wday >= 1 && wday <= 5 && sec >= 8 * 3600 && sec < 16 * 3600;
}

static int64_t fake_next(const void *ud, int64_t t)
{
	for (int64_t m = t - t % 60; m < t + 14 * 86400; m += 60)
		if (m >= t && fake_open(ud, m))
			return m;
	return -1;
}

static void working_hours(void **state)
{
	struct rt_calendar c = {fake_open, fake_next, NULL};
	/* 2026-07-13 is a Monday */
	int64_t mon = 1783900800;

	(void)state;
	assert_true(fake_open(NULL, mon + 9 * 3600));
	/* Monday 09.00 + 8 h -> Tuesday 09.00 (7 h Monday, 1 h Tuesday) */
	assert_int_equal(rt_add_working_hours(&c, mon + 9 * 3600, 8),
			 mon + 86400 + 9 * 3600);
	/* Friday 15.00 + 2 h -> Monday 09.00 */
	assert_int_equal(
	    rt_add_working_hours(&c, mon + 4 * 86400 + 15 * 3600, 2),
	    mon + 7 * 86400 + 9 * 3600);
	/* Saturday night + 1 h -> Monday 09.00 */
	assert_int_equal(
	    rt_add_working_hours(&c, mon + 5 * 86400 + 22 * 3600, 1),
	    mon + 7 * 86400 + 9 * 3600);
	/* no calendar: plain hours */
	assert_int_equal(rt_add_working_hours(NULL, 1000, 2), 1000 + 7200);
}

static void local_number(void **state)
{
	char out[32];

	(void)state;
	rt_local_number("+6281234567890", out, sizeof(out));
	assert_string_equal(out, "081234567890");
	rt_local_number("+6591234567", out, sizeof(out));
	assert_string_equal(out, "+6591234567");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(answers),
	    cmocka_unit_test(answers_any_case),
	    cmocka_unit_test(rt_in_text),
	    cmocka_unit_test(contact_rt_field),
	    cmocka_unit_test(codes_unique_until_full),
	    cmocka_unit_test(working_hours),
	    cmocka_unit_test(local_number),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
