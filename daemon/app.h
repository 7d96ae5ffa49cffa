/* app: the daemon's parts, tied together by main.c. Modules that serve
 * the API (api.c, whatsapp.c, sms.c, rt.c) get this struct. */
#ifndef SIMPUL_APP_H
#define SIMPUL_APP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

struct loop;
struct config;
struct store;
struct inbox;
struct outbox;
struct http;
struct sms;
struct wa;
struct autoreply;
struct rt;

struct app {
	struct loop *loop;
	struct config *cfg;
	struct store *st;
	struct inbox *ib;
	struct outbox *ob;
	struct http *http;
	struct sms *sms;
	struct wa *wa;
	struct autoreply *ar;
	struct rt *rt;
	const char *config_path;
	int64_t (*clock_ms)(void); /* wall clock (tests may fake it) */
	bool stopping;		   /* SIGTERM seen: finishing sends */
	uint64_t stop_deadline;	   /* monotonic ms */
};

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_set_level(const char *name);
void log_to_stderr(int on);

/* Office time-zone offset in seconds for JSON timestamps. */
int app_tz_offset(const struct app *app, int64_t at_ms);
int64_t app_now_ms(const struct app *app);

#endif
