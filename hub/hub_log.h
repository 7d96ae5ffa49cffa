/* hub_log: one line to stderr (journald adds the time under systemd). */
#ifndef SIMPUL_HUB_LOG_H
#define SIMPUL_HUB_LOG_H

void hub_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
