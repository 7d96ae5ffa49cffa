/* store_fixture: a scratch database file per test program, removed with
 * its -wal and -shm after each test (tests/core). Include after cmocka.h
 * and store.h; call store_fixture_setup("name") from the group setup. */
#ifndef SIMPUL_STORE_FIXTURE_H
#define SIMPUL_STORE_FIXTURE_H

#include <stdio.h>
#include <unistd.h>

static char db[256];

static inline int store_fixture_setup(const char *name)
{
	snprintf(db, sizeof(db), "/tmp/simpul-%s-test-%d.db", name,
		 (int)getpid());
	unlink(db);
	return 0;
}

static int teardown(void **state)
{
	char p[300];

	(void)state;
	unlink(db);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	unlink(p);
	return 0;
}

static struct store *open_db(void)
{
	char err[256];
	struct store *st = store_open(db, err, sizeof(err));

	if (!st)
		fail_msg("store_open: %s", err);
	return st;
}

#endif
