/* simpul-modemsim: a GSM modem (SIM800 or Huawei E3531) on a pseudo-terminal,
 * driven by a control socket so tests can inject SMS and faults.
 * One thread, one poll loop, monotonic deadlines (doc/modem.md for the facts
 * each behaviour imitates). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pdu.h"
#include "sim.h"

/* ---- time and output ---- */

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void timer_add(struct sim *sim, int64_t delay_ms, enum timer_kind kind, int arg,
	       const char *data)
{
	for (int i = 0; i < MAX_TIMERS; i++) {
		if (sim->timers[i].active)
			continue;
		sim->timers[i].active = true;
		sim->timers[i].at = now_ms() + delay_ms;
		sim->timers[i].kind = kind;
		sim->timers[i].arg = arg;
		snprintf(sim->timers[i].data, sizeof(sim->timers[i].data), "%s",
			 data ? data : "");
		return;
	}
	fprintf(stderr, "simpul-modemsim: timer table full, event dropped\n");
}

void timer_cancel(struct sim *sim, enum timer_kind kind)
{
	for (int i = 0; i < MAX_TIMERS; i++)
		if (sim->timers[i].active && sim->timers[i].kind == kind)
			sim->timers[i].active = false;
}

/* Queue bytes for the port; flushed when the pty is writable. While the
 * modem "hangs" or is unplugged, nothing comes out. */
void port_write(struct sim *sim, const char *buf, size_t n)
{
	if (sim->master < 0 || sim->hang_until)
		return;
	if (sim->out_len + n > sizeof(sim->out)) {
		n = sizeof(sim->out) -
		    sim->out_len; /* overrun: like a real UART */
		sim->stats.dropped++;
	}
	memcpy(sim->out + sim->out_len, buf, n);
	sim->out_len += n;
}

void port_printf(struct sim *sim, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	port_write(sim, buf,
		   (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* V.250 verbose result framing: <CR><LF>text<CR><LF>. */
void port_line(struct sim *sim, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	port_printf(sim, "\r\n%s\r\n", buf);
}

static void flush_out(struct sim *sim)
{
	while (sim->master >= 0 && sim->out_len) {
		ssize_t w = write(sim->master, sim->out, sim->out_len);

		if (w <= 0)
			return;
		memmove(sim->out, sim->out + w, sim->out_len - (size_t)w);
		sim->out_len -= (size_t)w;
	}
}

/* ---- pseudo-terminal ---- */

static int open_pty(char *path, size_t pathlen, int *slave_out)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	struct termios t;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, path, pathlen) != 0) {
		perror("simpul-modemsim: cannot create a pseudo-terminal");
		if (m >= 0)
			close(m);
		return -1;
	}
	/* Keep a slave fd open ourselves: the master then never sees
	 * EOF/EIO when a client closes and reopens the port, and the raw
	 * mode we set here is what the client finds (a USB ACM port does
	 * no line editing either). */
	int s = open(path, O_RDWR | O_NOCTTY);

	if (s < 0) {
		perror("simpul-modemsim: cannot open the pty slave");
		close(m);
		return -1;
	}
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	*slave_out = s;
	return m;
}

static void update_link(struct sim *sim)
{
	if (!sim->link)
		return;
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.tmp", sim->link);
	unlink(tmp);
	if (symlink(sim->path, tmp) < 0 || rename(tmp, sim->link) < 0)
		fprintf(stderr, "simpul-modemsim: cannot point %s at %s: %s\n",
			sim->link, sim->path, strerror(errno));
}

static void announce_path(struct sim *sim)
{
	printf("%s\n", sim->path);
	fflush(stdout);
}

void port_unplug(struct sim *sim, int secs)
{
	char next[256];
	int slave;
	int m = open_pty(next, sizeof(next), &slave);

	/* Allocate the next pty before the old one goes so the number
	 * differs, as a re-enumerated USB device gets a new node. */
	if (sim->master >= 0) {
		close(sim->master);
		close(sim->slave);
	}
	if (sim->link)
		unlink(sim->link); /* udev removes the by-id link on unplug */
	sim->master = -1;
	sim->slave = -1;
	sim->out_len = 0;
	sim->in_len = 0;
	sim->spare_master = m;
	sim->spare_slave = slave;
	snprintf(sim->spare_path, sizeof(sim->spare_path), "%s", next);
	timer_add(sim, (int64_t)secs * 1000, T_REPLUG, 0, NULL);
}

static void port_replug(struct sim *sim)
{
	if (sim->spare_master < 0) {
		int slave;

		sim->spare_master =
		    open_pty(sim->spare_path, sizeof(sim->spare_path), &slave);
		sim->spare_slave = slave;
		if (sim->spare_master < 0)
			return;
	}
	sim->master = sim->spare_master;
	sim->slave = sim->spare_slave;
	snprintf(sim->path, sizeof(sim->path), "%s", sim->spare_path);
	sim->spare_master = sim->spare_slave = -1;
	update_link(sim);
	announce_path(sim);
	modem_boot(sim); /* a re-enumerated stick has rebooted */
}

/* ---- control socket ---- */

static int listen_control(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "simpul-modemsim: control path too long: %s\n",
			path);
		return -1;
	}
	strcpy(a.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, 8) < 0) {
		fprintf(stderr, "simpul-modemsim: cannot listen on %s: %s\n",
			path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void ctl_accept(struct sim *sim)
{
	int fd = accept4(sim->ctl_listen, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (sim->clients[i].fd < 0) {
			sim->clients[i].fd = fd;
			sim->clients[i].len = 0;
			return;
		}
	}
	close(fd);
}

static void ctl_read(struct sim *sim, struct ctl_client *c)
{
	ssize_t r = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *nl;

	if (r <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->len += (size_t)r;
	c->buf[c->len] = '\0';
	while ((nl = memchr(c->buf, '\n', c->len))) {
		*nl = '\0';
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = '\0';
		struct strbuf reply = {0};

		control_command(sim, c->buf, &reply);
		sb_add(&reply, "\n", 1);
		/* Replies are short or the client reads them at once; a
		 * blocking write keeps this tool simple. */
		int fl = fcntl(c->fd, F_GETFL);

		fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
		if (write(c->fd, reply.s, reply.n) < 0)
			perror("simpul-modemsim: control reply");
		free(reply.s);
		size_t used = (size_t)(nl - c->buf) + 1;

		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf) - 1)
		c->len = 0; /* a line longer than the buffer: drop it */
}

/* ---- main loop ---- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void run_timers(struct sim *sim)
{
	int64_t t = now_ms();

	for (int i = 0; i < MAX_TIMERS; i++) {
		struct sim_timer tm = sim->timers[i];

		if (!tm.active || tm.at > t)
			continue;
		sim->timers[i].active = false;
		if (tm.kind == T_REPLUG)
			port_replug(sim);
		else
			modem_timer(sim, tm.kind, tm.arg, tm.data);
	}
}

static int poll_timeout(struct sim *sim)
{
	int64_t t = now_ms(), next = t + 1000;

	for (int i = 0; i < MAX_TIMERS; i++)
		if (sim->timers[i].active && sim->timers[i].at < next)
			next = sim->timers[i].at;
	return next <= t ? 0 : (int)(next - t);
}

static void read_port(struct sim *sim)
{
	char buf[1024];
	ssize_t r = read(sim->master, buf, sizeof(buf));

	if (r <= 0)
		return;
	sim->stats.bytes_in += (uint64_t)r;
	if (sim->hang_until)
		return; /* hung firmware: input vanishes */
	modem_input(sim, buf, (size_t)r);
}

static void loop(struct sim *sim)
{
	while (!stop) {
		struct pollfd p[2 + MAX_CLIENTS];
		int n = 0, port = -1, ctl = -1;

		if (sim->master >= 0) {
			port = n;
			p[n].fd = sim->master;
			p[n++].events = POLLIN | (sim->out_len ? POLLOUT : 0);
		}
		if (sim->ctl_listen >= 0) {
			ctl = n;
			p[n].fd = sim->ctl_listen;
			p[n++].events = POLLIN;
		}
		int first_client = n;

		for (int i = 0; i < MAX_CLIENTS; i++) {
			p[n].fd = sim->clients[i].fd;
			p[n++].events = POLLIN;
		}
		if (poll(p, (nfds_t)n, poll_timeout(sim)) < 0 &&
		    errno != EINTR) {
			perror("simpul-modemsim: poll");
			return;
		}
		run_timers(sim);
		if (port >= 0 && sim->master >= 0 &&
		    p[port].fd == sim->master) {
			if (p[port].revents & POLLIN)
				read_port(sim);
			if (p[port].revents & POLLOUT)
				flush_out(sim);
		}
		if (ctl >= 0 && (p[ctl].revents & POLLIN))
			ctl_accept(sim);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (p[first_client + i].fd >= 0 &&
			    (p[first_client + i].revents &
			     (POLLIN | POLLHUP)) &&
			    sim->clients[i].fd == p[first_client + i].fd)
				ctl_read(sim, &sim->clients[i]);
		flush_out(sim);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: simpul-modemsim [--profile sim800|e3531] "
		"[--control SOCKPATH] [--link PATH] [--capacity N] "
		"[--pin PIN] [--smsc +628...] [--own +62...] [--echo]\n");
}

static int parse_args(struct sim *sim, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"profile", required_argument, 0, 'p'},
	    {"control", required_argument, 0, 'c'},
	    {"link", required_argument, 0, 'l'},
	    {"capacity", required_argument, 0, 'n'},
	    {"pin", required_argument, 0, 'P'},
	    {"smsc", required_argument, 0, 's'},
	    {"own", required_argument, 0, 'o'},
	    {"echo", no_argument, 0, 'e'},
	    {"help", no_argument, 0, 'h'},
	    {0, 0, 0, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!strcmp(optarg, "sim800")) {
				sim->profile = PROFILE_SIM800;
			} else if (!strcmp(optarg, "e3531")) {
				sim->profile = PROFILE_E3531;
			} else {
				fprintf(stderr,
					"simpul-modemsim: unknown profile '%s' "
					"(use sim800 or e3531)\n",
					optarg);
				return -1;
			}
			break;
		case 'c':
			sim->control = optarg;
			break;
		case 'l':
			sim->link = optarg;
			break;
		case 'n':
			sim->capacity = atoi(optarg);
			if (sim->capacity < 1 || sim->capacity > MAX_SLOTS) {
				fprintf(stderr,
					"simpul-modemsim: --capacity must be "
					"1..%d\n",
					MAX_SLOTS);
				return -1;
			}
			break;
		case 'P':
			snprintf(sim->pin, sizeof(sim->pin), "%s", optarg);
			sim->pin_required = true;
			break;
		case 's':
			snprintf(sim->smsc, sizeof(sim->smsc), "%s", optarg);
			break;
		case 'o':
			snprintf(sim->own, sizeof(sim->own), "%s", optarg);
			break;
		case 'e':
			sim->default_echo = true;
			break;
		default:
			usage();
			return -1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	/* one simulated modem per process; zeroed like the static it was */
	struct sim *sim = calloc(1, sizeof(*sim));

	if (!sim) {
		perror("simpul-modemsim");
		return 1;
	}
	modem_defaults(sim);
	if (parse_args(sim, argc, argv) < 0)
		return 2;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAX_CLIENTS; i++)
		sim->clients[i].fd = -1;
	sim->spare_master = sim->spare_slave = -1;
	sim->ctl_listen = -1;
	sim->master = open_pty(sim->path, sizeof(sim->path), &sim->slave);
	if (sim->master < 0)
		return 1;
	if (sim->control &&
	    (sim->ctl_listen = listen_control(sim->control)) < 0)
		return 1;
	update_link(sim);
	announce_path(sim);
	modem_boot(sim);
	loop(sim);
	if (sim->control)
		unlink(sim->control);
	if (sim->link)
		unlink(sim->link);
	free(sim);
	return 0;
}
