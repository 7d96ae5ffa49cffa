/* The rule engine on the shipped rules: what a resident typing on an old
 * phone gets back, and when nothing is sent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "gsm.h"
#include "rules.h"
#include "template.h"

#define RULES_DIR SRCDIR "/etc/rules.d"
#define HOLIDAYS  SRCDIR "/etc/holidays.ini"

static int64_t wita(int y, int mo, int d, int hh, int mm)
{
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = hh,
			.tm_min = mm};
	return (int64_t)timegm(&tm) - 8 * 3600;
}

#define OPEN_WED   wita(2026, 7, 15, 10, 0)
#define CLOSED_SAT wita(2026, 7, 18, 19, 0)

static int setup(void **state)
{
	struct diag *d = diag_new();
	struct rules *r = rules_load(RULES_DIR, HOLIDAYS, d);

	if (!r || diag_count(d)) {
		diag_print(d, stderr);
		diag_free(d);
		return -1;
	}
	diag_free(d);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	rules_free(*state);
	return 0;
}

static struct rules_input input(const char *text, int64_t now)
{
	return (struct rules_input){.channel = "sms",
				    .from = "081234567890",
				    .kind = RULES_MOBILE,
				    .text = text,
				    .now = now};
}

/* Shipped files: zero errors and zero warnings, so every SMS reply is one
 * GSM-7 segment even with placeholders at their longest. */
static void test_shipped_load_clean(void **state)
{
	const struct rules *r = *state;

	assert_string_equal(rules_office_name(r), "Kelurahan Contoh");
	assert_string_equal(rules_timezone(r), "Asia/Makassar");
	assert_string_equal(rules_ticket_prefix(r), "KLS");
	assert_true(rules_count(r) >= 18);
}

struct match_case {
	const char *text;
	const char *rule; /* NULL: no rule */
	const char *channel;
};

static const struct match_case match_cases[] = {
    /* case, punctuation, spacing, repeated letters */
    {"ktp", "ktp", NULL},
    {"ktp?", "ktp", NULL},
    {"K T P", "ktp", NULL},
    {"Ktp.", "ktp", NULL},
    {"ktppp", "ktp", NULL},
    {"KTP!!!", "ktp", NULL},
    {"e-KTP", "ktp", NULL},
    /* greetings and fillers around the keyword */
    {"pak mau tanya syarat ktp", "ktp", NULL},
    {"assalamualaikum bu, kk hilang gimana", "kk", NULL},
    {"min, kartu keluarga dong", "kk", NULL},
    {"kak tolong ya lampu jalan mati", "lampu", NULL},
    /* greeting only: the menu */
    {"selamat pagi", "menu", NULL},
    {"Assalamualaikum wr wb", "menu", NULL},
    {"halooo", "menu", NULL},
    {"min", "menu", NULL},
    {"MENU", "menu", NULL},
    /* one-letter typos on keywords of 5 letters or more */
    {"sampa di pinggir jalan", "sampah", NULL},
    {"smapah", "sampah", NULL}, /* transposition */
    {"posyandi kapan", "posyandu", NULL},
    {"drainasee tersumbat", "drainase", NULL},
    {"maling motor", "kamtibmas", NULL},
    /* negatives: no typo tolerance on short keywords */
    {"kp", "terima", NULL},
    {"ktm", "terima", NULL},
    {"sampai jumpa", "terima", NULL}, /* 'sampai' is 2 edits from 'sampah' */
    {"hari ini cerah", "terima", NULL},
    /* menu digits */
    {"1", "ktp", NULL},
    {"2.", "kk", NULL},
    {"6", "surat", NULL},
    {"7", "pengaduan", NULL},
    {"12", "terima", NULL},
    /* scores: 'jadwal sampah' is information, not a complaint; with a
     * place and a duration it is a complaint */
    {"jadwal sampah hari apa", "retribusi", NULL},
    {"sdh 4 hari tdk ada yg angkut sampah di rt 05", "sampah", NULL},
    /* context and negative words */
    {"mau buka usaha warung, perlu surat izin apa?", "sku", NULL},
    {"kantor buka jam brp", "jam", NULL},
    {"kk sudah makan?", "terima", NULL},
    {"Assalamualaikum, KK sy rusak kena banjir", "kk", NULL},
    /* a ticket number anywhere asks its status */
    {"cek KLS-2607-0015", "cek", NULL},
    {"nomor tiket sy KLS-2611-0012 gmn statusnya", "cek", NULL},
    {"tolong cek KLS-2607-0015", "cek", NULL}, /* fillers first */
    /* spam is silent, but still a rule (the staff see it) */
    {"slot gacor maxwin daftar www.x.com", "spam", NULL},
    /* WhatsApp gets the same answers */
    {"syarat nikah apa saja", "nikah", "whatsapp"},
};

static void test_match_table(void **state)
{
	const struct rules *r = *state;

	for (size_t i = 0; i < sizeof(match_cases) / sizeof(*match_cases);
	     i++) {
		const struct match_case *c = &match_cases[i];
		struct rules_input in = input(c->text, OPEN_WED);
		struct rules_result res;
		if (c->channel)
			in.channel = c->channel;
		assert_int_equal(rules_match(r, &in, &res), 0);
		if (!res.rule || strcmp(res.rule, c->rule) != 0)
			fail_msg("'%s': got rule %s, want %s", c->text,
				 res.rule ? res.rule : "(none)", c->rule);
		/* a CEK with a ticket number is answered by the daemon */
		if (!res.cek_ref[0] && !res.silent) {
			assert_non_null(res.reply);
			assert_null(res.suppressed);
		}
		rules_result_free(&res);
	}
}

static void test_closed_reply(void **state)
{
	const struct rules *r = *state;
	struct rules_input in = input("permisi, ada orang?", CLOSED_SAT);
	struct rules_result res;

	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "tutup");
	assert_true(res.closed_reply);
	assert_non_null(strstr(res.reply, "mulai Senin 08.00 WITA"));
	assert_int_equal(res.segments, 1);
	rules_result_free(&res);
	/* second message within 12 h: no second closed reply */
	in.last_closed_reply = CLOSED_SAT - 3600;
	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "tutup");
	assert_null(res.reply);
	assert_non_null(strstr(res.suppressed, "closed-hours reply"));
	rules_result_free(&res);
	/* 13 h later it is sent again */
	in.last_closed_reply = CLOSED_SAT - 13 * 3600;
	rules_match(r, &in, &res);
	assert_non_null(res.reply);
	rules_result_free(&res);
	/* a keyword still answers when closed */
	in = input("ktp", CLOSED_SAT);
	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "ktp");
	assert_false(res.closed_reply);
	rules_result_free(&res);
	/* on a holiday (Idul Fitri, a Saturday) the next opening skips the
	 * cuti bersama days to Wednesday 25 March */
	in = input("halo ada orang", wita(2026, 3, 21, 9, 0));
	in.text = "apakah bisa dibantu";
	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "tutup");
	assert_non_null(strstr(res.reply, "mulai Rabu 08.00 WITA"));
	rules_result_free(&res);
}

static void test_ticket_and_due(void **state)
{
	const struct rules *r = *state;
	struct rules_input in = input("sampah menumpuk di RT 3", OPEN_WED);
	struct rules_result res;
	char ref[32];

	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "sampah");
	assert_string_equal(res.category, "pengaduan/sampah");
	assert_true(res.ticket);
	assert_int_equal(res.due_days, 5);
	/* Wed 15/07 day 1 .. Tue 21/07 day 5 */
	assert_int_equal(res.due_at, wita(2026, 7, 21, 16, 0));
	rules_format_ticket(r, in.now, 15, ref, sizeof(ref));
	assert_string_equal(ref, "KLS-2607-0015");
	in.ticket = ref;
	rules_render(r, &in, &res);
	assert_string_equal(res.reply,
			    "Pengaduan sampah diterima, tiket KLS-2607-0015. "
			    "Target selesai Selasa 21/07/2026. Cek status: CEK "
			    "KLS-2607-0015");
	assert_int_equal(res.segments, 1);
	assert_false(res.ucs2);
	rules_result_free(&res);
	/* YYMM in office time: 31 Jul 23.30 UTC is 1 Aug in WITA */
	rules_format_ticket(r, wita(2026, 8, 1, 7, 30), 123456, ref,
			    sizeof(ref));
	assert_string_equal(ref, "KLS-2608-123456");
}

struct cek_case {
	const char *text, *ref;
};

static const struct cek_case cek_cases[] = {
    {"CEK KLS-2607-0015", "KLS-2607-0015"},
    {"cek kls 2607 15", "KLS-2607-0015"},
    {"Cek kls26070015", "KLS-2607-0015"},
    {"cekk  KLS-2612-123", "KLS-2612-0123"},
    {"status KLS-2701-0001", "KLS-2701-0001"},
    {"cek", ""},
    {"cek nomor saya", ""},
};

static void test_status_query(void **state)
{
	const struct rules *r = *state;

	for (size_t i = 0; i < sizeof(cek_cases) / sizeof(*cek_cases); i++) {
		struct rules_input in = input(cek_cases[i].text, OPEN_WED);
		struct rules_result res;
		rules_match(r, &in, &res);
		assert_string_equal(res.rule, "cek");
		assert_true(res.status_query);
		assert_string_equal(res.cek_ref, cek_cases[i].ref);
		/* without a ref the resident is told how to ask */
		if (cek_cases[i].ref[0])
			assert_null(res.reply);
		else
			assert_non_null(strstr(res.reply, "ketik CEK"));
		rules_result_free(&res);
	}
}

struct loop_case {
	const char *what;
	struct rules_input in;
	const char *reason; /* substring; NULL: reply is sent */
};

static void test_loop_protection(void **state)
{
	const struct rules *r = *state;
	const int64_t now = OPEN_WED;
	const struct loop_case cases[] = {
	    {"ordinary", {.from = "081234567890", .text = "ktp"}, NULL},
	    {"alnum",
	     {.from = "TELKOMSEL", .kind = RULES_ALNUM, .text = "ktp"},
	     "alphanumeric"},
	    {"shortcode",
	     {.from = "3636", .kind = RULES_SHORTCODE, .text = "ktp"},
	     "short code"},
	    {"own number +62",
	     {.from = "+62 811-0000-0000", .text = "ktp"},
	     "own number"},
	    {"own number 62",
	     {.from = "6281100000000", .text = "ktp"},
	     "own number"},
	    {"deny list", {.from = "081111111111", .text = "ktp"}, "deny"},
	    {"budget",
	     {.from = "081298765432",
	      .text = "ktp",
	      .auto_replies_last_hour = 3},
	     "budget"},
	    {"budget ok",
	     {.from = "081298765432",
	      .text = "ktp",
	      .auto_replies_last_hour = 2},
	     NULL},
	    {"staff replied",
	     {.from = "081298765432",
	      .text = "ktp",
	      .last_staff_reply = now - 240},
	     "staff replied"},
	    {"staff long ago",
	     {.from = "081298765432",
	      .text = "ktp",
	      .last_staff_reply = now - 600},
	     NULL},
	    {"echo of our reply",
	     {.from = "081298765432",
	      .text = "Pesan Anda sudah diterima Kelurahan Contoh. Petugas "
		      "akan segera membalas. Ketik MENU untuk info layanan.",
	      .last_auto_reply_text =
		  "Pesan Anda sudah diterima Kelurahan Contoh. Petugas akan "
		  "segera membalas. Ketik MENU untuk info layanan."},
	     "repeats our last"},
	    {"same text thrice",
	     {.from = "081298765432", .text = "ktp", .same_text_count = 3},
	     "same text 3 times"},
	    {"same text twice",
	     {.from = "081298765432", .text = "ktp", .same_text_count = 2},
	     NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct rules_input in = cases[i].in;
		struct rules_result res;
		in.channel = "sms";
		in.now = now;
		rules_match(r, &in, &res);
		if (cases[i].reason) {
			if (!res.suppressed ||
			    !strstr(res.suppressed, cases[i].reason))
				fail_msg("%s: suppressed = %s", cases[i].what,
					 res.suppressed ? res.suppressed
							: "NULL");
			assert_null(res.reply);
		} else {
			if (res.suppressed)
				fail_msg("%s: unexpectedly suppressed: %s",
					 cases[i].what, res.suppressed);
			assert_non_null(res.reply);
		}
		rules_result_free(&res);
	}
}

/* rules_budget_spent says yes exactly when a budget (staff quiet, the
 * hour's replies) decides, and then the loop breakers' inputs, which the
 * store no longer reads, change neither whether nor why a message is
 * kept back: over a grid of budgets and loop-breaker inputs, with a rule
 * and with none (a missed call). */
static void test_budget_spent_decides_alone(void **state)
{
	const struct rules *r = *state;
	const int64_t now = OPEN_WED;
	const int64_t staff[] = {0, now - 240, now - 600};
	const char *echo = "Pesan Anda sudah diterima Kelurahan Contoh.";
	int spent = 0;

	for (int k = 0; k < 3; k++)
		for (int budget = 0; budget <= 4; budget++) {
			struct rules_input in = {.from = "081298765432",
						 .channel = "sms",
						 .text = echo,
						 .now = now,
						 .auto_replies_last_hour =
						     budget,
						 .last_staff_reply = staff[k]};
			bool s = rules_budget_spent(r, &in);
			assert_int_equal(s, k == 1 || budget >= 3);
			if (!s)
				continue;
			spent++;
			struct rules_input loud = in;
			loud.same_text_count = 9;
			loud.last_auto_reply_text = echo;
			char a[200], b[200];
			const char *x = rules_suppressed(r, &in, a, sizeof(a));
			const char *y =
			    rules_suppressed(r, &loud, b, sizeof(b));
			assert_non_null(x);
			assert_non_null(y);
			assert_string_equal(x, y);
			struct rules_result p, q;
			rules_match(r, &in, &p);
			rules_match(r, &loud, &q);
			assert_non_null(p.suppressed);
			assert_string_equal(p.suppressed, q.suppressed);
			rules_result_free(&p);
			rules_result_free(&q);
		}
	assert_int_equal(spent, 2 * 2 + 5); /* staff quiet: all 5; else 3, 4 */
}

/* The store reads a contact's history back as far as these limits look:
 * the longest of the hour budget, closed_reply_hours (12 h shipped),
 * staff_quiet_minutes and same_text_minutes. */
static void test_lookback(void **state)
{
	const struct rules *r = *state;

	assert_int_equal(rules_lookback(r), 12 * 3600);
}

static void test_explain(void **state)
{
	const struct rules *r = *state;
	struct rules_input in = input("pak mau tanya syarat ktp", OPEN_WED);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	rules_explain(r, &in, f);
	fclose(f);
	assert_non_null(strstr(buf, "scores:\n  [ktp] "));
	assert_non_null(strstr(buf, "score 5 = 'ktp' 4 + only keywords 1"));
	assert_non_null(strstr(buf, "chosen: [ktp]"));
	assert_non_null(strstr(buf, "reply (1 segment, GSM-7"));
	assert_non_null(strstr(buf, "KTP: pengantar RT"));
	free(buf);
}

/* The shipped replies fit one SMS with any office name up to 40
 * characters, placeholders at their longest, after hours too. */
static void test_long_office_name(void **state)
{
	char dir[] = "/tmp/simpul-rules-XXXXXX", cmd[512], sub[600];
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cp -r '%s' '%s/' && sed -i 's/^name = .*/name = "
		 "Kelurahan Sungai Pinang Lama Ilir Timur2/' "
		 "'%s/rules.d/00-office.ini'",
		 RULES_DIR, dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(sub, sizeof(sub), "%s/rules.d", dir);
	struct diag *d = diag_new();
	struct rules *r = rules_load(sub, HOLIDAYS, d);
	if (diag_count(d))
		diag_print(d, stderr);
	assert_non_null(r);
	assert_int_equal(diag_count(d), 0);
	assert_int_equal(strlen(rules_office_name(r)), 40);
	rules_free(r);
	diag_free(d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* Close scores ask a numbered choice; the digit that follows answers it
 * (the daemon passes back res.choices); thanks get one short reply. */
static void test_choice_and_closer(void **state)
{
	const struct rules *r = *state;
	struct rules_input in = input("kk banjir", OPEN_WED);
	struct rules_result res;

	rules_match(r, &in, &res);
	assert_int_equal(res.nchoices, 2);
	assert_string_equal(res.choices, "drainase,kk");
	assert_string_equal(res.reply,
			    "Maksud Anda: 1 Pengaduan got/banjir, 2 Syarat KK? "
			    "Balas angkanya saja.");
	rules_result_free(&res);
	in = input("1", OPEN_WED);
	in.last_choices = "drainase,kk";
	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "drainase");
	assert_true(res.ticket);
	rules_result_free(&res);
	in.last_choices = "menu";
	rules_match(r, &in, &res);
	assert_string_equal(res.rule, "ktp");
	rules_result_free(&res);

	in = input("ok makasih bu", OPEN_WED);
	rules_match(r, &in, &res);
	assert_true(res.closer);
	assert_string_equal(res.reply, "Sama-sama.");
	rules_result_free(&res);
	in.closer_sent = true;
	rules_match(r, &in, &res);
	assert_true(res.closer);
	assert_null(res.reply);
	rules_result_free(&res);
	/* after hours every reply says when the office opens again */
	in = input("makasih", CLOSED_SAT);
	rules_match(r, &in, &res);
	assert_string_equal(res.reply,
			    "Sama-sama. Buka lagi Senin 08.00 WITA.");
	rules_result_free(&res);
	/* a reply ending in a ticket code gets a full stop before it, so the
	 * code does not run into "Buka" */
	in = input("lampu jalan mati di RT 05", CLOSED_SAT);
	rules_match(r, &in, &res);
	assert_non_null(
	    strstr(res.reply, "Cek status: CEK -. Buka lagi Senin"));
	rules_result_free(&res);
}

static void test_templates(void **state)
{
	(void)state;
	char err[256];
	struct template_vars v = {{"Kelurahan X", NULL, NULL, "KLS-2607-0001",
				   "Ibu Siti Nurhaliza Binti Abdullah Rahman",
				   "RT 003", NULL}};

	assert_int_equal(
	    template_check("Halo {name}, tiket {ticket}", err, sizeof(err)), 0);
	assert_int_equal(template_check("Halo {nama}", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown placeholder {nama}"));
	assert_int_equal(template_check("Halo {name", err, sizeof(err)), -1);
	assert_int_equal(template_check("a } b", err, sizeof(err)), -1);
	char *s = template_render("{{{office}}} {name}/{rt}{due}", &v);
	/* names are cut to TEMPLATE_NAME_MAX characters */
	assert_string_equal(s, "{Kelurahan X} Ibu Siti Nurhaliza B/RT 003");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shipped_load_clean),
	    cmocka_unit_test(test_match_table),
	    cmocka_unit_test(test_closed_reply),
	    cmocka_unit_test(test_ticket_and_due),
	    cmocka_unit_test(test_status_query),
	    cmocka_unit_test(test_loop_protection),
	    cmocka_unit_test(test_lookback),
	    cmocka_unit_test(test_budget_spent_decides_alone),
	    cmocka_unit_test(test_explain),
	    cmocka_unit_test(test_templates),
	    cmocka_unit_test(test_choice_and_closer),
	    cmocka_unit_test(test_long_office_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
