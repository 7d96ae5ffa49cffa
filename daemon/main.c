/* simpuld: arguments, config, signals, sd_notify, the loop. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "simpul-config.h"
#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "api.h"
#include "app.h"
#include "autoreply.h"
#include "clock.h"
#include "config.h"
#include "debug_api.h"
#include "diag.h"
#include "http.h"
#include "inbox.h"
#include "loop.h"
#include "ops.h"
#include "outbox.h"
#include "rt.h"
#include "sms.h"
#include "store.h"
#include "whatsapp.h"

static void notify(const char *state)
{
#if HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

int64_t app_now_ms(const struct app *app)
{
	return app->clock_ms();
}

int app_tz_offset(const struct app *app, int64_t at_ms)
{
	int off = app->ar ? autoreply_tz_offset(app->ar, at_ms) : -1;

	if (off != -1)
		return off;
	time_t t = (time_t)(at_ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	return (int)tm.tm_gmtoff;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: simpuld [-f] [-n] [-c FILE]\n"
		"  -c FILE  configuration (default %s/simpul.ini)\n"
		"  -f       stay in the foreground, log to stderr\n"
		"  -n       check the configuration and rules, print every "
		"error, exit\n",
		SIMPUL_SYSCONFDIR);
}

/* -n: everything that would be loaded, checked, every problem printed. */
static int check_only(const char *path)
{
	struct diag *d = diag_new();
	struct config *c = config_load(path, d);

	if (c) {
		autoreply_check(c, d);
		rt_check(c, d);
	}
	diag_print(d, stderr);
	int bad = diag_errors(d) > 0;
	config_free(c);
	diag_free(d);
	return bad ? 1 : 0;
}

/* How long a stop waits for messages already handed to the modem or the
 * Graph API (the unit's TimeoutStopSec is 30 s). */
#define STOP_GRACE_MS 15000

static void stop_when_idle(struct loop *l, void *arg)
{
	struct app *app = arg;
	int n = outbox_inflight(app->ob);

	if (n == 0 || loop_now_ms() >= app->stop_deadline) {
		if (n)
			log_msg(LOG_WARN,
				"stopping with %d message(s) still "
				"being sent; they go again at start",
				n);
		loop_stop(l);
		return;
	}
	loop_timer_add(l, 100, stop_when_idle, app);
}

/* A stop lets the message in flight finish: an SMS whose AT+CMGS was
 * answered is not queued again at start, so a restart or an upgrade does
 * not send it twice. Nothing new starts meanwhile; a second signal stops
 * at once. */
static void on_stop(struct loop *l, int signo, void *arg)
{
	struct app *app = arg;

	if (app->stopping) {
		log_msg(LOG_INFO, "signal %d again: stopping now", signo);
		loop_stop(l);
		return;
	}
	app->stopping = true;
	notify("STOPPING=1");
	outbox_stop(app->ob);
	int n = outbox_inflight(app->ob);
	log_msg(LOG_INFO, "signal %d: stopping%s", signo,
		n ? " once the message being sent is done" : "");
	app->stop_deadline = loop_now_ms() + STOP_GRACE_MS;
	stop_when_idle(l, app);
}

/* SIGHUP: a new config is parsed into a fresh struct; with any error it is
 * refused and the running one stays (OpenBSD daemons do the same). */
static void on_reload(struct loop *l, int signo, void *arg)
{
	struct app *app = arg;
	struct diag *d = diag_new();
	struct config *c = config_load(app->config_path, d);

	notify("RELOADING=1");
	for (size_t i = 0; i < diag_count(d); i++)
		log_msg(LOG_ERR, "reload: %s", diag_line(d, i));
	if (!c) {
		log_msg(LOG_ERR, "reload refused: %s has errors; still "
				 "running the previous configuration",
			app->config_path);
	} else {
		struct config *old = app->cfg;
		app->cfg = c;
		if (app->sms)
			sms_reconfigure(app->sms);
		wa_reconfigure(app->wa);
		autoreply_reload(app->ar);
		rt_reload(app->rt);
		config_free(old);
		log_msg(LOG_INFO, "configuration reloaded from %s",
			app->config_path);
	}
	diag_free(d);
	notify("READY=1");
}

static void on_watchdog(struct loop *l, void *arg)
{
	uint64_t *interval = arg;

	notify("WATCHDOG=1");
	loop_timer_add(l, *interval, on_watchdog, arg);
}

static void start_watchdog(struct loop *l)
{
	static uint64_t interval;
#if HAVE_SYSTEMD
	uint64_t usec;
	if (sd_watchdog_enabled(0, &usec) > 0) {
		interval = usec / 2000; /* half the timeout, in ms */
		loop_timer_add(l, interval, on_watchdog, &interval);
	}
#else
	(void)l;
#endif
}

/* Replies queued in an inbound transaction go out once it committed. */
static void kick_outbox(void *ud)
{
	outbox_kick(ud);
}

static int open_parts(struct app *app)
{
	char err[300];

	app->st = store_open(app->cfg->store_path, err, sizeof(err));
	if (!app->st) {
		log_msg(LOG_ERR, "store: %s", err);
		return -1;
	}
	int n = store_outbox_recover(app->st);
	if (n > 0)
		log_msg(LOG_WARN, "%d message(s) were being sent when simpuld "
				  "stopped; queued again",
			n);
	app->ib = inbox_new(app->st);
	app->ob = outbox_new(app->loop, app->st, app->cfg->retry_max,
			     app->cfg->retry_base_ms);
	inbox_on_commit(app->ib, kick_outbox, app->ob);
	app->http = http_new(app->loop, app->cfg->http_listen,
			     app->cfg->http_socket, err, sizeof(err));
	if (!app->http) {
		log_msg(LOG_ERR, "http: %s", err);
		return -1;
	}
	if (api_init(app) || debug_api_init(app->http))
		return -1;
	if (ops_init(app))
		return -1;
	/* rt before autoreply: responders run in the order added, and a
	 * Ketua RT's "YA 4821" must be consumed before the rules see it. */
	app->rt = rt_new(app);
	if (!app->rt)
		return -1;
	app->ar = autoreply_new(app);
	if (!app->ar)
		return -1;
	autoreply_set_rt_hook(app->ar, rt_autoreply_hook, app->rt);
	app->wa = wa_new(app);
	if (app->cfg->modem_enabled) {
		app->sms = sms_new(app);
		if (!app->sms)
			return -1;
	}
	return 0;
}

static void close_parts(struct app *app)
{
	if (app->ob)
		outbox_stop(app->ob);
	sms_free(app->sms);
	wa_free(app->wa);
	autoreply_free(app->ar);
	rt_free(app->rt);
	ops_free();
	http_free(app->http);
	api_free();
	outbox_free(app->ob);
	inbox_free(app->ib);
	store_close(app->st);
}

static int run(const char *path, bool foreground)
{
	struct app app = {.config_path = path, .clock_ms = clock_wall_ms};

	struct diag *d = diag_new();
	int rc = 1;

	app.cfg = config_load(path, d);
	diag_print(d, stderr);
	diag_free(d);
	if (!app.cfg)
		return 1;
	log_set_level(app.cfg->log_level);
	log_to_stderr(foreground);
	app.loop = loop_new();
	loop_signal_add(app.loop, SIGTERM, on_stop, &app);
	loop_signal_add(app.loop, SIGINT, on_stop, &app);
	loop_signal_add(app.loop, SIGHUP, on_reload, &app);
	signal(SIGPIPE, SIG_IGN);
	if (open_parts(&app) == 0) {
		outbox_kick(app.ob);
		log_msg(LOG_INFO, "simpuld %s ready (http %s, socket %s)",
			SIMPUL_VERSION, app.cfg->http_listen,
			app.cfg->http_socket);
		notify("READY=1");
		start_watchdog(app.loop);
		rc = loop_run(app.loop) ? 1 : 0;
	}
	close_parts(&app);
	loop_free(app.loop);
	config_free(app.cfg);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = SIMPUL_SYSCONFDIR "/simpul.ini";
	bool foreground = false, check = false;
	int opt;

	while ((opt = getopt(argc, argv, "c:fnh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = true;
			break;
		case 'n':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "simpuld: libsodium failed to initialise\n");
		return 1;
	}
	if (check)
		return check_only(path);
	return run(path, foreground);
}
