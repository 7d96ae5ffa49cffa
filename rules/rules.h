/* rules: the auto-reply rule engine. Loads rules.d/NN-name.ini (format in
 * doc/simpul-rules.5 and etc/rules.d/00-office.ini), then decides for one
 * inbound message which rule applies and what, if anything, to reply.
 *
 * Pure: no logging, no clock, no I/O after loading. The daemon passes the
 * time and the contact's history (counters from the store) in struct
 * rules_input; every suppressed reply carries a reason for the log.
 *
 * Typical use in the daemon:
 *   struct rules *r = rules_load(dir, holidays, d);   // NULL: keep old
 *   struct rules_result res;
 *   rules_match(r, &in, &res);          // decide and render
 *   if (res.ticket) {                   // allocate KLS-2607-0015
 *       rules_format_ticket(r, in.now, seq, ref, sizeof(ref));
 *       in.ticket = ref;
 *       rules_render(r, &in, &res);     // render again with the ticket
 *   }
 *   if (res.status_query && res.cek_ref[0]) ... answer for res.cek_ref
 *   keep res.choices (what a digit answers next) and res.closer for the
 *   conversation: they come back as in.last_choices, in.closer_sent
 *   if (res.reply) ... enqueue res.reply ...
 *   rules_result_free(&res);
 */
#ifndef SIMPUL_RULES_H
#define SIMPUL_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "hours.h"

struct rules;
struct rules_rule;

enum rules_sender {
	RULES_MOBILE,	 /* an ordinary mobile number */
	RULES_ALNUM,	 /* alphanumeric sender: TELKOMSEL, promotions */
	RULES_SHORTCODE, /* 3 to 6 digit service numbers */
	RULES_WA_ONLY,	 /* a WhatsApp id (treated like a mobile) */
};

struct rules_limits {
	int max_per_hour;	 /* auto-replies per contact per hour (3) */
	int closed_reply_hours;	 /* one closed-hours reply per this (12) */
	int staff_quiet_minutes; /* none this soon after a staff reply (5) */
	int same_text_max;	 /* loop breaker: identical texts ... (3) */
	int same_text_minutes;	 /* ... within this window (10) */
};

struct rules_input {
	const char *channel; /* "sms" or "whatsapp" */
	const char *from;    /* sender: E.164, 08xx, 628xx or alphanumeric */
	enum rules_sender kind;
	const char *text; /* UTF-8 */
	int64_t now;	  /* unix seconds */
	/* values for the reply placeholders; NULL when unknown */
	const char *name, *rt, *ticket, *due;
	/* history of this contact, from the store; 0 times mean never */
	int auto_replies_last_hour;
	int64_t last_closed_reply; /* last closed-hours auto-reply */
	int64_t last_staff_reply;
	int64_t last_auto_reply;
	const char *last_auto_reply_text;
	/* inbound messages with this same text in the last
	 * limits.same_text_minutes, this one included */
	int same_text_count;
	/* conversation state kept by the daemon: what the last numbered
	 * choice offered (rules_result.choices of the reply sent, NULL or
	 * "menu": the menu), and whether a closer was already answered */
	const char *last_choices;
	bool closer_sent;
};

struct rules_result {
	const struct rules_rule *matched; /* NULL: no rule applies */
	const char *rule;		  /* its section name, e.g. "ktp" */
	const char *category;		  /* e.g. "pengaduan/sampah"; or NULL */
	bool ticket;	   /* the daemon should allocate a ticket */
	bool rt_confirm;   /* the request needs the Ketua RT's confirmation */
	bool closed_reply; /* the rule is a closed-hours reply */
	bool menu;	   /* the reply is the numbered menu */
	bool status_query; /* CEK <ref>: the daemon answers for cek_ref */
	char cek_ref[32];  /* "KLS-2607-0015", "" when none was given */
	int due_days;	   /* working days to handle the request, 0 none */
	int64_t due_at;	   /* closing time of the last day, 0 none */
	const char *suppressed; /* why no reply is sent, or NULL */
	char *reply;		/* malloc'd, NULL: send nothing */
	int segments;		/* SMS segments of reply */
	bool ucs2;		/* reply needs UCS-2 */
	bool closer;		/* thanks or ok only: a short "Sama-sama" */
	int nchoices; /* >1: the scores were close, a numbered choice */
	const struct rules_rule *choice[3];
	char choices[96];     /* what the next digit answers, for the daemon to
			       * keep: "kk,drainase", "menu", "" nothing */
	int menu_choice;      /* the digit this message answered, 0 none */
	bool silent;	      /* the rule never replies (spam, promotions) */
	char why[160];	      /* how the rule matched, for the log */
	char reason_buf[160]; /* storage behind suppressed */
};

/* Loads every dir/NAME.ini in name order and the holidays file (NULL: none).
 * Every problem goes to d with file:line; returns NULL if there was any
 * error (warnings alone still load), so the daemon keeps its old rules. */
struct rules *rules_load(const char *dir, const char *holidays_path,
			 struct diag *d);
void rules_free(struct rules *r);

/* Decides and, unless suppressed, renders the reply. Returns 0; -1 only
 * on allocation failure. Always call rules_result_free afterwards. */
int rules_match(const struct rules *r, const struct rules_input *in,
		struct rules_result *res);
/* Renders res->reply again (e.g. once in->ticket is known). */
int rules_render(const struct rules *r, const struct rules_input *in,
		 struct rules_result *res);
void rules_result_free(struct rules_result *res);
/* Canned replies for staff: every rule's reply (menu, CEK and closed-hours
 * replies left out) rendered for in (channel, now, name, rt, ticket).
 * Returns how many, -1 on allocation failure. */
int rules_canned(const struct rules *r, const struct rules_input *in,
		 void (*cb)(void *ud, const char *name, const char *text),
		 void *ud);

/* The loop protection and budgets of rules_match for a reply that is not
 * a rule's (a missed call's): the sender checks and the contact's history.
 * NULL when a reply may go, else why not (in buf or static). */
const char *rules_suppressed(const struct rules *r,
			     const struct rules_input *in, char *buf, size_t n);
/* Whether the contact's budgets alone (a staff reply within
 * staff_quiet_minutes, max_per_hour reached; from in->now,
 * auto_replies_last_hour and last_staff_reply) keep an auto-reply back.
 * They are checked before the loop breakers, so then the loop breakers'
 * inputs (last_auto_reply_text, same_text_count) change nothing and need
 * not be read: a robot flooding a conversation costs less per message. */
bool rules_budget_spent(const struct rules *r, const struct rules_input *in);
/* The [menu] reply template for channel, NULL if there is no menu. */
const char *rules_menu_text(const struct rules *r, const char *channel);

/* The dry run: for one input, prints which rules matched, why the others
 * did not, the suppression checks, the exact reply and its segments. */
void rules_explain(const struct rules *r, const struct rules_input *in,
		   FILE *out);

const char *rules_office_name(const struct rules *r);
const char *rules_timezone(const struct rules *r);
const char *rules_ticket_prefix(const struct rules *r);
const struct rules_limits *rules_limits(const struct rules *r);
/* How far back (seconds) the limits look: a contact's history older than
 * this cannot change rules_suppressed(), so the caller need not read it
 * (a resident's years of messages are not scanned for each new one). The
 * loop breaker's "repeats our last auto-reply" looks as far. */
int64_t rules_lookback(const struct rules *r);
const struct hours *rules_hours(const struct rules *r);
int rules_count(const struct rules *r); /* rules, the menu included */
bool rules_is_open(const struct rules *r, int64_t t);
int64_t rules_add_working_days(const struct rules *r, int64_t t, int days);
/* "<prefix>-<YYMM>-<seq>" with YYMM of t in the office zone and seq at
 * least 4 digits: "KLS-2607-0015". Returns snprintf's value. */
int rules_format_ticket(const struct rules *r, int64_t t, unsigned seq,
			char *buf, size_t n);

#endif
