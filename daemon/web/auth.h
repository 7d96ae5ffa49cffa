/* auth: staff users, sessions and login throttling for the web inbox.
 * Passwords are argon2id (libsodium crypto_pwhash_str); a session is a
 * random 256-bit token in an HttpOnly, SameSite=Strict cookie of which the
 * store keeps only a hash; every write from the TCP listener must echo the
 * session's CSRF token in X-CSRF-Token (double submit). */
#ifndef SIMPUL_AUTH_H
#define SIMPUL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct store;
struct http_req;
struct http_resp;
struct store_user;

#define AUTH_COOKIE	"simpul_session"
#define AUTH_TOKEN_HEX	65 /* 64 hex digits and NUL */
#define AUTH_SESSION_MS (12LL * 3600 * 1000)
/* Failed logins: a growing delay (1 s, 2 s, 4 s...) after a few free
 * tries, at most AUTH_LOCK_MS for one client, at most
 * AUTH_ACCOUNT_CAP_MS for an account tried from everywhere (so no one can
 * lock the real user out); forgotten AUTH_LOCK_MS after the last one. */
#define AUTH_LOCK_MS	    (15LL * 60 * 1000)
#define AUTH_ACCOUNT_CAP_MS (30LL * 1000)

struct auth;

enum auth_result {
	AUTH_OK,
	AUTH_BAD,
	AUTH_LOCKED,  /* too many failures just now: wait */
	AUTH_BUSY,    /* every hash slot and queue place taken: retry soon */
	AUTH_PENDING, /* being checked off the loop: the callback answers */
	AUTH_ERR,
};

/* Passwords are checked on hashes worker threads, with queue more
 * logins waiting for them (worker.h): an argon2id hash never runs on the
 * poll loop. */
struct auth *auth_new(struct store *st, int64_t (*clock_ms)(void),
		      struct loop *l, int hashes, int queue);
/* Lets the hashes being computed finish and answers every login still
 * waiting (their callbacks run, with AUTH_BUSY for those never started);
 * before http_free, whose connections must not be left suspended. */
void auth_stop(struct auth *a);
void auth_free(struct auth *a);

/* argon2id hash string of a password, made off the loop like a login's
 * check: AUTH_PENDING, then cb(ud, hash) once, later, on the loop (hash
 * NULL when it failed or simpuld is stopping); AUTH_BUSY when every hash
 * slot and queue place is taken, AUTH_ERR (no memory): cb never called. */
typedef void (*auth_hash_cb)(void *ud, const char *hash);
enum auth_result auth_hash_start(struct auth *a, const char *password,
				 auth_hash_cb cb, void *ud);

/* The outcome of a login: token (for the cookie) and csrf on AUTH_OK,
 * retry_s on AUTH_LOCKED and AUTH_BUSY (wait that long). */
struct auth_login {
	enum auth_result result;
	char token[AUTH_TOKEN_HEX];
	char csrf[AUTH_TOKEN_HEX];
	int64_t retry_s;
};
typedef void (*auth_login_cb)(void *ud, const struct auth_login *res);

/* Starts checking a password. AUTH_PENDING: the hash runs on a worker
 * thread and cb(ud, res) is called once, later, on the loop, with the
 * outcome (a session opened on AUTH_OK). Anything else is the outcome at
 * once, in *res, and cb is never called. */
enum auth_result auth_login_start(struct auth *a, const char *user,
				  const char *password, const char *peer,
				  auth_login_cb cb, void *ud,
				  struct auth_login *res);
/* The session of the request's cookie: STORE_OK with user and csrf. */
int auth_session(struct auth *a, struct http_req *req, struct store_user *u,
		 char csrf[AUTH_TOKEN_HEX]);
int auth_logout(struct auth *a, struct http_req *req);

/* The http auth hook (http_set_auth(h, auth_http_check, a)): 401 (API) or
 * a redirect to /login (pages) without a session, 403 on a write without
 * the right X-CSRF-Token. */
bool auth_http_check(void *ud, struct http_req *req, struct http_resp *resp);

/* "Set-Cookie" values that open and close a session; secure when the
 * inbox is reached over HTTPS (http_is_https), so the browser never sends
 * the session over plain HTTP. */
void auth_cookie(const char *token, bool secure, char *out, size_t outlen);
void auth_cookie_clear(bool secure, char *out, size_t outlen);

#endif
