/* serial: see serial.h. */
#include "serial.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

struct serial {
	struct sp_port *port; /* NULL when opened by hand (pty, odd tty) */
	int fd;
};

static const struct {
	uint16_t vid;
	const char *name;
	int rank; /* modem makers before generic USB-serial bridges */
} vendors[] = {
    {0x12d1, "Huawei", 0},	 {0x1e0e, "SIMCom", 0},
    {0x2c7c, "Quectel", 0},	 {0x19d2, "ZTE", 0},
    {0x1546, "u-blox", 0},	 {0x1199, "Sierra", 0},
    {0x1a86, "CH340 bridge", 1}, {0x10c4, "CP210x bridge", 1},
    {0x0403, "FTDI bridge", 1},
};

const char *serial_known_vendor(uint16_t vid)
{
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (vendors[i].vid == vid)
			return vendors[i].name;
	return NULL;
}

static int vendor_rank(uint16_t vid)
{
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (vendors[i].vid == vid)
			return vendors[i].rank;
	return 9;
}

static speed_t baud_to_speed(unsigned baud)
{
	switch (baud) {
	case 9600:
		return B9600;
	case 19200:
		return B19200;
	case 38400:
		return B38400;
	case 57600:
		return B57600;
	case 230400:
		return B230400;
	case 460800:
		return B460800;
	case 921600:
		return B921600;
	default:
		return B115200;
	}
}

static int set_nonblock_excl(int fd, const char *path, char *err, size_t errlen)
{
	int fl = fcntl(fd, F_GETFL);
	struct termios t;

	/* With VMIN=0 a non-blocking read of an idle tty returns 0, which
	 * reads as end of file (a hang-up); VMIN=1 makes it EAGAIN. */
	if (tcgetattr(fd, &t) == 0) {
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		(void)tcsetattr(fd, TCSANOW, &t);
	}

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "%s: cannot make non-blocking: %s", path,
			 strerror(errno));
		return -1;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	/* Best effort: another opener (getty, ModemManager) would interleave
	 * its commands with ours (doc/modem.md). */
	(void)ioctl(fd, TIOCEXCL);
	return 0;
}

/* libserialport refuses a pseudo-terminal (no modem-control lines): set
 * termios raw 8N1 by hand. */
static int open_by_hand(const char *path, unsigned baud, char *err,
			size_t errlen)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return -1;
	}
	if (tcgetattr(fd, &t) < 0) {
		snprintf(err, errlen, "%s: not a terminal: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS | CSIZE);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	cfsetispeed(&t, baud_to_speed(baud));
	cfsetospeed(&t, baud_to_speed(baud));
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		snprintf(err, errlen, "%s: cannot set raw 8N1: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static struct sp_port *open_with_libserialport(const char *path, unsigned baud)
{
	struct sp_port *p = NULL;

	if (sp_get_port_by_name(path, &p) != SP_OK)
		return NULL;
	if (sp_get_port_transport(p) != SP_TRANSPORT_USB ||
	    sp_open(p, SP_MODE_READ_WRITE) != SP_OK) {
		sp_free_port(p);
		return NULL;
	}
	if (sp_set_baudrate(p, (int)baud) != SP_OK ||
	    sp_set_bits(p, 8) != SP_OK ||
	    sp_set_parity(p, SP_PARITY_NONE) != SP_OK ||
	    sp_set_stopbits(p, 1) != SP_OK ||
	    sp_set_flowcontrol(p, SP_FLOWCONTROL_NONE) != SP_OK) {
		sp_close(p);
		sp_free_port(p);
		return NULL;
	}
	return p;
}

struct serial *serial_open(const char *path, unsigned baud, char *err,
			   size_t errlen)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	if (!baud)
		baud = 115200;
	s->port = open_with_libserialport(path, baud);
	if (s->port) {
		if (sp_get_port_handle(s->port, &s->fd) != SP_OK) {
			snprintf(err, errlen, "%s: no file descriptor", path);
			goto fail;
		}
	} else {
		s->fd = open_by_hand(path, baud, err, errlen);
		if (s->fd < 0)
			goto fail;
	}
	if (set_nonblock_excl(s->fd, path, err, errlen) < 0)
		goto fail;
	return s;
fail:
	serial_close(s);
	return NULL;
}

int serial_fd(const struct serial *s)
{
	return s ? s->fd : -1;
}

void serial_close(struct serial *s)
{
	if (!s)
		return;
	if (s->port) {
		sp_close(s->port);
		sp_free_port(s->port);
	} else if (s->fd >= 0) {
		close(s->fd);
	}
	free(s);
}

static int cand_cmp(const void *a, const void *b)
{
	const struct serial_candidate *x = a, *y = b;
	int rx = vendor_rank(x->vid), ry = vendor_rank(y->vid);

	if (rx != ry)
		return rx - ry;
	return strcmp(x->path, y->path);
}

int serial_find_candidates(struct serial_candidate *out, int max, char *err,
			   size_t errlen)
{
	struct sp_port **ports = NULL;
	int n = 0;

	if (sp_list_ports(&ports) != SP_OK) {
		char *msg = sp_last_error_message();

		snprintf(err, errlen, "cannot list serial ports: %s",
			 msg ? msg : "unknown error");
		sp_free_error_message(msg);
		return -1;
	}
	for (int i = 0; ports[i] && n < max; i++) {
		int vid, pid;
		const char *vendor;

		if (sp_get_port_transport(ports[i]) != SP_TRANSPORT_USB ||
		    sp_get_port_usb_vid_pid(ports[i], &vid, &pid) != SP_OK)
			continue;
		vendor = serial_known_vendor((uint16_t)vid);
		if (!vendor)
			continue;
		snprintf(out[n].path, sizeof(out[n].path), "%s",
			 sp_get_port_name(ports[i]));
		out[n].vid = (uint16_t)vid;
		out[n].pid = (uint16_t)pid;
		snprintf(out[n].vendor, sizeof(out[n].vendor), "%s", vendor);
		n++;
	}
	sp_free_port_list(ports);
	qsort(out, (size_t)n, sizeof(*out), cand_cmp);
	return n;
}
