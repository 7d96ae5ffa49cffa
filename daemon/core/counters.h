/* core/counters: process-wide event counters that any module bumps and
 * ops/ exports on /metrics. Known names (anything else is exported as
 * simpul_events_total{name="..."}): "webhook_bad_signature",
 * "webhook_bad_payload", "webhook_busy", "login_busy", "upload_busy",
 * "http_deadline",
 * "rule_suppressed", "media_deleted". No allocation; safe before anything is
 * set up. */
#ifndef SIMPUL_COUNTERS_H
#define SIMPUL_COUNTERS_H

#include <stdint.h>

void counters_add(const char *name);
int64_t counters_get(const char *name);
/* Walks every counter in the order first seen. */
typedef void (*counters_each_cb)(void *ud, const char *name, int64_t value);
void counters_each(counters_each_cb fn, void *ud);

#endif
