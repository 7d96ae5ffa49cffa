/* store_list: the staff inbox's conversation list: filters, full-text
 * search (FTS5) and pages. Every list is answered by walking an index
 * newest-first and stopping at its page, search by looking at the newest
 * matching messages only, and counting stops at STORE_LIST_COUNT_CAP, so
 * the time of a request does not grow with the store (issue 17). Same
 * module as store.c (SQL stays inside store*.c). */
#ifndef SIMPUL_STORE_LIST_H
#define SIMPUL_STORE_LIST_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"

/* Counting stops here; beyond it "more" is true ("lebih dari 1000"). */
#define STORE_LIST_COUNT_CAP 1000
/* Search looks at the newest this many messages that match; each costs
 * a read of its message row (for its conversation), twice (the count and
 * the page), so this bounds a search's time. */
#define STORE_SEARCH_MSGS 500
/* and at most this many people whose name or number matches. */
#define STORE_SEARCH_CONTACTS 200

struct store_conv_filter {
	/* kerja: people's conversations still open and not answered
	 * automatically; otomatis: answered by the rules; lainnya: senders
	 * that are not people (promos, short codes); NULL/"": all */
	const char *box;
	const char
	    *status; /* baru|diproses|menunggu_rt|selesai|otomatis|open */
	const char *channel; /* sms|whatsapp: has a message on it */
	const char *category;
	const char *assignee; /* a user name, or "none" */
	const char *q;	      /* message text, the person's name or number */
	bool overdue;	      /* due_at passed and not selesai */
	int64_t now_ms;
	int limit, offset;
	/* keyset page: only conversations older than this one in list order
	 * (the "next" of the previous page); before_id 0: from the newest */
	int64_t before_at, before_id;
};

/* {"items":[...], "total", "more", "limit", "offset", "next"}, newest
 * activity first. total counts at most STORE_LIST_COUNT_CAP (more is
 * then true, and also when search stopped at its newest
 * STORE_SEARCH_MSGS messages); next is the cursor of the following page
 * ("<updated_at ms>.<id>", see store_conv_cursor) or null. NULL on a
 * store error (see store_errmsg), also when the query ran past its time
 * budget (a long query must not hold up the poll loop). */
json_t *store_conversations_json(struct store *st,
				 const struct store_conv_filter *f, int tz);
/* Parses a "next" cursor into f->before_at/before_id; false if it is
 * not one. */
bool store_conv_cursor(const char *s, struct store_conv_filter *f);
/* The plans (EXPLAIN QUERY PLAN, one "detail" per line, the count's
 * first, then the page's) of the queries store_conversations_json runs
 * for f; NULL on error. For the test that keeps every list and search
 * off a full scan of messages and conversations. Caller frees. */
char *store_conv_plans(struct store *st, const struct store_conv_filter *f);

#endif
