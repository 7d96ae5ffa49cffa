/* The office calendar: split Friday, holidays, overrides, closures, the
 * three Indonesian zones, midnight local vs UTC, next opening and due
 * dates on working days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "hours.h"

/* Unix time of a local wall time at a fixed UTC offset (hours). */
static int64_t at(int y, int mo, int d, int hh, int mm, int off)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = hh,
			.tm_min = mm};
	return (int64_t)timegm(&tm) - off * 3600;
}

static int32_t day(const char *s)
{
	int32_t d = -1;
	assert_int_equal(hours_parse_date(s, &d), 0);
	return d;
}

static struct hours *office(const char *zone)
{
	struct hours *h = hours_new();
	struct hours_week w = {0};
	char err[256];
	static const char *const days[7] = {
	    "tutup",	   "08.00-16.00", "08.00-16.00",
	    "08.00-16.00", "08.00-16.00", "08.00-11.30, 13.30-16.00",
	    "tutup"};

	assert_int_equal(hours_set_zone(h, zone, err, sizeof(err)), 0);
	for (int i = 0; i < 7; i++)
		assert_int_equal(
		    hours_parse_day(days[i], &w.day[i], err, sizeof(err)), 0);
	hours_set_week(h, &w);
	hours_add_closed(h, day("2026-12-25"), "Hari Raya Natal");
	hours_add_closed(h, day("2026-12-24"), "Cuti bersama Natal");
	return h;
}

struct open_case {
	const char *zone;
	int off;
	int y, mo, d, hh, mm;
	bool open;
	const char *today, *next;
};

static const struct open_case open_cases[] = {
    /* Friday 2026-07-17: split shift (WITA) */
    {"Asia/Makassar", 8, 2026, 7, 17, 7, 59, false, "08.00-11.30, 13.30-16.00",
     "Jumat 08.00 WITA"},
    {"Asia/Makassar", 8, 2026, 7, 17, 8, 0, true, "08.00-11.30, 13.30-16.00",
     NULL},
    {"Asia/Makassar", 8, 2026, 7, 17, 11, 29, true, NULL, NULL},
    {"Asia/Makassar", 8, 2026, 7, 17, 11, 30, false, NULL, "Jumat 13.30 WITA"},
    {"Asia/Makassar", 8, 2026, 7, 17, 13, 30, true, NULL, NULL},
    /* Friday 16.00: over the weekend to Monday */
    {"Asia/Makassar", 8, 2026, 7, 17, 16, 0, false, NULL, "Senin 08.00 WITA"},
    {"Asia/Makassar", 8, 2026, 7, 18, 10, 0, false, "tutup",
     "Senin 08.00 WITA"},
    /* the same instants in WIB and WIT */
    {"Asia/Jakarta", 7, 2026, 7, 15, 15, 59, true, "08.00-16.00", NULL},
    {"Asia/Jakarta", 7, 2026, 7, 15, 16, 0, false, NULL, "Kamis 08.00 WIB"},
    {"Asia/Jayapura", 9, 2026, 7, 15, 9, 0, true, NULL, NULL},
    {"Asia/Jayapura", 9, 2026, 7, 15, 18, 0, false, NULL, "Kamis 08.00 WIT"},
    /* holidays: Thu 24 and Fri 25 Dec closed; next open Monday 28 */
    {"Asia/Makassar", 8, 2026, 12, 24, 9, 0, false,
     "tutup (Cuti bersama Natal)", "Senin 08.00 WITA"},
    {"Asia/Makassar", 8, 2026, 12, 23, 17, 0, false, NULL, "Senin 08.00 WITA"},
};

static void test_open_and_next(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(open_cases) / sizeof(*open_cases); i++) {
		const struct open_case *c = &open_cases[i];
		struct hours *h = office(c->zone);
		int64_t t = at(c->y, c->mo, c->d, c->hh, c->mm, c->off);
		char buf[128];
		if (hours_is_open(h, t) != c->open)
			fail_msg("case %zu: open should be %d", i, c->open);
		if (c->today) {
			hours_today(h, t, buf, sizeof(buf));
			assert_string_equal(buf, c->today);
		}
		if (c->next) {
			hours_format_next_open(h, t, buf, sizeof(buf));
			assert_string_equal(buf, c->next);
		}
		hours_free(h);
	}
}

/* 23.30 UTC on Thursday is Friday 07.30 WITA: the local day decides. */
static void test_midnight_local_vs_utc(void **state)
{
	(void)state;
	struct hours *h = office("Asia/Makassar");
	int64_t t = at(2026, 7, 16, 23, 30, 0); /* Thu 23.30 UTC */
	char buf[128];

	assert_int_equal(hours_offset(h, t), 8 * 3600);
	assert_string_equal(hours_abbr(h, t), "WITA");
	hours_today(h, t, buf, sizeof(buf));
	assert_string_equal(buf, "08.00-11.30, 13.30-16.00"); /* Friday */
	hours_format_next_open(h, t, buf, sizeof(buf));
	assert_string_equal(buf, "Jumat 08.00 WITA");
	assert_int_equal(hours_next_open(h, t), at(2026, 7, 17, 8, 0, 8));
	/* Sunday 23.59 local = Sunday 15.59 UTC: still closed, Monday next */
	t = at(2026, 7, 19, 23, 59, 8);
	assert_false(hours_is_open(h, t));
	assert_int_equal(hours_next_open(h, t), at(2026, 7, 20, 8, 0, 8));
	hours_free(h);
}

static void test_override_and_closure(void **state)
{
	(void)state;
	struct hours *h = office("Asia/Jakarta");
	struct hours_week ram = {0};
	char err[128], buf[128];

	assert_int_equal(
	    hours_parse_day("08.00-15.00", &ram.day[3], err, sizeof(err)), 0);
	ram.set[3] = true; /* Wednesday only */
	hours_add_override(h, "ramadan", day("2026-02-19"), day("2026-03-19"),
			   &ram);
	hours_add_closed(h, day("2026-03-02"), "rapat");
	/* Wednesday in Ramadan: closes at 15.00 */
	assert_true(hours_is_open(h, at(2026, 3, 4, 14, 59, 7)));
	assert_false(hours_is_open(h, at(2026, 3, 4, 15, 30, 7)));
	/* Thursday in Ramadan: not overridden, normal hours */
	assert_true(hours_is_open(h, at(2026, 3, 5, 15, 30, 7)));
	/* Wednesday after Ramadan: normal */
	assert_true(hours_is_open(h, at(2026, 3, 25, 15, 30, 7)));
	/* ad-hoc closure on a Monday */
	assert_false(hours_is_open(h, at(2026, 3, 2, 10, 0, 7)));
	hours_today(h, at(2026, 3, 2, 10, 0, 7), buf, sizeof(buf));
	assert_string_equal(buf, "tutup (rapat)");
	hours_free(h);
}

struct due_case {
	int y, mo, d, hh, days;
	int ey, emo, ed;
};

static const struct due_case due_cases[] = {
    {2026, 7, 13, 9, 3, 2026, 7, 15},	 /* Mon morning: day 1 is Monday */
    {2026, 7, 13, 17, 3, 2026, 7, 16},	 /* Mon after closing */
    {2026, 7, 17, 10, 3, 2026, 7, 21},	 /* Fri: over the weekend */
    {2026, 7, 18, 10, 1, 2026, 7, 20},	 /* Sat -> Monday */
    {2026, 12, 22, 10, 3, 2026, 12, 28}, /* Tue, Wed, (24, 25 closed) Mon */
};

static void test_working_days(void **state)
{
	(void)state;
	struct hours *h = office("Asia/Makassar");
	char buf[64];

	for (size_t i = 0; i < sizeof(due_cases) / sizeof(*due_cases); i++) {
		const struct due_case *c = &due_cases[i];
		int64_t due = hours_add_working_days(
		    h, at(c->y, c->mo, c->d, c->hh, 0, 8), c->days);
		if (due != at(c->ey, c->emo, c->ed, 16, 0, 8)) {
			hours_format_date(h, due, buf, sizeof(buf));
			fail_msg("case %zu: due %s", i, buf);
		}
	}
	hours_format_date(h, at(2026, 7, 15, 16, 0, 8), buf, sizeof(buf));
	assert_string_equal(buf, "Rabu 15/07/2026");
	hours_free(h);
}

static void test_parse_errors(void **state)
{
	(void)state;
	struct hours_day dd;
	char err[256];
	struct hours *h = hours_new();
	int32_t x;

	assert_int_equal(
	    hours_parse_day("08:00-12:00,13:00-16:00", &dd, err, sizeof(err)),
	    0);
	assert_int_equal(dd.n, 2);
	assert_int_equal(hours_parse_day("Tutup", &dd, err, sizeof(err)), 0);
	assert_int_equal(dd.n, 0);
	assert_int_equal(hours_parse_day("16.00-08.00", &dd, err, sizeof(err)),
			 -1);
	assert_int_equal(
	    hours_parse_day("08.00-12.00, 11.00-16.00", &dd, err, sizeof(err)),
	    -1);
	assert_int_equal(hours_parse_day("pagi", &dd, err, sizeof(err)), -1);
	assert_int_equal(hours_parse_date("2026-02-29", &x), -1);
	assert_int_equal(hours_parse_date("2028-02-29", &x), 0);
	assert_int_equal(hours_set_zone(h, "Asia/Makasar", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "unknown time zone"));
	assert_int_equal(hours_set_zone(h, "../etc/passwd", err, sizeof(err)),
			 -1);
	hours_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_and_next),
	    cmocka_unit_test(test_midnight_local_vs_utc),
	    cmocka_unit_test(test_override_and_closure),
	    cmocka_unit_test(test_working_days),
	    cmocka_unit_test(test_parse_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
