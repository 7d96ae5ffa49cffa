/* core/app: the services every feature is built on, handed to each
 * feature's constructor: the loop, the config, the store, the inbox and
 * outbox, the HTTP server, the wall clock and the office calendar.
 *
 * Features (sms, whatsapp, autoreply, rt, web, ops) are not in here: one
 * feature never reaches another through this struct. main.c builds the
 * features in the order of its feature table and hands a feature the few
 * others it needs explicitly. */
#ifndef SIMPUL_APP_H
#define SIMPUL_APP_H

#include <stdint.h>

struct loop;
struct config;
struct store;
struct inbox;
struct outbox;
struct http;
struct rules;
struct walsync;

struct app {
	struct loop *loop;
	struct config *cfg;
	struct store *st;
	struct inbox *ib;
	struct outbox *ob;
	struct http *http;
	/* Syncs the WAL off the loop for commits made unsynced (webhook
	 * groups); NULL when the store is not in WAL mode. */
	struct walsync *ws;
	struct store_ckpt *ck; /* checkpoints off the loop (walsync) */
	const char *config_path;
	int64_t (*clock_ms)(void); /* wall clock (tests may fake it) */
	/* The office calendar (hours, time zone, holidays) of the rules in
	 * use; NULL until they load. autoreply sets it on every (re)load. */
	const struct rules *calendar;
};

/* Wall clock, ms since the epoch. */
int64_t app_now_ms(const struct app *app);
/* Office UTC offset in seconds at that instant (the calendar's zone, or
 * the system's while no rules are loaded): for JSON timestamps. */
int app_tz_offset(const struct app *app, int64_t at_ms);

#endif
