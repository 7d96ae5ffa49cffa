/* sms_call_match: operators' missed-call notices in the forms seen, and
 * texts that only look like one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sms_call.h"

static void test_builtin_forms(void **st)
{
	static const char *const in[][2] = {
	    {"Anda mendapat panggilan tak terjawab dari 081234567890 pada "
	     "28/11 10:01.",
	     "081234567890"},
	    {"Anda menerima 2 panggilan tidak terjawab dari +62 812-3456-7891",
	     "+6281234567891"},
	    {"MISSED CALL dari 0812.3456.7892 jam 09:15", "081234567892"},
	    {"You have a missed call from 6281234567893.", "6281234567893"},
	    {"Maaf, 081234567894 mencoba menghubungi Anda pukul 10.00",
	     "081234567894"},
	    {"0812 3456 7895 telah mencoba  menghubungi anda", "081234567895"},
	};
	char num[48];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if (!sms_call_match("", in[i][0], num, sizeof(num)))
			fail_msg("no match: %s", in[i][0]);
		assert_string_equal(num, in[i][1]);
	}
}

static void test_not_a_notice(void **st)
{
	char num[48];

	/* too short to be a number, or no pattern at all */
	assert_false(sms_call_match("", "panggilan tak terjawab dari 123", num,
				    sizeof(num)));
	assert_false(sms_call_match("", "Paket nelpon 100 menit Rp 5.000", num,
				    sizeof(num)));
	/* the configured patterns replace the built-in ones */
	assert_false(sms_call_match("kamu ditelepon {nomor}",
				    "panggilan tak terjawab dari 081234567890",
				    num, sizeof(num)));
	assert_true(sms_call_match("foo {nomor} bar| kamu ditelepon {nomor}",
				   "KAMU DITELEPON 081234567890 tadi", num,
				   sizeof(num)));
	assert_string_equal(num, "081234567890");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builtin_forms),
	    cmocka_unit_test(test_not_a_notice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
