/* One INI section into the rule set: [office], [limits], [override],
 * [closed], [menu], [rule NAME], each key checked with file:line. */

#include "rules_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gsm.h"
#include "hours.h"

static const char *const office_keys[] = {"name",
					  "timezone",
					  "ticket_prefix",
					  "own_number",
					  "deny",
					  "sms_max_segments",
					  "senin",
					  "selasa",
					  "rabu",
					  "kamis",
					  "jumat",
					  "sabtu",
					  "minggu",
					  "max_per_hour",
					  "closed_reply_hours",
					  "staff_quiet_minutes",
					  "same_text_max",
					  "same_text_minutes",
					  NULL};
static const char *const limits_keys[] = {
    "max_per_hour",  "closed_reply_hours", "staff_quiet_minutes",
    "same_text_max", "same_text_minutes",  NULL};
static const char *const override_keys[] = {
    "from",  "to",    "senin", "selasa", "rabu",
    "kamis", "jumat", "sabtu", "minggu", NULL};
static const char *const closed_keys[] = {"reason", NULL};
static const char *const rule_keys[] = {
    "keywords",	  "aliases",	    "match",	    "channels",	    "when",
    "reply",	  "reply_whatsapp", "reply_closed", "category",	    "ticket",
    "rt_confirm", "priority",	    "due_days",	    "status_query", "negative",
    "context",	  "kind",	    "title",	    "silent",	    NULL};

static const char *closest(const char *word, const char *const *list)
{
	const char *best = NULL;
	int bestd = 3;

	for (; *list; list++) {
		int dd = rules_edit_distance(word, *list);
		if (dd < bestd ||
		    (!best && strncmp(word, *list, strlen(word)) == 0 &&
		     strlen(word) >= 3)) {
			bestd = dd;
			best = *list;
		}
	}
	return best;
}

static void check_keys(struct loader *L, const struct ini *ini, const char *sec,
		       const char *const *known, bool digits_ok)
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

static void get_bool(struct loader *L, const struct ini *ini, const char *sec,
		     const char *key, bool *out)
{
	const char *v = ini_get(ini, sec, key);

	if (v && ini_parse_bool(v, out) < 0)
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
	rules_phone_key(num, key, sizeof(key));
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
	if (name && strlen(name) > OFFICE_MAX)
		ini_diag(L->d, DIAG_ERROR, ini, sec, "name",
			 "name = '%s' is %zu characters; at most %d (it is in "
			 "replies that must fit one SMS)",
			 name, strlen(name), OFFICE_MAX);
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
		rules_phone_key(own, key, sizeof(key));
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
		if (!w.set[wd] &&
		    !ini_get(ini, sec, office_keys[6 + (wd + 6) % 7]))
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
	const char *from = ini_get(ini, sec, "from"),
		   *to = ini_get(ini, sec, "to");
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

/* "phrase" or "phrase:N" (N 1 to 9): the weight of a keyword or a
 * negative phrase. A phrase that does not fit text is an error, not cut
 * short: cut, it would match other words, and its ':N' would fall
 * outside text (found by fuzz-rules). */
static int split_weight(struct kw_ctx *k, const char *word, char *text,
			size_t n, int dflt)
{
	const char *colon = strrchr(word, ':');

	if (strlen(word) >= n) {
		ini_diag(k->L->d, DIAG_ERROR, k->ini, k->sec, k->key,
			 "'%.40s...' is longer than %zu bytes; a keyword is"
			 " a word or a short phrase",
			 word, n - 1);
		return -1;
	}
	snprintf(text, n, "%s", word);
	if (!colon)
		return dflt;
	text[colon - word] = '\0';
	const char *w = colon + 1;
	while (*w == ' ')
		w++;
	if (w[0] < '1' || w[0] > '9' || w[1]) {
		ini_diag(k->L->d, DIAG_ERROR, k->ini, k->sec, k->key,
			 "'%s': the weight after ':' must be 1 to 9", word);
		return -1;
	}
	return w[0] - '0';
}

static void add_phrase(struct kw_ctx *k, const char *word, bool negative)
{
	struct tokens t;
	struct phrase *p, **list = negative ? &k->rule->neg : &k->rule->kw;
	int *count = negative ? &k->rule->nneg : &k->rule->nkw;
	char text[256];
	int weight = split_weight(k, word, text, sizeof(text),
				  negative ? NEG_WEIGHT : KW_WEIGHT);

	if (weight < 0)
		return;
	rules_tokenize(text, &t);
	bool all_filler = true;
	for (int i = 0; i < t.n; i++)
		all_filler = all_filler && t.filler[i];
	if (t.n == 0 || all_filler) {
		ini_diag(k->L->d, DIAG_ERROR, k->ini, k->sec, k->key,
			 "keyword '%s' is %s; messages never match it", text,
			 t.n ? "a greeting or filler word that is ignored"
			     : "empty after removing punctuation");
		return;
	}
	p = realloc(*list, (size_t)(*count + 1) * sizeof(*p));
	if (!p)
		return;
	*list = p;
	p = &p[(*count)++];
	p->text = strdup(text);
	p->weight = weight;
	p->id = NULL; /* rules_index_build */
	p->n = 0;
	p->tok = calloc((size_t)t.n, sizeof(char *));
	for (int i = 0; i < t.n; i++)
		if (!t.filler[i])
			p->tok[p->n++] = strdup(t.tok[i]);
}

static void add_keyword(void *ctx, const char *word)
{
	add_phrase(ctx, word, false);
}

static void add_negative(void *ctx, const char *word)
{
	add_phrase(ctx, word, true);
}

static void add_context(void *ctx, const char *word)
{
	struct kw_ctx *k = ctx;
	struct tokens t;

	rules_tokenize(word, &t);
	if (t.n != 1) {
		ini_diag(k->L->d, DIAG_ERROR, k->ini, k->sec, k->key,
			 "context '%s': write single words", word);
		return;
	}
	char **p =
	    realloc(k->rule->ctx, (size_t)(k->rule->nctx + 1) * sizeof(*p));
	if (!p)
		return;
	k->rule->ctx = p;
	p[k->rule->nctx++] = strdup(t.tok[0]);
}

/* Longest phrases first, so "lampu jalan" takes its words before
 * "jalan" can (the order of the file breaks ties). Done once at load. */
static void sort_phrases(struct phrase *p, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && (p[j].n > p[j - 1].n ||
					  (p[j].n == p[j - 1].n &&
					   p[j].weight > p[j - 1].weight));
		     j--) {
			struct phrase tmp = p[j];
			p[j] = p[j - 1];
			p[j - 1] = tmp;
		}
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
static const char *const kind_names[] = {"service", "complaint", "info",
					 "general", NULL};

/* key = one of names: *out its index, -1 when absent or wrong (then the
 * error lists the names: "use a, b or c"). */
static void get_enum(struct loader *L, const struct ini *ini, const char *sec,
		     const char *key, const char *const *names, int *out)
{
	const char *v = ini_get(ini, sec, key);
	char use[160] = "";
	int n = 0;

	*out = v ? parse_enum(v, names) : -1;
	if (!v || *out >= 0)
		return;
	while (names[n])
		n++;
	for (int i = 0; i < n; i++)
		snprintf(use + strlen(use), sizeof(use) - strlen(use), "%s%s",
			 i == 0	      ? ""
			 : i == n - 1 ? " or "
				      : ", ",
			 names[i]);
	ini_diag(L->d, DIAG_ERROR, ini, sec, key, "%s = '%s': use %s", key, v,
		 use);
}

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

static void rule_reply(struct loader *L, const struct ini *ini, const char *sec,
		       const char *key, char **out, int *line)
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
	int e;

	check_keys(L, ini, sec, rule_keys, menu);
	if (!rule)
		return;
	rule->is_menu = menu;
	for (int i = 0; i < 2; i++) {
		k.key = i ? "aliases" : "keywords";
		if ((v = ini_get(ini, sec, k.key)))
			split_list(v, add_keyword, &k);
	}
	k.key = "negative";
	if ((v = ini_get(ini, sec, k.key)))
		split_list(v, add_negative, &k);
	k.key = "context";
	if ((v = ini_get(ini, sec, k.key)))
		split_list(v, add_context, &k);
	sort_phrases(rule->kw, rule->nkw);
	get_enum(L, ini, sec, "kind", kind_names, &e);
	rule->kind = e < 0 ? rule->kind : (enum kind)e;
	if ((v = ini_get(ini, sec, "title"))) {
		if (strlen(v) > TITLE_MAX || strpbrk(v, "{}"))
			ini_diag(L->d, DIAG_ERROR, ini, sec, "title",
				 "title = '%s': at most %d characters, no "
				 "braces (it is shown in a numbered choice)",
				 v, TITLE_MAX);
		else
			rule->title = strdup(v);
	}
	get_bool(L, ini, sec, "silent", &rule->silent);
	get_enum(L, ini, sec, "match", mode_names, &e);
	rule->mode = e < 0 ? rule->mode : (enum match_mode)e;
	get_enum(L, ini, sec, "when", when_names, &e);
	rule->when = e < 0 ? rule->when : (enum when)e;
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
	if (!ini_get(ini, sec, "reply") && !rule->silent)
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

static const char *const section_kinds[] = {
    "office", "limits", "menu", "rule", "override", "closed", NULL};

void rules_load_section(struct loader *L, const struct ini *ini,
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
