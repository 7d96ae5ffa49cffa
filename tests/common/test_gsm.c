/* gsm_count and gsm_transliterate: what a resident's phone will receive
 * and pay for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gsm.h"

static char *repeat(const char *unit, int n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * (size_t)n + 1);

	for (int i = 0; i < n; i++)
		memcpy(s + len * (size_t)i, unit, len);
	s[len * (size_t)n] = '\0';
	return s;
}

struct count_case {
	const char *unit;
	int times;
	bool ucs2;
	size_t units;
	int segments;
};

static const struct count_case count_cases[] = {
	{"", 1, false, 0, 1},
	{"a", 160, false, 160, 1},
	{"a", 161, false, 161, 2},
	{"a", 306, false, 306, 2},
	{"a", 307, false, 307, 3},
	{"@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", 1, false, 42, 1},
	{"€", 80, false, 160, 1},	/* extension: 2 septets each */
	{"{", 81, false, 162, 2},
	{"[]^~|\\", 1, false, 12, 1},
	{"x", 152, false, 152, 1},
	{"ا", 70, true, 70, 1},		/* Arabic: UCS-2 */
	{"ا", 71, true, 71, 2},
	{"ا", 134, true, 134, 2},
	{"ا", 135, true, 135, 3},
	{"😀", 35, true, 70, 1},	/* emoji: a surrogate pair */
	{"😀", 36, true, 72, 2},
	{"`", 1, true, 1, 1},		/* backtick is not in GSM-7 */
	{"á", 1, true, 1, 1},		/* only à is */
	{"\t", 1, true, 1, 1},
};

static void test_count_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(count_cases) / sizeof(*count_cases); i++) {
		const struct count_case *c = &count_cases[i];
		char *s = repeat(c->unit, c->times);
		struct gsm_count n;
		gsm_count(s, &n);
		if (n.ucs2 != c->ucs2 || n.units != c->units ||
		    n.segments != c->segments)
			fail_msg("case %zu (%s x%d): ucs2 %d units %zu segs %d",
				 i, c->unit, c->times, n.ucs2, n.units,
				 n.segments);
		free(s);
	}
}

/* A 2-septet character is never split between parts: 152 'a' then '€'
 * fills part one to 152 and moves the euro (2 septets) whole to part 2,
 * which matters once the total exceeds 160. */
static void test_escape_not_split(void **state)
{
	(void)state;
	char *a = repeat("a", 152), *b = repeat("a", 152), s[400];
	struct gsm_count n;

	snprintf(s, sizeof(s), "%s€%s€", a, b);
	gsm_count(s, &n);
	assert_false(n.ucs2);
	assert_int_equal(n.units, 308);
	/* 152+2 > 153: part 1 = 152, part 2 = 2+151 = 153, part 3 = 1+2 */
	assert_int_equal(n.segments, 3);
	free(a);
	free(b);
}

static void test_first_non_gsm(void **state)
{
	(void)state;
	struct gsm_count n;

	gsm_count("Halo 😀 dan ا", &n);
	assert_true(n.ucs2);
	assert_string_equal(n.first_non_gsm, "😀");
}

struct translit_case {
	const char *in, *out;
};

static const struct translit_case translit_cases[] = {
	{"‘ktp’", "'ktp'"},
	{"“Senin”", "\"Senin\""},
	{"„x‟", "\"x\""},
	{"08.00–16.00", "08.00-16.00"},
	{"a — b", "a - b"},
	{"tunggu…", "tunggu..."},
	{"Jl.\xc2\xa0Merdeka", "Jl. Merdeka"},
	{"Jum‚at", "Jum'at"},
	{"café crème", "café crème"}, /* é and è are GSM-7: kept */
	{"Ibu Ásih", "Ibu Asih"},
	{"a\tb", "a b"},
	{"zero\xe2\x80\x8bwidth", "zerowidth"},
	{"plain ASCII stays", "plain ASCII stays"},
	{"😀", "😀"}, /* no GSM equivalent: left for UCS-2 */
};

static void test_transliterate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(translit_cases) / sizeof(*translit_cases);
	     i++) {
		char buf[128];
		snprintf(buf, sizeof(buf), "%s", translit_cases[i].in);
		gsm_transliterate(buf);
		assert_string_equal(buf, translit_cases[i].out);
	}
}

static void test_transliterated_reply_is_gsm7(void **state)
{
	(void)state;
	char buf[] = "Kantor buka “Senin–Kamis” 08.00—16.00…";
	struct gsm_count n;

	gsm_count(buf, &n);
	assert_true(n.ucs2);
	gsm_transliterate(buf);
	gsm_count(buf, &n);
	assert_false(n.ucs2);
	assert_int_equal(n.segments, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count_table),
		cmocka_unit_test(test_escape_not_split),
		cmocka_unit_test(test_first_non_gsm),
		cmocka_unit_test(test_transliterate),
		cmocka_unit_test(test_transliterated_reply_is_gsm7),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
