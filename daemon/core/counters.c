/* core/counters: a fixed table of named event counters (see counters.h).
 * The loop is single-threaded, so plain integers suffice. */
#include "counters.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_COUNTERS 32

static struct {
	char name[48];
	int64_t value;
} counters[MAX_COUNTERS];
static int ncounters;

static int counter_slot(const char *name, bool create)
{
	for (int i = 0; i < ncounters; i++)
		if (strcmp(counters[i].name, name) == 0)
			return i;
	if (!create || ncounters == MAX_COUNTERS)
		return -1;
	snprintf(counters[ncounters].name, sizeof(counters[0].name), "%s",
		 name);
	counters[ncounters].value = 0;
	return ncounters++;
}

void counters_add(const char *name)
{
	int i = counter_slot(name, true);

	if (i >= 0)
		counters[i].value++;
}

int64_t counters_get(const char *name)
{
	int i = counter_slot(name, false);

	return i >= 0 ? counters[i].value : 0;
}

void counters_each(counters_each_cb fn, void *ud)
{
	for (int i = 0; i < ncounters; i++)
		fn(ud, counters[i].name, counters[i].value);
}
