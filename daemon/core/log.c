/* Logging: stderr in the foreground (journald reads it under systemd, with
 * <N> level prefixes), syslog otherwise. */
/* syslog.h defines LOG_DEBUG, LOG_INFO and LOG_ERR as macros (7, 6, 3):
 * included first and undefined, so the names below are log.h's levels. */
#include <syslog.h>
#undef LOG_DEBUG
#undef LOG_INFO
#undef LOG_ERR

#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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

/* A phone number in a log line: '+' and 8..15 digits, or 8..15 digits
 * written the Indonesian way (0..., 62..., 8...), not inside a word or a
 * longer number. Returns its length at p (0 if none). */
static size_t phone_at(const char *line, const char *p)
{
	if (p > line && (isalnum((unsigned char)p[-1]) || p[-1] == '+'))
		return 0;
	size_t plus = *p == '+', n = 0;
	while (isdigit((unsigned char)p[plus + n]))
		n++;
	if (n < 8 || n > 15 || isalnum((unsigned char)p[plus + n]))
		return 0;
	if (!plus && p[0] != '0' && p[0] != '8' && strncmp(p, "62", 2) != 0)
		return 0;
	return plus + n;
}

/* Copies line to out (size n) with control characters escaped (\n, \x1b:
 * a sender or a text cannot forge a log line) and, when mask, phone
 * numbers cut to their last 4 digits (personal data, doc/field.md). */
static void clean(const char *line, bool mask, char *out, size_t n)
{
	size_t o = 0;

	for (const char *p = line; *p && o + 5 < n;) {
		unsigned char c = (unsigned char)*p;
		size_t len = mask ? phone_at(line, p) : 0;
		if (len) {
			for (size_t i = 0; i < len && o + 5 < n; i++)
				out[o++] =
				    i + 4 >= len || p[i] == '+' ? p[i] : '*';
			p += len;
		} else if (c < 0x20 || c == 0x7F) {
			o += (size_t)snprintf(out + o, n - o,
					      c == '\n'	  ? "\\n"
					      : c == '\t' ? "\\t"
							  : "\\x%02x",
					      c);
			p++;
		} else {
			out[o++] = (char)c;
			p++;
		}
	}
	out[o] = '\0';
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const int prio[] = {7, 6, 4, 3};
	static const char *const tag[] = {"debug", "info", "warning", "error"};
	char raw[2048], line[4096];
	va_list ap;

	if (lvl < min_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* numbers are shown whole only at log_level = debug */
	clean(raw, min_level > LOG_DEBUG, line, sizeof(line));
	if (to_stderr) {
		/* sd-daemon(3) prefixes: journald maps them to priorities */
		bool journal = getenv("JOURNAL_STREAM") != NULL;
		if (journal)
			fprintf(stderr, "<%d>%s\n", prio[lvl], line);
		else
			fprintf(stderr, "simpuld: %s: %s\n", tag[lvl], line);
	} else {
		syslog(prio[lvl], "%s", line);
	}
}
