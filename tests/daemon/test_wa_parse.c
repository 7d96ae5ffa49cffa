/* Tests of daemon/wa_parse: webhook signature, handshake, every message
 * type of tests/data/whatsapp, statuses and their ordering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wa_parse.h"

static char *load(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/whatsapp/%s", SRCDIR, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Parses a fixture that must be accepted. */
static struct wa_batch *parse_ok(const char *name)
{
	size_t len;
	char *body = load(name, &len);
	struct wa_batch *b = NULL;
	char err[256] = "";

	if (wa_parse(body, len, &b, err, sizeof(err)) != 0)
		fail_msg("%s rejected: %s", name, err);
	free(body);
	return b;
}

/* A fixture holding exactly one message; returns it. */
static const struct wa_message *one(struct wa_batch *b)
{
	assert_int_equal(b->nmessages, 1);
	assert_int_equal(b->nstatuses, 0);
	assert_int_equal(b->nskipped, 0);
	return &b->messages[0];
}

static void common_sender(const struct wa_message *m)
{
	assert_string_equal(m->from, "6281234567890");
	assert_false(m->wa_only);
	assert_string_equal(m->profile_name, "Siti Rahayu");
	assert_string_equal(m->phone_number_id, "109876543210");
	assert_int_equal(m->ts_ms, 1717400000000LL);
}

/* ---- signature ---- */

/* RFC 4231 test case 2. */
static void test_sig_rfc4231(void **state)
{
	const char *data = "what do ya want for nothing?";
	const char *ok = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d27"
			 "39839dec58b964ec3843";
	const char *upper =
	    "sha256=5BDCC146BF60754E6A042426089575C75A003F089D27"
	    "39839DEC58B964EC3843";

	assert_int_equal(wa_verify_signature("Jefe", data, strlen(data), ok),
			 0);
	/* Hex case does not matter to the value. */
	assert_int_equal(wa_verify_signature("Jefe", data, strlen(data), upper),
			 0);
	/* One changed byte of body, key or digest is a forgery. */
	assert_int_equal(wa_verify_signature("Jefe",
					     "what do ya want for "
					     "nothing!",
					     strlen(data), ok),
			 -1);
	assert_int_equal(wa_verify_signature("Jeff", data, strlen(data), ok),
			 -1);
	const char *forged = "sha256=5bdcc146bf60754e6a042426089575c75a003f089"
			     "d2739839dec58b964ec3844";
	assert_int_equal(
	    wa_verify_signature("Jefe", data, strlen(data), forged), -1);
}

/* RFC 4231 test case 6: a key longer than the block size is hashed first;
 * an app secret is not limited to 32 bytes. */
static void test_sig_long_key(void **state)
{
	char key[132];
	const char *data = "Test Using Larger Than Block-Size Key - Hash Key "
			   "First";

	memset(key, 0xaa, 131);
	key[131] = '\0';
	assert_int_equal(
	    wa_verify_signature(key, data, strlen(data),
				"sha256=60e431591ee0b67f0d8a26aacbf5b77f8e"
				"0bc6213728c5140546040f0ee37f54"),
	    0);
}

static void test_sig_malformed(void **state)
{
	const char *data = "what do ya want for nothing?";
	size_t n = strlen(data);
	const char *hex = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec"
			  "58b964ec3843";
	char h[200];

	assert_int_equal(wa_verify_signature("Jefe", data, n, NULL), -1);
	assert_int_equal(wa_verify_signature("Jefe", data, n, ""), -1);
	assert_int_equal(wa_verify_signature("Jefe", data, n, hex), -1);
	snprintf(h, sizeof(h), "sha1=%s", hex);
	assert_int_equal(wa_verify_signature("Jefe", data, n, h), -1);
	/* Too short, too long, not hex, trailing space. */
	snprintf(h, sizeof(h), "sha256=%.62s", hex);
	assert_int_equal(wa_verify_signature("Jefe", data, n, h), -1);
	snprintf(h, sizeof(h), "sha256=%s00", hex);
	assert_int_equal(wa_verify_signature("Jefe", data, n, h), -1);
	snprintf(h, sizeof(h), "sha256=%.63sg", hex);
	assert_int_equal(wa_verify_signature("Jefe", data, n, h), -1);
	snprintf(h, sizeof(h), "sha256=%s ", hex);
	assert_int_equal(wa_verify_signature("Jefe", data, n, h), -1);
	/* No secret configured: nothing verifies. */
	snprintf(h, sizeof(h), "sha256=%s", hex);
	assert_int_equal(wa_verify_signature("", data, n, h), -1);
	assert_int_equal(wa_verify_signature(NULL, data, n, h), -1);
}

static void test_subscribe(void **state)
{
	assert_int_equal(
	    wa_verify_subscribe("subscribe", "tok", "1158201444", "tok"), 0);
	assert_int_equal(wa_verify_subscribe("subscribe", "tok2", "1", "tok"),
			 -1);
	assert_int_equal(wa_verify_subscribe("subscribe", "to", "1", "tok"),
			 -1);
	assert_int_equal(wa_verify_subscribe("unsubscribe", "tok", "1", "tok"),
			 -1);
	assert_int_equal(wa_verify_subscribe("subscribe", "tok", "", "tok"),
			 -1);
	assert_int_equal(wa_verify_subscribe("subscribe", "tok", NULL, "tok"),
			 -1);
	assert_int_equal(wa_verify_subscribe(NULL, "tok", "1", "tok"), -1);
	/* An unset verify_token must not accept an empty token. */
	assert_int_equal(wa_verify_subscribe("subscribe", "", "1", ""), -1);
}

/* ---- message types ---- */

static void test_text(void **state)
{
	struct wa_batch *b = parse_ok("text.json");
	const struct wa_message *m = one(b);

	common_sender(m);
	assert_int_equal(m->type, WA_MSG_TEXT);
	assert_string_equal(m->type_name, "text");
	assert_string_equal(m->body,
			    "Selamat pagi, mau tanya syarat surat pindah");
	assert_string_equal(m->wamid,
			    "wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjATEXT01");
	assert_null(m->context_id);
	assert_null(m->media.id);
	/* The raw JSON is the message object, reparseable, with its id. */
	assert_non_null(strstr(m->raw, "\"id\":\"wamid.HBgN"));
	assert_int_equal(m->raw[0], '{');
	wa_batch_free(b);
}

static void test_text_reply(void **state)
{
	struct wa_batch *b = parse_ok("text_reply.json");
	const struct wa_message *m = one(b);

	assert_string_equal(m->body, "Sudah saya kirim");
	assert_string_equal(m->context_id, "wamid.OUTBOUND0001");
	wa_batch_free(b);
}

static void test_image(void **state)
{
	struct wa_batch *b = parse_ok("image.json");
	const struct wa_message *m = one(b);

	common_sender(m);
	assert_int_equal(m->type, WA_MSG_IMAGE);
	assert_string_equal(m->body, "Foto KTP saya");
	assert_string_equal(m->media.id, "1017373159671122");
	assert_string_equal(m->media.mime_type, "image/jpeg");
	assert_string_equal(m->media.sha256,
			    "f0DjvpZJ/3T2Z8Ye+cOYHfImFlKTs4n0LmiFb4HMkgI=");
	assert_null(m->media.filename);
	assert_string_equal(wa_msg_label(m), "Gambar");
	wa_batch_free(b);
}

static void test_video_no_caption(void **state)
{
	struct wa_batch *b = parse_ok("video.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_VIDEO);
	assert_string_equal(m->body, "");
	assert_string_equal(m->media.id, "2049386772301293");
	assert_string_equal(m->media.mime_type, "video/mp4");
	wa_batch_free(b);
}

static void test_voice(void **state)
{
	struct wa_batch *b = parse_ok("audio_voice.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_AUDIO);
	assert_true(m->media.voice);
	assert_string_equal(m->media.id, "932483471229932");
	assert_string_equal(m->media.mime_type, "audio/ogg; codecs=opus");
	assert_string_equal(wa_msg_label(m), "Pesan suara");
	wa_batch_free(b);
}

static void test_document(void **state)
{
	struct wa_batch *b = parse_ok("document.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_DOCUMENT);
	assert_string_equal(m->body, "Scan KK");
	assert_string_equal(m->media.filename, "kartu_keluarga.pdf");
	assert_string_equal(m->media.mime_type, "application/pdf");
	assert_false(m->media.voice);
	wa_batch_free(b);
}

static void test_sticker(void **state)
{
	struct wa_batch *b = parse_ok("sticker.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_STICKER);
	assert_string_equal(m->media.mime_type, "image/webp");
	assert_string_equal(m->media.id, "1436278593836574");
	assert_string_equal(m->body, "");
	wa_batch_free(b);
}

static void test_location(void **state)
{
	struct wa_batch *b = parse_ok("location.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_LOCATION);
	assert_string_equal(m->body, "📍 Kantor Kelurahan, Jl. Melati No. 5, "
				     "Jakarta (-6.2088, 106.8456)");
	wa_batch_free(b);

	b = parse_ok("location_pin.json");
	assert_string_equal(one(b)->body, "📍 (-6.175392, 106.827153)");
	wa_batch_free(b);
}

static void test_contacts(void **state)
{
	struct wa_batch *b = parse_ok("contacts.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_CONTACTS);
	assert_string_equal(m->body,
			    "Kontak: Pak Budi RT 03 (+62 812-1111-2222); Bu "
			    "Ani (+62 21 5550 1234, +62 813-3333-4444)");
	/* The shared contacts are not the sender. */
	assert_string_equal(m->profile_name, "Siti Rahayu");
	wa_batch_free(b);
}

static void test_interactive(void **state)
{
	struct wa_batch *b = parse_ok("interactive_button.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_INTERACTIVE);
	assert_string_equal(m->body, "Urus KTP");
	assert_string_equal(m->reply_id, "svc-ktp");
	assert_string_equal(m->context_id, "wamid.MENU0001");
	wa_batch_free(b);

	b = parse_ok("interactive_list.json");
	m = one(b);
	assert_string_equal(m->body, "Surat Domisili");
	assert_string_equal(m->reply_id, "svc-domisili");
	wa_batch_free(b);

	b = parse_ok("interactive_nfm.json");
	m = one(b);
	assert_string_equal(m->body, "Sent");
	assert_string_equal(m->reply_id, "flow");
	/* The form answers survive in the raw JSON. */
	assert_non_null(strstr(m->raw, "flow_token"));
	wa_batch_free(b);
}

static void test_button(void **state)
{
	struct wa_batch *b = parse_ok("button.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_BUTTON);
	assert_string_equal(m->body, "Ya, saya hadir");
	assert_string_equal(m->reply_id, "YA_HADIR");
	assert_string_equal(m->context_id, "wamid.TEMPLATE01");
	wa_batch_free(b);
}

static void test_reaction(void **state)
{
	struct wa_batch *b = parse_ok("reaction.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_REACTION);
	assert_string_equal(m->body, "👍");
	assert_string_equal(m->reaction_to, "wamid.OUTBOUND0002");
	wa_batch_free(b);
}

static void test_unsupported(void **state)
{
	struct wa_batch *b = parse_ok("unsupported.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_UNSUPPORTED);
	assert_int_equal(m->error.code, 131051);
	assert_string_equal(m->error.details,
			    "Message type is currently not supported.");
	assert_string_equal(m->body, "");
	wa_batch_free(b);
}

/* A type invented after this code was written is kept, not dropped. */
static void test_unknown_type(void **state)
{
	struct wa_batch *b = parse_ok("unknown_type.json");
	const struct wa_message *m = one(b);

	assert_int_equal(m->type, WA_MSG_UNKNOWN);
	assert_string_equal(m->type_name, "poll_vote");
	assert_string_equal(m->body, "");
	common_sender(m);
	assert_non_null(strstr(m->raw, "\"poll_vote\":{\"poll_id\""));
	assert_string_equal(wa_msg_label(m), "Pesan jenis baru");
	wa_batch_free(b);
}

static void test_ms_timestamp(void **state)
{
	struct wa_batch *b = parse_ok("ms_timestamp.json");

	assert_int_equal(one(b)->ts_ms, 1717400000123LL);
	wa_batch_free(b);
}

static void test_bsuid_only(void **state)
{
	struct wa_batch *b = parse_ok("bsuid.json");
	const struct wa_message *m = one(b);

	assert_null(m->from);
	assert_true(m->wa_only);
	assert_string_equal(m->user_id, "ID.1502576394655843");
	assert_string_equal(m->profile_name, "Rina");
	assert_string_equal(m->username, "@rina.w");
	assert_string_equal(m->body, "Halo, saya tidak mau kasih nomor");
	assert_int_equal(m->ts_ms, 1717400100000LL);
	wa_batch_free(b);
}

static void test_statuses(void **state)
{
	struct wa_batch *b = parse_ok("statuses.json");

	assert_int_equal(b->nmessages, 0);
	assert_int_equal(b->nstatuses, 4);
	const struct wa_status *s = b->statuses;
	assert_string_equal(s[0].wamid, "wamid.OUT1");
	assert_string_equal(s[0].status, "sent");
	assert_int_equal(s[0].ts_ms, 1717400200000LL);
	assert_string_equal(s[0].recipient_id, "6281234567890");
	assert_string_equal(s[0].conversation_id, "CONVERSATION_ID1");
	assert_string_equal(s[0].pricing_category, "service");
	assert_string_equal(s[1].status, "delivered");
	assert_string_equal(s[2].status, "read");
	assert_int_equal(s[2].ts_ms, 1717400260000LL);
	assert_string_equal(s[3].wamid, "wamid.OUT2");
	assert_string_equal(s[3].status, "failed");
	assert_int_equal(s[3].nerrors, 1);
	assert_int_equal(s[3].errors[0].code, 131047);
	assert_string_equal(s[3].errors[0].title, "Re-engagement message");
	assert_non_null(strstr(s[3].errors[0].details, "24 hours"));
	assert_int_equal(s[0].nerrors, 0);
	wa_batch_free(b);
}

static void test_value_errors(void **state)
{
	struct wa_batch *b = parse_ok("value_errors.json");

	assert_int_equal(b->nerrors, 1);
	assert_int_equal(b->errors[0].code, 131000);
	assert_string_equal(b->errors[0].details, "Unknown error");
	assert_int_equal(b->nmessages + b->nstatuses, 0);
	wa_batch_free(b);
}

static void test_multi(void **state)
{
	struct wa_batch *b = parse_ok("multi.json");

	assert_int_equal(b->nmessages, 3);
	assert_int_equal(b->nstatuses, 1);
	assert_int_equal(b->nskipped, 0);
	/* Profile names follow wa_id, not position. */
	assert_string_equal(b->messages[0].from, "6281234567890");
	assert_string_equal(b->messages[0].profile_name, "Siti Rahayu");
	assert_string_equal(b->messages[0].body, "pesan satu");
	assert_string_equal(b->messages[1].from, "6285700001111");
	assert_string_equal(b->messages[1].profile_name, "Joko");
	assert_int_equal(b->messages[1].ts_ms, 1717400010000LL);
	assert_string_equal(b->messages[2].from, "6287711112222");
	assert_string_equal(b->messages[2].profile_name, "Dewi");
	assert_int_equal(b->messages[2].type, WA_MSG_IMAGE);
	assert_string_equal(b->messages[2].media.id, "555");
	assert_string_equal(b->statuses[0].wamid, "wamid.OUT9");
	assert_string_equal(b->statuses[0].status, "delivered");
	wa_batch_free(b);
}

/* Unexpected shapes inside a valid payload are skipped and counted; the
 * well-formed events beside them survive. */
static void test_odd_shapes(void **state)
{
	struct wa_batch *b = parse_ok("odd_shapes.json");

	assert_int_equal(b->nmessages, 2);
	assert_string_equal(
	    b->messages[0].wamid + strlen(b->messages[0].wamid) - 6, "BADBDY");
	assert_string_equal(b->messages[0].body, "");
	assert_string_equal(b->messages[1].body, "yang ini benar");
	assert_int_equal(b->nstatuses, 1);
	assert_string_equal(b->statuses[0].wamid, "wamid.OUT3");
	assert_int_equal(b->statuses[0].ts_ms, 5000);
	assert_int_equal(b->nskipped, 7);
	assert_true(strlen(b->warning) > 0);
	wa_batch_free(b);
}

static void reject(const char *body, size_t len, const char *want)
{
	struct wa_batch *b = (struct wa_batch *)1;
	char err[256] = "";

	assert_int_equal(wa_parse(body, len, &b, err, sizeof(err)), -1);
	assert_null(b);
	if (!strstr(err, want))
		fail_msg("error \"%s\" does not mention \"%s\"", err, want);
}

static void test_malformed(void **state)
{
	size_t len;
	char *s;

	s = load("malformed_truncated.json", &len);
	reject(s, len, "not valid JSON");
	free(s);
	s = load("malformed_garbage.json", &len);
	reject(s, len, "not valid JSON");
	free(s);
	s = load("not_whatsapp.json", &len);
	reject(s, len, "object=page");
	free(s);
	reject("", 0, "not valid JSON");
	reject("[]", 2, "object=missing");
	reject("{\"object\":\"whatsapp_business_account\",\"object\":\"x\"}",
	       52, "not valid JSON");
}

/* Every proper prefix of a valid payload is rejected, none crashes. */
static void test_every_truncation(void **state)
{
	size_t len;
	char *s = load("multi.json", &len);
	char err[256];

	/* The last bytes are a newline after the closing brace. */
	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	for (size_t n = 0; n < len; n++) {
		struct wa_batch *b = NULL;
		char *copy = malloc(n + 1);
		memcpy(copy, s, n); /* exact-size copy: ASan sees overreads */
		if (wa_parse(copy, n, &b, err, sizeof(err)) != -1)
			fail_msg("prefix of %zu bytes accepted", n);
		free(copy);
	}
	free(s);
}

/* Random byte damage: must never crash; what parses must be consistent. */
static void test_mutations(void **state)
{
	size_t len;
	char *s = load("multi.json", &len);
	char err[256];
	unsigned seed = 12345;

	for (int i = 0; i < 3000; i++) {
		char *copy = malloc(len);
		memcpy(copy, s, len);
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % len;
			seed = seed * 1103515245u + 12345u;
			copy[at] = (char)(seed >> 16);
		}
		struct wa_batch *b = NULL;
		if (wa_parse(copy, len, &b, err, sizeof(err)) == 0) {
			for (size_t j = 0; j < b->nmessages; j++) {
				assert_non_null(b->messages[j].wamid);
				assert_non_null(b->messages[j].body);
				assert_non_null(b->messages[j].raw);
				assert_true(b->messages[j].from ||
					    b->messages[j].user_id);
			}
			wa_batch_free(b);
		}
		free(copy);
	}
	free(s);
}

/* ---- status ordering ---- */

static void test_status_rank(void **state)
{
	/* The normal ladder only climbs. */
	assert_true(wa_status_supersedes(NULL, "sent"));
	assert_true(wa_status_supersedes("sent", "delivered"));
	assert_true(wa_status_supersedes("delivered", "read"));
	assert_true(wa_status_supersedes("sent", "read"));
	assert_true(wa_status_supersedes("read", "played"));
	/* Late or repeated webhooks never downgrade. */
	assert_false(wa_status_supersedes("read", "delivered"));
	assert_false(wa_status_supersedes("read", "sent"));
	assert_false(wa_status_supersedes("delivered", "sent"));
	assert_false(wa_status_supersedes("read", "read"));
	/* failed: replaces sent, not delivery. */
	assert_true(wa_status_supersedes(NULL, "failed"));
	assert_true(wa_status_supersedes("sent", "failed"));
	assert_false(wa_status_supersedes("delivered", "failed"));
	assert_false(wa_status_supersedes("read", "failed"));
	/* after failed, only proof of delivery. */
	assert_false(wa_status_supersedes("failed", "sent"));
	assert_true(wa_status_supersedes("failed", "delivered"));
	assert_true(wa_status_supersedes("failed", "read"));
	assert_false(wa_status_supersedes("failed", "failed"));
	/* deleted is final; unknown changes nothing. */
	assert_true(wa_status_supersedes("read", "deleted"));
	assert_false(wa_status_supersedes("deleted", "read"));
	assert_false(wa_status_supersedes("sent", "warning"));
	assert_false(wa_status_supersedes(NULL, "bogus"));
	assert_true(wa_status_rank("read") > wa_status_rank("delivered"));
}

/* Replaying the statuses fixture in every order ends on "read" for OUT1:
 * the order of webhooks must not matter. */
static void test_status_any_order(void **state)
{
	struct wa_batch *b = parse_ok("statuses.json");
	int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
			  {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};

	for (int p = 0; p < 6; p++) {
		const char *cur = NULL;
		for (int i = 0; i < 3; i++) {
			const char *next = b->statuses[perm[p][i]].status;
			if (wa_status_supersedes(cur, next))
				cur = next;
		}
		assert_string_equal(cur, "read");
	}
	wa_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sig_rfc4231),
	    cmocka_unit_test(test_sig_long_key),
	    cmocka_unit_test(test_sig_malformed),
	    cmocka_unit_test(test_subscribe),
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_reply),
	    cmocka_unit_test(test_image),
	    cmocka_unit_test(test_video_no_caption),
	    cmocka_unit_test(test_voice),
	    cmocka_unit_test(test_document),
	    cmocka_unit_test(test_sticker),
	    cmocka_unit_test(test_location),
	    cmocka_unit_test(test_contacts),
	    cmocka_unit_test(test_interactive),
	    cmocka_unit_test(test_button),
	    cmocka_unit_test(test_reaction),
	    cmocka_unit_test(test_unsupported),
	    cmocka_unit_test(test_unknown_type),
	    cmocka_unit_test(test_ms_timestamp),
	    cmocka_unit_test(test_bsuid_only),
	    cmocka_unit_test(test_statuses),
	    cmocka_unit_test(test_value_errors),
	    cmocka_unit_test(test_multi),
	    cmocka_unit_test(test_odd_shapes),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_every_truncation),
	    cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_status_rank),
	    cmocka_unit_test(test_status_any_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
