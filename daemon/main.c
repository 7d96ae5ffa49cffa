/* simpuld: the process, top floor of the daemon. Arguments, config,
 * signals, sd_notify, the loop, and the table of features it builds on
 * the core (doc/architecture.md). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "simpul-config.h"
#if HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "announce.h"
#include "api.h"
#include "app.h"
#include "autoreply.h"
#include "clock.h"
#include "config.h"
#include "debug_api.h"
#include "diag.h"
#include "events.h"
#include "http.h"
#include "inbox.h"
#include "loop.h"
#include "ops.h"
#include "outbox.h"
#include "rt.h"
#include "sms.h"
#include "store.h"
#include "walsync.h"
#include "whatsapp.h"
#include "log.h"

static void notify(const char *state)
{
#if HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: simpuld [-f] [-n] [-c FILE]\n"
		"  -c FILE        configuration (default %s/simpul.ini)\n"
		"  -f             stay in the foreground, log to stderr\n"
		"  -n             check the configuration and rules, print "
		"every error, exit\n"
		"  -h, --help     this text\n"
		"  -V, --version  the version\n"
		"exit status: 0 after a clean stop or a valid -n, 1 on a "
		"configuration\nerror or a failed start, 2 on a usage error "
		"(simpuld(8))\n",
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

/* The process: the core services every feature gets (struct app) and the
 * features themselves, which only main.c sees all of. */
struct simpuld {
	struct app app;
	struct rt *rt;
	struct autoreply *ar;
	struct wa *wa;
	struct sms *sms;
	struct announce *announce;
	struct events *events;
	bool stopping;		/* SIGTERM seen: finishing sends */
	uint64_t stop_deadline; /* monotonic ms */
};

static void stop_when_idle(struct loop *l, void *arg)
{
	struct simpuld *d = arg;
	int n = outbox_inflight(d->app.ob);

	if (n == 0 || loop_now_ms() >= d->stop_deadline) {
		if (n)
			log_msg(LOG_WARN,
				"stopping with %d message(s) still "
				"being sent; they go again at start",
				n);
		loop_stop(l);
		return;
	}
	loop_timer_add(l, 100, stop_when_idle, d);
}

/* A stop lets the message in flight finish: an SMS whose AT+CMGS was
 * answered is not queued again at start, so a restart or an upgrade does
 * not send it twice. Nothing new starts meanwhile; a second signal stops
 * at once. */
static void on_stop(struct loop *l, int signo, void *arg)
{
	struct simpuld *d = arg;

	if (d->stopping) {
		log_msg(LOG_INFO, "signal %d again: stopping now", signo);
		loop_stop(l);
		return;
	}
	d->stopping = true;
	notify("STOPPING=1");
	outbox_stop(d->app.ob);
	int n = outbox_inflight(d->app.ob);
	log_msg(LOG_INFO, "signal %d: stopping%s", signo,
		n ? " once the message being sent is done" : "");
	d->stop_deadline = loop_now_ms() + STOP_GRACE_MS;
	stop_when_idle(l, d);
}

/* SIGHUP: a new config is parsed into a fresh struct; with any error it is
 * refused and the running one stays (OpenBSD daemons do the same). */
static void reload_features(struct simpuld *d);

static void on_reload(struct loop *l, int signo, void *arg)
{
	struct simpuld *d = arg;
	struct app *app = &d->app;
	struct diag *dg = diag_new();
	struct config *c = config_load(app->config_path, dg);

	notify("RELOADING=1");
	for (size_t i = 0; i < diag_count(dg); i++)
		log_msg(LOG_ERR, "reload: %s", diag_line(dg, i));
	if (!c) {
		log_msg(LOG_ERR,
			"reload refused: %s has errors; still "
			"running the previous configuration",
			app->config_path);
	} else {
		struct config *old = app->cfg;
		app->cfg = c;
		reload_features(d);
		config_free(old);
		log_msg(LOG_INFO, "configuration reloaded from %s",
			app->config_path);
	}
	diag_free(dg);
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

/* ---- features ----------------------------------------------------------
 * Each feature is built on the core (struct app) and registers with it:
 * routes with http, responders with the inbox, drivers with the outbox.
 * They are built in the order of this table and closed in reverse. The
 * order in which they see an inbound message is not this table's but
 * inbox.h's enum inbox_stage (RT before autoreply). web and ops come after
 * sms because they report on it. */

static int open_rt(struct simpuld *d)
{
	d->rt = rt_new(&d->app);
	return d->rt ? 0 : -1;
}

static int open_autoreply(struct simpuld *d)
{
	d->ar = autoreply_new(&d->app);
	if (!d->ar)
		return -1;
	autoreply_set_rt_hook(d->ar, rt_autoreply_hook, d->rt);
	return 0;
}

static int open_whatsapp(struct simpuld *d)
{
	d->wa = wa_new(&d->app); /* NULL: not configured, webhook 404 */
	return 0;
}

static int open_sms(struct simpuld *d)
{
	if (!d->app.cfg->modem_enabled)
		return 0;
	d->sms = sms_new(&d->app);
	return d->sms ? 0 : -1;
}

static int open_announce(struct simpuld *d)
{
	d->announce = announce_new(&d->app, d->sms);
	return d->announce ? 0 : -1;
}

static void close_announce(struct simpuld *d)
{
	announce_free(d->announce);
}

static int open_web(struct simpuld *d)
{
	return api_init(&d->app, d->sms);
}

/* Logins being hashed are answered now; the rest of the API's state
 * stays until after http_free (close_parts). */
static void close_web(struct simpuld *d)
{
	(void)d;
	api_stop();
}

static int open_ops(struct simpuld *d)
{
	return ops_init(&d->app, d->sms);
}

#if HAVE_EVENTS
static int open_events(struct simpuld *d)
{
	const char *err;

	d->events = events_new(&d->app, d->sms, &err);
	if (err)
		log_msg(LOG_ERR, "%s", err);
	return err ? -1 : 0;
}

static void close_events(struct simpuld *d)
{
	events_free(d->events);
	d->events = NULL;
}
#else
static int open_events(struct simpuld *d)
{
	if (!d->app.cfg->events_enabled)
		return 0;
	log_msg(LOG_ERR, "[events] needs simpuld built with libmosquitto");
	return -1;
}

static void close_events(struct simpuld *d)
{
}
#endif

static int open_debug(struct simpuld *d)
{
	return debug_api_init(d->app.http); /* lists every route: last */
}

static void close_rt(struct simpuld *d)
{
	rt_free(d->rt);
}

static void close_autoreply(struct simpuld *d)
{
	autoreply_free(d->ar);
}

static void close_whatsapp(struct simpuld *d)
{
	wa_free(d->wa);
}

static void close_sms(struct simpuld *d)
{
	sms_free(d->sms);
}

static void close_ops(struct simpuld *d)
{
	ops_free();
}

static void reload_rt(struct simpuld *d)
{
	rt_reload(d->rt);
}

static void reload_autoreply(struct simpuld *d)
{
	autoreply_reload(d->ar);
}

static void reload_whatsapp(struct simpuld *d)
{
	wa_reconfigure(d->wa);
}

static void reload_sms(struct simpuld *d)
{
	if (d->sms)
		sms_reconfigure(d->sms);
}

static const struct feature {
	const char *name;
	int (*open)(struct simpuld *d);
	void (*close)(struct simpuld *d); /* NULL: see close_core() */
	void (*reload)(struct simpuld *d);
} features[] = {
    {"rt", open_rt, close_rt, reload_rt},
    {"autoreply", open_autoreply, close_autoreply, reload_autoreply},
    {"whatsapp", open_whatsapp, close_whatsapp, reload_whatsapp},
    {"sms", open_sms, close_sms, reload_sms},
    {"announce", open_announce, close_announce, NULL},
    {"events", open_events, close_events, NULL},
    {"web", open_web, close_web, NULL},
    {"ops", open_ops, close_ops, NULL},
    {"debug", open_debug, NULL, NULL},
};
#define NFEATURES (sizeof(features) / sizeof(features[0]))

static void reload_features(struct simpuld *d)
{
	for (size_t i = 0; i < NFEATURES; i++)
		if (features[i].reload)
			features[i].reload(d);
}

/* Replies queued in an inbound transaction go out once it committed. */
static void kick_outbox(void *ud)
{
	outbox_kick(ud);
}

/* One simpuld per database. A second one on the same config (started by
 * hand beside systemd's) would re-queue the first one's message in flight
 * (store_outbox_recover) before failing on its port, and the resident would
 * get it twice. So before anything is written: flock() a file next to the
 * database, held for the life of the process (the kernel lets go when it
 * dies, so a crash leaves no stale lock). Returns the fd, or -1. */
static int lock_store(const char *db, bool foreground)
{
	char path[4200], msg[4400], other[32] = "";

	snprintf(path, sizeof(path), "%s.lock", db);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (ftruncate(fd, 0) == 0)
			dprintf(fd, "%ld\n", (long)getpid());
		return fd;
	}
	if (fd >= 0 && (errno == EWOULDBLOCK || errno == EAGAIN)) {
		ssize_t n = pread(fd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = '\0';
		other[strcspn(other, "\n")] = '\0';
		snprintf(msg, sizeof(msg),
			 "another simpuld (pid %s) is running on %s; not "
			 "starting a second one",
			 other[0] ? other : "?", db);
	} else {
		snprintf(msg, sizeof(msg), "cannot lock %s: %s", path,
			 strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	log_msg(LOG_ERR, "%s", msg);
	if (!foreground)
		fprintf(stderr, "simpuld: %s\n", msg);
	return -1;
}

static int run_checkpoint(void *ck, int *log, int *copied, char *err,
			  size_t errlen)
{
	return store_ckpt_run(ck, log, copied, err, errlen);
}

/* The WAL is copied into the database on a thread of its own once it
 * holds 8 MiB (store_ckpt.c says why not in the loop's COMMIT): a page
 * written again and again within that is copied once (SQLite's 1,000
 * frames of 1 KiB copied hot index pages about every 60 SMS; bytes per
 * SMS, issue 17). Past 32 MiB the loop's connection checkpoints itself.
 * Without a thread, SQLite's own checkpoint stays. */
static void checkpoint_off_loop(struct app *app)
{
	char err[300];
	int page = store_page_size(app->st);

	if (!app->ws || page <= 0)
		return;
	int frames = (8 << 20) / page;
	app->ck = store_ckpt_open(app->st, err, sizeof(err));
	if (!app->ck) {
		log_msg(LOG_WARN, "%s; checkpoints stay in the loop", err);
		return;
	}
	if (walsync_checkpoint_by(app->ws, run_checkpoint, app->ck, frames)) {
		store_ckpt_close(app->ck);
		app->ck = NULL;
		return;
	}
	store_on_wal(app->st, walsync_wal_frames, app->ws, 4 * frames);
}

static int open_core(struct app *app)
{
	char err[300];

	app->st = store_open(app->cfg->store_path, err, sizeof(err));
	if (!app->st) {
		log_msg(LOG_ERR, "store: %s", err);
		return -1;
	}
	int n = store_outbox_recover(app->st);
	if (n > 0)
		log_msg(LOG_WARN,
			"%d message(s) were being sent when simpuld "
			"stopped; queued again",
			n);
	app->ws = walsync_new(app->loop, store_wal_path(app->st));
	checkpoint_off_loop(app);
	app->ib = inbox_new(app->st);
	app->ob = outbox_new(app->loop, app->st, app->cfg->retry_max,
			     app->cfg->retry_base_ms);
	outbox_use_walsync(app->ob, app->ws);
	inbox_on_commit(app->ib, kick_outbox, app->ob);
	const struct http_limits lim = {
	    .per_address = (unsigned)app->cfg->http_per_address,
	    .head_s = (unsigned)app->cfg->http_head_timeout,
	    .request_s = (unsigned)app->cfg->http_request_timeout,
	    .upload_memory = (size_t)app->cfg->http_upload_memory << 20,
	};
	app->http = http_new(app->loop, app->cfg->http_listen,
			     app->cfg->http_socket, &lim, err, sizeof(err));
	if (!app->http) {
		log_msg(LOG_ERR, "http: %s", err);
		return -1;
	}
	http_set_proxy(app->http, app->cfg->http_trusted_proxy,
		       app->cfg->http_https);
	return 0;
}

static int open_parts(struct simpuld *d)
{
	if (open_core(&d->app))
		return -1;
	for (size_t i = 0; i < NFEATURES; i++)
		if (features[i].open(d)) {
			log_msg(LOG_ERR, "cannot start: %s failed",
				features[i].name);
			return -1;
		}
	return 0;
}

/* The web API's state goes after http_free: a request still in libmicro-
 * httpd's hands may reach it until then. */
static void close_parts(struct simpuld *d)
{
	struct app *app = &d->app;

	if (app->ob)
		outbox_stop(app->ob);
	for (size_t i = NFEATURES; i-- > 0;)
		if (features[i].close)
			features[i].close(d);
	walsync_free(app->ws);	   /* answers wait for it: before http_free */
	store_ckpt_close(app->ck); /* its thread ended in walsync_free */
	http_free(app->http);
	api_free();
	outbox_free(app->ob);
	inbox_free(app->ib);
	store_close(app->st);
}

static int run(const char *path, bool foreground)
{
	struct simpuld d = {
	    .app = {.config_path = path, .clock_ms = clock_wall_ms}};
	struct app *app = &d.app;
	struct diag *dg = diag_new();
	int rc = 1;

	app->cfg = config_load(path, dg);
	diag_print(dg, stderr);
	diag_free(dg);
	if (!app->cfg)
		return 1;
	log_set_level(app->cfg->log_level);
	log_to_stderr(foreground);
	app->loop = loop_new();
	loop_signal_add(app->loop, SIGTERM, on_stop, &d);
	loop_signal_add(app->loop, SIGINT, on_stop, &d);
	loop_signal_add(app->loop, SIGHUP, on_reload, &d);
	signal(SIGPIPE, SIG_IGN);
	int lock = lock_store(app->cfg->store_path, foreground);
	if (lock >= 0 && open_parts(&d) == 0) {
		outbox_kick(app->ob);
		log_msg(LOG_INFO, "simpuld %s ready (http %s, socket %s)",
			SIMPUL_VERSION, app->cfg->http_listen,
			app->cfg->http_socket);
		notify("READY=1");
		start_watchdog(app->loop);
		rc = loop_run(app->loop) ? 1 : 0;
	}
	close_parts(&d);
	if (lock >= 0)
		close(lock);
	loop_free(app->loop);
	config_free(app->cfg);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = SIMPUL_SYSCONFDIR "/simpul.ini";
	bool foreground = false, check = false;
	int opt;

	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	while ((opt = getopt_long(argc, argv, "c:fnhV", longopts, NULL)) !=
	       -1) {
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
		case 'V':
			printf("simpuld %s\n", SIMPUL_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "simpuld: unexpected argument '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "simpuld: libsodium failed to initialise\n");
		return 1;
	}
	if (check)
		return check_only(path);
	return run(path, foreground);
}
