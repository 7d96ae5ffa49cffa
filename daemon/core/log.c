/* Logging: stderr in the foreground (journald reads it under systemd, with
 * <N> level prefixes), syslog otherwise. */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <stdlib.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static bool to_stderr = true;

void log_set_level(const char *name)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, names[i]) == 0)
			min_level = (enum log_level)i;
}

void log_to_stderr(int on)
{
	to_stderr = on;
	if (!on)
		openlog("simpuld", LOG_PID, LOG_DAEMON);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = {7, 6, 4, 3};
	static const char *const tag[] = {"debug", "info", "warning", "error"};
	va_list ap;

	if (lvl < min_level)
		return;
	va_start(ap, fmt);
	if (to_stderr) {
		/* sd-daemon(3) prefixes: journald maps them to priorities */
		bool journal = getenv("JOURNAL_STREAM") != NULL;
		if (journal)
			fprintf(stderr, "<%d>", prio[lvl]);
		else
			fprintf(stderr, "simpuld: %s: ", tag[lvl]);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	} else {
		vsyslog(prio[lvl], fmt, ap);
	}
	va_end(ap);
}
