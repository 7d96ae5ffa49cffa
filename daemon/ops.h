/* ops: what an administrator and a monitoring system need.
 *
 *   GET  /healthz               public: 200 "ok", or 503 with the reason
 *   GET  /metrics               Prometheus text; unix socket, or TCP from
 *                               a loopback peer only (scrapers cannot log
 *                               in; a scraper elsewhere goes through a
 *                               local proxy or node_exporter's textfile)
 *   GET  /api/v1/doctor         unix socket only: the checks of doctor.h
 *   POST /api/v1/backup         unix socket only: {"path": "/abs/file"}
 *   POST /api/v1/retention/run  unix socket only: media sweep now
 *
 * Plus process-wide event counters other modules bump with ops_count()
 * and the daily media retention sweep (retention.h). */
#ifndef SIMPUL_OPS_H
#define SIMPUL_OPS_H

#include <stdint.h>

struct app;

/* Registers the routes and starts the retention schedule. One per
 * process; call after http_new and store_open. */
int ops_init(struct app *app);
/* Cancels timers and a running backup (before http_free/store_close). */
void ops_free(void);

/* Event counters for /metrics. Known names (anything else is exported as
 * simpul_events_total{name="..."}):
 *   "webhook_bad_signature", "webhook_bad_payload", "webhook_busy",
 *   "rule_suppressed", "media_deleted". Safe before ops_init. */
void ops_count(const char *name);
int64_t ops_counter(const char *name);

#endif
