/* What is done with the decision: suppression (senders, budgets, loop
 * breakers), the rendered reply, canned replies, the dry run. */

#include "rules_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gsm.h"
#include "hours.h"

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
	rules_phone_key(in->from, key, sizeof(key));
	if (!*key)
		return "sender has no number: never auto-reply";
	if (r->own && strcmp(key, r->own) == 0)
		return "sender is our own number (own_number): never "
		       "auto-reply";
	for (int i = 0; i < r->ndeny; i++)
		if (strcmp(key, r->deny[i]) == 0)
			return "sender is on the deny list: never auto-reply";
	return NULL;
}

/* The budgets of a contact, checked before its loop breakers:
 * rules_budget_spent() (and so the store's look back) relies on that. */
static const char *suppress_budget(const struct rules *r,
				   const struct rules_input *in, char *buf,
				   size_t n)
{
	const struct rules_limits *l = &r->lim;

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
	return NULL;
}

bool rules_budget_spent(const struct rules *r, const struct rules_input *in)
{
	char buf[160];

	return suppress_budget(r, in, buf, sizeof(buf)) != NULL;
}

/* The budgets and loop breakers of a contact (see struct rules_limits). */
static const char *suppress_history(const struct rules *r,
				    const struct rules_input *in,
				    const struct rules_rule *rule, char *buf,
				    size_t n)
{
	const struct rules_limits *l = &r->lim;
	const char *why = suppress_budget(r, in, buf, n);
	char a[256], b[256];

	if (why)
		return why;
	squash(in->text, a, sizeof(a));
	squash(in->last_auto_reply_text, b, sizeof(b));
	if (*a && strcmp(a, b) == 0) {
		snprintf(buf, n,
			 "loop breaker: the message repeats our last "
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
		if (rule->is_menu || rule->status_query || rule->silent ||
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

/* The template of the reply: the rule's text (its closed-hours variant
 * after hours), a numbered choice or the closer, and when the office is
 * closed the sentence saying when it opens again. malloc'd. */
static char *reply_template(const struct rules *r, const struct rules_input *in,
			    const struct rules_result *res, bool open)
{
	const struct rules_rule *rule = res->matched;
	bool wa = in->channel && strcmp(in->channel, "whatsapp") == 0;
	char buf[1024] = "";
	const char *text = NULL;

	if (res->closer)
		text = CLOSER_REPLY;
	else if (res->nchoices > 1) {
		snprintf(buf, sizeof(buf), "Maksud Anda:");
		for (int i = 0; i < res->nchoices; i++) {
			const struct rules_rule *c = res->choice[i];
			rules_addf(buf, sizeof(buf), "%s %d %s", i ? "," : "",
				   i + 1, c->title ? c->title : c->name);
		}
		rules_addf(buf, sizeof(buf), "? Balas angkanya saja.");
		text = buf;
	} else if (rule) {
		text = wa && rule->reply_wa ? rule->reply_wa : rule->reply;
		if (rule->reply_closed && !open)
			text = rule->reply_closed;
	}
	if (!text)
		return NULL;
	bool add = !open && !rules_uses(text, TPL_NEXT_OPEN) &&
		   !(rule && rule->when == WHEN_CLOSED && !res->closer &&
		     res->nchoices < 2);
	const char *suffix = add ? rules_closed_suffix(text) : "";
	size_t n = strlen(text) + strlen(suffix) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s", text, suffix);
	return out;
}

/* "... Cek status: CEK KLS-2611-0012 Buka lagi Senin" reads as one code:
 * a reply that ends without a sentence mark gets a full stop first. */
const char *rules_closed_suffix(const char *text)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\n'))
		n--;
	if (n == 0 || strchr(".!?:)", text[n - 1]))
		return CLOSED_SUFFIX;
	return "." CLOSED_SUFFIX;
}

int rules_render(const struct rules *r, const struct rules_input *in,
		 struct rules_result *res)
{
	bool wa = in->channel && strcmp(in->channel, "whatsapp") == 0;
	bool open = hours_is_open(r->hours, in->now);
	char today[128], next[64], due[32], week[256];
	struct gsm_count c;

	free(res->reply);
	res->reply = NULL;
	res->segments = 0;
	res->ucs2 = false;
	if ((!res->matched && !res->closer && res->nchoices < 2) ||
	    res->suppressed || res->silent ||
	    (res->status_query && res->cek_ref[0]))
		return 0;
	char *text = reply_template(r, in, res, open);
	if (!text)
		return 0;
	hours_today(r->hours, in->now, today, sizeof(today));
	hours_format_next_open(r->hours, in->now, next, sizeof(next));
	hours_week_text(r->hours, in->now, week, sizeof(week));
	due[0] = '\0';
	if (res->due_at > 0)
		hours_format_date(r->hours, res->due_at, due, sizeof(due));
	struct template_vars v = {
	    {r->office, today, next, in->ticket ? in->ticket : "-", in->name,
	     in->rt, in->due ? in->due : due, week, r->prefix}};
	res->reply = template_render(text, &v);
	free(text);
	if (!res->reply)
		return -1;
	if (!wa)
		gsm_transliterate(res->reply);
	gsm_count(res->reply, &c);
	res->segments = c.segments;
	res->ucs2 = c.ucs2;
	return 0;
}

static void set_choices(const struct rules *r, struct rules_result *res)
{
	res->choices[0] = '\0';
	if (res->nchoices > 1)
		for (int i = 0; i < res->nchoices; i++)
			rules_addf(res->choices, sizeof(res->choices), "%s%s",
				   i ? "," : "", res->choice[i]->name);
	else if (res->matched && res->matched->is_menu && r->menu >= 0)
		snprintf(res->choices, sizeof(res->choices), "menu");
}

static int decide(const struct rules *r, const struct rules_input *in,
		  struct rules_result *res, FILE *tr)
{
	bool open = hours_is_open(r->hours, in->now);

	memset(res, 0, sizeof(*res));
	res->suppressed = suppress_sender(r, in);
	if (res->suppressed) {
		rules_tracef(tr, "suppressed: %s\n", res->suppressed);
		return 0;
	}
	const struct rules_rule *rule = rules_choose(r, in, open, res, tr);
	if (res->closer || res->nchoices > 1) {
		res->rule = res->closer ? "closer" : "choice";
		set_choices(r, res);
		if (res->closer && in->closer_sent)
			res->suppressed = "closer: this conversation was "
					  "already answered with thanks";
		else
			res->suppressed =
			    suppress_history(r, in, NULL, res->reason_buf,
					     sizeof(res->reason_buf));
		return rules_render(r, in, res);
	}
	if (!rule) {
		rules_tracef(tr, "result: no rule applies; no auto-reply\n");
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
	res->silent = rule->silent;
	res->due_days = rule->due_days;
	set_choices(r, res);
	if (rule->due_days > 0)
		res->due_at =
		    hours_add_working_days(r->hours, in->now, rule->due_days);
	if (rule->status_query)
		rules_parse_ref(r, in->text, res->cek_ref,
				sizeof(res->cek_ref));
	if (rule->silent)
		res->suppressed = "the rule is silent (spam or promotion): "
				  "no auto-reply";
	else
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
	fprintf(
	    out, "office: %s, %s %02d.%02d %s, %s (today %s; next open %s)\n",
	    r->office, date, (int)(secs / 3600), (int)(secs / 60 % 60),
	    hours_abbr(r->hours, in->now),
	    hours_is_open(r->hours, in->now) ? "open" : "closed", today, next);
	decide(r, in, &res, out);
	if (res.nchoices > 1) {
		fprintf(out, "chosen: numbered choice:");
		for (int i = 0; i < res.nchoices; i++)
			fprintf(out, " %d [%s]", i + 1, res.choice[i]->name);
		fprintf(out, " (%s)\n", res.why);
	} else if (res.closer)
		fprintf(out, "chosen: [closer] (%s)\n", res.why);
	if (res.matched) {
		fprintf(out,
			"chosen: [%s] by %s; category %s; ticket %s; "
			"rt_confirm %s%s\n",
			res.rule, res.why, res.category ? res.category : "-",
			res.ticket ? "yes" : "no",
			res.rt_confirm ? "yes" : "no",
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
	if (res.suppressed && (res.matched || res.closer || res.nchoices > 1))
		fprintf(out, "suppressed: %s\n", res.suppressed);
	if (res.choices[0])
		fprintf(out, "a digit next answers: %s\n", res.choices);
	if (res.reply)
		fprintf(out, "reply (%d segment%s, %s, %zu bytes): %s\n",
			res.segments, res.segments == 1 ? "" : "s",
			res.ucs2 ? "UCS-2" : "GSM-7", strlen(res.reply),
			res.reply);
	else
		fprintf(out, "reply: none\n");
	rules_result_free(&res);
}
