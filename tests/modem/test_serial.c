/* Tests of modem/serial on pseudo-terminals, and of the modem reopening a
 * device path that disappears and comes back as a symlink to a new pty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "modem.h"
#include "serial.h"

static int pty_master(char *slave, size_t len)
{
	int fd = posix_openpt(O_RDWR | O_NOCTTY);

	assert_true(fd >= 0);
	assert_int_equal(grantpt(fd), 0);
	assert_int_equal(unlockpt(fd), 0);
	assert_int_equal(ptsname_r(fd, slave, len), 0);
	return fd;
}

/* Waits (generously) until fd is readable; the pty moves bytes through a
 * kernel work queue, so they are not always there at once. */
static void wait_readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	assert_int_equal(poll(&pfd, 1, 5000), 1);
}

static void test_open_pty_raw_nonblocking(void **st)
{
	char slave[128], err[256], buf[64];
	int master = pty_master(slave, sizeof(slave));
	struct serial *s = serial_open(slave, 115200, err, sizeof(err));
	struct termios t;
	ssize_t n;
	int fd;

	if (!s)
		fail_msg("serial_open: %s", err);
	fd = serial_fd(s);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_false(t.c_lflag & (ICANON | ECHO));
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	assert_false(t.c_cflag & PARENB);
	/* nothing there yet: a read does not block */
	assert_int_equal(read(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	/* bytes pass unchanged both ways (CR not turned into LF) */
	assert_int_equal(write(master, "\r\nOK\r\n", 6), 6);
	wait_readable(fd);
	n = read(fd, buf, sizeof(buf));
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "\r\nOK\r\n", 6);
	assert_int_equal(write(fd, "AT\r", 3), 3);
	wait_readable(master);
	assert_int_equal(read(master, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "AT\r", 3);
	serial_close(s);
	close(master);
}

static void test_open_missing_path_says_why(void **st)
{
	char err[256] = "";

	assert_null(
	    serial_open("/nonexistent/ttyUSB9", 115200, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/ttyUSB9"));
	assert_non_null(strstr(err, "No such file"));
}

static void test_known_vendors(void **st)
{
	assert_string_equal(serial_known_vendor(0x12d1), "Huawei");
	assert_string_equal(serial_known_vendor(0x1e0e), "SIMCom");
	assert_string_equal(serial_known_vendor(0x2c7c), "Quectel");
	assert_non_null(serial_known_vendor(0x1a86));
	assert_null(serial_known_vendor(0x046d)); /* a mouse */
}

struct states {
	char list[256];
};

static void o_state(void *ud, enum modem_state st, const char *why)
{
	struct states *s = ud;
	size_t n = strlen(s->list);

	snprintf(s->list + n, sizeof(s->list) - n, "%s%s", n ? "," : "",
		 modem_state_name(st));
}

static void pump(struct modem *m, uint64_t now)
{
	for (int i = 0; i < 10 && modem_deadline(m) <= now; i++)
		modem_tick(m, now);
}

static void test_modem_follows_symlink_to_new_pty(void **st)
{
	char dir[] = "/tmp/simpul-serial-XXXXXX", link[160];
	char slave1[128], slave2[128], buf[64];
	struct states s = {""};
	struct modem_ops ops = {.state = o_state};
	struct modem_config cfg = {.device = link};
	struct modem *m;
	int master1, master2;
	uint64_t now = 1000;

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/modem", dir);
	master1 = pty_master(slave1, sizeof(slave1));
	assert_int_equal(symlink(slave1, link), 0);
	m = modem_new(&cfg, &ops, &s);
	pump(m, now);
	assert_int_equal(modem_state(m), MODEM_PROBE);
	wait_readable(master1);
	assert_int_equal(read(master1, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0x1b); /* ESC aborts a stale prompt */

	/* the stick resets: the pty goes away, then the path too */
	close(master1);
	assert_int_equal(unlink(link), 0);
	wait_readable(modem_fd(m));
	modem_readable(m, now);
	assert_int_equal(modem_state(m), MODEM_CLOSED);
	now += 1000;
	pump(m, now); /* path missing: stays closed, backs off */
	assert_int_equal(modem_state(m), MODEM_CLOSED);

	/* it comes back as a symlink to a new pty */
	master2 = pty_master(slave2, sizeof(slave2));
	assert_int_equal(symlink(slave2, link), 0);
	now += 2000;
	pump(m, now);
	assert_int_equal(modem_state(m), MODEM_PROBE);
	wait_readable(master2);
	assert_int_equal(read(master2, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 0x1b);
	now += 300;
	pump(m, now);
	wait_readable(master2);
	assert_int_equal(read(master2, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "AT\r", 3);
	assert_int_equal(write(master2, "\r\nOK\r\n", 6), 6);
	wait_readable(modem_fd(m));
	modem_readable(m, now);
	assert_int_equal(modem_state(m), MODEM_INIT);
	assert_string_equal(s.list, "probe,closed,probe,init");

	modem_free(m);
	close(master2);
	unlink(link);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_pty_raw_nonblocking),
	    cmocka_unit_test(test_open_missing_path_says_why),
	    cmocka_unit_test(test_known_vendors),
	    cmocka_unit_test(test_modem_follows_symlink_to_new_pty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
