/* announce_parse: DAFTAR / BERHENTI / STOP as residents type them, and
 * what an admin types as the audience. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "announce_parse.h"

#define TOPICS "posyandu, pkk, bansos"

struct cmd_case {
	const char *text;
	enum announce_cmd cmd;
	const char *topic;
};

static const struct cmd_case cases[] = {
    {"DAFTAR", ANNOUNCE_JOIN, "semua"},
    {"  daftar. ", ANNOUNCE_JOIN, "semua"},
    {"Daftar RT 03", ANNOUNCE_JOIN, "rt:03"},
    {"daftar rt3", ANNOUNCE_JOIN, "rt:03"},
    {"DAFTAR RT. 12", ANNOUNCE_JOIN, "rt:12"},
    {"daftar   posyandu!", ANNOUNCE_JOIN, "posyandu"},
    {"DAFTAR PKK", ANNOUNCE_JOIN, "pkk"},
    {"daftar arisan", ANNOUNCE_UNKNOWN_TOPIC, ""},
    {"DAFTAR RT 0", ANNOUNCE_UNKNOWN_TOPIC, ""},
    {"BERHENTI", ANNOUNCE_LEAVE, ""},
    {"stop", ANNOUNCE_LEAVE, ""},
    {"Stop.", ANNOUNCE_LEAVE, ""},
    {"berhenti rt 3", ANNOUNCE_LEAVE, "rt:03"},
    {"BERHENTI POSYANDU", ANNOUNCE_LEAVE, "posyandu"},
    /* not commands: a resident's words */
    {"berhenti merokok gimana caranya", ANNOUNCE_NONE, ""},
    {"mau daftar ktp", ANNOUNCE_NONE, ""},
    {"DAFTARKAN anak saya", ANNOUNCE_NONE, ""},
    {"stopkontak rusak", ANNOUNCE_NONE, ""},
    {"", ANNOUNCE_NONE, ""},
};

static void test_commands(void **st)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char topic[40] = "";
		enum announce_cmd c =
		    announce_parse(cases[i].text, TOPICS, topic, sizeof(topic));

		if (c != cases[i].cmd)
			fail_msg("\"%s\": command %d, want %d", cases[i].text,
				 c, cases[i].cmd);
		if (c == ANNOUNCE_JOIN || c == ANNOUNCE_LEAVE)
			assert_string_equal(topic, cases[i].topic);
	}
}

static void test_audience(void **st)
{
	static const char *const in[][2] = {
	    {"semua", "semua"}, {"SEMUA", "semua"}, {"RT 03", "rt:03"},
	    {"rt:7", "rt:07"},	{"rt:03", "rt:03"}, {"Posyandu", "posyandu"},
	    {"arisan", ""},	{"", ""},
	};
	char out[40];

	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		announce_audience(in[i][0], TOPICS, out, sizeof(out));
		assert_string_equal(out, in[i][1]);
	}
	announce_audience(NULL, TOPICS, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_labels(void **st)
{
	char out[40];

	announce_topic_label("rt:03", out, sizeof(out));
	assert_string_equal(out, "RT 03");
	announce_topic_label("posyandu", out, sizeof(out));
	assert_string_equal(out, "Posyandu");
	announce_topic_label("semua", out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_audience),
	    cmocka_unit_test(test_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
