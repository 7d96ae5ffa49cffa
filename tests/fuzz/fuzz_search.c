/* fuzz_search: the conversation list's filters and full-text search as the
 * API hands them to the store (GET /api/v1/conversations?q=&category=&
 * assignee=&status=&channel=, daemon/web/api_ui.c get_conversations ->
 * store_conversations_json). This is where resident- and staff-typed text
 * meets SQL and FTS5 syntax.
 *
 * Input: fields separated by NUL bytes: q, category, assignee, status,
 * channel, limit, offset (as the query string would give them). status
 * and channel are validated the way api_ui.c does before the store sees
 * them. Checks: no search text or filter ever makes the store fail (a 500
 * for a resident's quote mark or an FTS5 operator); the answer is a page
 * of at most limit items; the seeded conversations are still all there
 * afterwards (no filter can write). */
#include "fuzz.h"

#include <jansson.h>

#include "inbox.h"
#include "inbox_one.h"
#include "store.h"
#include "store_ui.h"

static struct store *st;

static void setup(void)
{
	static const char *const bodies[] = {
	    "Selamat pagi, mau urus KTP",   "sampah menumpuk di RT 03",
	    "\"quoted\" AND NOT (x OR y*)", "Robert'); DROP TABLE messages;--",
	    "<script>alert(1)</script>",    "surat pindah 😀"};
	char err[256], sid[32];

	if (st)
		return;
	st = store_open(":memory:", err, sizeof(err));
	if (!st) {
		fprintf(stderr, "store_open: %s\n", err);
		abort();
	}
	struct inbox *ib = inbox_new(st);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		snprintf(sid, sizeof(sid), "seed-%zu", i);
		struct inbox_msg m = {.channel = i % 2 ? "sms" : "whatsapp",
				      .from = i % 2 ? "+6281234567890"
						    : "6281298765432",
				      .body = bodies[i],
				      .source_id = sid};
		FUZZ_CHECK(inbox_one(ib, &m, NULL) == INBOX_STORED);
	}
	inbox_free(ib);
}

static bool one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return true;
	return false;
}

static int64_t total(const struct store_conv_filter *f)
{
	json_t *j = store_conversations_json(st, f, 28800);

	if (!j)
		fprintf(stderr, "store error: %s\n", store_errmsg(st));
	FUZZ_CHECK(j != NULL);
	json_t *items = json_object_get(j, "items");
	FUZZ_CHECK(json_is_array(items));
	FUZZ_CHECK(json_array_size(items) <= (size_t)f->limit);
	int64_t t = json_integer_value(json_object_get(j, "total"));
	FUZZ_CHECK(t >= 0);
	json_decref(j);
	return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const statuses[] = {
	    "baru", "diproses", "menunggu_rt", "selesai", "open"};
	static const char *const chans[] = {"sms", "whatsapp"};
	const char *field[7] = {0};

	if (size > 4096)
		return 0;
	setup();
	char *s = malloc(size + 1);
	FUZZ_CHECK(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	size_t nf = 0;
	for (char *p = s; nf < 7 && p <= s + size; p += strlen(p) + 1)
		field[nf++] = p;

	const char *lim = field[5], *off = field[6];
	struct store_conv_filter f = {
	    .q = field[0],
	    .category = field[1] && *field[1] ? field[1] : NULL,
	    .assignee = field[2] && *field[2] ? field[2] : NULL,
	    .status = field[3],
	    .channel = field[4],
	    .overdue = size && (data[0] & 1),
	    .now_ms = 1783299600000,
	    .limit = lim ? atoi(lim) : 50,
	    .offset = off ? atoi(off) : 0,
	};
	if (f.limit <= 0 || f.limit > 500)
		f.limit = 50;
	if (f.offset < 0)
		f.offset = 0;
	if (f.status && *f.status && !one_of(f.status, statuses, 5))
		f.status = NULL; /* api_ui.c answers 400 */
	if (f.channel && *f.channel && !one_of(f.channel, chans, 2))
		f.channel = NULL;
	total(&f);

	struct store_conv_filter all = {.limit = 500, .now_ms = f.now_ms};
	FUZZ_CHECK(total(&all) == 2); /* two contacts, one conversation each */
	free(s);
	return 0;
}
