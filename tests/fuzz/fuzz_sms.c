/* fuzz_sms: one SMS from the PDU line a modem reports to the message the
 * inbox stores, through the product's own functions: pdu_decode,
 * modem_sms_from_pdu (what the modem hands the daemon) and sms_inbox_add
 * (what daemon/sms/sms.c runs in its transaction), into an in-memory
 * store.
 *
 * Input: byte 0 flags: bit 0 the line starts with the SMSC address
 * (+CMGL/+CMGR/+CMT), bit 1 byte 1 is the announced TPDU length (else -1),
 * bit 2 the rest is binary and is hex-encoded first (so the fuzzer mutates
 * PDU fields, not hex digits). The rest is the PDU line.
 *
 * Checks: decode never crashes; a decoded message has 1 <= seq <= parts
 * (TS 23.040 9.2.3.24.1), UTF-8 text and a terminated number; every
 * message the inbox stores comes back out of the JSON API with its body,
 * and storing it again stores nothing new (a SIM re-read after a crash,
 * doc/architecture.md). */
#include "fuzz.h"

#include <sodium.h>

#include "inbox.h"
#include "modem.h"
#include "pdu.h"
#include "sms_inbox.h"
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

/* The id of the newest message (0 if none), readable as JSON. */
static int64_t newest_id(void)
{
	json_t *j = store_inbox_json(st, 1, 0, 25200);

	FUZZ_CHECK(j != NULL);
	json_t *m = json_array_get(j, 0);
	int64_t id = m ? json_integer_value(json_object_get(m, "id")) : 0;
	if (m) {
		FUZZ_CHECK(json_is_string(json_object_get(m, "body")));
		FUZZ_CHECK(json_is_string(json_object_get(m, "peer")));
		char *dump = json_dumps(j, JSON_COMPACT);
		FUZZ_CHECK(dump != NULL);
		free(dump);
	}
	json_decref(j);
	return id;
}

/* One transaction of the daemon's own SMS path (sms_inbox.h). */
static void add_once(const struct modem_sms *p)
{
	FUZZ_CHECK(inbox_begin(ib) == 0);
	if (sms_inbox_add(ib, st, p, 0)) {
		fprintf(stderr, "sms_inbox_add from '%s': %s\n", p->sender,
			store_errmsg(st));
		abort();
	}
	FUZZ_CHECK(inbox_commit(ib) == 0);
}

/* As the modem hands a decoded PDU to the daemon. */
static void store_one(const char *hex, int rc, const struct pdu_message *pm,
		      const char *err)
{
	struct modem_sms p;

	if (rc == 0 && pm->kind == PDU_STATUS_REPORT)
		return; /* matched to our own outgoing messages, not stored */
	modem_sms_from_pdu(&p, -1, hex, rc == 0 ? pm : NULL, err);
	add_once(&p);
	int64_t id = newest_id();
	add_once(&p); /* a SIM re-read after a crash stores nothing new */
	FUZZ_CHECK(newest_id() == id);
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
