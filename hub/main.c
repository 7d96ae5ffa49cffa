/* simpul-hub: events from every kelurahan office, over MQTT, into
 * PostgreSQL, and the city dashboard.
 *
 * usage: simpul-hub [--config FILE]          run
 *        simpul-hub [--config FILE] --add-user NAME   password on stdin
 *        simpul-hub [--config FILE] --migrate          schema only */
#include <getopt.h>
#include <iniparser.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_db.h"
#include "hub_log.h"
#include "hub_mqtt.h"
#include "hub_web.h"

#ifndef HUB_SYSCONFDIR
#define HUB_SYSCONFDIR "/etc/simpul"
#endif

static volatile sig_atomic_t stop;
static atomic_int subscribed;

void hub_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("simpul-hub: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void on_signal(int signo)
{
	stop = 1;
}

static const char *str(dictionary *d, const char *key, const char *def)
{
	const char *v = d ? iniparser_getstring(d, key, def) : def;

	return v && *v ? v : def;
}

static int add_user(PGconn *db, const char *name)
{
	char pw[256], hash[256];
	size_t n;

	if (!fgets(pw, sizeof pw, stdin))
		return 1;
	n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (n < 8) {
		hub_log("the password needs at least 8 characters");
		return 1;
	}
	if (hub_web_hash(pw, hash, sizeof hash) != 0 ||
	    hub_db_add_user(db, name, hash) != 0)
		return 1;
	hub_log("user %s saved", name);
	return 0;
}

static int run(dictionary *d, PGconn *db)
{
	struct hub_mqtt_config mc = {
	    .host = str(d, "mqtt:host", "127.0.0.1"),
	    .port = d ? iniparser_getint(d, "mqtt:port", 1883) : 1883,
	    .username = str(d, "mqtt:username", NULL),
	    .password = str(d, "mqtt:password", NULL),
	    .cafile = str(d, "mqtt:cafile", NULL),
	    .client_id = str(d, "mqtt:client_id", "simpul-hub-1"),
	    .group = str(d, "mqtt:group", NULL),
	    .topic_prefix = str(d, "mqtt:topic_prefix", "simpul"),
	    .subscribed = &subscribed};
	const char *conninfo = str(d, "postgres:conninfo", "dbname=simpul_hub");
	int port = d ? iniparser_getint(d, "http:port", 8090) : 8090;
	int any = d ? iniparser_getboolean(d, "http:listen_any", 0) : 0;
	PGconn *webdb = hub_db_open(conninfo);
	struct hub_web *w =
	    webdb ? hub_web_start(webdb, port, any, &subscribed) : NULL;
	int rc;

	if (!w) {
		if (webdb)
			PQfinish(webdb);
		return 1;
	}
	hub_log("dashboard on port %d", port);
	rc = hub_mqtt_run(&mc, db, &stop);
	hub_web_stop(w);
	PQfinish(webdb);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"config", 1, 0, 'c'},
					     {"add-user", 1, 0, 'u'},
					     {"migrate", 0, 0, 'm'},
					     {0, 0, 0, 0}};
	const char *path = HUB_SYSCONFDIR "/hub.conf", *user = NULL;
	int c, migrate_only = 0, rc;
	struct sigaction sa = {.sa_handler = on_signal};
	dictionary *d;
	PGconn *db;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'u')
			user = optarg;
		else if (c == 'm')
			migrate_only = 1;
		else
			return 2;
	}
	d = iniparser_load(path);
	if (!d)
		hub_log("no %s, using defaults", path);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	db = hub_db_open(str(d, "postgres:conninfo", "dbname=simpul_hub"));
	if (!db) {
		rc = 1;
	} else if (user) {
		rc = add_user(db, user);
	} else {
		rc = migrate_only ? 0 : run(d, db);
	}
	if (db)
		PQfinish(db);
	if (d)
		iniparser_freedict(d);
	return rc;
}
