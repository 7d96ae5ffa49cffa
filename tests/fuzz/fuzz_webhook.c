/* fuzz_webhook: a WhatsApp webhook POST from the raw body to the store,
 * as daemon/whatsapp/whatsapp.c post_webhook() and add_batch() do it,
 * through the same functions: the X-Hub-Signature-256 check
 * (wa_verify_signature), wa_parse, then every message and status through
 * wa_inbox.h in one transaction, into an in-memory store.
 *
 * Input: byte 0 bit 0 set: the body (rest of the input) is signed with the
 * right app secret, as Meta would; clear: the first line of the rest is
 * the X-Hub-Signature-256 header and the remainder the body (forgeries).
 *
 * Checks: a body with a forged signature is never parsed; a parsed batch
 * has the fields wa_parse.h promises (wamid, body, type_name never NULL);
 * each stored message comes back out of the JSON API; the same webhook
 * delivered again (Meta retries) stores nothing new. */
#include "fuzz.h"

#include <jansson.h>
#include <sodium.h>

#include "inbox.h"
#include "store.h"
#include "wa_inbox.h"
#include "wa_parse.h"

static const char secret[] = "fuzz-app-secret";
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

static void sign(const void *body, size_t len, char *out, size_t outlen)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * sizeof(mac) + 1];
	crypto_auth_hmacsha256_state s;

	crypto_auth_hmacsha256_init(&s, (const unsigned char *)secret,
				    strlen(secret));
	crypto_auth_hmacsha256_update(&s, body, len);
	crypto_auth_hmacsha256_final(&s, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, outlen, "sha256=%s", hex);
}

static int64_t count_messages(void)
{
	json_t *j = store_inbox_json(st, 100000, 0, 0);

	FUZZ_CHECK(j != NULL);
	int64_t n = (int64_t)json_array_size(j);
	json_decref(j);
	return n;
}

/* The daemon's own store path (wa_inbox.h), with the promises of
 * wa_parse.h checked first. */
static enum inbox_result add_message(const struct wa_message *m)
{
	FUZZ_CHECK(m->wamid && m->body && m->type_name);
	FUZZ_CHECK(m->from || m->user_id);
	return wa_inbox_message(ib, m, NULL);
}

static void add_status(const struct wa_status *s)
{
	FUZZ_CHECK(s->wamid && s->status);
	FUZZ_CHECK(wa_inbox_status(st, s) == 0);
}

static void deliver(const struct wa_batch *b, bool again)
{
	int64_t before = count_messages();

	FUZZ_CHECK(inbox_begin(ib) == 0);
	for (size_t i = 0; i < b->nmessages; i++) {
		enum inbox_result r = add_message(&b->messages[i]);
		FUZZ_CHECK(r != INBOX_FAILED);
		if (again)
			FUZZ_CHECK(r == INBOX_DUPLICATE);
	}
	for (size_t i = 0; i < b->nstatuses; i++)
		add_status(&b->statuses[i]);
	FUZZ_CHECK(inbox_commit(ib) == 0);
	int64_t after = count_messages();
	FUZZ_CHECK(after >= before && after - before <= (int64_t)b->nmessages);
	if (again)
		FUZZ_CHECK(after == before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	setup();
	char hdr[160];
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	if (data[0] & 1) {
		sign(body, len, hdr, sizeof(hdr));
	} else {
		const char *nl = memchr(body, '\n', len);
		size_t hl = nl ? (size_t)(nl - body) : len;
		snprintf(hdr, sizeof(hdr), "%.*s", (int)(hl < 159 ? hl : 159),
			 body);
		body += nl ? hl + 1 : hl;
		len -= nl ? hl + 1 : hl;
		char good[160];
		sign(body, len, good, sizeof(good));
		if (strcmp(hdr, good) != 0) {
			FUZZ_CHECK(
			    wa_verify_signature(secret, body, len, hdr) != 0);
			return 0; /* 401: nothing parsed, nothing stored */
		}
	}
	FUZZ_CHECK(wa_verify_signature(secret, body, len, hdr) == 0);
	FUZZ_CHECK(wa_verify_signature("", body, len, hdr) != 0);

	struct wa_batch *b = NULL;
	char err[200] = "";
	if (wa_parse(body, len, &b, err, sizeof(err))) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	FUZZ_CHECK(b != NULL);
	deliver(b, false);
	deliver(b, true);
	wa_batch_free(b);
	return 0;
}
