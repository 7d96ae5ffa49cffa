/* hub_web: the city dashboard over libmicrohttpd, behind a login (users in
 * PostgreSQL, argon2id hashes via libsodium as in daemon/auth.c). It runs
 * on libmicrohttpd's own thread with its own database connection. */
#ifndef SIMPUL_HUB_WEB_H
#define SIMPUL_HUB_WEB_H

#include <libpq-fe.h>
#include <stdatomic.h>

struct hub_web;

/* Serves on 127.0.0.1 (or all addresses if any is set) at port;
 * /healthz answers 200 once *subscribed is set (see hub_mqtt.h). */
struct hub_web *hub_web_start(PGconn *db, int port, int any,
			      atomic_int *subscribed);
void hub_web_stop(struct hub_web *w);

/* The argon2id hash of password for users.hash; 0 on success. */
int hub_web_hash(const char *password, char *out, size_t n);

#endif
