/* Unit tests for modem/pdu.c: real +CMGR captures against libgammu's own
 * decode, and encode -> decode round trips. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gammu.h>

#include "pdu.h"

static const char *data_dir = "tests/data/gammu-at-sms";

/* ---- real captures ---- */

struct dump {
	char name[64];
	int announced; /* <length> of the +CMGR header */
	char pdu[1024];
};

static int read_dump(const char *path, struct dump *d)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "+CMGR:", 6))
			continue;
		char *comma = strrchr(line, ',');

		d->announced = atoi(comma ? comma + 1 : line + 6);
		if (fgets(d->pdu, sizeof(d->pdu), f)) {
			d->pdu[strcspn(d->pdu, "\r\n")] = '\0';
			found = 0;
		}
		break;
	}
	fclose(f);
	return found;
}

/* What libgammu itself makes of the line, the way Gammu's AT driver
 * decides (ATGEN_DecodePDUMessage): 1 if it is a clean message. */
static int reference_decode(const char *hex, GSM_SMSMessage *sms)
{
	unsigned char buf[600];
	size_t len = strlen(hex), parsed = 0;

	if (len % 2 || len / 2 > sizeof(buf) ||
	    !DecodeHexBin(buf, (const unsigned char *)hex, len))
		return 0;
	len /= 2;
	GSM_SetDefaultReceivedSMSData(sms);
	if (GSM_DecodePDUFrame(GSM_GetGlobalDebug(), sms, buf, len, &parsed,
			       TRUE) != ERR_NONE)
		return 0;
	return parsed == len || buf[parsed] == 0xFF;
}

static void test_real_captures(void **state)
{
	DIR *dir = opendir(data_dir);
	struct dirent *e;
	int files = 0, clean_deliver = 0, rejected = 0;
	static GSM_SMSMessage ref;

	assert_non_null(dir);
	while ((e = readdir(dir))) {
		char path[512], err[256] = "";
		struct dump d = {0};
		struct pdu_message m;
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 5, ".dump"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", data_dir, e->d_name);
		assert_int_equal(read_dump(path, &d), 0);
		files++;
		int rc =
		    pdu_decode(d.pdu, true, d.announced, &m, err, sizeof(err));
		if (rc < 0) {
			/* Kept raw with a visible reason, never silently. */
			assert_true(strlen(err) > 0);
			assert_null(m.text);
			rejected++;
		}
		if (!reference_decode(d.pdu, &ref)) {
			pdu_message_clear(&m);
			continue;
		}
		if (ref.PDU == SMS_Submit) {
			assert_int_equal(rc, 0);
			assert_int_equal(m.kind, PDU_SUBMIT);
		} else if (ref.PDU == SMS_Status_Report) {
			assert_int_equal(rc, 0);
			assert_int_equal(m.kind, PDU_STATUS_REPORT);
			assert_null(m.text);
		} else if (ref.Coding == SMS_Coding_8bit) {
			assert_int_equal(rc, 0);
			assert_true(m.binary);
			assert_null(m.text);
		} else if (ref.PDU == SMS_Deliver) {
			char want[2600];

			EncodeUTF8(want, ref.Text);
			assert_int_equal(rc, 0);
			assert_int_equal(m.kind, PDU_DELIVER);
			assert_non_null(m.text);
			assert_string_equal(m.text, want);
			clean_deliver++;
		}
		pdu_message_clear(&m);
	}
	closedir(dir);
	assert_int_equal(files, 36);
	/* The set holds more than ten clean SMS-DELIVERs and two PDUs
	 * libgammu itself refuses (41, 42). */
	assert_true(clean_deliver >= 10);
	assert_int_equal(rejected, 2);
}

static void decode_dump(const char *name, struct pdu_message *m)
{
	char path[512], err[256] = "";
	struct dump d = {0};

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	assert_int_equal(read_dump(path, &d), 0);
	assert_int_equal(
	    pdu_decode(d.pdu, true, d.announced, m, err, sizeof(err)), 0);
}

static void test_indonesian_deliver(void **state)
{
	struct pdu_message m;

	decode_dump("12.dump", &m);
	assert_int_equal(m.kind, PDU_DELIVER);
	assert_string_equal(m.number, "+622291320408");
	assert_false(m.number_alnum);
	assert_string_equal(m.text, "aa cakep deh");
	assert_int_equal(m.parts, 1);
	assert_true(m.scts > 0);
	pdu_message_clear(&m);
}

static void test_status_report(void **state)
{
	struct pdu_message m;

	decode_dump("36.dump", &m);
	assert_int_equal(m.kind, PDU_STATUS_REPORT);
	assert_string_equal(m.number, "+6285717373455");
	assert_int_equal(m.mr, 1);
	assert_int_equal(m.status, 0); /* TS 23.040 9.2.3.15: delivered */
	assert_true(m.done_at > 0);
	assert_null(m.text);
	pdu_message_clear(&m);
}

static void test_concatenated_capture(void **state)
{
	struct pdu_message m;

	decode_dump("22.dump", &m);
	assert_int_equal(m.kind, PDU_DELIVER);
	assert_int_equal(m.parts, 2);
	assert_int_equal(m.seq, 1);
	assert_false(m.ref16);
	pdu_message_clear(&m);
}

/* Two clean SMS-DELIVERs that libgammu decodes safely must not be refused
 * by the guards against its fixed buffers: 04 (a quoted PDU line, from
 * the alphanumeric sender "O2") and 39 (octets after the user data, within
 * the announced length). Our text is libgammu's. */
static void test_captures_libgammu_decodes(void **state)
{
	static const char *const names[] = {"04.dump", "39.dump"};
	static GSM_SMSMessage ref;

	for (int i = 0; i < 2; i++) {
		char path[512], want[2600];
		unsigned char bin[600];
		struct dump d = {0};
		struct pdu_message m;
		size_t parsed = 0, len;

		decode_dump(names[i], &m);
		assert_int_equal(m.kind, PDU_DELIVER);
		assert_non_null(m.text);
		snprintf(path, sizeof(path), "%s/%s", data_dir, names[i]);
		assert_int_equal(read_dump(path, &d), 0);
		len = strcspn(d.pdu, "\"");
		assert_true(DecodeHexBin(bin, (unsigned char *)d.pdu, len));
		GSM_SetDefaultReceivedSMSData(&ref);
		assert_int_equal(GSM_DecodePDUFrame(GSM_GetGlobalDebug(), &ref,
						    bin, len / 2, &parsed,
						    TRUE),
				 ERR_NONE);
		EncodeUTF8(want, ref.Text);
		assert_string_equal(m.text, want);
		assert_int_equal(m.number_alnum, i == 0);
		pdu_message_clear(&m);
	}
}

/* TS 23.040 9.1.2.5: the type of number decides, not the characters. An
 * alphanumeric sender ID "81299990001" (type D0) is not a phone number. */
static void test_alphanumeric_sender_by_type(void **state)
{
	struct pdu_message m;
	char err[256] = "";

	assert_int_equal(pdu_decode("000414D0B8982C97CBE56030580C00006211820000"
				    "008209D92028269BD16A36",
				    true, -1, &m, err, sizeof(err)),
			 0);
	assert_string_equal(m.number, "81299990001");
	assert_true(m.number_alnum);
	assert_string_equal(m.text, "YA 123456");
	pdu_message_clear(&m);
	/* the same digits as an international number (type 91) */
	assert_int_equal(pdu_decode("00040D91261892990900F100006211820000008209"
				    "D92028269BD16A36",
				    true, -1, &m, err, sizeof(err)),
			 0);
	assert_string_equal(m.number, "+6281299990001");
	assert_false(m.number_alnum);
	pdu_message_clear(&m);
}

/* ---- corrupt input ---- */

static void test_corrupt(void **state)
{
	struct pdu_segment seg[1];
	struct pdu_message m;
	char err[256], hex[400];

	assert_int_equal(pdu_encode_submit("+6281234567890", "Halo", NULL, 0,
					   false, seg, 1, err, sizeof(err)),
			 1);
	/* Truncated: the last 3 octets are gone. */
	snprintf(hex, sizeof(hex), "%.*s", (int)strlen(seg[0].hex) - 6,
		 seg[0].hex);
	err[0] = '\0';
	assert_int_equal(pdu_decode(hex, true, -1, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupted PDU"));
	assert_null(m.text);
	/* Not hex at all. */
	assert_int_equal(pdu_decode("07913GZZ", true, -1, &m, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "hex"));
	assert_int_equal(pdu_decode("", true, -1, &m, err, sizeof(err)), -1);
	assert_int_equal(pdu_decode("05", true, -1, &m, err, sizeof(err)), -1);
	/* FF padding is what broken phones do: accepted. */
	snprintf(hex, sizeof(hex), "%sFFFFFF", seg[0].hex);
	assert_int_equal(pdu_decode(hex, true, -1, &m, err, sizeof(err)), 0);
	assert_string_equal(m.text, "Halo");
	pdu_message_clear(&m);
	/* Junk after the message: only past the announced length. */
	snprintf(hex, sizeof(hex), "%s1234", seg[0].hex);
	assert_int_equal(pdu_decode(hex, true, -1, &m, err, sizeof(err)), -1);
	assert_int_equal(
	    pdu_decode(hex, true, seg[0].tpdu_len, &m, err, sizeof(err)), 0);
	assert_string_equal(m.text, "Halo");
	pdu_message_clear(&m);
}

/* A STATUS-REPORT with TP-PI and user data longer than a report's (TS
 * 23.040 9.2.2.3) used to overflow libgammu's stack buffer (found by
 * fuzzing); a short one is still a report. */
static void test_report_user_data_bounded(void **state)
{
	static const char head[] = "00062A0D91261832547698F0"
				   "62115201000082621152010000820004";
	struct pdu_message m;
	char err[256], hex[1024];
	int o = snprintf(hex, sizeof(hex), "%sA0", head);

	for (int i = 0; i < 140; i++)
		o += snprintf(hex + o, sizeof(hex) - (size_t)o, "41");
	err[0] = '\0';
	assert_int_equal(pdu_decode(hex, true, -1, &m, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "corrupted PDU"));
	pdu_message_clear(&m);
	snprintf(hex, sizeof(hex), "%s03C3E110", head);
	assert_int_equal(pdu_decode(hex, true, -1, &m, err, sizeof(err)), 0);
	assert_int_equal(m.kind, PDU_STATUS_REPORT);
	assert_int_equal(m.mr, 0x2A);
	pdu_message_clear(&m);
}

/* ---- round trips ---- */

/* Encodes text as SUBMIT, checks each segment's UDH and returns the
 * joined text (caller frees). */
static char *roundtrip(const char *text, int ref, int want_parts)
{
	static struct pdu_segment segs[8];
	char err[256] = "";
	size_t cap = strlen(text) + 1, used = 0;
	char *joined = calloc(1, cap);
	int n = pdu_encode_submit("+6281234567890", text, "", ref, true, segs,
				  8, err, sizeof(err));

	if (n < 0)
		fail_msg("encode failed: %s", err);
	assert_int_equal(n, want_parts);
	for (int i = 0; i < n; i++) {
		struct pdu_message m;

		assert_int_equal(strncmp(segs[i].hex, "00", 2), 0);
		assert_int_equal((int)strlen(segs[i].hex),
				 2 + 2 * segs[i].tpdu_len);
		assert_int_equal(pdu_decode(segs[i].hex, true, segs[i].tpdu_len,
					    &m, err, sizeof(err)),
				 0);
		assert_int_equal(m.kind, PDU_SUBMIT);
		assert_string_equal(m.number, "+6281234567890");
		assert_int_equal(m.parts, n);
		assert_int_equal(m.seq, i + 1);
		if (n > 1) {
			assert_int_equal(m.ref, ref);
			assert_false(m.ref16);
		}
		assert_non_null(m.text);
		assert_true(used + strlen(m.text) < cap);
		memcpy(joined + used, m.text, strlen(m.text));
		used += strlen(m.text);
		pdu_message_clear(&m);
	}
	return joined;
}

static void check_roundtrip(const char *text, int ref, int parts)
{
	char *got = roundtrip(text, ref, parts);

	assert_string_equal(got, text);
	free(got);
}

static void test_gsm7(void **state)
{
	check_roundtrip("Kantor kelurahan buka Senin-Jumat 08.00-15.00. "
			"Tiket #4821 @ loket 2",
			0, 1);
}

static void test_extension_chars(void **state)
{
	check_roundtrip("Harga \xE2\x82\xAC"
			"5 [a] {b} ~c ^d \\e |f",
			0, 1);
	/* 80 euro signs = 160 septets (ESC + char each): one segment. */
	char text[81 * 3 + 1] = "";

	for (int i = 0; i < 80; i++)
		strcat(text, "\xE2\x82\xAC");
	check_roundtrip(text, 0, 1);
	strcat(text, "\xE2\x82\xAC");
	check_roundtrip(text, 9, 2);
}

static void test_ucs2_emoji(void **state)
{
	check_roundtrip("Terima kasih Bu \xF0\x9F\x99\x8F\xF0\x9F\x98\x8A "
			"sudah dibantu",
			0, 1);
	/* Emoji straddling the 67-unit boundary of a part must not be cut
	 * between its surrogates. */
	char text[400] = "";

	for (int i = 0; i < 66; i++)
		strcat(text, "x");
	strcat(text, "\xF0\x9F\x98\x8A");
	for (int i = 0; i < 20; i++)
		strcat(text, "\xC3\xA7"); /* ç is not GSM-7 lowercase */
	check_roundtrip(text, 77, 2);
}

static void test_multipart_sizes(void **state)
{
	char text[5 * 153 + 1];

	memset(text, 'a', 160);
	text[160] = '\0';
	check_roundtrip(text, 1, 1);
	memset(text, 'b', 161);
	text[161] = '\0';
	check_roundtrip(text, 2, 2);
	memset(text, 'c', 5 * 153);
	text[5 * 153] = '\0';
	for (int i = 0; i < 5 * 153; i += 10)
		text[i] = (char)('0' + i / 10 % 10);
	check_roundtrip(text, 200, 5);
}

static void test_smsc_and_deliver(void **state)
{
	struct pdu_segment seg[2];
	struct pdu_message m;
	char err[256];

	assert_int_equal(pdu_encode_submit("081234567890", "x", NULL, 0, false,
					   seg, 2, err, sizeof(err)),
			 1);
	assert_int_equal(strncmp(seg[0].hex, "00", 2), 0);
	/* No status report requested: TP-SRR clear. */
	assert_int_equal(strncmp(seg[0].hex + 2, "11", 2), 0);
	assert_int_equal(pdu_encode_submit("+6281234567890", "x", "+62816124",
					   0, true, seg, 2, err, sizeof(err)),
			 1);
	assert_int_equal(strncmp(seg[0].hex, "05912618164231", 14), 0);
	assert_int_equal(
	    pdu_decode(seg[0].hex, true, seg[0].tpdu_len, &m, err, sizeof(err)),
	    0);
	assert_string_equal(m.smsc, "+62816124");
	pdu_message_clear(&m);

	assert_int_equal(pdu_encode_deliver("+6281311112222", "Mohon info KTP",
					    "+62816124", 1767225600, 0, seg, 2,
					    err, sizeof(err)),
			 1);
	assert_int_equal(
	    pdu_decode(seg[0].hex, true, seg[0].tpdu_len, &m, err, sizeof(err)),
	    0);
	assert_int_equal(m.kind, PDU_DELIVER);
	assert_string_equal(m.number, "+6281311112222");
	assert_string_equal(m.text, "Mohon info KTP");
	assert_true(m.scts == 1767225600);
	pdu_message_clear(&m);
}

static void test_encode_errors(void **state)
{
	struct pdu_segment seg[2];
	char err[256] = "";
	char text[400];

	memset(text, 'z', 320);
	text[320] = '\0';
	assert_int_equal(pdu_encode_submit("+628", text, NULL, 0, false, seg, 2,
					   err, sizeof(err)),
			 -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(pdu_encode_submit("+628", "\xFF\xFE", NULL, 0, false,
					   seg, 2, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "UTF-8"));
	assert_int_equal(pdu_encode_submit("", "x", NULL, 0, false, seg, 2, err,
					   sizeof(err)),
			 -1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_captures),
	    cmocka_unit_test(test_indonesian_deliver),
	    cmocka_unit_test(test_status_report),
	    cmocka_unit_test(test_concatenated_capture),
	    cmocka_unit_test(test_captures_libgammu_decodes),
	    cmocka_unit_test(test_alphanumeric_sender_by_type),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_report_user_data_bounded),
	    cmocka_unit_test(test_gsm7),
	    cmocka_unit_test(test_extension_chars),
	    cmocka_unit_test(test_ucs2_emoji),
	    cmocka_unit_test(test_multipart_sizes),
	    cmocka_unit_test(test_smsc_and_deliver),
	    cmocka_unit_test(test_encode_errors),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
