/* fuzz_config: simpul.ini through config_load (daemon/core/config.c and
 * common/ini.c). The input is written to a temporary file, as an admin's
 * editor would leave it. Checks: no crash, no leak; a config is returned
 * exactly when no error was reported; every diagnostic line names the
 * file (doc/architecture.md: errors point at the file, section and key). */
#include "fuzz.h"

#include <unistd.h>

#include "config.h"
#include "diag.h"

static char path[64];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/simpul-fuzz-config-%d.ini",
			 (int)getpid());
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);

	struct diag *d = diag_new();
	FUZZ_CHECK(d != NULL);
	struct config *c = config_load(path, d);
	FUZZ_CHECK((c != NULL) == (diag_errors(d) == 0));
	for (size_t i = 0; i < diag_count(d); i++)
		FUZZ_CHECK(strstr(diag_line(d, i), "simpul-fuzz-config") !=
			   NULL);
	if (c) {
		FUZZ_CHECK(c->path && c->base_dir && c->store_path);
		config_free(c);
	}
	diag_free(d);
	return 0;
}
