/* serial: open a modem port raw 8N1 non-blocking, and find USB modems by
 * VID:PID with libserialport. No AT here: the modem module (modem.c,
 * modem_startup.c) opens and probes the candidates. */
#ifndef SIMPUL_SERIAL_H
#define SIMPUL_SERIAL_H

#include <stddef.h>
#include <stdint.h>

struct serial;

/* Opens path (a tty, a pty or a symlink to one) raw 8N1 at baud, no flow
 * control, O_NONBLOCK, exclusive (TIOCEXCL keeps a getty or ModemManager
 * from opening it too). Returns NULL with err filled. */
struct serial *serial_open(const char *path, unsigned baud, char *err,
			   size_t errlen);
int serial_fd(const struct serial *s);
void serial_close(struct serial *s);

struct serial_candidate {
	char path[256];
	uint16_t vid, pid;
	char vendor[32]; /* "Huawei", "SIMCom", "CH340 bridge", ... */
};

/* Lists the ports of USB devices whose vendor makes modems (Huawei 12d1,
 * SIMCom 1e0e, Quectel 2c7c, ZTE 19d2, u-blox 1546, Sierra 1199) or
 * USB-serial bridges a SIM800 sits behind (1a86, 10c4, 0403), modem
 * makers first, then by path. Returns the count (<= max), or -1 with err
 * filled when ports cannot be listed. */
int serial_find_candidates(struct serial_candidate *out, int max, char *err,
			   size_t errlen);
/* The vendor name when vid is one we probe, else NULL. */
const char *serial_known_vendor(uint16_t vid);

#endif
