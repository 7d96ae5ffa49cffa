/* core/log: the daemon's log. stderr in the foreground (journald reads the
 * <N> level prefixes under systemd), syslog otherwise. Every module that
 * logs includes this and nothing else of the core. */
#ifndef SIMPUL_LOG_H
#define SIMPUL_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

/* One line: control characters are escaped, and unless the level is
 * debug, phone numbers are masked to their last 4 digits. */
void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_set_level(const char *name);
void log_to_stderr(int on);

#endif
