/* simpul-evsim: one simulated kelurahan office for the hub test and the
 * benchmark. It appends a deterministic mix of events to its own event log
 * (the store's real event log) and publishes them with the real evpub in the
 * real poll loop, exactly as simpuld does; it exits 0 once the broker has
 * acknowledged all of them.
 *
 * usage: simpul-evsim --db FILE --office ID --port N --events N
 *                     [--every-ms N] [--offline] [--window N]
 *                     [--gate FILE]
 *   --offline     append the events and exit without connecting
 *   --every-ms N  append one event every N ms instead of all at once
 *   --gate FILE   append no further than the number in FILE (the test
 *                 moves it, so outages fall mid-stream by construction) */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evpub.h"
#include "loop.h"
#include "store.h"
#include "store_events.h"

struct sim {
	struct loop *loop;
	struct store *st;
	struct evpub *pub;
	int64_t total;
	int every_ms;
	const char *gate;
};

static const char *const categories[] = {"ktp", "kk", "domisili", "keluhan",
					 "sktm"};

/* The kind of event number seq: a cycle of ten in which every second
 * cycle's ticket is closed, so some tickets stay open. */
static enum store_event_kind kind_for(int64_t seq)
{
	static const enum store_event_kind cycle[10] = {
	    STORE_EV_MSG_IN,	   STORE_EV_MSG_OUT,	STORE_EV_TICKET_OPEN,
	    STORE_EV_MSG_IN,	   STORE_EV_RT_REQUEST, STORE_EV_RT_ANSWER,
	    STORE_EV_TICKET_CLOSE, STORE_EV_MSG_OUT,	STORE_EV_SLA_BREACH,
	    STORE_EV_CREDIT};
	enum store_event_kind k = cycle[(seq - 1) % 10];

	if (k == STORE_EV_TICKET_CLOSE && ((seq - 1) / 10) % 2 == 0)
		return STORE_EV_MSG_IN;
	return k;
}

/* The event for sequence number seq: every office produces the same
 * stream, so a count in PostgreSQL can be checked against the dashboard.
 * The phone number in detail must not leave the Pi (allow_personal off). */
static void make_event(int64_t seq, struct store_event *ev)
{
	int64_t now = (int64_t)time(NULL) * 1000;
	int64_t round = (seq - 1) / 10;

	memset(ev, 0, sizeof *ev);
	ev->kind = kind_for(seq);
	ev->at_ms = now;
	snprintf(ev->category, sizeof ev->category, "%s",
		 categories[round % 5]);
	switch (ev->kind) {
	case STORE_EV_MSG_IN:
	case STORE_EV_MSG_OUT:
		snprintf(ev->channel, sizeof ev->channel, "%s",
			 round % 3 ? "sms" : "wa");
		snprintf(ev->detail, sizeof ev->detail, "+62812000%04lld",
			 (long long)(seq % 10000));
		break;
	case STORE_EV_TICKET_OPEN:
	case STORE_EV_TICKET_CLOSE:
		snprintf(ev->ticket, sizeof ev->ticket, "T-%05lld",
			 (long long)round);
		/* Every third ticket is due yesterday: overdue when open,
		 * an SLA miss when closed. */
		ev->due_ms = now + (round % 3 ? 3 : -1) * 86400000LL;
		break;
	case STORE_EV_RT_ANSWER:
		ev->value = 60 * (round % 50 + 1); /* seconds to answer */
		break;
	case STORE_EV_CREDIT:
		ev->value = 50000 - round * 10; /* rupiah left */
		break;
	default:
		break;
	}
}

static int append_next(struct sim *s)
{
	struct store_event ev;
	int64_t last = store_events_last(s->st);

	if (last >= s->total)
		return 0;
	make_event(last + 1, &ev);
	return store_events_append(s->st, &ev, false) == STORE_OK ? 1 : -1;
}

static int64_t gate_value(const struct sim *s)
{
	FILE *f = s->gate ? fopen(s->gate, "r") : NULL;
	long long v = s->total;

	if (s->gate && (!f || fscanf(f, "%lld", &v) != 1))
		v = 0;
	if (f)
		fclose(f);
	return v;
}

static void tick(struct loop *l, void *arg)
{
	struct sim *s = arg;

	if (store_events_last(s->st) < gate_value(s) && append_next(s) > 0 &&
	    s->pub)
		evpub_kick(s->pub);
	if (store_events_last(s->st) < s->total)
		loop_timer_add(l, (uint64_t)s->every_ms, tick, s);
}

static void check_done(struct loop *l, void *arg)
{
	struct sim *s = arg;

	if (store_events_acked(s->st) >= s->total)
		loop_stop(l);
	else
		loop_timer_add(l, 20, check_done, s);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	loop_stop(l);
}

static int append_all(struct sim *s)
{
	int rc;

	while ((rc = append_next(s)) > 0)
		;
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"db", 1, 0, 'd'},
					     {"office", 1, 0, 'o'},
					     {"port", 1, 0, 'p'},
					     {"events", 1, 0, 'n'},
					     {"every-ms", 1, 0, 'e'},
					     {"offline", 0, 0, 'f'},
					     {"window", 1, 0, 'w'},
					     {"gate", 1, 0, 'g'},
					     {0, 0, 0, 0}};
	struct evpub_config cfg = {.host = "127.0.0.1", .retry_max_ms = 1000};
	struct sim s = {.total = 1000};
	const char *dbpath = NULL;
	bool offline = false;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dbpath = optarg;
			break;
		case 'o':
			cfg.office = optarg;
			break;
		case 'p':
			cfg.port = atoi(optarg);
			break;
		case 'n':
			s.total = atoll(optarg);
			break;
		case 'e':
			s.every_ms = atoi(optarg);
			break;
		case 'f':
			offline = true;
			break;
		case 'w':
			cfg.window = atoi(optarg);
			break;
		case 'g':
			s.gate = optarg;
			break;
		default:
			return 2;
		}
	}
	if (!dbpath)
		return 2;
	s.st = store_open(dbpath, err, sizeof err);
	if (!s.st) {
		fprintf(stderr, "simpul-evsim: %s\n", err);
		return 1;
	}
	if ((offline || s.every_ms <= 0) && append_all(&s) < 0) {
		store_close(s.st);
		return 1;
	}
	if (offline) {
		store_close(s.st);
		return 0;
	}
	s.loop = loop_new();
	loop_signal_add(s.loop, SIGTERM, on_signal, &s);
	loop_signal_add(s.loop, SIGINT, on_signal, &s);
	s.pub = evpub_new(s.loop, s.st, &cfg);
	if (!s.pub) {
		loop_free(s.loop);
		store_close(s.st);
		return 2;
	}
	if (s.every_ms > 0)
		tick(s.loop, &s);
	check_done(s.loop, &s);
	loop_run(s.loop);
	evpub_free(s.pub);
	printf("acked %lld of %lld\n", (long long)store_events_acked(s.st),
	       (long long)s.total);
	loop_free(s.loop);
	store_close(s.st);
	return 0;
}
