#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "phone.h"

struct row {
	const char *in;
	enum phone_kind kind;
	const char *out;
};

/* Every way residents, operators and WhatsApp write a number. */
static const struct row rows[] = {
    {"081234567890", PHONE_MOBILE, "+6281234567890"},
    {"0812-3456-7890", PHONE_MOBILE, "+6281234567890"},
    {"0812 3456 7890", PHONE_MOBILE, "+6281234567890"},
    {"0812.3456.7890", PHONE_MOBILE, "+6281234567890"},
    {"+62 812 3456 7890", PHONE_MOBILE, "+6281234567890"},
    {"+62-812-3456-7890", PHONE_MOBILE, "+6281234567890"},
    {"+6281234567890", PHONE_MOBILE, "+6281234567890"},
    {"6281234567890", PHONE_MOBILE, "+6281234567890"},
    {"62 812 3456 7890", PHONE_MOBILE, "+6281234567890"},
    {"81234567890", PHONE_MOBILE, "+6281234567890"},
    {"812 3456 7890", PHONE_MOBILE, "+6281234567890"},
    {"006281234567890", PHONE_MOBILE, "+6281234567890"},
    {"+62 (812) 3456-7890", PHONE_MOBILE, "+6281234567890"},
    {"  0812 3456 7890  ", PHONE_MOBILE, "+6281234567890"},
    {"62081234567890", PHONE_MOBILE, "+6281234567890"},
    {"0811-4321-123", PHONE_MOBILE, "+628114321123"},
    {"0857 1234 5678", PHONE_MOBILE, "+6285712345678"},
    {"0895-1234-56789", PHONE_MOBILE, "+62895123456789"},
    {"+62 813 40 111 222", PHONE_MOBILE, "+628134011122 2"},
    {"021-5551234", PHONE_FIXED, "+62215551234"},
    {"(0431) 862123", PHONE_FIXED, "+62431862123"},
    {"+65 9123 4567", PHONE_FOREIGN, "+6591234567"},
    {"+61 412 345 678", PHONE_FOREIGN, "+61412345678"},
    {"TELKOMSEL", PHONE_ALNUM, "TELKOMSEL"},
    {"Indosat", PHONE_ALNUM, "Indosat"},
    {"BANK BRI", PHONE_ALNUM, "BANK BRI"},
    {"3636", PHONE_SHORTCODE, "3636"},
    {"123", PHONE_SHORTCODE, "123"},
    {"99899", PHONE_SHORTCODE, "99899"},
    {"*888#", PHONE_SHORTCODE, "*888#"},
    {"", PHONE_INVALID, ""},
    {"0812", PHONE_SHORTCODE, "0812"},
    {"08123", PHONE_SHORTCODE, "08123"},
    {"0812345", PHONE_INVALID, "0812345"},
    {"08123456789012345", PHONE_INVALID, "08123456789012345"},
    {"+62 812 abc", PHONE_ALNUM, "+62 812 abc"},
};

static void normalises_every_form(void **state)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char out[64];
		enum phone_kind k =
		    phone_normalize(rows[i].in, out, sizeof(out));
		char want[64];
		size_t j = 0;
		for (const char *p = rows[i].out; *p; p++)
			if (*p != ' ' || rows[i].kind == PHONE_ALNUM)
				want[j++] = *p;
		want[j] = '\0';
		if (k != rows[i].kind || strcmp(out, want) != 0)
			fail_msg("'%s': got %s '%s', want %s '%s'", rows[i].in,
				 phone_kind_name(k), out,
				 phone_kind_name(rows[i].kind), want);
	}
}

static void wa_id_is_e164_without_plus(void **state)
{
	char wa[32];

	phone_to_wa("+6281234567890", wa, sizeof(wa));
	assert_string_equal(wa, "6281234567890");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(normalises_every_form),
	    cmocka_unit_test(wa_id_is_e164_without_plus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
