/* Loading a rules directory, the load-time checks, freeing, accessors.
 * The sections themselves are read by rules_ini.c. */

#include "rules_int.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "gsm.h"
#include "hours.h"

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
		       char store[][256])
{
	size_t hl = hours_today_maxlen(r->hours);
	size_t wl = hours_week_maxlen(r->hours);

	fill_x(store[0], hl < 255 ? hl : 255);
	fill_x(store[1], strlen("Minggu 30/12 08.00 WITA") + 1);
	fill_x(store[2], strlen(r->prefix) + strlen("-2612-99999"));
	fill_x(store[3], TEMPLATE_NAME_MAX);
	fill_x(store[4], TEMPLATE_RT_MAX);
	fill_x(store[5], strlen("Minggu 30/12/2026"));
	fill_x(store[6], wl < 255 ? wl : 255);
	*v = (struct template_vars){{r->office, store[0], store[1], store[2],
				     store[3], store[4], store[5], store[6],
				     r->prefix}};
}

/* Segments of text at its worst: the longest placeholder values and,
 * unless the text says it itself, the closed-hours sentence. */
static void check_text(struct loader *L, const struct rules_rule *rule,
		       const char *reply, int reply_line)
{
	const struct rules *r = L->r;
	struct template_vars v;
	char store[7][256], *tpl;
	struct gsm_count c;

	if (!reply || !(rule->channels & CH_SMS))
		return;
	worst_vars(r, &v, store);
	bool add =
	    !rules_uses(reply, TPL_NEXT_OPEN) && rule->when == WHEN_ALWAYS;
	if (asprintf(&tpl, "%s%s", reply,
		     add ? rules_closed_suffix(reply) : "") < 0)
		return;
	char *text = template_render(tpl, &v);
	free(tpl);
	if (!text)
		return;
	gsm_count(text, &c);
	if (c.ucs2)
		diag_add(L->d, DIAG_WARNING, rule->file, reply_line, NULL, NULL,
			 "reply of [%s] needs UCS-2 because of '%s' (70 "
			 "characters per SMS instead of 160)",
			 rule->name, c.first_non_gsm);
	if (c.segments > r->max_segments)
		diag_add(
		    L->d, DIAG_ERROR, rule->file, reply_line, NULL, NULL,
		    "reply of [%s] takes %d SMS segments at worst (%zu %s, "
		    "with the office name, the longest placeholder values%s), "
		    "more than sms_max_segments = %d; shorten it",
		    rule->name, c.segments, c.units,
		    c.ucs2 ? "UTF-16 units" : "characters",
		    add ? " and \"Buka lagi ...\" after hours" : "",
		    r->max_segments);
	else if (c.segments > 1)
		diag_add(
		    L->d, DIAG_WARNING, rule->file, reply_line, NULL, NULL,
		    "reply of [%s] takes %d SMS segments at worst (%zu %s); "
		    "one segment is cheaper and safer on old phones",
		    rule->name, c.segments, c.units,
		    c.ucs2 ? "UTF-16 units" : "characters");
	free(text);
}

/* Every SMS text of a rule (its reply, and the closed-hours variant) is
 * counted with the worst-case placeholder values. */
void rules_check_segments(struct loader *L, const struct rules_rule *rule)
{
	check_text(L, rule, rule->reply, rule->reply_line);
	check_text(L, rule, rule->reply_closed, rule->reply_closed_line);
}

/* The longest numbered choice (three of the longest titles) must fit
 * too: it is built by the engine, not written in a file. */
void rules_check_choice(struct loader *L)
{
	struct rules *r = L->r;
	size_t t[3] = {0, 0, 0};
	char tpl[512];
	struct gsm_count c;

	for (int i = 0; i < r->nrules; i++) {
		size_t l = strlen(r->rule[i].title ? r->rule[i].title
						   : r->rule[i].name);
		for (int k = 0; k < 3; k++)
			if (l > t[k]) {
				size_t x = t[k];
				t[k] = l;
				l = x;
			}
	}
	snprintf(tpl, sizeof(tpl),
		 "Maksud Anda: 1 %*s, 2 %*s, 3 %*s? Balas angkanya saja.%s",
		 (int)t[0], "", (int)t[1], "", (int)t[2], "",
		 " Buka lagi Minggu 30/12 08.00 WITA.");
	gsm_count(tpl, &c);
	if (c.segments > r->max_segments)
		diag_add(L->d, DIAG_ERROR,
			 r->menu_file ? r->menu_file : "rules", 0, NULL, NULL,
			 "a numbered choice of the three longest titles takes "
			 "%d SMS segments; shorten the titles",
			 c.segments);
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
			rules_load_section(L, ini, ini_section(ini, s));
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
	r->max_segments = 1;
	r->prefix = strdup("TKT");
	r->lim = (struct rules_limits){3, 12, 5, 3, 10};
	load_dir(&L, dir);
	if (!L.office_seen && diag_errors(mine) == 0)
		diag_add(mine, DIAG_ERROR, dir, 0, NULL, NULL,
			 "no [office] section in any *.ini file");
	if (holidays_path)
		load_holidays(&L, holidays_path);
	resolve_menu(&L);
	if (L.office_seen && hours_zone(r->hours)) {
		for (int i = 0; i < r->nrules; i++)
			rules_check_segments(&L, &r->rule[i]);
		rules_check_choice(&L);
	}
	bool ok = diag_errors(mine) == 0;
	if (ok && !(r->ix = rules_index_build(r))) {
		diag_add(mine, DIAG_ERROR, dir, 0, NULL, NULL, "out of memory");
		ok = false;
	}
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

static void free_phrases(struct phrase *p, int n)
{
	for (int k = 0; k < n; k++) {
		for (int j = 0; j < p[k].n; j++)
			free(p[k].tok[j]);
		free(p[k].tok);
		free(p[k].id);
		free(p[k].text);
	}
	free(p);
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	rules_index_free(r->ix);
	for (int i = 0; i < r->nrules; i++) {
		struct rules_rule *x = &r->rule[i];
		free_phrases(x->kw, x->nkw);
		free_phrases(x->neg, x->nneg);
		for (int k = 0; k < x->nctx; k++)
			free(x->ctx[k]);
		free(x->ctx);
		free(x->ctx_id);
		free(x->title);
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

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int64_t rules_lookback(const struct rules *r)
{
	const struct rules_limits *l = &r->lim;
	int64_t s = 3600; /* max_per_hour */

	s = max64(s, (int64_t)l->closed_reply_hours * 3600);
	s = max64(s, (int64_t)l->staff_quiet_minutes * 60);
	return max64(s, (int64_t)l->same_text_minutes * 60);
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
