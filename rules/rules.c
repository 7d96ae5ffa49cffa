#include "rules.h"

#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gsm.h"
#include "ini.h"
#include "phone.h"
#include "template.h"

#define MAX_TOKENS 64
#define CH_SMS	   1u
#define CH_WA	   2u

enum match_mode { MATCH_ANY, MATCH_FIRST, MATCH_WHOLE, MATCH_FALLBACK };
enum when { WHEN_ALWAYS, WHEN_OPEN, WHEN_CLOSED };

struct phrase {
	char *text; /* as written, for messages */
	int n;
	char **tok; /* normalised tokens */
};

struct rules_rule {
	char *name, *file;
	int line, reply_line, reply_wa_line, reply_closed_line, order;
	struct phrase *kw;
	int nkw;
	enum match_mode mode;
	unsigned channels;
	enum when when;
	char *reply, *reply_wa, *reply_closed, *category;
	bool ticket, rt_confirm, status_query, is_menu;
	int priority, due_days;
};

struct rules {
	char *office, *prefix, *own;
	char **deny;
	int ndeny, max_segments;
	struct rules_limits lim;
	struct hours *hours;
	struct rules_rule *rule;
	int nrules;
	int menu;	      /* index of the menu, -1 none */
	int menu_item[10];    /* rule index per digit, -1 none */
	char *menu_target[10];
	int menu_target_line[10];
	char *menu_file;
};

/* ---------------------------------------------------------------- text */

/* Greetings and fillers that carry no request, normalised (lower case,
 * repeated letters collapsed): "assalamualaikum bu, kk hilang gimana"
 * keeps only "kk hilang". */
static const char *const fillers[] = {
	"asalamualaikum", "asalamu", "alaikum", "asalamualaikom", "salam",
	"wr", "wb", "warahmatulahi", "wabarakatuh", "halo", "helo", "hai",
	"hi", "selamat", "met", "pagi", "siang", "sore", "malam", "permisi",
	"punten", "om", "swastiastu", "shalom", "pak", "bapak", "bu", "ibu",
	"min", "admin", "kak", "kakak", "mas", "mbak", "bang", "dik", "tolong",
	"dong", "ya", "yah", "ok", "oke", "mau", "ingin", "tanya", "bertanya",
	"nanya", "syarat", "syaratnya", "persyaratan", "gimana", "bagaimana",
	"gmn", "cara", "caranya", "buat", "bikin", "membuat", "urus",
	"mengurus", "ngurus", "saya", "aku", "sy", "apa", "apakah", "ada",
	"untuk", "utk", "yang", "yg", "mohon", "terima", "kasih", "makasih",
	"trims", "nih", "sih", "deh", "kah", "lur", "pak lurah",
};

static bool is_filler(const char *tok)
{
	for (size_t i = 0; i < sizeof(fillers) / sizeof(*fillers); i++)
		if (strcmp(fillers[i], tok) == 0)
			return true;
	return false;
}

struct tokens {
	int n;
	char *tok[MAX_TOKENS];
	bool filler[MAX_TOKENS];
	char buf[1024];
};

/* Lower case, transliterated, every non-alphanumeric byte a separator;
 * runs of single letters joined ("K T P" -> "ktp"); repeated letters
 * collapsed ("ktppp" -> "ktp", "halooo" -> "halo"). Digits are kept
 * as they are (ticket numbers). */
static void tokenize(const char *text, struct tokens *t)
{
	char raw[1024];
	char *words[MAX_TOKENS];
	int nw = 0;

	snprintf(raw, sizeof(raw), "%s", text ? text : "");
	gsm_transliterate(raw);
	for (char *p = raw; *p; p++)
		*p = isalnum((unsigned char)*p) && !((unsigned char)*p & 0x80)
			     ? (char)tolower((unsigned char)*p)
			     : ' ';
	char *save = NULL;
	for (char *s = strtok_r(raw, " ", &save); s && nw < MAX_TOKENS;
	     s = strtok_r(NULL, " ", &save))
		words[nw++] = s;

	size_t used = 0;
	t->n = 0;
	for (int i = 0; i < nw && t->n < MAX_TOKENS;) {
		char *out = t->buf + used;
		size_t len = 0;
		int j = i;
		/* join single letters: "k t p" */
		while (j < nw && strlen(words[j]) == 1 &&
		       isalpha((unsigned char)words[j][0]))
			j++;
		if (j - i >= 2) {
			for (int k = i; k < j && used + len + 2 < sizeof(t->buf); k++)
				out[len++] = words[k][0];
			i = j;
		} else {
			for (const char *s = words[i];
			     *s && used + len + 2 < sizeof(t->buf); s++)
				out[len++] = *s;
			i++;
		}
		out[len] = '\0';
		/* collapse repeated letters */
		size_t w = 0;
		for (size_t r = 0; r < len; r++)
			if (w == 0 || out[r] != out[w - 1] ||
			    isdigit((unsigned char)out[r]))
				out[w++] = out[r];
		out[w] = '\0';
		t->tok[t->n] = out;
		t->filler[t->n] = is_filler(out);
		t->n++;
		used += w + 1;
	}
}

/* Optimal string alignment distance, capped: we only ask "<= 1?". */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int d[40][40];

	if (la >= 39 || lb >= 39)
		return strcmp(a, b) ? 99 : 0;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < v)
				v = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* Common words one letter away from a shipped keyword: never typos. */
static const char *const real_words[] = {
	"sampai", "lampau", "lampir", "bukan",
};

static bool is_real_word(const char *tok)
{
	for (size_t i = 0; i < sizeof(real_words) / sizeof(*real_words); i++)
		if (strcmp(real_words[i], tok) == 0)
			return true;
	return false;
}

/* 0 no, 1 exact, 2 one-letter typo (keywords of 5 letters or more) */
static int tok_match(const char *kw, const char *in)
{
	if (strcmp(kw, in) == 0)
		return 1;
	if (strlen(kw) >= 5 && !is_real_word(in) && !isdigit((unsigned char)kw[0]) &&
	    edit_distance(kw, in) == 1)
		return 2;
	return 0;
}

/* The meaningful (non-filler) tokens of t, in order. */
static int content(const struct tokens *t, const char **out)
{
	int n = 0;

	for (int i = 0; i < t->n; i++)
		if (!t->filler[i])
			out[n++] = t->tok[i];
	return n;
}

/* ------------------------------------------------------------- loading */

struct loader {
	struct rules *r;
	struct diag *d;
	bool office_seen, limits_seen;
	char office_file[256];
};

static const char *const office_keys[] = {
	"name", "timezone", "ticket_prefix", "own_number", "deny",
	"sms_max_segments", "senin", "selasa", "rabu", "kamis", "jumat",
	"sabtu", "minggu", "max_per_hour", "closed_reply_hours",
	"staff_quiet_minutes", "same_text_max", "same_text_minutes", NULL};
static const char *const limits_keys[] = {
	"max_per_hour", "closed_reply_hours", "staff_quiet_minutes",
	"same_text_max", "same_text_minutes", NULL};
static const char *const override_keys[] = {
	"from", "to", "senin", "selasa", "rabu", "kamis", "jumat", "sabtu",
	"minggu", NULL};
static const char *const closed_keys[] = {"reason", NULL};
static const char *const rule_keys[] = {
	"keywords", "aliases", "match", "channels", "when", "reply",
	"reply_whatsapp", "reply_closed", "category", "ticket", "rt_confirm", "priority",
	"due_days", "status_query", NULL};

static const char *closest(const char *word, const char *const *list)
{
	const char *best = NULL;
	int bestd = 3;

	for (; *list; list++) {
		int dd = edit_distance(word, *list);
		if (dd < bestd ||
		    (!best && strncmp(word, *list, strlen(word)) == 0 &&
		     strlen(word) >= 3)) {
			bestd = dd;
			best = *list;
		}
	}
	return best;
}

static void check_keys(struct loader *L, const struct ini *ini,
		       const char *sec, const char *const *known,
		       bool digits_ok)
{
	for (int i = 0; i < ini_nkeys(ini, sec); i++) {
		const char *k = ini_key(ini, sec, i);
		bool ok = digits_ok && isdigit((unsigned char)k[0]) && !k[1];
		for (const char *const *p = known; *p && !ok; p++)
			ok = strcmp(*p, k) == 0;
		if (ok)
			continue;
		const char *hint = closest(k, known);
		if (hint)
			ini_diag(L->d, DIAG_ERROR, ini, sec, k,
				 "unknown key '%s' in [%s]; did you mean '%s'?",
				 k, sec, hint);
		else
			ini_diag(L->d, DIAG_ERROR, ini, sec, k,
				 "unknown key '%s' in [%s]", k, sec);
	}
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "ya", "true", "1", "on"};
	static const char *const no[] = {"no", "tidak", "false", "0", "off"};

	for (size_t i = 0; i < 5; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

static void get_bool(struct loader *L, const struct ini *ini, const char *sec,
		     const char *key, bool *out)
{
	const char *v = ini_get(ini, sec, key);

	if (v && parse_bool(v, out) < 0)
		ini_diag(L->d, DIAG_ERROR, ini, sec, key,
			 "%s = '%s': write yes or no", key, v);
}

static void get_int(struct loader *L, const struct ini *ini, const char *sec,
		    const char *key, int lo, int hi, int *out)
{
	const char *v = ini_get(ini, sec, key);
	char *end;

	if (!v)
		return;
	long n = strtol(v, &end, 10);
	if (!*v || *end || n < lo || n > hi)
		ini_diag(L->d, DIAG_ERROR, ini, sec, key,
			 "%s = '%s': expected a whole number from %d to %d",
			 key, v, lo, hi);
	else
		*out = (int)n;
}

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A number as comparable digits (62812...): common/phone.c is the one
 * place that knows Indonesian number forms. "" for anything that is not a
 * phone number (alphanumeric senders, short codes). */
static void phone_key(const char *number, char *buf, size_t n)
{
	char e164[64];
	enum phone_kind k = phone_normalize(number, e164, sizeof(e164));

	if (k == PHONE_MOBILE || k == PHONE_FIXED || k == PHONE_FOREIGN)
		phone_to_wa(e164, buf, n);
	else if (n)
		buf[0] = '\0';
}

/* Reads the weekday keys of sec into w (set[] marks those given). */
static void get_week(struct loader *L, const struct ini *ini, const char *sec,
		     struct hours_week *w)
{
	char err[256];

	for (int wd = 0; wd < 7; wd++) {
		char key[16];
		snprintf(key, sizeof(key), "%s", hours_weekday_name(wd));
		key[0] = (char)tolower((unsigned char)key[0]);
		const char *v = ini_get(ini, sec, key);
		if (!v)
			continue;
		if (hours_parse_day(v, &w->day[wd], err, sizeof(err)) < 0)
			ini_diag(L->d, DIAG_ERROR, ini, sec, key, "%s", err);
		else
			w->set[wd] = true;
	}
}

static void split_list(const char *v, void (*each)(void *, const char *),
		       void *ctx)
{
	char buf[1024], *save = NULL;

	/* strtok_r: the callbacks tokenize with strtok_r too */
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *s = strtok_r(buf, ",", &save); s;
	     s = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*s))
			s++;
		size_t n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			s[--n] = '\0';
		if (*s)
			each(ctx, s);
	}
}

static void add_deny(void *ctx, const char *num)
{
	struct rules *r = ctx;
	char key[32];
	char **p = realloc(r->deny, (size_t)(r->ndeny + 1) * sizeof(*p));

	if (!p)
		return;
	r->deny = p;
	phone_key(num, key, sizeof(key));
	r->deny[r->ndeny++] = strdup(key);
}

static void load_limits(struct loader *L, const struct ini *ini,
			const char *sec)
{
	struct rules_limits *l = &L->r->lim;

	get_int(L, ini, sec, "max_per_hour", 0, 100, &l->max_per_hour);
	get_int(L, ini, sec, "closed_reply_hours", 0, 168,
		&l->closed_reply_hours);
	get_int(L, ini, sec, "staff_quiet_minutes", 0, 1440,
		&l->staff_quiet_minutes);
	get_int(L, ini, sec, "same_text_max", 2, 100, &l->same_text_max);
	get_int(L, ini, sec, "same_text_minutes", 1, 1440,
		&l->same_text_minutes);
}

static void load_office(struct loader *L, const struct ini *ini,
			const char *sec)
{
	struct rules *r = L->r;
	char err[512];

	if (L->office_seen) {
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "second [office] section (the first is in %s); "
			 "keep one",
			 L->office_file);
		return;
	}
	L->office_seen = true;
	snprintf(L->office_file, sizeof(L->office_file), "%s",
		 base(ini_path(ini)));
	check_keys(L, ini, sec, office_keys, false);
	const char *name = ini_get(ini, sec, "name");
	const char *tz = ini_get(ini, sec, "timezone");
	const char *prefix = ini_get(ini, sec, "ticket_prefix");
	if (!name || !*name)
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "[office] needs name = (e.g. Kelurahan Contoh)");
	if (!tz)
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "[office] needs timezone = (Asia/Jakarta, "
			 "Asia/Makassar or Asia/Jayapura)");
	else if (hours_set_zone(r->hours, tz, err, sizeof(err)) < 0)
		ini_diag(L->d, DIAG_ERROR, ini, sec, "timezone", "%s", err);
	r->office = xstrdup(name ? name : "");
	if (prefix) {
		size_t n = strlen(prefix);
		bool ok = n >= 2 && n <= 6;
		for (const char *p = prefix; *p; p++)
			ok = ok && isupper((unsigned char)*p);
		if (!ok)
			ini_diag(L->d, DIAG_ERROR, ini, sec, "ticket_prefix",
				 "ticket_prefix = '%s': use 2 to 6 capital "
				 "letters, e.g. KLS",
				 prefix);
		free(r->prefix);
		r->prefix = strdup(prefix);
	}
	const char *own = ini_get(ini, sec, "own_number");
	if (own) {
		char key[32];
		phone_key(own, key, sizeof(key));
		r->own = strdup(key);
	}
	const char *deny = ini_get(ini, sec, "deny");
	if (deny)
		split_list(deny, add_deny, r);
	get_int(L, ini, sec, "sms_max_segments", 1, 10, &r->max_segments);
	load_limits(L, ini, sec);

	struct hours_week w = {0};
	get_week(L, ini, sec, &w);
	for (int wd = 0; wd < 7; wd++)
		if (!w.set[wd] && !ini_get(ini, sec, office_keys[6 + (wd + 6) % 7]))
			ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
				 "[office] has no hours for %s; write e.g. "
				 "%s = 08.00-16.00 or %s = tutup",
				 office_keys[6 + (wd + 6) % 7],
				 office_keys[6 + (wd + 6) % 7],
				 office_keys[6 + (wd + 6) % 7]);
	hours_set_week(r->hours, &w);
}

static void load_override(struct loader *L, const struct ini *ini,
			  const char *sec, const char *name)
{
	const char *from = ini_get(ini, sec, "from"), *to = ini_get(ini, sec, "to");
	int32_t df = 0, dt = 0;
	struct hours_week w = {0};

	check_keys(L, ini, sec, override_keys, false);
	if (!from || hours_parse_date(from, &df) < 0) {
		ini_diag(L->d, DIAG_ERROR, ini, sec, from ? "from" : NULL,
			 "[%s] needs from = YYYY-MM-DD", sec);
		return;
	}
	if (!to || hours_parse_date(to, &dt) < 0) {
		ini_diag(L->d, DIAG_ERROR, ini, sec, to ? "to" : NULL,
			 "[%s] needs to = YYYY-MM-DD", sec);
		return;
	}
	if (dt < df) {
		ini_diag(L->d, DIAG_ERROR, ini, sec, "to",
			 "to = %s is before from = %s", to, from);
		return;
	}
	get_week(L, ini, sec, &w);
	hours_add_override(L->r->hours, name, df, dt, &w);
}

static void load_closed(struct loader *L, const struct ini *ini,
			const char *sec, const char *date)
{
	int32_t day;

	check_keys(L, ini, sec, closed_keys, false);
	if (hours_parse_date(date, &day) < 0) {
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "[%s]: '%s' is not a date; write [closed YYYY-MM-DD]",
			 sec, date);
		return;
	}
	const char *reason = ini_get(ini, sec, "reason");
	hours_add_closed(L->r->hours, day, reason ? reason : "");
}

struct kw_ctx {
	struct loader *L;
	const struct ini *ini;
	const char *sec, *key;
	struct rules_rule *rule;
};

static void add_keyword(void *ctx, const char *word)
{
	struct kw_ctx *k = ctx;
	struct tokens t;
	struct phrase *p;

	tokenize(word, &t);
	bool all_filler = true;
	for (int i = 0; i < t.n; i++)
		all_filler = all_filler && t.filler[i];
	if (t.n == 0 || all_filler) {
		ini_diag(k->L->d, DIAG_ERROR, k->ini, k->sec, k->key,
			 "keyword '%s' is %s; messages never match it", word,
			 t.n ? "a greeting or filler word that is ignored"
			     : "empty after removing punctuation");
		return;
	}
	p = realloc(k->rule->kw, (size_t)(k->rule->nkw + 1) * sizeof(*p));
	if (!p)
		return;
	k->rule->kw = p;
	p = &p[k->rule->nkw++];
	p->text = strdup(word);
	p->n = 0;
	p->tok = calloc((size_t)t.n, sizeof(char *));
	for (int i = 0; i < t.n; i++)
		if (!t.filler[i])
			p->tok[p->n++] = strdup(t.tok[i]);
}

static int parse_enum(const char *v, const char *const *names)
{
	for (int i = 0; names[i]; i++)
		if (strcasecmp(v, names[i]) == 0)
			return i;
	return -1;
}

static const char *const mode_names[] = {"any_word", "first_word", "whole",
					 "fallback", NULL};
static const char *const when_names[] = {"always", "open", "closed", NULL};

static void channel_one(void *ctx, const char *c)
{
	struct kw_ctx *k = ctx;

	if (strcasecmp(c, "sms") == 0)
		k->rule->channels |= CH_SMS;
	else if (strcasecmp(c, "whatsapp") == 0 || strcasecmp(c, "wa") == 0)
		k->rule->channels |= CH_WA;
	else
		ini_diag(k->L->d, DIAG_ERROR, k->ini, k->sec, "channels",
			 "unknown channel '%s'; use sms, whatsapp or both", c);
}

static void rule_reply(struct loader *L, const struct ini *ini,
		       const char *sec, const char *key, char **out, int *line)
{
	const char *v = ini_get(ini, sec, key);
	char err[256];

	if (!v)
		return;
	if (template_check(v, err, sizeof(err)) < 0) {
		ini_diag(L->d, DIAG_ERROR, ini, sec, key, "%s", err);
		return;
	}
	*out = strdup(v);
	gsm_transliterate(*out);
	*line = ini_line(ini, sec, key);
}

static struct rules_rule *new_rule(struct loader *L, const struct ini *ini,
				   const char *sec, const char *name)
{
	struct rules *r = L->r;

	for (int i = 0; i < r->nrules; i++)
		if (strcmp(r->rule[i].name, name) == 0) {
			ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
				 "rule '%s' defined twice (first in %s:%d)",
				 name, base(r->rule[i].file), r->rule[i].line);
			return NULL;
		}
	struct rules_rule *p =
		realloc(r->rule, (size_t)(r->nrules + 1) * sizeof(*p));
	if (!p)
		return NULL;
	r->rule = p;
	p = &p[r->nrules];
	memset(p, 0, sizeof(*p));
	p->name = strdup(name);
	p->file = strdup(ini_path(ini));
	p->line = ini_line(ini, sec, NULL);
	p->order = r->nrules++;
	p->channels = 0;
	p->priority = 50;
	return p;
}

static void load_rule(struct loader *L, const struct ini *ini, const char *sec,
		      const char *name, bool menu)
{
	struct rules_rule *rule = new_rule(L, ini, sec, name);
	struct kw_ctx k = {L, ini, sec, NULL, rule};
	const char *v;

	check_keys(L, ini, sec, rule_keys, menu);
	if (!rule)
		return;
	rule->is_menu = menu;
	for (int i = 0; i < 2; i++) {
		k.key = i ? "aliases" : "keywords";
		if ((v = ini_get(ini, sec, k.key)))
			split_list(v, add_keyword, &k);
	}
	if ((v = ini_get(ini, sec, "match"))) {
		int m = parse_enum(v, mode_names);
		if (m < 0)
			ini_diag(L->d, DIAG_ERROR, ini, sec, "match",
				 "match = '%s': use any_word, first_word, "
				 "whole or fallback",
				 v);
		else
			rule->mode = (enum match_mode)m;
	}
	if ((v = ini_get(ini, sec, "when"))) {
		int w = parse_enum(v, when_names);
		if (w < 0)
			ini_diag(L->d, DIAG_ERROR, ini, sec, "when",
				 "when = '%s': use always, open or closed", v);
		else
			rule->when = (enum when)w;
	}
	if ((v = ini_get(ini, sec, "channels")))
		split_list(v, channel_one, &k);
	else
		rule->channels = CH_SMS | CH_WA;
	rule_reply(L, ini, sec, "reply", &rule->reply, &rule->reply_line);
	rule_reply(L, ini, sec, "reply_whatsapp", &rule->reply_wa,
		   &rule->reply_wa_line);
	rule_reply(L, ini, sec, "reply_closed", &rule->reply_closed,
		   &rule->reply_closed_line);
	rule->category = xstrdup(ini_get(ini, sec, "category"));
	get_bool(L, ini, sec, "ticket", &rule->ticket);
	get_bool(L, ini, sec, "rt_confirm", &rule->rt_confirm);
	get_bool(L, ini, sec, "status_query", &rule->status_query);
	get_int(L, ini, sec, "priority", 0, 1000, &rule->priority);
	get_int(L, ini, sec, "due_days", 0, 365, &rule->due_days);

	if (rule->mode != MATCH_FALLBACK && !rule->nkw && !menu &&
	    !ini_get(ini, sec, "keywords"))
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "[%s] has no keywords; add keywords = ... or "
			 "match = fallback",
			 sec);
	if (rule->mode == MATCH_FALLBACK && rule->nkw)
		ini_diag(L->d, DIAG_WARNING, ini, sec, "keywords",
			 "keywords are ignored with match = fallback");
	if (!ini_get(ini, sec, "reply"))
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "[%s] has no reply = ...", sec);
	if (menu) {
		L->r->menu = rule->order;
		free(L->r->menu_file);
		L->r->menu_file = strdup(ini_path(ini));
		for (int dg = 0; dg < 10; dg++) {
			char key[2] = {(char)('0' + dg), 0};
			if ((v = ini_get(ini, sec, key))) {
				L->r->menu_target[dg] = strdup(v);
				L->r->menu_target_line[dg] =
					ini_line(ini, sec, key);
			}
		}
	}
}

static const char *const section_kinds[] = {"office", "limits", "menu",
					    "rule", "override", "closed", NULL};

static void load_section(struct loader *L, const struct ini *ini,
			 const char *sec)
{
	const char *sp = strchr(sec, ' ');
	char kind[32];
	const char *arg = sp ? sp + 1 : "";

	snprintf(kind, sizeof(kind), "%.*s", (int)(sp ? sp - sec : 31), sec);
	while (*arg == ' ')
		arg++;
	if (strcmp(sec, "office") == 0)
		load_office(L, ini, sec);
	else if (strcmp(sec, "limits") == 0) {
		check_keys(L, ini, sec, limits_keys, false);
		load_limits(L, ini, sec);
	} else if (strcmp(sec, "menu") == 0) {
		if (L->r->menu >= 0)
			ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
				 "second [menu] (the first is in %s)",
				 base(L->r->menu_file));
		else
			load_rule(L, ini, sec, "menu", true);
	} else if (strcmp(kind, "rule") == 0 && *arg)
		load_rule(L, ini, sec, arg, false);
	else if (strcmp(kind, "override") == 0 && *arg)
		load_override(L, ini, sec, arg);
	else if (strcmp(kind, "closed") == 0 && *arg)
		load_closed(L, ini, sec, arg);
	else {
		const char *hint = closest(kind, section_kinds);
		ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
			 "unknown section [%s]%s%s%s; sections are [office], "
			 "[limits], [menu], [rule NAME], [override NAME], "
			 "[closed YYYY-MM-DD]",
			 sec, hint ? "; did you mean '" : "", hint ? hint : "",
			 hint ? "'?" : "");
	}
}

static void load_holidays(struct loader *L, const char *path)
{
	struct ini *ini = ini_load(path, L->d);

	if (!ini)
		return;
	for (int s = 0; s < ini_nsections(ini); s++) {
		const char *sec = ini_section(ini, s);
		char *end;
		long year = strtol(sec, &end, 10);
		if (*end || year < 2000 || year > 2200) {
			ini_diag(L->d, DIAG_ERROR, ini, sec, NULL,
				 "holiday sections are years, e.g. [2026]");
			continue;
		}
		for (int k = 0; k < ini_nkeys(ini, sec); k++) {
			const char *date = ini_key(ini, sec, k);
			int32_t day;
			if (hours_parse_date(date, &day) < 0 ||
			    strtol(date, NULL, 10) != year) {
				ini_diag(L->d, DIAG_ERROR, ini, sec, date,
					 "'%s' is not a date of %ld; write "
					 "%ld-MM-DD = name",
					 date, year, year);
				continue;
			}
			hours_add_closed(L->r->hours, day,
					 ini_get(ini, sec, date));
		}
	}
	ini_free(ini);
}

static void resolve_menu(struct loader *L)
{
	struct rules *r = L->r;

	for (int dg = 0; dg < 10; dg++) {
		r->menu_item[dg] = -1;
		if (!r->menu_target[dg])
			continue;
		for (int i = 0; i < r->nrules; i++)
			if (strcmp(r->rule[i].name, r->menu_target[dg]) == 0)
				r->menu_item[dg] = i;
		if (r->menu_item[dg] < 0)
			diag_add(L->d, DIAG_ERROR, r->menu_file,
				 r->menu_target_line[dg], "menu", NULL,
				 "menu item %d = %s: there is no [rule %s]", dg,
				 r->menu_target[dg], r->menu_target[dg]);
	}
}

static void fill_x(char *buf, size_t len)
{
	memset(buf, 'x', len);
	buf[len] = '\0';
}

/* Placeholders filled with their longest possible values, so a reply
 * that passes here never needs more segments in service. */
static void worst_vars(const struct rules *r, struct template_vars *v,
		       char store[][64])
{
	size_t hl = hours_today_maxlen(r->hours);

	fill_x(store[0], hl < 63 ? hl : 63);
	fill_x(store[1], strlen("Minggu 30/12 08.00 WITA") + 1);
	fill_x(store[2], strlen(r->prefix) + strlen("-2612-99999"));
	fill_x(store[3], TEMPLATE_NAME_MAX);
	fill_x(store[4], TEMPLATE_RT_MAX);
	fill_x(store[5], strlen("Minggu 30/12/2026"));
	*v = (struct template_vars){{r->office, store[0], store[1], store[2],
				     store[3], store[4], store[5]}};
}

static void check_text(struct loader *L, const struct rules_rule *rule,
		       const char *reply, int reply_line)
{
	const struct rules *r = L->r;
	struct template_vars v;
	char store[6][64];
	struct gsm_count c;

	if (!reply || !(rule->channels & CH_SMS))
		return;
	worst_vars(r, &v, store);
	char *text = template_render(reply, &v);
	if (!text)
		return;
	gsm_count(text, &c);
	if (c.ucs2)
		diag_add(L->d, DIAG_WARNING, rule->file, reply_line,
			 NULL, NULL,
			 "reply of [%s] needs UCS-2 because of '%s' (70 "
			 "characters per SMS instead of 160)",
			 rule->name, c.first_non_gsm);
	if (c.segments > r->max_segments)
		diag_add(L->d, DIAG_ERROR, rule->file, reply_line, NULL,
			 NULL,
			 "reply of [%s] takes %d SMS segments at worst (%zu %s), "
			 "more than sms_max_segments = %d; shorten it",
			 rule->name, c.segments, c.units,
			 c.ucs2 ? "UTF-16 units" : "characters",
			 r->max_segments);
	else if (c.segments > 1)
		diag_add(L->d, DIAG_WARNING, rule->file, reply_line,
			 NULL, NULL,
			 "reply of [%s] takes %d SMS segments at worst (%zu %s); "
			 "one segment is cheaper and safer on old phones",
			 rule->name, c.segments, c.units,
			 c.ucs2 ? "UTF-16 units" : "characters");
	free(text);
}

/* Every SMS text of a rule (its reply, and the closed-hours variant) is
 * counted with the worst-case placeholder values. */
static void check_segments(struct loader *L, const struct rules_rule *rule)
{
	check_text(L, rule, rule->reply, rule->reply_line);
	check_text(L, rule, rule->reply_closed, rule->reply_closed_line);
}

static int ini_filter(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return e->d_name[0] != '.' && n > 4 &&
	       strcmp(e->d_name + n - 4, ".ini") == 0;
}

static void load_dir(struct loader *L, const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, ini_filter, alphasort);

	if (n < 0) {
		diag_add(L->d, DIAG_ERROR, dir, 0, NULL, NULL,
			 "cannot read the rules directory: %m");
		return;
	}
	if (n == 0)
		diag_add(L->d, DIAG_ERROR, dir, 0, NULL, NULL,
			 "no *.ini files; copy the examples from "
			 "/usr/share/doc/simpul");
	for (int i = 0; i < n; i++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		free(names[i]);
		struct ini *ini = ini_load(path, L->d);
		if (!ini)
			continue;
		for (int s = 0; s < ini_nsections(ini); s++)
			load_section(L, ini, ini_section(ini, s));
		ini_free(ini);
	}
	free(names);
}

struct rules *rules_load(const char *dir, const char *holidays_path,
			 struct diag *d)
{
	struct rules *r = calloc(1, sizeof(*r));
	struct diag *mine = diag_new();
	struct loader L = {r, mine, false, false, ""};

	if (!r || !mine || !(r->hours = hours_new()))
		goto fail;
	r->menu = -1;
	r->max_segments = 2;
	r->prefix = strdup("TKT");
	r->lim = (struct rules_limits){3, 12, 5, 3, 10};
	load_dir(&L, dir);
	if (!L.office_seen && diag_errors(mine) == 0)
		diag_add(mine, DIAG_ERROR, dir, 0, NULL, NULL,
			 "no [office] section in any *.ini file");
	if (holidays_path)
		load_holidays(&L, holidays_path);
	resolve_menu(&L);
	if (L.office_seen && hours_zone(r->hours))
		for (int i = 0; i < r->nrules; i++)
			check_segments(&L, &r->rule[i]);
	bool ok = diag_errors(mine) == 0;
	diag_append(d, mine);
	diag_free(mine);
	if (ok)
		return r;
	rules_free(r);
	return NULL;
fail:
	if (mine)
		diag_add(d, DIAG_ERROR, dir, 0, NULL, NULL, "out of memory");
	diag_free(mine);
	rules_free(r);
	return NULL;
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nrules; i++) {
		struct rules_rule *x = &r->rule[i];
		for (int k = 0; k < x->nkw; k++) {
			for (int j = 0; j < x->kw[k].n; j++)
				free(x->kw[k].tok[j]);
			free(x->kw[k].tok);
			free(x->kw[k].text);
		}
		free(x->kw);
		free(x->name);
		free(x->file);
		free(x->reply);
		free(x->reply_closed);
		free(x->reply_wa);
		free(x->category);
	}
	free(r->rule);
	for (int i = 0; i < r->ndeny; i++)
		free(r->deny[i]);
	free(r->deny);
	for (int i = 0; i < 10; i++)
		free(r->menu_target[i]);
	free(r->menu_file);
	free(r->office);
	free(r->prefix);
	free(r->own);
	hours_free(r->hours);
	free(r);
}

/* ------------------------------------------------------------ matching */

/* Where in the content tokens the phrase starts, or -1; *typo set when
 * a token matched by edit distance 1. */
static int find_phrase(const struct phrase *p, const char **tok, int n,
		       enum match_mode mode, bool *typo)
{
	for (int i = 0; i + p->n <= n; i++) {
		bool t = false, ok = true;
		for (int j = 0; j < p->n && ok; j++) {
			int m = tok_match(p->tok[j], tok[i + j]);
			ok = m != 0;
			t = t || m == 2;
		}
		if (ok && (mode == MATCH_ANY || i == 0) &&
		    (mode != MATCH_WHOLE || p->n == n)) {
			*typo = t;
			return i;
		}
		if (mode != MATCH_ANY)
			break;
	}
	return -1;
}

/* Why rule does not apply to this input, or NULL when it does. */
static const char *gate(const struct rules *r, const struct rules_rule *rule,
			const struct rules_input *in, bool open)
{
	unsigned ch = in->channel && strcmp(in->channel, "whatsapp") == 0
			      ? CH_WA
			      : CH_SMS;

	if (!(rule->channels & ch))
		return ch == CH_WA ? "not for whatsapp (channels)"
				   : "not for sms (channels)";
	if (rule->when == WHEN_OPEN && !open)
		return "only when the office is open (it is closed now)";
	if (rule->when == WHEN_CLOSED && open)
		return "only when the office is closed (it is open now)";
	return NULL;
}

/* "CEK KLS-2607-0015", "cek kls 2607 15", "Cek kls26070015": the
 * prefix letters then YYMM then the sequence, separators optional. */
static void parse_ref(const struct rules *r, const char *text, char *out,
		      size_t n)
{
	char s[256];
	size_t k = 0, pl = strlen(r->prefix);

	out[0] = '\0';
	for (const char *p = text; *p && k + 1 < sizeof(s); p++)
		if (isalnum((unsigned char)*p))
			s[k++] = (char)toupper((unsigned char)*p);
	s[k] = '\0';
	for (char *p = strstr(s, r->prefix); p; p = strstr(p + 1, r->prefix)) {
		const char *d = p + pl;
		size_t nd = strspn(d, "0123456789");
		if (nd < 5 || nd > 12)
			continue;
		unsigned long seq = strtoul(d + 4, NULL, 10);
		snprintf(out, n, "%s-%.4s-%04lu", r->prefix, d, seq);
		return;
	}
}

static void tracef(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tracef(FILE *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

static bool better(const struct rules_rule *a, const struct rules_rule *b)
{
	return !b || a->priority > b->priority ||
	       (a->priority == b->priority && a->order < b->order);
}

/* Keyword rules: the best that matches and passes its gate. */
static const struct rules_rule *by_keyword(const struct rules *r,
					   const struct rules_input *in,
					   bool open, const char **tok, int n,
					   char *why, size_t wn, FILE *tr)
{
	const struct rules_rule *best = NULL;

	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *rule = &r->rule[i];
		const char *no = NULL;
		int k = 0, at = -1;
		bool typo = false;
		if (rule->mode == MATCH_FALLBACK) {
			tracef(tr, "  [%s] %s:%d: fallback, used only when no "
				   "keyword rule matches\n",
			       rule->name, rule->file, rule->line);
			continue;
		}
		for (k = 0; k < rule->nkw && at < 0; k++)
			at = find_phrase(&rule->kw[k], tok, n, rule->mode, &typo);
		if (at < 0)
			no = rule->nkw ? (rule->mode == MATCH_ANY ? "no keyword in the message"
				   : rule->mode == MATCH_FIRST ? "no keyword as the first word"
				   : "the message is not just a keyword")
				       : "no keywords";
		if (!no)
			no = gate(r, rule, in, open);
		if (no) {
			tracef(tr, "  [%s] %s:%d: no: %s\n", rule->name,
			       rule->file, rule->line, no);
			continue;
		}
		tracef(tr, "  [%s] %s:%d: MATCH keyword '%s'%s (%s, priority %d)\n",
		       rule->name, rule->file, rule->line, rule->kw[k - 1].text,
		       typo ? " with a one-letter typo" : "",
		       mode_names[rule->mode], rule->priority);
		if (better(rule, best)) {
			best = rule;
			snprintf(why, wn, "keyword '%s'%s", rule->kw[k - 1].text,
				 typo ? " (one-letter typo)" : "");
		}
	}
	return best;
}

static const struct rules_rule *by_fallback(const struct rules *r,
					    const struct rules_input *in,
					    bool open, FILE *tr)
{
	const struct rules_rule *best = NULL;

	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *rule = &r->rule[i];
		if (rule->mode != MATCH_FALLBACK)
			continue;
		const char *no = gate(r, rule, in, open);
		tracef(tr, "  fallback [%s]: %s%s\n", rule->name,
		       no ? "no: " : "applies", no ? no : "");
		if (!no && better(rule, best))
			best = rule;
	}
	return best;
}

static const struct rules_rule *choose(const struct rules *r,
				       const struct rules_input *in,
				       bool open, struct rules_result *res,
				       FILE *tr)
{
	struct tokens t;
	const char *tok[MAX_TOKENS];
	const struct rules_rule *rule;

	tokenize(in->text, &t);
	int n = content(&t, tok);
	if (tr) {
		tracef(tr, "words:");
		for (int i = 0; i < t.n; i++)
			tracef(tr, " %s%s", t.tok[i], t.filler[i] ? "(filler)" : "");
		tracef(tr, "\nrules:\n");
	}
	rule = by_keyword(r, in, open, tok, n, res->why, sizeof(res->why), tr);
	if (rule)
		return rule;
	if (n == 1 && isdigit((unsigned char)tok[0][0]) && !tok[0][1] &&
	    r->menu >= 0 && r->menu_item[tok[0][0] - '0'] >= 0) {
		rule = &r->rule[r->menu_item[tok[0][0] - '0']];
		const char *no = gate(r, rule, in, open);
		tracef(tr, "menu item %c -> [%s]%s%s\n", tok[0][0], rule->name,
		       no ? ": no: " : "", no ? no : "");
		snprintf(res->why, sizeof(res->why), "menu item %c", tok[0][0]);
		if (!no)
			return rule;
	}
	if (t.n > 0 && n == 0 && r->menu >= 0) {
		rule = &r->rule[r->menu];
		const char *no = gate(r, rule, in, open);
		tracef(tr, "greeting only -> [menu]%s%s\n", no ? ": no: " : "",
		       no ? no : "");
		snprintf(res->why, sizeof(res->why), "greeting only");
		if (!no)
			return rule;
	}
	rule = by_fallback(r, in, open, tr);
	snprintf(res->why, sizeof(res->why), "no keyword: fallback");
	return rule;
}

static void squash(const char *s, char *out, size_t n)
{
	size_t k = 0;

	for (; s && *s && k + 1 < n; s++)
		if (isalnum((unsigned char)*s))
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = '\0';
}

static const char *suppress_sender(const struct rules *r,
				   const struct rules_input *in)
{
	char key[32];

	if (in->kind == RULES_ALNUM)
		return "sender is alphanumeric (operator or promotion): "
		       "never auto-reply";
	if (in->kind == RULES_SHORTCODE)
		return "sender is a short code: never auto-reply";
	phone_key(in->from, key, sizeof(key));
	if (!*key)
		return "sender has no number: never auto-reply";
	if (r->own && strcmp(key, r->own) == 0)
		return "sender is our own number (own_number): never auto-reply";
	for (int i = 0; i < r->ndeny; i++)
		if (strcmp(key, r->deny[i]) == 0)
			return "sender is on the deny list: never auto-reply";
	return NULL;
}

/* The budgets and loop breakers of a contact (see struct rules_limits). */
static const char *suppress_history(const struct rules *r,
				    const struct rules_input *in,
				    const struct rules_rule *rule, char *buf,
				    size_t n)
{
	const struct rules_limits *l = &r->lim;
	char a[256], b[256];

	if (in->last_staff_reply &&
	    in->now - in->last_staff_reply < l->staff_quiet_minutes * 60) {
		snprintf(buf, n,
			 "staff replied %lld s ago: no auto-reply within %d "
			 "min of a staff reply",
			 (long long)(in->now - in->last_staff_reply),
			 l->staff_quiet_minutes);
		return buf;
	}
	if (in->auto_replies_last_hour >= l->max_per_hour) {
		snprintf(buf, n,
			 "budget: %d auto-replies to this contact in the last "
			 "hour (max_per_hour = %d)",
			 in->auto_replies_last_hour, l->max_per_hour);
		return buf;
	}
	squash(in->text, a, sizeof(a));
	squash(in->last_auto_reply_text, b, sizeof(b));
	if (*a && strcmp(a, b) == 0) {
		snprintf(buf, n, "loop breaker: the message repeats our last "
				 "auto-reply (another robot?)");
		return buf;
	}
	if (in->same_text_count >= l->same_text_max) {
		snprintf(buf, n,
			 "loop breaker: the same text %d times in %d min "
			 "(same_text_max = %d)",
			 in->same_text_count, l->same_text_minutes,
			 l->same_text_max);
		return buf;
	}
	if (rule && rule->when == WHEN_CLOSED && in->last_closed_reply &&
	    in->now - in->last_closed_reply < l->closed_reply_hours * 3600) {
		snprintf(buf, n,
			 "closed-hours reply already sent %lld min ago (one "
			 "per %d h)",
			 (long long)(in->now - in->last_closed_reply) / 60,
			 l->closed_reply_hours);
		return buf;
	}
	return NULL;
}

const char *rules_suppressed(const struct rules *r,
			     const struct rules_input *in, char *buf, size_t n)
{
	const char *why = suppress_sender(r, in);

	return why ? why : suppress_history(r, in, NULL, buf, n);
}

const char *rules_menu_text(const struct rules *r, const char *channel)
{
	const struct rules_rule *m = r->menu >= 0 ? &r->rule[r->menu] : NULL;
	bool wa = channel && strcmp(channel, "whatsapp") == 0;

	return !m ? NULL : wa && m->reply_wa ? m->reply_wa : m->reply;
}

int rules_canned(const struct rules *r, const struct rules_input *in,
		 void (*cb)(void *ud, const char *name, const char *text),
		 void *ud)
{
	int n = 0;

	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *rule = &r->rule[i];
		struct rules_result res = {.matched = rule};
		if (rule->is_menu || rule->status_query ||
		    rule->when == WHEN_CLOSED)
			continue;
		if (rules_render(r, in, &res))
			return -1;
		if (res.reply) {
			cb(ud, rule->name, res.reply);
			n++;
		}
		free(res.reply);
	}
	return n;
}

int rules_render(const struct rules *r, const struct rules_input *in,
		 struct rules_result *res)
{
	const struct rules_rule *rule = res->matched;
	bool wa = in->channel && strcmp(in->channel, "whatsapp") == 0;
	char today[128], next[64], due[32];
	struct gsm_count c;

	free(res->reply);
	res->reply = NULL;
	res->segments = 0;
	res->ucs2 = false;
	if (!rule || res->suppressed ||
	    (res->status_query && res->cek_ref[0]))
		return 0;
	const char *text = wa && rule->reply_wa ? rule->reply_wa : rule->reply;
	/* reply_closed: the same answer with the next opening, after hours */
	if (rule->reply_closed && !hours_is_open(r->hours, in->now))
		text = rule->reply_closed;
	if (!text)
		return 0;
	hours_today(r->hours, in->now, today, sizeof(today));
	hours_format_next_open(r->hours, in->now, next, sizeof(next));
	due[0] = '\0';
	if (res->due_at > 0)
		hours_format_date(r->hours, res->due_at, due, sizeof(due));
	struct template_vars v = {{r->office, today, next,
				   in->ticket ? in->ticket : "-", in->name,
				   in->rt, in->due ? in->due : due}};
	res->reply = template_render(text, &v);
	if (!res->reply)
		return -1;
	if (!wa)
		gsm_transliterate(res->reply);
	gsm_count(res->reply, &c);
	res->segments = c.segments;
	res->ucs2 = c.ucs2;
	return 0;
}

static int decide(const struct rules *r, const struct rules_input *in,
		  struct rules_result *res, FILE *tr)
{
	bool open = hours_is_open(r->hours, in->now);

	memset(res, 0, sizeof(*res));
	res->suppressed = suppress_sender(r, in);
	if (res->suppressed) {
		tracef(tr, "suppressed: %s\n", res->suppressed);
		return 0;
	}
	const struct rules_rule *rule = choose(r, in, open, res, tr);
	if (!rule) {
		tracef(tr, "result: no rule applies; no auto-reply\n");
		res->why[0] = '\0';
		return 0;
	}
	res->matched = rule;
	res->rule = rule->name;
	res->category = rule->category;
	res->ticket = rule->ticket;
	res->rt_confirm = rule->rt_confirm;
	res->closed_reply = rule->when == WHEN_CLOSED;
	res->menu = rule->is_menu;
	res->status_query = rule->status_query;
	res->due_days = rule->due_days;
	if (rule->due_days > 0)
		res->due_at = hours_add_working_days(r->hours, in->now,
						     rule->due_days);
	if (rule->status_query)
		parse_ref(r, in->text, res->cek_ref, sizeof(res->cek_ref));
	res->suppressed = suppress_history(r, in, rule, res->reason_buf,
					   sizeof(res->reason_buf));
	return rules_render(r, in, res);
}

int rules_match(const struct rules *r, const struct rules_input *in,
		struct rules_result *res)
{
	return decide(r, in, res, NULL);
}

void rules_result_free(struct rules_result *res)
{
	free(res->reply);
	res->reply = NULL;
}

void rules_explain(const struct rules *r, const struct rules_input *in,
		   FILE *out)
{
	struct rules_result res;
	char today[128], next[64], date[32];
	int64_t off = hours_offset(r->hours, in->now);
	int64_t secs = ((in->now + off) % 86400 + 86400) % 86400;

	hours_today(r->hours, in->now, today, sizeof(today));
	hours_format_next_open(r->hours, in->now, next, sizeof(next));
	hours_format_date(r->hours, in->now, date, sizeof(date));
	fprintf(out, "input: channel %s, from %s, text \"%s\"\n",
		in->channel ? in->channel : "sms", in->from ? in->from : "?",
		in->text ? in->text : "");
	fprintf(out, "office: %s, %s %02d.%02d %s, %s (today %s; next open %s)\n",
		r->office, date, (int)(secs / 3600), (int)(secs / 60 % 60),
		hours_abbr(r->hours, in->now),
		hours_is_open(r->hours, in->now) ? "open" : "closed", today,
		next);
	decide(r, in, &res, out);
	if (res.matched) {
		fprintf(out, "chosen: [%s] by %s; category %s; ticket %s; "
			     "rt_confirm %s%s\n",
			res.rule, res.why, res.category ? res.category : "-",
			res.ticket ? "yes" : "no", res.rt_confirm ? "yes" : "no",
			res.closed_reply ? "; closed-hours reply" : "");
		if (res.status_query)
			fprintf(out, "status query: %s\n",
				res.cek_ref[0] ? res.cek_ref
					       : "(no ticket number given)");
		if (res.due_at > 0) {
			hours_format_date(r->hours, res.due_at, date,
					  sizeof(date));
			fprintf(out, "due: %s (%d working days)\n", date,
				res.due_days);
		}
	}
	if (res.suppressed && res.matched)
		fprintf(out, "suppressed: %s\n", res.suppressed);
	if (res.reply)
		fprintf(out, "reply (%d segment%s, %s, %zu bytes): %s\n",
			res.segments, res.segments == 1 ? "" : "s",
			res.ucs2 ? "UCS-2" : "GSM-7", strlen(res.reply),
			res.reply);
	else
		fprintf(out, "reply: none\n");
	rules_result_free(&res);
}

/* ----------------------------------------------------------- accessors */

const char *rules_office_name(const struct rules *r)
{
	return r->office;
}

const char *rules_timezone(const struct rules *r)
{
	return hours_zone(r->hours);
}

const char *rules_ticket_prefix(const struct rules *r)
{
	return r->prefix;
}

const struct rules_limits *rules_limits(const struct rules *r)
{
	return &r->lim;
}

const struct hours *rules_hours(const struct rules *r)
{
	return r->hours;
}

int rules_count(const struct rules *r)
{
	return r->nrules;
}

bool rules_is_open(const struct rules *r, int64_t t)
{
	return hours_is_open(r->hours, t);
}

int64_t rules_add_working_days(const struct rules *r, int64_t t, int days)
{
	return hours_add_working_days(r->hours, t, days);
}

int rules_format_ticket(const struct rules *r, int64_t t, unsigned seq,
			char *buf, size_t n)
{
	char date[32];
	int dd, mm, yy;

	hours_format_date(r->hours, t, date, sizeof(date));
	/* "Rabu 15/07/2026" */
	const char *p = strchr(date, ' ');
	if (!p || sscanf(p + 1, "%d/%d/%d", &dd, &mm, &yy) != 3)
		return snprintf(buf, n, "%s-0000-%04u", r->prefix, seq);
	return snprintf(buf, n, "%s-%02d%02d-%04u", r->prefix, yy % 100, mm,
			seq);
}
