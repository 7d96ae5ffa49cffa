/* doctor: health checks of the running daemon for `simpulctl doctor`
 * (GET /api/v1/doctor). Each check is
 *   {name, ok, level: "ok"|"warn"|"fail", message_id, text_id, text_en,
 *    fix, fix_en}
 * text_id/fix in Bahasa Indonesia for the office admin, text_en/fix_en in
 * English; message_id is a stable code for scripts ("signal_weak"). */
#ifndef SIMPUL_DOCTOR_H
#define SIMPUL_DOCTOR_H

#include <jansson.h>

struct app;
struct sms;

/* {"ok": no check failed, "checks": [...]}; never NULL except on OOM.
 * sms is NULL when the modem is disabled. */
json_t *doctor_run(struct app *app, const struct sms *sms);

#endif
