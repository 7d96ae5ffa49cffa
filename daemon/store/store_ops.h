/* store_ops: the store's part of operations (ops.c): health probes,
 * counts for /metrics, online backup and media retention. */
#ifndef SIMPUL_STORE_OPS_H
#define SIMPUL_STORE_OPS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct store_backup;

/* A trivial query: STORE_OK when the database answers. */
int store_ping(struct store *st);
/* PRAGMA quick_check: STORE_OK when it says "ok", else STORE_ERR with its
 * first complaint (or the SQLite error) in out. */
int store_quick_check(struct store *st, char *out, size_t outlen);

/* Calls fn once per (a, b, count) row: messages by (channel, direction)
 * and outbound messages by (channel, status). */
typedef void (*store_count_cb)(void *ud, const char *a, const char *b,
			       int64_t n);
int store_count_messages(struct store *st, store_count_cb fn, void *ud);
int store_count_outbox(struct store *st, store_count_cb fn, void *ud);

/* Online backup (sqlite3_backup) into the file dest, in steps so the
 * caller's loop never stalls. Writes through the daemon's own connection
 * are copied into the backup as they happen (SQLite restarts nothing), so
 * the result is the database as it was at the last step. */
struct store_backup *store_backup_start(struct store *st, const char *dest,
					char *err, size_t errlen);
/* Copies up to pages pages: 1 when complete, 0 to be called again (also
 * when the database was briefly busy), -1 with err filled. */
int store_backup_step(struct store_backup *b, int pages, char *err,
		      size_t errlen);
/* Pages left and total, after the last step. */
void store_backup_progress(const struct store_backup *b, int *remaining,
			   int *total);
/* Closes the destination; returns 0 if every write reached it. */
int store_backup_finish(struct store_backup *b, char *err, size_t errlen);

/* Media retention: messages before before_ms whose media JSON still names
 * a file. Fills ids/files (up to max, files[i] up to filelen) and returns
 * the count, or -1. */
int store_media_expired(struct store *st, int64_t before_ms, int64_t *ids,
			char (*files)[512], int max);
/* Drops "file" from the message's media JSON and records why and when:
 * {"deleted": note, "deleted_at": now_ms}. */
int store_media_mark_deleted(struct store *st, int64_t id, const char *note,
			     int64_t now_ms);

#endif
