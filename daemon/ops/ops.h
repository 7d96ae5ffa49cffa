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
 * Plus the daily media retention sweep (retention.h); the event counters
 * it exports live in core/counters.h. */
#ifndef SIMPUL_OPS_H
#define SIMPUL_OPS_H

#include <stdint.h>

struct app;
struct sms;

/* Registers the routes and starts the retention schedule. One per
 * process; call after http_new and store_open. sms is NULL when the modem
 * is disabled. */
int ops_init(struct app *app, const struct sms *sms);
/* Cancels timers and a running backup (before http_free/store_close). */
void ops_free(void);

#endif
