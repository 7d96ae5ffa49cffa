/* retention: deletes WhatsApp media files older than [store]
 * media_retention_days (residents' KTP/KK photos are personal data, UU
 * 27/2022) and leaves a marker in the message's media JSON:
 *   {"id", "mime_type", "size", "deleted": "dihapus setelah N hari",
 *    "deleted_at": ms}
 * Runs a few minutes after start and then daily, in small batches from
 * loop timers; retention_run() starts a sweep at once. */
#ifndef SIMPUL_RETENTION_H
#define SIMPUL_RETENTION_H

struct app;
struct retention;

/* Called when a sweep ends: files deleted, rows marked, err or NULL. */
typedef void (*retention_done_cb)(void *ud, int files, int rows,
				  const char *err);

struct retention *retention_new(struct app *app);
void retention_free(struct retention *r);
/* Starts a sweep now. -1 if one is already running (done is not called
 * then). done may be NULL. */
int retention_run(struct retention *r, retention_done_cb done, void *ud);

#endif
