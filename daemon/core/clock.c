#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_wall_ms(void)
{
	static const char *path;
	static int checked;
	long long off = 0;

	if (!checked) {
		path = getenv("SIMPUL_FAKE_CLOCK_FILE");
		checked = 1;
	}
	if (!path)
		return real_ms();
	FILE *f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lld", &off) != 1)
			off = 0;
		fclose(f);
	}
	return real_ms() + (int64_t)off * 1000;
}
