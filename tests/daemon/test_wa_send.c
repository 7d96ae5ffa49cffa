/* Tests of daemon/curlm and daemon/wa_send against tests/fakegraph.py, a
 * fake Graph API started from here: sends, Meta's error codes, media
 * download with its checks, pacing. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "curlm.h"
#include "loop.h"
#include "wa_send.h"

#define TOKEN "EAAtesttoken123"
#define PNID  "109876543210"

struct env {
	pid_t pid;
	char base[128];
	struct loop *l;
	struct curlm *cm;
	struct wa_client *wc;
};

static struct env E;

/* ---- the fake server ---- */

static int start_server(void **state)
{
	int pfd[2];
	char script[512];

	snprintf(script, sizeof(script), "%s/tests/fakegraph.py", SRCDIR);
	if (pipe(pfd) < 0)
		return -1;
	E.pid = fork();
	if (E.pid < 0)
		return -1;
	if (E.pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execlp("python3", "python3", script, "--port", "0", "--token",
		       TOKEN, "--phone-id", PNID, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	/* The first line is the base URL; reading it waits for the bind. */
	size_t n = 0;
	while (n < sizeof(E.base) - 1) {
		ssize_t r = read(pfd[0], E.base + n, 1);
		if (r <= 0 || E.base[n] == '\n')
			break;
		n++;
	}
	E.base[n] = '\0';
	close(pfd[0]);
	if (strncmp(E.base, "http://127.0.0.1:", 17) != 0) {
		fprintf(stderr, "fakegraph did not start (got \"%s\")\n",
			E.base);
		return -1;
	}
	E.l = loop_new();
	E.cm = curlm_new(E.l);
	struct wa_client_cfg cfg = {.graph_url = E.base,
				    .access_token = TOKEN,
				    .phone_number_id = PNID,
				    .timeout_ms = 5000};
	E.wc = wa_client_new(E.cm, &cfg);
	return E.l && E.cm && E.wc ? 0 : -1;
}

static int stop_server(void **state)
{
	wa_client_free(E.wc);
	curlm_free(E.cm);
	loop_free(E.l);
	if (E.pid > 0) {
		kill(E.pid, SIGTERM);
		waitpid(E.pid, NULL, 0);
	}
	return 0;
}

static size_t collect(char *d, size_t sz, size_t n, void *arg)
{
	FILE *f = arg;
	return fwrite(d, sz, n, f);
}

/* Blocking control call (test side only, outside the loop). */
static json_t *control(const char *method, const char *path, const char *body)
{
	char url[256], *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	CURL *c = curl_easy_init();

	snprintf(url, sizeof(url), "%s/_control/%s", E.base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	fclose(f);
	json_t *j = json_loads(buf, 0, NULL);
	free(buf);
	assert_non_null(j);
	return j;
}

static void reset(void)
{
	json_decref(control("POST", "reset", "{}"));
}

static void script(const char *to, long code)
{
	char b[160];

	snprintf(b, sizeof(b), "{\"to\":\"%s\",\"error\":%ld,\"times\":1}", to,
		 code);
	json_decref(control("POST", "script", b));
}

/* Runs the loop until *done; a generous guard turns a hang into a
 * failure instead of a stuck test. */
static void run_until(int *done)
{
	uint64_t guard = loop_now_ms() + 20000;

	while (!*done && loop_now_ms() < guard)
		loop_run_once(E.l, 200);
	assert_true(*done);
}

/* ---- sending ---- */

struct sent {
	int done;
	struct wa_outcome o;
};

static void on_sent(const struct wa_outcome *o, void *arg)
{
	struct sent *s = arg;

	s->o = *o;
	s->done++;
}

static struct wa_outcome send_text(struct wa_client *wc, const char *to,
				   const char *text)
{
	struct sent s = {0};

	assert_int_equal(wa_send_text(wc, to, text, on_sent, &s), 0);
	/* The callback never runs inside the call. */
	assert_int_equal(s.done, 0);
	run_until(&s.done);
	assert_int_equal(s.done, 1);
	return s.o;
}

static void test_send_ok(void **state)
{
	reset();
	struct wa_outcome o =
	    send_text(E.wc, "6281234567890", "Kantor buka pukul 08.00 🙏");

	assert_int_equal(o.result, WA_OK);
	assert_int_equal(o.http_status, 200);
	assert_true(strncmp(o.wamid, "wamid.", 6) == 0);

	/* What reached the server is what Meta expects. */
	json_t *r = control("GET", "requests", NULL);
	assert_int_equal(json_array_size(r), 1);
	json_t *q = json_array_get(r, 0);
	assert_string_equal(json_string_value(json_object_get(q, "method")),
			    "POST");
	assert_string_equal(json_string_value(json_object_get(q, "path")),
			    "/" PNID "/messages");
	assert_string_equal(
	    json_string_value(json_object_get(q, "authorization")),
	    "Bearer " TOKEN);
	json_t *j = json_object_get(q, "json");
	assert_string_equal(
	    json_string_value(json_object_get(j, "messaging_product")),
	    "whatsapp");
	assert_string_equal(
	    json_string_value(json_object_get(j, "recipient_type")),
	    "individual");
	assert_string_equal(json_string_value(json_object_get(j, "to")),
			    "6281234567890");
	assert_string_equal(json_string_value(json_object_get(j, "type")),
			    "text");
	json_t *t = json_object_get(j, "text");
	assert_string_equal(json_string_value(json_object_get(t, "body")),
			    "Kantor buka pukul 08.00 🙏");
	assert_true(json_is_false(json_object_get(t, "preview_url")));
	json_decref(r);
}

/* A graph_url with a version and a trailing slash still reaches the
 * right path. */
static void test_send_versioned_url(void **state)
{
	char url[200];

	reset();
	snprintf(url, sizeof(url), "%s/v21.0/", E.base);
	struct wa_client_cfg cfg = {
	    .graph_url = url, .access_token = TOKEN, .phone_number_id = PNID};
	struct wa_client *wc = wa_client_new(E.cm, &cfg);
	assert_non_null(wc);
	assert_int_equal(send_text(wc, "6281234567890", "halo").result, WA_OK);
	json_t *r = control("GET", "requests", NULL);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(r, 0), "path")),
	    "/v21.0/" PNID "/messages");
	json_decref(r);
	wa_client_free(wc);
}

static void test_send_scripted_errors(void **state)
{
	static const struct {
		long code;
		enum wa_result want;
	} cases[] = {
	    {131047, WA_FALLBACK_SMS}, {131026, WA_FALLBACK_SMS},
	    {131056, WA_RETRY},	       {130429, WA_RETRY},
	    {80007, WA_RETRY},	       {131016, WA_RETRY},
	    {131000, WA_RETRY}, /* HTTP 500 */
	    {190, WA_TOKEN_EXPIRED},   {131009, WA_FAILED},
	};

	reset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		script("6281234567890", cases[i].code);
		struct wa_outcome o =
		    send_text(E.wc, "6281234567890", "tes error");
		if (o.result != cases[i].want)
			fail_msg("error %ld gave %s, want %s (%s)",
				 cases[i].code, wa_result_name(o.result),
				 wa_result_name(cases[i].want), o.error_text);
		assert_int_equal(o.error_code, cases[i].code);
		char want[16];
		snprintf(want, sizeof(want), "%ld", cases[i].code);
		assert_non_null(strstr(o.error_text, want));
		assert_int_equal(o.wamid[0], '\0');
		if (o.result == WA_RETRY)
			assert_true(o.retry_after_ms >= 1000);
	}
	/* Scripts are used up: the next send goes through. */
	assert_int_equal(send_text(E.wc, "6281234567890", "lagi").result,
			 WA_OK);
}

static void test_send_token_rejected(void **state)
{
	struct wa_client_cfg cfg = {.graph_url = E.base,
				    .access_token = "EAAexpired",
				    .phone_number_id = PNID};
	struct wa_client *wc = wa_client_new(E.cm, &cfg);

	reset();
	struct wa_outcome o = send_text(wc, "6281234567890", "halo");
	assert_int_equal(o.result, WA_TOKEN_EXPIRED);
	assert_int_equal(o.error_code, 190);
	assert_int_equal(o.http_status, 401);
	wa_client_free(wc);
}

/* Meta refuses a text over 4096 characters with a parameter error: the
 * message fails and says why, it is not retried forever. */
static void test_send_too_long(void **state)
{
	char *text = malloc(4098);

	memset(text, 'a', 4097);
	text[4097] = '\0';
	reset();
	struct wa_outcome o = send_text(E.wc, "6281234567890", text);
	assert_int_equal(o.result, WA_FAILED);
	assert_int_equal(o.error_code, 100);
	assert_non_null(strstr(o.error_text, "4096"));
	text[4096] = '\0';
	assert_int_equal(send_text(E.wc, "6281234567890", text).result, WA_OK);
	free(text);
}

static void test_send_bad_recipient(void **state)
{
	reset();
	struct wa_outcome o = send_text(E.wc, "0812-abc", "halo");
	assert_int_equal(o.result, WA_FAILED);
	assert_int_equal(o.error_code, 100);
	/* A business-scoped user id is a valid recipient. */
	assert_int_equal(send_text(E.wc, "ID.1502576394655843", "halo").result,
			 WA_OK);
	/* Empty text or recipient: refused before any request. */
	struct sent s = {0};
	assert_int_equal(wa_send_text(E.wc, "6281234567890", "", on_sent, &s),
			 -1);
	assert_int_equal(wa_send_text(E.wc, NULL, "x", on_sent, &s), -1);
}

static void test_send_network_errors(void **state)
{
	/* Connection dropped without an answer. */
	reset();
	json_decref(control("POST", "script",
			    "{\"to\":\"6281234567890\",\"action\":\"drop\"}"));
	struct wa_outcome o = send_text(E.wc, "6281234567890", "halo");
	/* The request went out, the answer broke off: Meta may have sent
	 * it, so it is not retried by itself (one copy at most). */
	assert_int_equal(o.result, WA_UNKNOWN);
	assert_int_equal(o.wamid[0], '\0');
	assert_int_equal(o.retry_after_ms, 0);
	assert_non_null(strstr(o.error_text, "Graph API request failed"));

	/* Nothing listening: nothing went out, safe to retry. */
	struct wa_client_cfg cfg = {.graph_url = "http://127.0.0.1:1",
				    .access_token = TOKEN,
				    .phone_number_id = PNID};
	struct wa_client *wc = wa_client_new(E.cm, &cfg);
	o = send_text(wc, "6281234567890", "halo");
	assert_int_equal(o.result, WA_RETRY);
	wa_client_free(wc);

	/* An answer slower than the timeout. */
	cfg.graph_url = E.base;
	cfg.timeout_ms = 300;
	wc = wa_client_new(E.cm, &cfg);
	json_decref(control("POST", "script",
			    "{\"to\":\"6281234567890\",\"error\":131009,"
			    "\"delay_ms\":2000}"));
	o = send_text(wc, "6281234567890", "halo");
	assert_int_equal(o.result, WA_UNKNOWN); /* sent, no answer in time */
	wa_client_free(wc);
}

/* Several sends in flight at once all complete, each with its own id. */
static void test_send_concurrent(void **state)
{
	struct sent s[6] = {{0}};
	int done = 0;

	reset();
	for (int i = 0; i < 6; i++) {
		char to[32];
		snprintf(to, sizeof(to), "62812000000%02d", i);
		assert_int_equal(
		    wa_send_text(E.wc, to, "serentak", on_sent, &s[i]), 0);
	}
	assert_int_equal(curlm_pending(E.cm), 6);
	uint64_t guard = loop_now_ms() + 20000;
	while (!done && loop_now_ms() < guard) {
		loop_run_once(E.l, 200);
		done = 1;
		for (int i = 0; i < 6; i++)
			done &= s[i].done == 1;
	}
	assert_true(done);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(s[i].o.result, WA_OK);
		for (int k = 0; k < i; k++)
			assert_string_not_equal(s[i].o.wamid, s[k].o.wamid);
	}
	assert_int_equal(curlm_pending(E.cm), 0);
}

/* ---- classification without a server ---- */

static void test_classify(void **state)
{
	struct wa_outcome o;
	const char *ok = "{\"messaging_product\":\"whatsapp\",\"messages\":"
			 "[{\"id\":\"wamid.X1\"}]}";

	wa_classify(200, ok, strlen(ok), NULL, &o);
	assert_int_equal(o.result, WA_OK);
	assert_string_equal(o.wamid, "wamid.X1");
	/* Accepted without an id: not resent (could duplicate). */
	wa_classify(200, "{}", 2, NULL, &o);
	assert_int_equal(o.result, WA_FAILED);
	/* A proxy's HTML 502 or 503 is temporary. */
	wa_classify(502, "<html>Bad gateway</html>", 24, NULL, &o);
	assert_int_equal(o.result, WA_RETRY);
	wa_classify(429, "", 0, NULL, &o);
	assert_int_equal(o.result, WA_RETRY);
	wa_classify(404, "", 0, NULL, &o);
	assert_int_equal(o.result, WA_FAILED);
	wa_classify(0, NULL, 0, "Could not resolve host", &o);
	assert_int_equal(o.result, WA_RETRY);
	assert_non_null(strstr(o.error_text, "Could not resolve host"));
}

/* ---- media ---- */

struct got_media {
	int done;
	enum wa_result result;
	unsigned char data[256];
	size_t len;
	char mime[64];
	char error[400];
	FILE *file; /* where the bytes go */
};

static void on_media(const struct wa_media_res *r, void *arg)
{
	struct got_media *g = arg;

	g->done++;
	g->result = r->result;
	snprintf(g->error, sizeof(g->error), "%s", r->error);
	snprintf(g->mime, sizeof(g->mime), "%s",
		 r->mime_type ? r->mime_type : "");
	g->len = r->len;
	if (r->result == WA_OK && r->len <= sizeof(g->data))
		assert_int_equal(pread(fileno(g->file), g->data, r->len, 0),
				 (ssize_t)r->len);
}

static struct got_media got_new(void)
{
	struct got_media g = {.file = tmpfile()};

	assert_non_null(g.file);
	return g;
}

/* 16 bytes with a NUL in the middle. Its SHA-256, in hex and base64, was
 * computed with Python's hashlib, independently of the code under test. */
static const unsigned char BYTES[] = "\xff\xd8\xff\xe0"
				     "KTP\0scan"
				     "\x01\x02"
				     "\x03\x04";
#define BYTES_B64 "/9j/4EtUUABzY2FuAQIDBA=="
#define BYTES_SHA_HEX                                                          \
	"1c069a88b83a07985cabb31a8229f2d9a92abed3aecf0600a90eeccee9ad8df5"
#define BYTES_SHA_B64 "HAaaiLg6B5hcq7Maginy2akqvtOuzwYAqQ7szumtjfU="
/* A well-formed hash of other bytes (SHA-256 of "hello"). */
#define BYTES_HEX                                                              \
	"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

static void add_media(const char *id, const char *extra)
{
	char b[512];

	snprintf(b, sizeof(b),
		 "{\"id\":\"%s\",\"data_b64\":\"" BYTES_B64
		 "\",\"mime_type\":\"image/jpeg\"%s}",
		 id, extra ? extra : "");
	json_decref(control("POST", "media", b));
}

static struct got_media fetch(const char *id, const char *expect, size_t max)
{
	struct got_media g = got_new();

	assert_int_equal(
	    wa_media_fetch(E.wc, id, expect, max, fileno(g.file), on_media, &g),
	    0);
	run_until(&g.done);
	assert_int_equal(g.done, 1);
	fclose(g.file);
	g.file = NULL;
	return g;
}

static void test_media_ok(void **state)
{
	reset();
	add_media("1017373159671122", NULL);
	struct got_media g = fetch("1017373159671122", BYTES_SHA_HEX, 1024);
	if (g.result != WA_OK)
		fail_msg("download failed: %s", g.error);
	assert_int_equal(g.len, sizeof(BYTES) - 1);
	assert_memory_equal(g.data, BYTES, g.len);
	assert_string_equal(g.mime, "image/jpeg");

	/* Both requests carried the bearer token. */
	json_t *r = control("GET", "requests", NULL);
	assert_int_equal(json_array_size(r), 2);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(json_string_value(json_object_get(
					json_array_get(r, i), "authorization")),
				    "Bearer " TOKEN);
	json_decref(r);

	/* The same hash in base64, as webhooks also carry it. */
	assert_int_equal(fetch("1017373159671122", BYTES_SHA_B64, 1024).result,
			 WA_OK);
	assert_int_equal(
	    wa_sha256_check(BYTES, sizeof(BYTES) - 1, BYTES_SHA_B64), 0);
	assert_int_equal(
	    wa_sha256_check(BYTES, sizeof(BYTES) - 1, BYTES_SHA_HEX), 0);
}

/* A config reload replaces the client while a download is under way: the
 * download still completes. */
static void test_media_client_replaced(void **state)
{
	struct wa_client_cfg cfg = {.graph_url = E.base,
				    .access_token = TOKEN,
				    .phone_number_id = PNID};
	struct wa_client *wc = wa_client_new(E.cm, &cfg);
	struct got_media g = got_new();

	reset();
	add_media("500", NULL);
	assert_int_equal(
	    wa_media_fetch(wc, "500", NULL, 1024, fileno(g.file), on_media, &g),
	    0);
	wa_client_free(wc);
	run_until(&g.done);
	fclose(g.file);
	assert_int_equal(g.result, WA_OK);
	assert_memory_equal(g.data, BYTES, sizeof(BYTES) - 1);
}

static void test_media_sha_mismatch(void **state)
{
	reset();
	/* Meta's metadata announces a different hash: corrupt download. */
	add_media("200", ",\"sha256\":\"" BYTES_HEX "\"");
	struct got_media g = fetch("200", NULL, 1024);
	assert_int_equal(g.result, WA_FAILED);
	assert_non_null(strstr(g.error, "SHA-256"));

	/* Metadata fine, but the webhook's hash differs. */
	add_media("201", NULL);
	g = fetch("201", BYTES_HEX, 1024);
	assert_int_equal(g.result, WA_FAILED);
	assert_non_null(strstr(g.error, "webhook"));
	/* Garbage instead of a hash never matches. */
	assert_int_equal(wa_sha256_check(BYTES, 4, "not-a-hash"), -1);
}

static void test_media_limits(void **state)
{
	reset();
	add_media("300", NULL);
	/* Announced size over the limit: refused before downloading. */
	struct got_media g = fetch("300", NULL, 8);
	assert_int_equal(g.result, WA_FAILED);
	assert_non_null(strstr(g.error, "too large"));
	json_t *r = control("GET", "requests", NULL);
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);

	/* A file_size that lies: the download itself is cut off. */
	add_media("301", ",\"file_size\":4");
	g = fetch("301", NULL, 8);
	assert_int_equal(g.result, WA_FAILED);
	assert_non_null(strstr(g.error, "larger than 8 bytes"));
}

static void test_media_errors(void **state)
{
	reset();
	struct got_media g = fetch("999", NULL, 1024);
	assert_int_equal(g.result, WA_FAILED);
	assert_non_null(strstr(g.error, "100"));

	add_media("400", NULL);
	script("media:400", 190);
	assert_int_equal(fetch("400", NULL, 1024).result, WA_TOKEN_EXPIRED);
	script("media:400", 131016);
	assert_int_equal(fetch("400", NULL, 1024).result, WA_RETRY);
	/* A file that cannot be written (here: opened read-only) is worth
	 * another try later, not a lost download. */
	struct got_media w = got_new();
	int ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(
	    wa_media_fetch(E.wc, "400", NULL, 1024, ro, on_media, &w), 0);
	run_until(&w.done);
	close(ro);
	fclose(w.file);
	assert_int_equal(w.result, WA_RETRY);
	assert_non_null(strstr(w.error, "cannot write"));
	/* A path-like id is refused without a request. */
	struct got_media x = {0};
	assert_int_equal(
	    wa_media_fetch(E.wc, "../me", NULL, 10, 1, on_media, &x), -1);
}

/* ---- curlm ---- */

struct raw {
	int done;
	long status;
	char error[256];
	size_t len;
};

static void on_raw(const struct curlm_res *r, void *arg)
{
	struct raw *x = arg;

	x->done++;
	x->status = r->status;
	x->len = r->len;
	snprintf(x->error, sizeof(x->error), "%s", r->error ? r->error : "");
}

static void test_curlm_limits(void **state)
{
	char url[200];
	struct raw x = {0};

	reset();
	snprintf(url, sizeof(url), "%s/_control/requests", E.base);
	/* Fill the request log so the answer is a few kB. */
	for (int i = 0; i < 5; i++)
		send_text(E.wc, "6281234567890", "isi log permintaan");
	struct curlm_req req = {.url = url, .max_response = 100};
	assert_int_equal(curlm_request(E.cm, &req, on_raw, &x), 0);
	run_until(&x.done);
	assert_non_null(strstr(x.error, "larger than 100 bytes"));

	memset(&x, 0, sizeof(x));
	req.max_response = 0;
	assert_int_equal(curlm_request(E.cm, &req, on_raw, &x), 0);
	run_until(&x.done);
	assert_string_equal(x.error, "");
	assert_int_equal(x.status, 200);
	assert_true(x.len > 100);

	struct curlm_req bad = {.url = NULL};
	assert_int_equal(curlm_request(E.cm, &bad, on_raw, &x), -1);
}

struct sunk {
	unsigned char data[64];
	size_t len;
	int calls, fail;
};

static int sink(const void *data, size_t len, void *arg)
{
	struct sunk *k = arg;

	k->calls++;
	if (k->fail || len > sizeof(k->data) - k->len)
		return -1;
	memcpy(k->data + k->len, data, len);
	k->len += len;
	return 0;
}

struct sunk_res {
	int done;
	long status;
	size_t len, sunk;
	int sink_failed;
	char error[256];
};

static void on_sunk(const struct curlm_res *r, void *arg)
{
	struct sunk_res *x = arg;

	x->done++;
	x->status = r->status;
	x->len = r->len;
	x->sunk = r->sunk;
	x->sink_failed = r->sink_failed;
	snprintf(x->error, sizeof(x->error), "%s", r->error ? r->error : "");
}

static struct sunk_res get_sunk(const char *path, struct sunk *k, size_t max)
{
	char url[200];
	struct sunk_res x = {0};

	snprintf(url, sizeof(url), "%s%s", E.base, path);
	struct curlm_req req = {
	    .url = url,
	    .headers =
		(const char *const[]){"Authorization: Bearer " TOKEN, NULL},
	    .max_response = max,
	    .sink = sink,
	    .sink_arg = k};
	assert_int_equal(curlm_request(E.cm, &req, on_sunk, &x), 0);
	run_until(&x.done);
	return x;
}

/* A sink gets a 2xx body instead of memory; an error answer is still
 * kept for the caller to read; a sink's -1 and max_response end it. */
static void test_curlm_sink(void **state)
{
	struct sunk k = {0};

	reset();
	add_media("600", NULL);
	struct sunk_res x = get_sunk("/_media/600", &k, 0);
	assert_string_equal(x.error, "");
	assert_int_equal(x.status, 200);
	assert_int_equal(x.len, 0);
	assert_int_equal(x.sunk, sizeof(BYTES) - 1);
	assert_int_equal(k.len, sizeof(BYTES) - 1);
	assert_memory_equal(k.data, BYTES, k.len);

	memset(&k, 0, sizeof(k));
	x = get_sunk("/_media/601", &k, 0); /* no such media: 404 */
	assert_int_equal(x.status, 404);
	assert_true(x.len > 0);
	assert_int_equal(k.calls, 0);

	k.fail = 1;
	x = get_sunk("/_media/600", &k, 0);
	assert_int_equal(x.sink_failed, 1);
	assert_non_null(strstr(x.error, "could not take"));

	memset(&k, 0, sizeof(k));
	x = get_sunk("/_media/600", &k, 8);
	assert_non_null(strstr(x.error, "larger than 8 bytes"));
	assert_true(k.len <= 8);
}

/* Shutting down with requests in flight: every callback still runs once,
 * so its owner can free what it holds. */
static void test_curlm_cancel(void **state)
{
	struct loop *l = loop_new();
	struct curlm *cm = curlm_new(l);
	struct raw x[3] = {{0}};
	char url[200];

	snprintf(url, sizeof(url), "%s/_control/requests", E.base);
	struct curlm_req req = {.url = url};
	for (int i = 0; i < 3; i++)
		assert_int_equal(curlm_request(cm, &req, on_raw, &x[i]), 0);
	curlm_free(cm);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(x[i].done, 1);
		assert_string_equal(x[i].error, "cancelled");
	}
	loop_free(l);
}

/* ---- pacing ---- */

static void test_pacer(void **state)
{
	struct wa_pacer *p = wa_pacer_new(6000);

	assert_int_equal(wa_pacer_take(p, "6281234567890", 1000), 0);
	/* Same user 1 s later: wait the remaining 5 s, nothing booked. */
	assert_int_equal(wa_pacer_take(p, "6281234567890", 2000), 5000);
	assert_int_equal(wa_pacer_take(p, "6281234567890", 6999), 1);
	/* Other users are not held up. */
	assert_int_equal(wa_pacer_take(p, "6285700001111", 2000), 0);
	/* After the interval the first user may get the next one. */
	assert_int_equal(wa_pacer_take(p, "6281234567890", 7000), 0);
	assert_int_equal(wa_pacer_take(p, "6281234567890", 7000), 6000);
	/* Many recipients: each paced on its own. */
	for (int i = 0; i < 100; i++) {
		char to[32];
		snprintf(to, sizeof(to), "6281300000%03d", i);
		assert_int_equal(wa_pacer_take(p, to, 10000), 0);
		assert_int_equal(wa_pacer_take(p, to, 10001), 5999);
	}
	wa_pacer_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_ok),
	    cmocka_unit_test(test_send_versioned_url),
	    cmocka_unit_test(test_send_scripted_errors),
	    cmocka_unit_test(test_send_token_rejected),
	    cmocka_unit_test(test_send_too_long),
	    cmocka_unit_test(test_send_bad_recipient),
	    cmocka_unit_test(test_send_network_errors),
	    cmocka_unit_test(test_send_concurrent),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_media_ok),
	    cmocka_unit_test(test_media_client_replaced),
	    cmocka_unit_test(test_media_sha_mismatch),
	    cmocka_unit_test(test_media_limits),
	    cmocka_unit_test(test_media_errors),
	    cmocka_unit_test(test_curlm_limits),
	    cmocka_unit_test(test_curlm_sink),
	    cmocka_unit_test(test_curlm_cancel),
	    cmocka_unit_test(test_pacer),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
