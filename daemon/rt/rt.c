/* rt: the Ketua RT confirmation workflow (see rt.h). */
#include "rt.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "autoreply.h"
#include "config.h"
#include "diag.h"
#include "gsm.h"
#include "http.h"
#include "inbox.h"
#include "loop.h"
#include "outbox.h"
#include "rt_parse.h"
#include "rt_registry.h"
#include "rules.h"
#include "store.h"
#include "store_rt.h"
#include "store_ui.h"
#include "log.h"

#define MAX_OPEN     16 /* open requests of one head we look at */
#define DUE_BATCH    32 /* follow-ups handled per timer tick */
#define SERVICE_DAYS 3	/* doc/field.md: service time at most 3 working days */
#define NOTE_AUTHOR  "sistem"
#define OUT_AUTHOR   "system" /* not "auto": no rate limit, not staff */
/* Refused answers (wrong code, or a code from a number not a head's) a
 * number may send in a day before its answers are no longer processed. */
#define RT_MAX_REFUSED	     5
#define RT_REFUSED_WINDOW_MS (24 * 3600 * 1000LL)

struct rt {
	struct app *app;
	struct rt_registry *reg;
	uint64_t timer;
};

/* ---- calendar ----------------------------------------------------------- */

static const struct rules *rules_of(struct rt *rt)
{
	return rt->app->calendar;
}

static bool cal_open(const void *ud, int64_t t)
{
	return hours_is_open(ud, t);
}

static int64_t cal_next(const void *ud, int64_t t)
{
	return hours_next_open(ud, t);
}

/* now_ms plus hours of office time, in ms. */
static int64_t work_after(struct rt *rt, int64_t now_ms, int hours)
{
	const struct rules *r = rules_of(rt);
	struct rt_calendar c = {cal_open, cal_next, r ? rules_hours(r) : NULL};
	int64_t t = rt_add_working_hours(r ? &c : NULL, now_ms / 1000, hours);

	return t < 0 ? now_ms + (int64_t)hours * 3600000 : t * 1000;
}

static void format_date(struct rt *rt, int64_t ms, char *out, size_t n)
{
	const struct rules *r = rules_of(rt);

	if (r) {
		hours_format_date(rules_hours(r), ms / 1000, out, n);
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, n, "%d/%m/%Y", &tm);
}

static void format_when(struct rt *rt, int64_t ms, char *out, size_t n)
{
	int off = app_tz_offset(rt->app, ms);
	time_t t = (time_t)(ms / 1000 + off);
	struct tm tm;
	char d[48];

	gmtime_r(&t, &tm);
	format_date(rt, ms, d, sizeof(d));
	snprintf(out, n, "%s %02d.%02d", d, tm.tm_hour, tm.tm_min);
}

static const char *office_name(struct rt *rt)
{
	const struct rules *r = rules_of(rt);
	const char *o = r ? rules_office_name(r) : NULL;

	return o && *o ? o : "Kantor kelurahan";
}

/* ---- texts (Bahasa Indonesia; one GSM-7 segment where possible) ------- */

static const char *service_label(const char *service)
{
	static const char *const map[][2] = {
	    {"ktp", "KTP"},
	    {"kk", "KK"},
	    {"nikah", "pengantar nikah"},
	    {"situ", "SITU"},
	    {"sktm", "SKTM/domisili"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(service, map[i][0]) == 0)
			return map[i][1];
	return service;
}

/* "Budi Santoso (081234567890)" or "nomor 081234567890", the name cut to
 * max bytes (at a UTF-8 boundary) when the SMS would be too long. */
static void who(const struct store_contact *k, size_t max, char *out, size_t n)
{
	char num[32], name[128];

	rt_local_number(k->phone[0] ? k->phone : k->wa_id, num, sizeof(num));
	snprintf(name, sizeof(name), "%s", k->name);
	if (strlen(name) > max) {
		size_t cut = max;
		while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80)
			cut--;
		name[cut] = '\0';
	}
	if (name[0])
		snprintf(out, n, "%s (%s)", name, num);
	else
		snprintf(out, n, "nomor %s", num);
}

/* The question to the head; prefix "" for the first ask, "Pengingat " for
 * the reminder. Shortens the resident's name, then the office name, until
 * it fits one segment. */
static void ask_text(struct rt *rt, const char *prefix,
		     const struct store_contact *k,
		     const struct store_rt_req *r, char *out, size_t n)
{
	static const size_t name_max[] = {60, 24, 12, 0};
	char person[160];
	struct gsm_count gc;

	for (int pass = 0; pass < 8; pass++) {
		bool with_office = pass < 4;
		who(k, name_max[pass % 4], person, sizeof(person));
		snprintf(out, n,
			 "%s%s%s%s mengurus %s. Balas YA %s jika benar warga "
			 "RT %s, atau TIDAK %s.",
			 prefix, with_office ? office_name(rt) : "",
			 with_office ? ": " : "", person,
			 service_label(r->service), r->code, r->rt, r->code);
		gsm_transliterate(out);
		gsm_count(out, &gc);
		if (gc.segments <= 1)
			return;
	}
}

/* ---- effects ------------------------------------------------------------ */

static int note(struct store *st, int64_t conv, const char *text, int64_t now)
{
	return store_note_add(st, conv, NOTE_AUTHOR, text, now) < 0 ? -1 : 0;
}

/* Queues text to the resident of conv on the channel they used last, as
 * api_reply does (outbox_route), but inside the caller's transaction (the
 * caller kicks the outbox after commit). */
static int tell_resident(struct rt *rt, int64_t conv_id, const char *text,
			 int64_t now)
{
	struct store_conversation c;
	struct store_contact k;
	struct store *st = rt->app->st;

	if (store_conversation_get(st, conv_id, &c) != STORE_OK ||
	    store_contact_get(st, c.contact_id, &k) != STORE_OK)
		return -1;
	const char *to;
	char why[160];
	const char *channel = outbox_route(&c, &k, now, &to, why, sizeof(why));
	if (!channel)
		return 0; /* no way to reach them: staff see the note */
	return store_outbox_enqueue(st, c.id, k.id, channel, to, text,
				    OUT_AUTHOR, now) < 0
		   ? -1
		   : 0;
}

/* The head as a contact with a conversation of their own, where the ask,
 * the reminders and their answers are kept together. */
static int head_conversation(struct rt *rt, const char *phone, const char *name,
			     const char *rtno, struct store_contact *k,
			     struct store_conversation *c, int64_t now)
{
	char label[128];
	bool created;

	snprintf(label, sizeof(label), "%s (Ketua RT %s)", name, rtno);
	if (store_contact_upsert(rt->app->st, phone, NULL, NULL, "mobile",
				 label, now, k) ||
	    store_conversation_for(rt->app->st, k->id, now, c, &created))
		return -1;
	/* A record, not work: it starts as handled automatically. */
	if (created &&
	    (store_conversation_set(rt->app->st, c->id, "category",
				    "rt/konfirmasi", now) == STORE_ERR ||
	     store_conversation_set(rt->app->st, c->id, "status", "otomatis",
				    now) == STORE_ERR))
		return -1;
	return 0;
}

static int sms_to(struct rt *rt, const char *phone, const char *name,
		  const char *rtno, const char *text, int64_t now)
{
	struct store_contact k;
	struct store_conversation c;

	if (head_conversation(rt, phone, name, rtno, &k, &c, now))
		return -1;
	return store_outbox_enqueue(rt->app->st, c.id, k.id, "sms", phone, text,
				    OUT_AUTHOR, now) < 0
		   ? -1
		   : 0;
}

/* ---- opening a request -------------------------------------------------- */

static uint32_t rnd(void *ud, uint32_t n)
{
	(void)ud;
	return randombytes_uniform(n);
}

static bool code_taken(void *ud, const char *code)
{
	return store_rt_code_open(ud, code);
}

/* A ticket (with its due date) for a conversation that has none yet, so
 * the resident can be told both when the head answers. */
static int ensure_ticket(struct rt *rt, struct store_conversation *c,
			 int64_t now)
{
	const struct rules *r = rules_of(rt);
	char ref[32];

	if (c->ticket[0] || !r)
		return 0;
	int64_t s = now / 1000;
	if (autoreply_new_ticket(r, rt->app->st, s, ref, sizeof(ref)))
		return -1;
	int64_t due = rules_add_working_days(r, s, SERVICE_DAYS);
	if (store_conversation_ticket(rt->app->st, c->id, ref, NULL,
				      due > 0 ? due * 1000 : 0))
		return -1;
	return store_conversation_get(rt->app->st, c->id, c) == STORE_OK ? 0
									 : -1;
}

/* Which head: the contact's RT, else one written in text (remembered on
 * the contact). 0 with why when none. */
static const struct rt_head *find_head(struct rt *rt, struct store_contact *k,
				       const char *text, char *why,
				       size_t whylen)
{
	int rtn = 0, rwn = 0;
	bool amb;

	if (!rt_parse_number(k->rt, &rtn, &rwn)) {
		if (!text || !rt_find_in_text(text, &rtn, &rwn)) {
			snprintf(
			    why, whylen,
			    "RT warga belum diketahui: isi RT di kotak masuk, "
			    "lalu minta konfirmasi RT");
			return NULL;
		}
		char v[16], a[8], b[8];
		rt_format_number(rtn, a, sizeof(a));
		rt_format_number(rwn, b, sizeof(b));
		snprintf(v, sizeof(v), rwn ? "%s/%s" : "%s", a, b);
		if (store_contact_set_rt(rt->app->st, k->id, v))
			return NULL;
		snprintf(k->rt, sizeof(k->rt), "%s", v);
	}
	const struct rt_head *h = rt_registry_find(rt->reg, rtn, rwn, &amb);
	if (!h)
		snprintf(why, whylen,
			 amb ? "RT %02d ada di beberapa RW: isi RT sebagai "
			       "RT/RW (contoh 03/05)"
			     : "RT %02d tidak terdaftar di rt.ini",
			 rtn);
	return h;
}

struct open_args {
	int64_t conv_id;
	const char *service, *actor, *text;
	int64_t now;
};

/* Inside a transaction. Returns the request id, 0 with why, -1 on error. */
static int64_t open_request(struct rt *rt, const struct open_args *a, char *why,
			    size_t whylen)
{
	struct store *st = rt->app->st;
	struct store_conversation c;
	struct store_contact k;
	struct store_rt_req r = {0}, old;
	char text[400], line[600];

	if (store_conversation_get(st, a->conv_id, &c) != STORE_OK ||
	    store_contact_get(st, c.contact_id, &k) != STORE_OK)
		return snprintf(why, whylen, "no such conversation"), 0;
	int o = store_rt_open_for_conversation(st, c.id, &old);
	if (o == STORE_ERR)
		return -1;
	if (o == STORE_OK)
		return snprintf(why, whylen,
				"permintaan %s ke Ketua RT %s masih menunggu",
				old.code, old.rt),
		       0;
	const struct rt_head *h = find_head(rt, &k, a->text, why, whylen);
	if (!h)
		return 0;
	if (ensure_ticket(rt, &c, a->now))
		return -1;
	r.conversation_id = c.id;
	r.contact_id = k.id;
	snprintf(r.service, sizeof(r.service), "%s", a->service);
	rt_format_number(h->rt, r.rt, sizeof(r.rt));
	if (h->rw)
		rt_format_number(h->rw, r.rw, sizeof(r.rw));
	snprintf(r.head_name, sizeof(r.head_name), "%s", h->name);
	snprintf(r.head_phone, sizeof(r.head_phone), "%s", h->phone);
	snprintf(r.created_by, sizeof(r.created_by), "%s", a->actor);
	r.created_at = a->now;
	r.remind_at = work_after(rt, a->now, rt->app->cfg->rt_reminder_hours);
	r.expire_at = work_after(rt, a->now, rt->app->cfg->rt_expire_hours);
	int64_t id = -STORE_DUP;
	for (int i = 0; i < 5 && id == -STORE_DUP; i++) {
		if (rt_make_code(rnd, code_taken, st, r.code))
			return snprintf(why, whylen, "semua kode terpakai"), 0;
		id = store_rt_insert(st, &r);
	}
	if (id < 0)
		return -1;
	ask_text(rt, "", &k, &r, text, sizeof(text));
	snprintf(line, sizeof(line),
		 "Konfirmasi RT diminta ke Ketua RT %s (%s, %s), kode %s.",
		 r.rt, r.head_name, r.head_phone, r.code);
	if (sms_to(rt, r.head_phone, r.head_name, r.rt, text, a->now) ||
	    store_conversation_set(st, c.id, "status", "menunggu_rt", a->now) ==
		STORE_ERR ||
	    note(st, c.id, line, a->now) ||
	    store_rt_log(st, id, "opened", a->actor, r.service, a->now) ||
	    store_rt_log(st, id, "asked", r.head_phone, text, a->now))
		return -1;
	return id;
}

int rt_autoreply_hook(void *ud, struct inbox_ctx *ctx, const char *service,
		      const char *ticket)
{
	struct rt *rt = ud;
	char why[200], actor[64];

	(void)ticket;
	snprintf(actor, sizeof(actor), "rule:%s", service ? service : "?");
	struct open_args a = {.conv_id = ctx->conv.id,
			      .service = service ? service : "layanan",
			      .actor = actor,
			      .text = ctx->msg->body,
			      .now = app_now_ms(rt->app)};
	int64_t id = open_request(rt, &a, why, sizeof(why));
	if (id < 0)
		return -1;
	if (id == 0 && strstr(why, "masih menunggu") == NULL) {
		char line[300];
		snprintf(line, sizeof(line),
			 "Layanan %s perlu konfirmasi RT, tetapi belum "
			 "dikirim: %s.",
			 service_label(a.service), why);
		/* Once while it holds: each message of the resident asks
		 * again, and the clerk needs one line, not one per SMS. */
		if (store_note_add_once(ctx->st, ctx->conv.id, NOTE_AUTHOR,
					line, a.now) < 0)
			return -1;
	}
	return 0;
}

int64_t rt_request(struct rt *rt, int64_t conversation_id, const char *service,
		   const char *actor, char *why, size_t whylen)
{
	struct store *st = rt->app->st;
	struct store_conversation c;
	struct open_args a = {.conv_id = conversation_id,
			      .actor = actor,
			      .now = app_now_ms(rt->app)};

	if (store_begin(st)) {
		snprintf(why, whylen, "store: %s", store_errmsg(st));
		return -1;
	}
	/* Without a service named, the conversation's category says it
	 * ("layanan/ktp" -> "ktp"). */
	char svc[32] = "layanan";
	if (service && *service) {
		snprintf(svc, sizeof(svc), "%s", service);
	} else if (store_conversation_get(st, conversation_id, &c) ==
		   STORE_OK) {
		const char *slash = strrchr(c.category, '/');
		if (slash && slash[1])
			snprintf(svc, sizeof(svc), "%s", slash + 1);
	}
	a.service = svc;
	int64_t id = open_request(rt, &a, why, whylen);
	if (id <= 0) {
		if (id < 0)
			snprintf(why, whylen, "store: %s", store_errmsg(st));
		store_rollback(st);
		return id;
	}
	if (store_commit(st)) {
		snprintf(why, whylen, "store: %s", store_errmsg(st));
		return -1;
	}
	outbox_kick(rt->app->ob);
	return id;
}

/* ---- answers ------------------------------------------------------------ */

static int reply(struct inbox_ctx *ctx, const char *text)
{
	return store_outbox_enqueue(ctx->st, ctx->conv.id, ctx->contact.id,
				    ctx->msg->channel, ctx->peer, text,
				    OUT_AUTHOR, ctx->now_ms) < 0
		   ? -1
		   : 0;
}

static const char *first_word_of(const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s", name);
	out[strcspn(out, " ")] = '\0';
	return out;
}

/* "482193 (Budi, KTP), 551207 (Siti, KK)" */
static void list_codes(struct rt *rt, const struct store_rt_req *reqs, int n,
		       char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < n && used + 1 < len; i++) {
		struct store_contact k = {0};
		char w[128] = "";
		store_contact_get(rt->app->st, reqs[i].contact_id, &k);
		int m = snprintf(out + used, len - used, "%s%s (%s, %s)",
				 i ? ", " : "", reqs[i].code,
				 k.name[0] ? first_word_of(k.name, w, sizeof(w))
					   : "warga",
				 service_label(reqs[i].service));
		if (m < 0 || (size_t)m >= len - used)
			break;
		used += (size_t)m;
	}
}

static int answer_accepted(struct rt *rt, struct inbox_ctx *ctx,
			   const struct store_rt_req *r,
			   const struct rt_answer *ans)
{
	struct store *st = ctx->st;
	struct store_conversation c;
	bool yes = ans->verdict == RT_YES;
	int64_t now = app_now_ms(rt->app);
	char when[64], line[900], text[400], due[48] = "";

	int cl = store_rt_close(st, r->id, yes ? "disetujui" : "ditolak",
				yes ? NULL : ans->reason, ctx->msg->body,
				ctx->peer, now);
	if (cl == STORE_ERR)
		return -1;
	if (store_conversation_get(st, r->conversation_id, &c) != STORE_OK)
		return -1;
	format_when(rt, now, when, sizeof(when));
	snprintf(line, sizeof(line),
		 "Ketua RT %s (%s, %s) %s pada %s.%s%s Balasan: \"%s\"", r->rt,
		 r->head_name, ctx->peer,
		 yes ? "MEMBENARKAN warga ini" : "MENOLAK", when,
		 !yes && ans->reason[0] ? " Alasan: " : "",
		 !yes ? ans->reason : "", ctx->msg->body);
	if (c.due_at)
		format_date(rt, c.due_at, due, sizeof(due));
	if (yes)
		snprintf(text, sizeof(text),
			 "%s: Ketua RT %s sudah membenarkan data Anda untuk "
			 "%s. Tiket %s, perkiraan selesai %s.",
			 office_name(rt), r->rt, service_label(r->service),
			 c.ticket[0] ? c.ticket : "-", due[0] ? due : "-");
	else
		snprintf(text, sizeof(text),
			 "%s: Ketua RT %s belum membenarkan permohonan %s "
			 "Anda. Petugas akan menghubungi Anda. Tiket %s.",
			 office_name(rt), r->rt, service_label(r->service),
			 c.ticket[0] ? c.ticket : "-");
	gsm_transliterate(text);
	char thanks[200];
	snprintf(thanks, sizeof(thanks),
		 "Terima kasih. Jawaban %s untuk kode %s sudah kami terima.",
		 yes ? "YA" : "TIDAK", r->code);
	if (note(st, c.id, line, now) ||
	    store_conversation_set(st, c.id, "status", "diproses", now) ==
		STORE_ERR ||
	    tell_resident(rt, c.id, text, now) || reply(ctx, thanks) ||
	    store_rt_log(st, r->id, yes ? "approved" : "rejected", ctx->peer,
			 ctx->msg->body, now) ||
	    store_event(st, yes ? "rt_approved" : "rt_rejected", c.id, line,
			now))
		return -1;
	log_msg(LOG_INFO, "RT %s request %lld (code %s) %s by %s", r->rt,
		(long long)r->id, r->code, yes ? "approved" : "rejected",
		ctx->peer);
	return 1;
}

static int closed_or_wrong(struct rt *rt, struct inbox_ctx *ctx,
			   const struct rt_answer *ans,
			   const struct store_rt_req *open, int n)
{
	struct store_rt_req old;
	char list[300], text[480];
	int64_t now = app_now_ms(rt->app);

	list_codes(rt, open, n, list, sizeof(list));
	int f = ans->code[0] ? store_rt_by_code(ctx->st, ans->code, &old)
			     : STORE_NOTFOUND;
	if (f == STORE_ERR)
		return -1;
	if (f == STORE_OK && strcmp(old.head_phone, ctx->peer) == 0 &&
	    strcmp(old.state, STORE_RT_OPEN) != 0)
		snprintf(text, sizeof(text),
			 "Permintaan kode %s sudah ditutup (%s). %s%s",
			 ans->code, old.state,
			 n ? "Yang masih menunggu: " : "Terima kasih.",
			 n ? list : "");
	else if (n == 0)
		snprintf(text, sizeof(text),
			 "Kode %s tidak ditemukan. Tidak ada permintaan "
			 "konfirmasi yang menunggu jawaban Anda.",
			 ans->code[0] ? ans->code : "itu");
	else
		snprintf(text, sizeof(text),
			 "Kode %s tidak ditemukan. Kode yang menunggu jawaban "
			 "Anda: %s. Balas YA atau TIDAK lalu kodenya, contoh: "
			 "YA %s",
			 ans->code[0] ? ans->code : "itu", list, open[0].code);
	gsm_transliterate(text);
	if (reply(ctx, text) || store_rt_log(ctx->st, 0, "wrong_code",
					     ctx->peer, ctx->msg->body, now))
		return -1;
	return 1;
}

static int head_answer(struct rt *rt, struct inbox_ctx *ctx,
		       const struct rt_answer *ans)
{
	struct store_rt_req open[MAX_OPEN];
	char list[300], text[480];
	int n = store_rt_open_by_head(ctx->st, ctx->peer, open, MAX_OPEN);

	if (n < 0)
		return -1;
	if (n > MAX_OPEN)
		n = MAX_OPEN;
	if (ans->code[0]) {
		for (int i = 0; i < n; i++)
			if (strcmp(open[i].code, ans->code) == 0)
				return answer_accepted(rt, ctx, &open[i], ans);
		return closed_or_wrong(rt, ctx, ans, open, n);
	}
	if (ans->code_bad || n == 0)
		return closed_or_wrong(rt, ctx, ans, open, n);
	if (n == 1)
		return answer_accepted(rt, ctx, &open[0], ans);
	/* Several open: which one is meant is not ours to guess. */
	list_codes(rt, open, n, list, sizeof(list));
	snprintf(text, sizeof(text),
		 "Ada %d permintaan yang menunggu: %s. Balas YA atau TIDAK "
		 "lalu kodenya, contoh: YA %s",
		 n, list, open[0].code);
	gsm_transliterate(text);
	if (reply(ctx, text) ||
	    store_rt_log(ctx->st, 0, "code_needed", ctx->peer, ctx->msg->body,
			 app_now_ms(rt->app)))
		return -1;
	return 1;
}

/* A code from a number that is not a head's: never accepted. The sender
 * gets the same reply whether or not the code belongs to an open request,
 * so that nobody learns which codes exist; staff are told on the request
 * and on the sender's conversation when it does. */
static int foreign_answer(struct rt *rt, struct inbox_ctx *ctx,
			  const struct rt_answer *ans)
{
	struct store_rt_req r;
	char line[600];
	int64_t now = app_now_ms(rt->app);

	if (!ans->code[0])
		return 0; /* a resident's plain "ya": the rules answer it */
	int f = store_rt_by_code(ctx->st, ans->code, &r);
	if (f == STORE_ERR)
		return -1;
	bool open = f == STORE_OK && strcmp(r.state, STORE_RT_OPEN) == 0;
	if (open) {
		snprintf(line, sizeof(line),
			 "PERLU DICEK: balasan untuk kode %s datang dari %s, "
			 "bukan dari nomor Ketua RT %s (%s). Tidak diterima. "
			 "Balasan: \"%s\"",
			 r.code, ctx->peer, r.rt, r.head_phone, ctx->msg->body);
		if (note(ctx->st, r.conversation_id, line, now) ||
		    note(ctx->st, ctx->conv.id, line, now) ||
		    store_event(ctx->st, "rt_foreign_answer", r.conversation_id,
				line, now))
			return -1;
		log_msg(LOG_WARN,
			"RT answer for code %s from %s, not the head %s: "
			"not accepted",
			r.code, ctx->peer, r.head_phone);
	}
	if (store_rt_log(ctx->st, open ? r.id : 0, "foreign_answer", ctx->peer,
			 ctx->msg->body, now) ||
	    reply(ctx, "Jawaban konfirmasi RT hanya diterima dari nomor Ketua "
		       "RT yang terdaftar. Petugas kami akan memeriksanya."))
		return -1;
	return 1;
}

/* Too many refused answers from this number in the last day: consumed
 * without a reply (no more guesses, no SMS spent), staff see why. */
static int over_limit(struct rt *rt, struct inbox_ctx *ctx)
{
	int64_t now = app_now_ms(rt->app);
	int n = store_rt_refused_since(ctx->st, ctx->peer,
				       now - RT_REFUSED_WINDOW_MS);

	if (n < RT_MAX_REFUSED)
		return 0;
	char line[500];
	snprintf(line, sizeof(line),
		 "PERLU DICEK: %d jawaban konfirmasi RT yang salah dari %s "
		 "dalam 24 jam; jawaban berikutnya tidak diproses. Balasan: "
		 "\"%s\"",
		 n, ctx->peer, ctx->msg->body);
	if (note(ctx->st, ctx->conv.id, line, now) ||
	    store_rt_log(ctx->st, 0, "over_limit", ctx->peer, ctx->msg->body,
			 now))
		return -1;
	log_msg(LOG_WARN, "RT answer from %s ignored: %d refused in a day",
		ctx->peer, n);
	return 1;
}

static int respond(void *ud, struct inbox_ctx *ctx)
{
	struct rt *rt = ud;
	struct rt_answer ans;

	/* Only a number can be a head: an alphanumeric sender ID or a
	 * short code has no phone (inbox.c), whatever its characters. */
	if (!ctx->msg->body || !ctx->contact.phone[0] ||
	    (ctx->msg->kind && strcmp(ctx->msg->kind, "text") != 0))
		return 0;
	if (rt_parse_answer(ctx->msg->body, &ans) == RT_NONE)
		return 0;
	bool head = rt_registry_is_head(rt->reg, ctx->contact.phone);
	if (!head) {
		struct store_rt_req one;
		int n =
		    store_rt_open_by_head(ctx->st, ctx->contact.phone, &one, 1);
		if (n < 0)
			return -1;
		head = n > 0; /* removed from rt.ini, requests still open */
	}
	if (!head && !ans.code[0])
		return 0;
	int lim = over_limit(rt, ctx);
	if (lim)
		return lim;
	int r =
	    head ? head_answer(rt, ctx, &ans) : foreign_answer(rt, ctx, &ans);
	/* The answer is on the request's conversation (a note, its state);
	 * the head's own conversation keeps it as a record, not as new
	 * work for the clerk. */
	if (r > 0 && head && strcmp(ctx->conv.status, "baru") == 0 &&
	    store_conversation_set(ctx->st, ctx->conv.id, "status", "otomatis",
				   ctx->now_ms) == STORE_ERR)
		return -1;
	return r;
}

/* ---- follow-up: reminder, expiry, escalation ---------------------------- */

static int remind(struct rt *rt, const struct store_rt_req *r, int64_t now)
{
	struct store_contact k;
	char text[400];

	if (store_contact_get(rt->app->st, r->contact_id, &k) != STORE_OK)
		return -1;
	ask_text(rt, "Pengingat ", &k, r, text, sizeof(text));
	if (sms_to(rt, r->head_phone, r->head_name, r->rt, text, now) ||
	    store_rt_set_reminded(rt->app->st, r->id, now) ||
	    store_rt_log(rt->app->st, r->id, "reminded", r->head_phone, text,
			 now))
		return -1;
	log_msg(LOG_INFO, "RT %s request %lld: reminder sent to %s", r->rt,
		(long long)r->id, r->head_phone);
	return 0;
}

static int escalate_rw(struct rt *rt, const struct store_rt_req *r, int64_t now)
{
	struct store_contact k;
	char text[400], person[160], rwno[8];
	int rw = atoi(r->rw);
	const struct rt_head *h = rt_registry_rw(rt->reg, rw);

	if (!rt->app->cfg->rt_notify_rw || !h)
		return 0;
	if (store_contact_get(rt->app->st, r->contact_id, &k) != STORE_OK)
		return -1;
	who(&k, 24, person, sizeof(person));
	rt_format_number(rw, rwno, sizeof(rwno));
	snprintf(text, sizeof(text),
		 "%s: Ketua RT %s belum menjawab konfirmasi warga %s untuk "
		 "%s. Mohon bantu hubungi kantor kelurahan.",
		 office_name(rt), r->rt, person, service_label(r->service));
	gsm_transliterate(text);
	char rtlabel[16];
	snprintf(rtlabel, sizeof(rtlabel), "RW %s", rwno);
	/* head_conversation() labels by RT; for the RW head say RW. */
	struct store_contact hk;
	struct store_conversation hc;
	char label[128];
	bool created;
	snprintf(label, sizeof(label), "%s (Ketua RW %s)", h->name, rwno);
	if (store_contact_upsert(rt->app->st, h->phone, NULL, NULL, "mobile",
				 label, now, &hk) ||
	    store_conversation_for(rt->app->st, hk.id, now, &hc, &created) ||
	    store_outbox_enqueue(rt->app->st, hc.id, hk.id, "sms", h->phone,
				 text, OUT_AUTHOR, now) < 0 ||
	    store_rt_log(rt->app->st, r->id, "escalated_rw", h->phone, text,
			 now))
		return -1;
	return 0;
}

static int expire(struct rt *rt, const struct store_rt_req *r, int64_t now)
{
	char line[500], when[64];
	struct store *st = rt->app->st;

	int cl =
	    store_rt_close(st, r->id, "kedaluwarsa", NULL, NULL, NULL, now);
	if (cl == STORE_NOTFOUND)
		return 0;
	format_when(rt, r->created_at, when, sizeof(when));
	snprintf(line, sizeof(line),
		 "PERLU TINDAK LANJUT: Ketua RT %s (%s, %s) tidak menjawab "
		 "permintaan konfirmasi %s (kode %s, dikirim %s%s). "
		 "Permintaan kedaluwarsa.",
		 r->rt, r->head_name, r->head_phone, service_label(r->service),
		 r->code, when, r->reminded_at ? ", sudah diingatkan" : "");
	if (cl == STORE_ERR || note(st, r->conversation_id, line, now) ||
	    store_conversation_set(st, r->conversation_id, "status", "diproses",
				   now) == STORE_ERR ||
	    store_rt_log(st, r->id, "expired", NULL, NULL, now) ||
	    store_event(st, "rt_expired", r->conversation_id, line, now) ||
	    escalate_rw(rt, r, now))
		return -1;
	log_msg(LOG_WARN,
		"RT %s request %lld (code %s) expired without an "
		"answer from %s",
		r->rt, (long long)r->id, r->code, r->head_phone);
	return 0;
}

static void follow_up(struct rt *rt)
{
	struct store_rt_req due[DUE_BATCH];
	int64_t now = app_now_ms(rt->app);
	int n = store_rt_due(rt->app->st, now, due, DUE_BATCH);
	bool sent = false;

	if (n > DUE_BATCH)
		n = DUE_BATCH;
	for (int i = 0; i < n; i++) {
		if (store_begin(rt->app->st))
			break;
		int rc = due[i].expire_at <= now ? expire(rt, &due[i], now)
						 : remind(rt, &due[i], now);
		if (rc) {
			log_msg(LOG_ERR, "RT request %lld follow-up: %s",
				(long long)due[i].id,
				store_errmsg(rt->app->st));
			store_rollback(rt->app->st);
			continue;
		}
		if (store_commit(rt->app->st) == 0)
			sent = true;
	}
	if (sent)
		outbox_kick(rt->app->ob);
}

static void on_timer(struct loop *l, void *arg)
{
	struct rt *rt = arg;

	follow_up(rt);
	rt->timer = loop_timer_add(
	    l, (uint64_t)rt->app->cfg->rt_check_interval * 1000, on_timer, rt);
}

/* ---- API ---------------------------------------------------------------- */

static int post_request(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct rt *rt = ud;
	size_t len;
	const char *b = http_body(req, &len);
	json_t *j = json_loadb(b, len, 0, NULL);
	json_int_t conv =
	    json_integer_value(json_object_get(j, "conversation"));
	const char *svc = json_string_value(json_object_get(j, "service"));
	const char *user = http_user(req);
	char why[300] = "";
	struct store_rt_req r;

	if (!j || conv <= 0) {
		http_error(resp, 400,
			   "give {\"conversation\": ID} (and "
			   "optionally \"service\")");
		json_decref(j);
		return HTTP_DONE;
	}
	int64_t id =
	    rt_request(rt, conv, svc, user && *user ? user : "simpulctl", why,
		       sizeof(why));
	json_decref(j);
	if (id < 0)
		http_error(resp, 500, why);
	else if (id == 0)
		http_error(resp, strstr(why, "no such") ? 404 : 409, why);
	else if (store_rt_get(rt->app->st, id, &r) != STORE_OK)
		http_error(resp, 500, store_errmsg(rt->app->st));
	else
		http_reply_json(resp, 201,
				json_pack("{sI ss ss ss ss ss ss}", "id",
					  (json_int_t)id, "code", r.code, "rt",
					  r.rt, "head_name", r.head_name,
					  "head_phone", r.head_phone, "state",
					  r.state, "service", r.service));
	return HTTP_DONE;
}

static int get_requests(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct rt *rt = ud;
	const char *all = http_arg(req, "all");
	const char *conv = http_arg(req, "conversation");
	int64_t now = app_now_ms(rt->app);
	int tz = app_tz_offset(rt->app, now);
	json_t *arr = store_rt_json(rt->app->st, !(all && *all && *all != '0'),
				    conv ? atoll(conv) : 0, tz);
	size_t i;
	json_t *it;

	if (!arr) {
		http_error(resp, 500, store_errmsg(rt->app->st));
		return HTTP_DONE;
	}
	json_array_foreach(arr, i, it) json_object_set_new(
	    it, "log",
	    store_rt_log_json(rt->app->st,
			      json_integer_value(json_object_get(it, "id")),
			      tz));
	http_reply_json(resp, 200, arr);
	return HTTP_DONE;
}

/* ---- life --------------------------------------------------------------- */

static struct rt_registry *load(const char *path)
{
	struct diag *d = diag_new();
	struct rt_registry *r = rt_registry_load(path, d);

	for (size_t i = 0; i < diag_count(d); i++)
		log_msg(r ? LOG_WARN : LOG_ERR, "rt: %s", diag_line(d, i));
	diag_free(d);
	return r;
}

void rt_check(const struct config *cfg, struct diag *d)
{
	rt_registry_free(rt_registry_load(cfg->rt_file, d));
}

int rt_reload(struct rt *rt)
{
	struct rt_registry *r = load(rt->app->cfg->rt_file);

	if (!r) {
		log_msg(LOG_ERR,
			"%s has errors: still using the previous RT "
			"heads",
			rt->app->cfg->rt_file);
		return -1;
	}
	rt_registry_free(rt->reg);
	rt->reg = r;
	log_msg(LOG_INFO, "RT heads loaded: %d from %s", rt_registry_count(r),
		rt->app->cfg->rt_file);
	return 0;
}

struct rt *rt_new(struct app *app)
{
	struct rt *rt = calloc(1, sizeof(*rt));

	if (!rt)
		return NULL;
	rt->app = app;
	rt->reg = load(app->cfg->rt_file);
	if (!rt->reg) {
		log_msg(LOG_ERR,
			"no RT confirmation until %s is fixed "
			"(simpuld -n shows every error; then reload)",
			app->cfg->rt_file);
		inbox_notice(app->ib, "rt_registry",
			     "rt.ini berisi kesalahan: konfirmasi RT tidak "
			     "berjalan sampai diperbaiki.");
	} else {
		log_msg(LOG_INFO, "RT heads loaded: %d from %s",
			rt_registry_count(rt->reg), app->cfg->rt_file);
	}
	inbox_add_responder(app->ib, INBOX_STAGE_RT, respond, rt);
	if (http_route(app->http, "POST", "/api/v1/rt/requests", 0,
		       post_request, rt) ||
	    http_route(app->http, "GET", "/api/v1/rt/requests", 0, get_requests,
		       rt)) {
		rt_free(rt);
		return NULL;
	}
	rt->timer = loop_timer_add(app->loop, 1000, on_timer, rt);
	return rt;
}

void rt_free(struct rt *rt)
{
	if (!rt)
		return;
	if (rt->timer)
		loop_timer_cancel(rt->app->loop, rt->timer);
	rt_registry_free(rt->reg);
	free(rt);
}
