/* inbox_one: one inbound message in its own transaction, the way sms.c
 * and whatsapp.c use the inbox: begin, add, commit (or roll back). For
 * tests and fuzzers; the daemon batches several adds per commit. */
#ifndef SIMPUL_INBOX_ONE_H
#define SIMPUL_INBOX_ONE_H

#include "inbox.h"

static inline enum inbox_result
inbox_one(struct inbox *ib, const struct inbox_msg *m, int64_t *id)
{
	if (inbox_begin(ib))
		return INBOX_FAILED;
	enum inbox_result r = inbox_add(ib, m, id);
	if (r == INBOX_STORED && inbox_commit(ib) == 0)
		return r;
	inbox_rollback(ib);
	return r == INBOX_STORED ? INBOX_FAILED : r;
}

#endif
