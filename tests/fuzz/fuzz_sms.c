/* fuzz_sms: one SMS from the PDU line a modem reports to the message the
 * inbox stores (modem/pdu.c, then daemon/inbox.c into an in-memory store,
 * the way modem.c deliver() and sms.c store_single()/store_part() do).
 *
 * Input: byte 0 flags: bit 0 the line starts with the SMSC address
 * (+CMGL/+CMGR/+CMT), bit 1 byte 1 is the announced TPDU length (else -1),
 * bit 2 the rest is binary and is hex-encoded first (so the fuzzer mutates
 * PDU fields, not hex digits). The rest is the PDU line.
 *
 * Checks: decode never crashes; a decoded message has 1 <= seq <= parts
 * (TS 23.040 9.2.3.24.1), UTF-8 text and a terminated number; every
 * message the inbox stores comes back out of the JSON API with its body,
 * and storing it again is a duplicate (redelivery after a crash stores it
 * once, DESIGN.md). */
#include "fuzz.h"

#include <sodium.h>

#include "inbox.h"
#include "pdu.h"
#include "store.h"

#include <jansson.h>

static struct store *st;
static struct inbox *ib;

static void setup(void)
{
	char err[256];

	if (st)
		return;
	if (sodium_init() < 0)
		abort();
	st = store_open(":memory:", err, sizeof(err));
	if (!st) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	ib = inbox_new(st);
	FUZZ_CHECK(ib != NULL);
}

static void hash_id(char *out, size_t outlen, const char *s)
{
	unsigned char h[16];
	char hex[33];

	crypto_generichash(h, sizeof(h), (const unsigned char *)s, strlen(s),
			   NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, outlen, "sms:%s", hex);
}

/* The newest message must be the one just stored, readable as JSON. */
static void check_newest(const char *body)
{
	json_t *j = store_inbox_json(st, 1, 0, 25200);

	FUZZ_CHECK(j != NULL);
	FUZZ_CHECK(json_array_size(j) == 1);
	json_t *m = json_array_get(j, 0);
	FUZZ_CHECK(json_is_string(json_object_get(m, "body")));
	FUZZ_CHECK(strcmp(json_string_value(json_object_get(m, "body")),
			  body) == 0);
	FUZZ_CHECK(json_is_string(json_object_get(m, "peer")));
	char *dump = json_dumps(j, JSON_COMPACT);
	FUZZ_CHECK(dump != NULL);
	free(dump);
	json_decref(j);
}

static void store_one(const char *hex, int rc, const struct pdu_message *pm,
		      const char *err)
{
	char key[4200], sid[64];
	struct inbox_msg m = {.channel = "sms", .source_id = sid, .raw = hex};

	if (rc == 0 && pm->kind == PDU_STATUS_REPORT)
		return; /* matched to our own outgoing messages, not stored */
	if (rc != 0 || pm->kind != PDU_DELIVER) {
		snprintf(key, sizeof(key), "pdu|%s", hex);
		m.status = "error";
		m.error = rc ? err : "not an SMS-DELIVER";
		m.body = "[SMS tidak dapat dibaca]";
		m.kind = "error";
		m.from = rc == 0 && pm->number[0] ? pm->number : "tidak-dikenal";
	} else if (pm->parts > 1) {
		snprintf(key, sizeof(key), "%.40s|%d|%d|%d", pm->number,
			 pm->ref, pm->parts, pm->ref16 ? 16 : 8);
		hash_id(sid, sizeof(sid), pm->text ? pm->text : "");
		FUZZ_CHECK(store_part_add(st, sid, key, pm->number, pm->parts,
					  pm->seq, pm->text ? pm->text : "",
					  pm->scts, 0) != STORE_ERR);
		FUZZ_CHECK(store_part_add(st, sid, key, pm->number, pm->parts,
					  pm->seq, pm->text ? pm->text : "",
					  pm->scts, 0) == STORE_DUP);
		return;
	} else {
		snprintf(key, sizeof(key), "%s|%lld|%d|%d|%s", pm->number,
			 (long long)pm->scts, pm->ref, pm->seq,
			 pm->text ? pm->text : "");
		m.from = pm->number;
		m.body = pm->text ? pm->text : "";
		m.at_ms = pm->scts * 1000;
		if (pm->binary) {
			m.kind = "binary";
			m.body = "[pesan data, bukan teks]";
		}
	}
	hash_id(sid, sizeof(sid), key);
	enum inbox_result r = inbox_store(ib, &m, NULL);
	if (r == INBOX_FAILED)
		fprintf(stderr, "inbox_store from '%s': %s\n", m.from,
			store_errmsg(st));
	FUZZ_CHECK(r != INBOX_FAILED);
	if (r == INBOX_STORED)
		check_newest(m.body);
	FUZZ_CHECK(inbox_store(ib, &m, NULL) == INBOX_DUPLICATE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2 || size > 2048)
		return 0;
	setup();
	bool with_smsc = data[0] & 1;
	int tpdu_len = (data[0] & 2) ? data[1] : -1;
	const uint8_t *p = data + 2;
	size_t n = size - 2;
	char *hex;

	if (data[0] & 4) {
		hex = malloc(2 * n + 1);
		FUZZ_CHECK(hex != NULL);
		sodium_bin2hex(hex, 2 * n + 1, p, n);
		for (char *c = hex; *c; c++)
			if (*c >= 'a')
				*c -= 'a' - 'A';
	} else {
		/* As the AT layer hands it over: one line, no CR/LF/NUL. */
		hex = fuzz_strndup(p, n);
		hex[strcspn(hex, "\r\n")] = '\0';
	}

	struct pdu_message pm;
	char err[160] = "";
	memset(&pm, 0, sizeof(pm));
	int rc = pdu_decode(hex, with_smsc, tpdu_len, &pm, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(memchr(pm.number, '\0', sizeof(pm.number)));
		FUZZ_CHECK(memchr(pm.smsc, '\0', sizeof(pm.smsc)));
		FUZZ_CHECK(fuzz_utf8_valid(pm.number, strlen(pm.number)));
		FUZZ_CHECK(pm.parts >= 1 && pm.seq >= 1 && pm.seq <= pm.parts);
		if (pm.text)
			FUZZ_CHECK(fuzz_utf8_valid(pm.text, strlen(pm.text)));
	} else {
		FUZZ_CHECK(err[0] != '\0');
	}
	/* The raw line is stored too: only what the AT layer hands over as
	 * a PDU line (hex digits, at.c is_hex_line; see fuzz_at). */
	bool is_hex = hex[0] != '\0';
	for (const char *c = hex; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F') ||
		      (*c >= 'a' && *c <= 'f')))
			is_hex = false;
	if (is_hex)
		store_one(hex, rc, &pm, err);
	pdu_message_clear(&pm);
	free(hex);
	return 0;
}
