/* gsm_count and gsm_transliterate: what a resident's phone will receive
 * and pay for; gsm_split: where a long reply is cut; the decoders: what a
 * USSD balance answer and an incoming PDU read as. */
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
    {"€", 80, false, 160, 1}, /* extension: 2 septets each */
    {"{", 81, false, 162, 2},
    {"[]^~|\\", 1, false, 12, 1},
    {"x", 152, false, 152, 1},
    {"ا", 70, true, 70, 1}, /* Arabic: UCS-2 */
    {"ا", 71, true, 71, 2},
    {"ا", 134, true, 134, 2},
    {"ا", 135, true, 135, 3},
    {"😀", 35, true, 70, 1}, /* emoji: a surrogate pair */
    {"😀", 36, true, 72, 2},
    {"`", 1, true, 1, 1}, /* backtick is not in GSM-7 */
    {"á", 1, true, 1, 1}, /* only à is */
    {"\t", 1, true, 1, 1},
};

static void test_count_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(count_cases) / sizeof(*count_cases);
	     i++) {
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

static void test_utf8_decode(void **state)
{
	(void)state;
	uint32_t cp = 0;

	assert_int_equal(gsm_utf8_decode("A", &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(gsm_utf8_decode("é", &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(gsm_utf8_decode("€", &cp), 3);
	assert_int_equal(cp, 0x20AC);
	assert_int_equal(gsm_utf8_decode("😀", &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(gsm_utf8_decode("\xc0\x80", &cp), 0); /* overlong */
	assert_int_equal(gsm_utf8_decode("\xed\xa0\x80", &cp), 0); /* D800 */
	assert_int_equal(gsm_utf8_decode("\xf4\x90\x80\x80", &cp), 0);
	assert_int_equal(gsm_utf8_decode("\xe2\x82", &cp), 0); /* cut */
	assert_int_equal(gsm_utf8_decode("\x80", &cp), 0);
}

/* The parts a 161-character reply is sent in, and that a character is
 * never cut between two parts. */
static void test_split_offsets(void **state)
{
	(void)state;
	char *a = repeat("a", 161), *e = repeat("😀", 71);
	size_t starts[4];

	assert_int_equal(gsm_split(a, false, starts, 4), 2);
	assert_int_equal(starts[0], 0);
	assert_int_equal(starts[1], 153);
	assert_int_equal(gsm_split(a, false, starts, 1), -1);
	assert_int_equal(gsm_split(a, false, NULL, 0), 2);
	/* 71 emoji = 142 UTF-16 units: 33 pairs (66 units) per part */
	assert_int_equal(gsm_split(e, true, starts, 4), 3);
	assert_int_equal(starts[1], 33 * 4);
	assert_int_equal(starts[2], 66 * 4);
	assert_int_equal(gsm_split("pendek", false, starts, 4), 1);
	assert_int_equal(starts[0], 0);
	free(a);
	free(e);
}

static void test_septets(void **state)
{
	(void)state;
	assert_int_equal(gsm_septets('@'), 1);
	assert_int_equal(gsm_septets(0xA3), 1);	  /* £ */
	assert_int_equal(gsm_septets(0x20AC), 2); /* € */
	assert_int_equal(gsm_septets('{'), 2);
	assert_int_equal(gsm_septets('`'), 0);
	assert_int_equal(gsm_septets(0xFFFF), 0); /* the escape slot */
}

static void test_hex_decode(void **state)
{
	(void)state;
	unsigned char o[4];
	size_t bad = 99;

	assert_int_equal(gsm_hex_decode("0a1B\r\n", o, sizeof(o), &bad), 2);
	assert_int_equal(o[0], 0x0A);
	assert_int_equal(o[1], 0x1B);
	assert_int_equal(gsm_hex_decode("0A1", o, sizeof(o), &bad), -1);
	assert_int_equal(bad, 3);
	assert_int_equal(gsm_hex_decode("0AZZ", o, sizeof(o), &bad), -1);
	assert_int_equal(bad, 2);
	assert_int_equal(gsm_hex_decode("0102030405", o, sizeof(o), &bad), -1);
}

static void unpack_hex(const char *hex, char *out, size_t outlen)
{
	unsigned char oct[64];
	size_t bad;
	int n = gsm_hex_decode(hex, oct, sizeof(oct), &bad);

	assert_true(n > 0);
	gsm_unpack7(oct, (size_t)n, out, outlen);
}

/* Huawei sends a USSD balance answer as hex of packed septets. */
static void test_unpack7(void **state)
{
	(void)state;
	char out[64];

	unpack_hex("E8329BFD06", out, sizeof(out));
	assert_string_equal(out, "hello");
	/* £ (0x01), € (ESC 0x65) and Ä (0x5B) are GSM-7 too */
	unpack_hex("D3F43C0C92C26B2E180C060A803665D016", out, sizeof(out));
	assert_string_equal(out, "Sisa Rp5.000 £ € Ä");
	/* a trailing CR pads the last octet (TS 23.038 6.1.2.3.1) */
	unpack_hex("D03A7B1E0649E131170C066B00", out, sizeof(out));
	assert_string_equal(out, "Pulsa Rp1.000");
	/* too small a buffer cuts between characters, never inside one */
	unpack_hex("D3F43C0C92C26B2E180C060A803665D016", out, 15);
	assert_string_equal(out, "Sisa Rp5.000 ");
}

static void test_ucs2_to_utf8(void **state)
{
	(void)state;
	static const unsigned char be[] = {0x00, 0x41, 0x00, 0xE9, 0x20,
					   0xAC, 0xD8, 0x3D, 0xDE, 0x00,
					   0xD8, 0x00, 0x00, 0x21};
	char out[32];

	assert_int_equal(gsm_ucs2_to_utf8(be, sizeof(be), out, sizeof(out)),
			 strlen("Aé€😀?!"));
	assert_string_equal(out, "Aé€😀?!"); /* the lone D800 is "?" */
	gsm_ucs2_to_utf8(be, sizeof(be), out, 6);
	assert_string_equal(out, "Aé"); /* € would not fit whole */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_count_table),
	    cmocka_unit_test(test_escape_not_split),
	    cmocka_unit_test(test_first_non_gsm),
	    cmocka_unit_test(test_transliterate),
	    cmocka_unit_test(test_transliterated_reply_is_gsm7),
	    cmocka_unit_test(test_utf8_decode),
	    cmocka_unit_test(test_split_offsets),
	    cmocka_unit_test(test_septets),
	    cmocka_unit_test(test_hex_decode),
	    cmocka_unit_test(test_unpack7),
	    cmocka_unit_test(test_ucs2_to_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
