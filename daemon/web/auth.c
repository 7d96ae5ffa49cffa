/* auth: argon2id passwords, hashed session tokens, CSRF, throttling. */
#include "auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "store.h"
#include "store_ui.h"
#include "worker.h"

/* Failed logins by key, kept in memory: a restart forgets them, which is
 * fine for an office PC's brute force protection and costs no disk write
 * per attempt. Failures are slowed down with a growing delay, never met
 * with a hard lock that anyone could set off against a real user: per
 * client and account together (a guesser), per client (one address trying
 * many names) and per account (many addresses, one name: a short cap, so
 * the real user waits seconds, not a quarter of an hour). */
struct throttle {
	char key[160];
	int fails;
	int64_t last, wait_until;
};

struct throttle_rule {
	char prefix;	/* 'a' client+account, 'p' client, 'u' account */
	int free_tries; /* failures before any delay */
	int64_t cap_ms; /* the longest delay */
};

static const struct throttle_rule rules[] = {
    {'a', 3, AUTH_LOCK_MS},
    {'p', 10, AUTH_LOCK_MS},
    {'u', 5, AUTH_ACCOUNT_CAP_MS},
};

#define NTHROTTLE 256

struct auth {
	struct store *st;
	int64_t (*clock_ms)(void);
	struct worker *hasher; /* NULL once stopped */
	struct throttle t[NTHROTTLE];
};

/* Unknown user names are checked against this argon2id hash (of a random
 * word, with the same parameters as real ones), so that they take as long
 * as known ones and do not reveal which names exist. A constant, so start-up
 * does not spend 64 MiB computing it. */
static const char dummy_hash[crypto_pwhash_STRBYTES] =
    "$argon2id$v=19$m=65536,t=2,p=1$y3WlmLteJol1aN0qR0NFww$"
    "9s/GV/B7DE9LGoEBzu9nD3EF9i0DqQ7P1INmIgpxSGE";

struct auth *auth_new(struct store *st, int64_t (*clock_ms)(void),
		      struct loop *l, int hashes, int queue)
{
	struct auth *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->st = st;
	a->clock_ms = clock_ms;
	a->hasher = worker_new(l, hashes, queue);
	if (!a->hasher) {
		free(a);
		return NULL;
	}
	return a;
}

void auth_stop(struct auth *a)
{
	if (!a)
		return;
	worker_free(a->hasher);
	a->hasher = NULL;
}

void auth_free(struct auth *a)
{
	auth_stop(a);
	free(a);
}

/* A job that held a password (or its hash) leaves no copy in the heap. */
static void wipe_free(void *p, size_t n)
{
	sodium_memzero(p, n);
	free(p);
}

/* A new password's hash, made on a worker thread (worker.h). */
struct hash_job {
	char password[256];
	char hash[crypto_pwhash_STRBYTES];
	bool ok;
	auth_hash_cb cb;
	void *ud;
};

static void hash_run(void *arg)
{
	struct hash_job *j = arg;

	j->ok = crypto_pwhash_str_alg(j->hash, j->password, strlen(j->password),
				      crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE,
				      crypto_pwhash_ALG_ARGON2ID13) == 0;
	sodium_memzero(j->password, sizeof(j->password));
}

static void hash_done(void *arg, bool ran)
{
	struct hash_job *j = arg;

	j->cb(j->ud, ran && j->ok ? j->hash : NULL);
	wipe_free(j, sizeof(*j));
}

enum auth_result auth_hash_start(struct auth *a, const char *password,
				 auth_hash_cb cb, void *ud)
{
	struct hash_job *j = calloc(1, sizeof(*j));

	if (!j)
		return AUTH_ERR;
	snprintf(j->password, sizeof(j->password), "%s", password);
	j->cb = cb;
	j->ud = ud;
	if (!a->hasher || worker_submit(a->hasher, hash_run, hash_done, j)) {
		wipe_free(j, sizeof(*j));
		return AUTH_BUSY;
	}
	return AUTH_PENDING;
}

static void hex_random(char out[AUTH_TOKEN_HEX])
{
	unsigned char b[32];

	randombytes_buf(b, sizeof(b));
	sodium_bin2hex(out, AUTH_TOKEN_HEX, b, sizeof(b));
	sodium_memzero(b, sizeof(b));
}

/* The store keeps BLAKE2b(token) only: a copy of the database does not
 * hand out live sessions. */
static void token_hash(const char *token, char out[AUTH_TOKEN_HEX])
{
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token,
			   strlen(token), NULL, 0);
	sodium_bin2hex(out, AUTH_TOKEN_HEX, h, sizeof(h));
}

/* ---- throttling -------------------------------------------------------- */

static struct throttle *throttle_find(struct auth *a, const char *key,
				      bool create)
{
	struct throttle *free_slot = NULL, *oldest = &a->t[0];
	int64_t now = a->clock_ms();

	for (int i = 0; i < NTHROTTLE; i++) {
		struct throttle *t = &a->t[i];
		if (t->key[0] && strcmp(t->key, key) == 0)
			return t;
		if (!t->key[0] && !free_slot)
			free_slot = t;
		if (t->wait_until < now && t->last < oldest->last)
			oldest = t;
	}
	if (!create)
		return NULL;
	struct throttle *t = free_slot ? free_slot : oldest;
	memset(t, 0, sizeof(*t));
	snprintf(t->key, sizeof(t->key), "%s", key);
	t->last = now;
	return t;
}

static int64_t locked_for(struct auth *a, const char *key)
{
	struct throttle *t = throttle_find(a, key, false);
	int64_t now = a->clock_ms();

	return t && t->wait_until > now ? t->wait_until - now : 0;
}

/* One more failure: after the free tries, 1 s, 2 s, 4 s... up to the
 * cap; forgotten after AUTH_LOCK_MS without failures. */
static void throttle_fail(struct auth *a, const char *key,
			  const struct throttle_rule *r)
{
	struct throttle *t = throttle_find(a, key, true);
	int64_t now = a->clock_ms();

	if (now - t->last > AUTH_LOCK_MS)
		t->fails = 0;
	t->last = now;
	int over = ++t->fails - r->free_tries;
	if (over <= 0)
		return;
	int64_t delay = 1000LL << (over > 20 ? 20 : over - 1);
	t->wait_until = now + (delay < r->cap_ms ? delay : r->cap_ms);
}

static void throttle_clear(struct auth *a, const char *key)
{
	struct throttle *t = throttle_find(a, key, false);

	if (t)
		memset(t, 0, sizeof(*t));
}

static void throttle_keys(const char *user, const char *peer, char keys[3][160])
{
	snprintf(keys[0], 160, "a:%.60s|%.64s", user, peer ? peer : "");
	snprintf(keys[1], 160, "p:%.64s", peer ? peer : "");
	snprintf(keys[2], 160, "u:%.60s", user);
}

/* ---- login ------------------------------------------------------------- */

/* A login on its way through the hasher. The worker thread reads hash
 * and password and writes ok, nothing else; the rest is the loop's. */
struct login_job {
	struct auth *a;
	char user[64], peer[64];
	char password[256];
	char hash[192];
	int64_t uid; /* 0: no such user, checked against dummy_hash */
	bool ok;
	auth_login_cb cb;
	void *ud;
};

static void login_run(void *arg)
{
	struct login_job *j = arg;

	j->ok = crypto_pwhash_str_verify(j->uid ? j->hash : dummy_hash,
					 j->password, strlen(j->password)) == 0;
	sodium_memzero(j->password, sizeof(j->password));
}

/* The user may have been disabled, deleted or given a new password while
 * the hash ran: only the account as it is now counts. */
static bool still_same(struct login_job *j, int r, const struct store_user *u)
{
	return r == STORE_OK && j->uid && u->id == j->uid && !u->disabled &&
	       strcmp(u->hash, j->hash) == 0;
}

static enum auth_result login_finish(struct login_job *j,
				     struct auth_login *res)
{
	struct auth *a = j->a;
	char keys[3][160], th[AUTH_TOKEN_HEX];
	struct store_user u;
	int64_t now = a->clock_ms();

	int r = store_user_get(a->st, j->user, &u);
	if (r == STORE_ERR)
		return AUTH_ERR;
	throttle_keys(j->user, j->peer, keys);
	if (!j->ok || !still_same(j, r, &u)) {
		for (int i = 0; i < 3; i++)
			throttle_fail(a, keys[i], &rules[i]);
		return AUTH_BAD;
	}
	throttle_clear(a, keys[0]);
	throttle_clear(a, keys[2]);
	hex_random(res->token);
	hex_random(res->csrf);
	token_hash(res->token, th);
	store_session_purge(a->st, now);
	if (store_session_add(a->st, th, u.id, res->csrf, j->peer, now,
			      now + AUTH_SESSION_MS))
		return AUTH_ERR;
	return AUTH_OK;
}

static void login_done(void *arg, bool ran)
{
	struct login_job *j = arg;
	struct auth_login res = {.retry_s = 1};

	/* Not ran: simpuld is stopping; the client may try again. */
	res.result = ran ? login_finish(j, &res) : AUTH_BUSY;
	j->cb(j->ud, &res);
	sodium_memzero(&res, sizeof(res));
	wipe_free(j, sizeof(*j));
}

static int64_t throttled_for(struct auth *a, const char *user, const char *peer)
{
	char keys[3][160];
	int64_t wait = 0;

	throttle_keys(user, peer, keys);
	for (int i = 0; i < 3; i++) {
		int64_t w = locked_for(a, keys[i]);
		if (w > wait)
			wait = w;
	}
	return wait;
}

static struct login_job *login_job_new(struct auth *a, const char *user,
				       const char *password, const char *peer,
				       const struct store_user *u)
{
	struct login_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->a = a;
	snprintf(j->user, sizeof(j->user), "%s", user);
	snprintf(j->peer, sizeof(j->peer), "%s", peer ? peer : "");
	snprintf(j->password, sizeof(j->password), "%s", password);
	if (u) {
		j->uid = u->id;
		snprintf(j->hash, sizeof(j->hash), "%s", u->hash);
	}
	return j;
}

enum auth_result auth_login_start(struct auth *a, const char *user,
				  const char *password, const char *peer,
				  auth_login_cb cb, void *ud,
				  struct auth_login *res)
{
	struct store_user u;
	int64_t wait = throttled_for(a, user, peer);

	memset(res, 0, sizeof(*res));
	if (wait > 0) {
		res->retry_s = (wait + 999) / 1000;
		return res->result = AUTH_LOCKED;
	}
	int r = store_user_get(a->st, user, &u);
	if (r == STORE_ERR)
		return res->result = AUTH_ERR;
	struct login_job *j =
	    login_job_new(a, user, password, peer, r == STORE_OK ? &u : NULL);
	if (!j)
		return res->result = AUTH_ERR;
	j->cb = cb;
	j->ud = ud;
	if (!a->hasher || worker_submit(a->hasher, login_run, login_done, j)) {
		wipe_free(j, sizeof(*j));
		res->retry_s = 1;
		return res->result = AUTH_BUSY;
	}
	return res->result = AUTH_PENDING;
}

int auth_session(struct auth *a, struct http_req *req, struct store_user *u,
		 char csrf[AUTH_TOKEN_HEX])
{
	const char *tok = http_cookie(req, AUTH_COOKIE);
	char th[AUTH_TOKEN_HEX];

	if (!tok || strlen(tok) != AUTH_TOKEN_HEX - 1)
		return STORE_NOTFOUND;
	token_hash(tok, th);
	return store_session_get(a->st, th, a->clock_ms(), u, csrf,
				 AUTH_TOKEN_HEX);
}

int auth_logout(struct auth *a, struct http_req *req)
{
	const char *tok = http_cookie(req, AUTH_COOKIE);
	char th[AUTH_TOKEN_HEX];

	if (!tok)
		return STORE_NOTFOUND;
	token_hash(tok, th);
	return store_session_del(a->st, th);
}

void auth_cookie(const char *token, bool secure, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 AUTH_COOKIE "=%s; HttpOnly; SameSite=Strict; Path=/;"
			     " Max-Age=%lld%s",
		 token, AUTH_SESSION_MS / 1000, secure ? "; Secure" : "");
}

void auth_cookie_clear(bool secure, char *out, size_t outlen)
{
	snprintf(out, outlen,
		 AUTH_COOKIE "=; HttpOnly; SameSite=Strict; Path=/;"
			     " Max-Age=0%s",
		 secure ? "; Secure" : "");
}

/* ---- the hook ---------------------------------------------------------- */

static bool is_read(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

bool auth_http_check(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct auth *a = ud;
	struct store_user u;
	char csrf[AUTH_TOKEN_HEX];

	if (auth_session(a, req, &u, csrf) != STORE_OK) {
		if (strncmp(http_path(req), "/api/", 5) == 0) {
			http_error(resp, 401, "login required");
		} else {
			http_text(resp, 303, "Silakan masuk: /login\n");
			http_add_header(resp, "Location", "/login");
		}
		return false;
	}
	if (!is_read(http_method(req))) {
		const char *h = http_header(req, "X-CSRF-Token");
		if (!h || strlen(h) != strlen(csrf) ||
		    sodium_memcmp(h, csrf, strlen(csrf)) != 0) {
			http_error(resp, 403, "missing or wrong X-CSRF-Token");
			return false;
		}
	}
	http_set_user(req, u.name);
	return true;
}
