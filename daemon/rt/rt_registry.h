/* rt_registry: etc/rt.ini, who heads which RT (and RW), validated with
 * file:line errors. Sections:
 *   [rt 03]       rw = 05, head = Pak Budi, phone = 0812-3456-7890
 *   [rt 03/05]    the same, with the RW in the name (two RWs may each
 *                 have an RT 03)
 *   [rw 05]       head, phone: told when a request expires (optional)
 * A loaded registry is immutable; a reload builds a new one. */
#ifndef SIMPUL_RT_REGISTRY_H
#define SIMPUL_RT_REGISTRY_H

#include <stdbool.h>

#include "diag.h"

struct rt_head {
	int rt; /* 0 for an RW head */
	int rw; /* 0 when not given */
	char name[64];
	char phone[24]; /* E.164 */
};

struct rt_registry;

/* Loads path. Every problem goes to d with file:line; returns NULL when
 * there was any error (the caller keeps its old registry). A file that
 * does not exist gives an empty registry and a warning. */
struct rt_registry *rt_registry_load(const char *path, struct diag *d);
void rt_registry_free(struct rt_registry *r);
int rt_registry_count(const struct rt_registry *r); /* RT heads */
const struct rt_head *rt_registry_at(const struct rt_registry *r, int i);
/* The head of RT rt in RW rw. rw 0: only when exactly one RT has that
 * number (else *ambiguous is set). NULL when none. */
const struct rt_head *rt_registry_find(const struct rt_registry *r, int rt,
				       int rw, bool *ambiguous);
/* The RW head, or NULL. */
const struct rt_head *rt_registry_rw(const struct rt_registry *r, int rw);
/* Is this E.164 number an RT head's? */
bool rt_registry_is_head(const struct rt_registry *r, const char *e164);

#endif
