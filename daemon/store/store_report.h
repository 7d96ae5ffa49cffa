/* store_report: the monthly report for the lurah and the camat, from the
 * store's own tables: messages per day by channel, conversations by
 * category, tickets opened and closed (and closed within the promised
 * working days, due_at), each staff member's median first response, and
 * the Ketua RT confirmations (answered, how fast). Part of the store
 * module. */
#ifndef SIMPUL_STORE_REPORT_H
#define SIMPUL_STORE_REPORT_H

#include <stdint.h>
#include <jansson.h>

#include "store.h"

/* [from_ms, to_ms): the month in the office's time zone; tz_offset_s
 * puts each message on its local day. NULL on a store error. */
json_t *store_report_json(struct store *st, int64_t from_ms, int64_t to_ms,
			  int tz_offset_s);

#endif
