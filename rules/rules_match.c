/* Scoring a message against every rule, the numbered choice, closers,
 * greetings and digits (doc/simpul-rules.5, "[rule NAME]"). */

#include "rules_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hours.h"

/* Why rule does not apply to this input, or NULL when it does. */
const char *rules_gate(const struct rules *r, const struct rules_rule *rule,
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
void rules_parse_ref(const struct rules *r, const char *text, char *out,
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

static bool better(const struct rules_rule *a, const struct rules_rule *b)
{
	return !b || a->priority > b->priority ||
	       (a->priority == b->priority && a->order < b->order);
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
		const char *no = rules_gate(r, rule, in, open);
		rules_tracef(tr, "  fallback [%s]: %s%s\n", rule->name,
			     no ? "no: " : "applies", no ? no : "");
		if (!no && better(rule, best))
			best = rule;
	}
	return best;
}

/* Score every rule on the whole message:
 *   + the weight of each keyword phrase found (words of a phrase in order,
 *     at most one other word between them; a word counts for one phrase
 *     of a rule only, longest phrases first)
 *   + 1 per context word present (at most 2), only with a keyword
 *   + 1 when the message is nothing but keywords (of any rule)
 *   + 2 for a complaint naming a place (RT 05, gang, jl.) or a duration
 *     (3 hari, seminggu, sejak), when a keyword of weight 2+ matched
 *   - the weight of each negative phrase ("buka usaha" for [jam])
 * A rule needs MIN_SCORE. General rules (kind = general) count only when
 * no specific rule does. Rules within CLOSE points of the best (and of
 * the same priority) make a numbered choice instead of a guess. */
#define MIN_SCORE   3
#define CLOSE	    1
#define MAX_CHOICES 3
/* Rules scored from a buffer on the stack; a message whose words start
 * keyword phrases of more rules scores every rule on the heap. */
#define CAND_MAX 24

struct cand {
	const struct rules_rule *rule;
	int score;
	bool used[MAX_TOKENS];
	char expl[200];
};

/* One message against the keyword index: each word looked up once. */
struct msg {
	const struct rules_index *ix;
	const struct tokens *t;
	int n;			     /* the meaningful (non-filler) words */
	const char *tok[MAX_TOKENS]; /* them, in order */
	int ti[MAX_TOKENS];	     /* their index in t */
	struct hits h[MAX_TOKENS];   /* per word of t, fillers too */
};

/* Looks up every word of t, marking its fillers (rules_words left them
 * unmarked: the index knows them). */
static void msg_init(struct msg *m, const struct rules *r, struct tokens *t)
{
	m->ix = r->ix;
	m->t = t;
	m->n = 0;
	for (int i = 0; i < t->n; i++) {
		rules_index_hits(r->ix, t->tok[i], &m->h[i]);
		t->filler[i] = m->h[i].cls & WC_FILLER;
		if (!t->filler[i]) {
			m->ti[m->n] = i;
			m->tok[m->n++] = t->tok[i];
		}
	}
}

/* Meaningful word k is keyword word id (rules_tok_match). */
static bool word_is(const struct msg *m, int k, int id)
{
	return rules_hit(m->ix, &m->h[m->ti[k]], m->tok[k], id);
}

/* Where the phrase starts in m's words (not in used[]), or -1; the words
 * it takes are written to at[]. */
static int find_phrase(const struct phrase *p, const struct msg *m,
		       const bool *used, enum match_mode mode, int *at)
{
	int n = m->n;

	for (int i = 0; i < n; i++) {
		int k = i, j = 0;
		if (mode != MATCH_ANY && i > 0)
			break;
		for (; j < p->n && k < n; j++) {
			int gap = j ? 2 : 1; /* one word may sit between */
			int found = -1;
			for (int g = 0; g < gap && k + g < n && found < 0; g++)
				if (!used[k + g] && word_is(m, k + g, p->id[j]))
					found = k + g;
			if (found < 0)
				break;
			at[j] = found;
			k = found + 1;
		}
		if (j == p->n && at[0] == i &&
		    (mode != MATCH_WHOLE || (p->n == n && i == 0)))
			return i;
	}
	return -1;
}

/* v into the ascending list a (no repeats); false when it is full. */
static bool add_sorted(int *a, int *n, int v)
{
	int i = *n;

	while (i > 0 && a[i - 1] > v)
		i--;
	if (i > 0 && a[i - 1] == v)
		return true;
	if (*n == CAND_MAX)
		return false;
	memmove(a + i + 1, a + i, (size_t)(*n - i) * sizeof(*a));
	a[i] = v;
	(*n)++;
	return true;
}

/* The rules worth scoring, in file order: those with a keyword phrase
 * whose first word is in the message (a phrase is found from its first
 * word on). -1: more than CAND_MAX, or a word with too many hits to
 * list; then every rule is scored. */
static int candidates(const struct msg *m, int *out)
{
	int nc = 0, rl[CAND_MAX];

	for (int k = 0; k < m->n; k++) {
		const struct hits *h = &m->h[m->ti[k]];
		if (h->n < 0)
			return -1;
		for (int i = 0; i < h->n; i++) {
			int nr =
			    rules_index_rules(m->ix, h->id[i], rl, CAND_MAX);
			if (nr < 0)
				return -1;
			for (int j = 0; j < nr; j++)
				if (!add_sorted(out, &nc, rl[j]))
					return -1;
		}
	}
	return nc;
}

static const char *const place_words[] = {
    "rt",     "rw",    "gang",	     "gg",	 "lorong",   "jl",
    "jln",    "jalan", "lingkungan", "komplek",	 "kompleks", "perumahan",
    "blok",   "depan", "dekat",	     "belakang", "blkg",     "samping",
    "ujung",  "pasar", "masjid",     "sekolah",	 "lapangan", "kali",
    "sungai", "dusun", "kampung",    NULL};
static const char *const duration_units[] = {
    "hari", "hr", "minggu", "mg", "bulan", "bln", "jam", "malam", NULL};
static const char *const duration_words[] = {
    "seminggu", "sebulan", "berhari", "sejak",	 "tiap", "setiap",
    "terus",	"lama",	   "kemarin", "semalam", NULL};

/* A complaint's place or duration, in all the words (fillers too). */
static bool place_or_duration(const struct msg *m)
{
	const struct tokens *t = m->t;

	for (int i = 0; i < t->n; i++) {
		if (m->h[i].cls & WC_PLACE)
			return true;
		if (isdigit((unsigned char)t->tok[i][0]) && i + 1 < t->n &&
		    (m->h[i + 1].cls & WC_DURATION_UNIT))
			return true;
	}
	return false;
}

/* The keywords of rule in m: their weight sum, c->used and c->expl. */
static int keyword_sum(const struct rules_rule *rule, const struct msg *m,
		       struct cand *c)
{
	int sum = 0, at[MAX_TOKENS];

	for (int k = 0; k < rule->nkw; k++) {
		const struct phrase *p = &rule->kw[k];
		if (p->n > MAX_TOKENS ||
		    find_phrase(p, m, c->used, rule->mode, at) < 0)
			continue;
		for (int j = 0; j < p->n; j++)
			c->used[at[j]] = true;
		sum += p->weight;
		rules_addf(c->expl, sizeof(c->expl), "%s'%s' %d",
			   sum == p->weight ? "" : " + ", p->text, p->weight);
	}
	return sum;
}

/* Context words are looked for among all the words, fillers too: "bikin"
 * is a filler for keywords but says that a document is wanted. */
static int context_sum(const struct rules_rule *rule, const struct msg *m,
		       struct cand *c)
{
	const struct tokens *t = m->t;
	int sum = 0;

	for (int k = 0; k < rule->nctx && sum < 2; k++)
		for (int i = 0; i < t->n; i++)
			if (rules_hit(m->ix, &m->h[i], t->tok[i],
				      rule->ctx_id[k])) {
				sum++;
				rules_addf(c->expl, sizeof(c->expl),
					   " + context '%s' 1", rule->ctx[k]);
				break;
			}
	return sum;
}

static int negative_sum(const struct rules_rule *rule, const struct msg *m,
			struct cand *c)
{
	int sum = 0, at[MAX_TOKENS];
	bool none[MAX_TOKENS] = {false};

	for (int k = 0; k < rule->nneg; k++) {
		const struct phrase *p = &rule->neg[k];
		if (p->n > MAX_TOKENS ||
		    find_phrase(p, m, none, MATCH_ANY, at) < 0)
			continue;
		sum += p->weight;
		rules_addf(c->expl, sizeof(c->expl), " - negative '%s' %d",
			   p->text, p->weight);
	}
	return sum;
}

/* Scores one keyword rule into x; false when no keyword of it matched. */
static bool score_one(const struct rules_rule *rule, const struct msg *m,
		      bool place, struct cand *x)
{
	memset(x, 0, sizeof(*x));
	x->rule = rule;
	int kw = keyword_sum(rule, m, x);
	if (kw == 0)
		return false;
	x->score = kw + context_sum(rule, m, x);
	if (rule->kind == KIND_COMPLAINT && kw >= 2 && place) {
		x->score += 2;
		rules_addf(x->expl, sizeof(x->expl), " + place/duration 2");
	}
	x->score -= negative_sum(rule, m, x);
	return true;
}

/* Scores the keyword rules ri[] (every rule when nri < 0) into c[],
 * best first; returns how many reached MIN_SCORE and passed their gate. */
static int score_all(const struct rules *r, const struct rules_input *in,
		     bool open, const struct msg *m, const int *ri, int nri,
		     struct cand *c, bool *all_keywords, FILE *tr)
{
	int nc = 0, n = m->n;
	bool covered[MAX_TOKENS] = {false}, all = n > 0;
	bool place = place_or_duration(m);

	for (int q = 0; q < (nri < 0 ? r->nrules : nri); q++) {
		const struct rules_rule *rule = &r->rule[nri < 0 ? q : ri[q]];
		if (rule->mode == MATCH_FALLBACK ||
		    !score_one(rule, m, place, &c[nc]))
			continue;
		for (int k = 0; k < n; k++)
			covered[k] = covered[k] || c[nc].used[k];
		nc++;
	}
	for (int k = 0; k < n; k++)
		all = all && covered[k];
	*all_keywords = all;
	bool specific = false;
	for (int i = 0; i < nc; i++) {
		if (all) {
			c[i].score++;
			rules_addf(c[i].expl, sizeof(c[i].expl),
				   " + only keywords 1");
		}
		specific = specific || (c[i].rule->kind != KIND_GENERAL &&
					c[i].score >= MIN_SCORE);
	}
	/* sort: score, then priority, then file order */
	for (int i = 1; i < nc; i++)
		for (int j = i; j > 0; j--) {
			const struct cand *a = &c[j], *b = &c[j - 1];
			bool up = a->score > b->score ||
				  (a->score == b->score &&
				   (a->rule->priority > b->rule->priority ||
				    (a->rule->priority == b->rule->priority &&
				     a->rule->order < b->rule->order)));
			if (!up)
				break;
			struct cand tmp = c[j];
			c[j] = c[j - 1];
			c[j - 1] = tmp;
		}
	int ok = 0;
	for (int i = 0; i < nc; i++) {
		const char *no = c[i].score < MIN_SCORE ? "below the minimum 3"
				 : specific && c[i].rule->kind == KIND_GENERAL
				     ? "general; a specific rule matched"
				     : rules_gate(r, c[i].rule, in, open);
		rules_tracef(tr, "  [%s] %s:%d: score %d = %s%s%s\n",
			     c[i].rule->name, c[i].rule->file, c[i].rule->line,
			     c[i].score, c[i].expl, no ? "; no: " : "",
			     no ? no : "");
		if (!no)
			c[ok++] = c[i];
	}
	return ok;
}

static const char *const closer_core[] = {
    "ok",     "oke",	     "okey",	   "okay",	   "okeh",  "sip",
    "siap",   "baik",	     "makasih",	   "makasi",	   "mksh",  "terima",
    "kasih",  "terimakasih", "trimakasih", "trima",	   "trims", "tq",
    "thanks", "thank",	     "thx",	   "nuwun",	   "suwun", "matur",
    "noted",  "mantap",	     "mantab",	   "alhamdulilah", "amin",  "tengkyu",
    "thanku", NULL};
static const char *const closer_extra[] = {
    "banyak", "bnyk",	 "atas",  "info",  "infonya",  "informasinya",
    "tuhan",  "berkati", "gbu",	  "kk",	   "semoga",   "sehat",
    "selalu", "sekali",	 "you",	  "u",	   "y",	       "iya",
    "sdh",    "sudah",	 "jelas", "paham", "mengerti", "k",
    "lurah",  NULL};

/* Words that make a message a greeting (the menu answers it) besides
 * the salutations of rules_text.c, as opposed to fillers alone ("mau tanya",
 * "pak lurah ada?"). Normalised. */
static const char *const greeting_words[] = {"p",      "menu", "horas",
					     "sugeng", "tabe", NULL};
static const char *const honorifics[] = {
    "lurah", "k",   "kk",    "min", "admin", "pak",  "bapak", "bu",
    "ibu",   "kak", "kakak", "mas", "mbak",  "bang", "om",    NULL};

const struct word_list rules_match_lists[] = {
    {place_words, WC_PLACE},
    {duration_words, WC_PLACE},
    {duration_units, WC_DURATION_UNIT},
    {closer_core, WC_CLOSER},
    {closer_extra, WC_CLOSER_EXTRA},
    {greeting_words, WC_SALUTATION},
    {honorifics, WC_HONORIFIC},
    {NULL, 0},
};

/* Only a greeting (fillers and honorifics around it), or only a call
 * ("min", "pak"): answer the menu. */
static bool is_greeting(const struct msg *m)
{
	const struct tokens *t = m->t;
	bool greet = false, call = t->n > 0;

	for (int i = 0; i < t->n; i++) {
		bool h = m->h[i].cls & WC_HONORIFIC;
		call = call && h;
		if (m->h[i].cls & WC_SALUTATION)
			greet = true;
		else if (!t->filler[i] && !h)
			return false;
	}
	return greet || call;
}

/* A message of thanks or "ok" only: a closer, never the menu. */
static bool is_closer(const struct msg *m)
{
	const struct tokens *t = m->t;
	bool core = false;

	for (int i = 0; i < t->n; i++) {
		if (m->h[i].cls & WC_CLOSER)
			core = true;
		else if (!t->filler[i] && !(m->h[i].cls & WC_CLOSER_EXTRA))
			return false;
	}
	return core;
}

static const struct rules_rule *find_rule(const struct rules *r,
					  const char *name, size_t len)
{
	for (int i = 0; i < r->nrules; i++)
		if (strlen(r->rule[i].name) == len &&
		    strncmp(r->rule[i].name, name, len) == 0)
			return &r->rule[i];
	return NULL;
}

/* A digit alone answers the last numbered choice sent to this resident
 * (in->last_choices, "kk,drainase"), else the menu. */
static const struct rules_rule *
by_digit(const struct rules *r, const struct rules_input *in, int dg, FILE *tr)
{
	const char *s = in->last_choices;

	if (s && *s && strcmp(s, "menu") != 0) {
		for (int i = 1; *s; i++) {
			size_t len = strcspn(s, ",");
			if (i == dg) {
				rules_tracef(tr,
					     "digit %d answers the last choice "
					     "(%s)\n",
					     dg, in->last_choices);
				return find_rule(r, s, len);
			}
			s += len + (s[len] == ',');
		}
		return NULL;
	}
	if (r->menu < 0 || r->menu_item[dg] < 0)
		return NULL;
	rules_tracef(tr, "digit %d answers the menu\n", dg);
	return &r->rule[r->menu_item[dg]];
}

static const struct rules_rule *status_rule(const struct rules *r)
{
	for (int i = 0; i < r->nrules; i++)
		if (r->rule[i].status_query)
			return &r->rule[i];
	return NULL;
}

/* The best candidate, or a numbered choice (res->choice) when others
 * are within CLOSE points of it: asking beats guessing. */
static const struct rules_rule *
pick(struct rules_result *res, const struct cand *c, int nc, bool all_keywords)
{
	const struct cand *top = &c[0];
	/* a message of topic words only ("ktp kk"): ask more readily */
	int close = all_keywords ? CLOSE + 1 : CLOSE;

	if (!top->rule->silent)
		for (int i = 0; i < nc && res->nchoices < MAX_CHOICES; i++)
			if (c[i].score >= top->score - close &&
			    c[i].rule->priority == top->rule->priority &&
			    !c[i].rule->silent)
				res->choice[res->nchoices++] = c[i].rule;
	if (res->nchoices > 1) {
		snprintf(res->why, sizeof(res->why),
			 "close scores (%d and %d): ask", top->score,
			 c[1].score);
		return NULL;
	}
	res->nchoices = 0;
	snprintf(res->why, sizeof(res->why), "score %d: %.120s", top->score,
		 top->expl);
	return top->rule;
}

/* The decision for one message: a rule, a numbered choice between rules
 * (res->nchoices), a closer (res->closer), or NULL (nothing applies). */
const struct rules_rule *rules_choose(const struct rules *r,
				      const struct rules_input *in, bool open,
				      struct rules_result *res, FILE *tr)
{
	struct tokens t;
	struct msg m;
	struct cand cbuf[CAND_MAX], *c = cbuf;
	int ri[CAND_MAX];
	const struct rules_rule *rule;
	char ref[32];

	rules_words(in->text, &t);
	msg_init(&m, r, &t);
	const char **tok = m.tok;
	int n = m.n;
	if (tr) {
		rules_tracef(tr, "words:");
		for (int i = 0; i < t.n; i++)
			rules_tracef(tr, " %s%s", t.tok[i],
				     t.filler[i] ? "(filler)" : "");
		rules_tracef(tr, "\n");
	}
	rules_parse_ref(r, in->text, ref, sizeof(ref));
	if (ref[0] && (rule = status_rule(r)) &&
	    !rules_gate(r, rule, in, open)) {
		snprintf(res->why, sizeof(res->why), "ticket number %s", ref);
		rules_tracef(tr, "ticket number %s in the message -> [%s]\n",
			     ref, rule->name);
		return rule;
	}
	if (is_closer(&m)) {
		res->closer = true;
		snprintf(res->why, sizeof(res->why), "thanks or ok only");
		rules_tracef(tr, "closer: thanks or ok only\n");
		return NULL;
	}
	if (n == 1 && isdigit((unsigned char)tok[0][0]) && !tok[0][1] &&
	    (rule = by_digit(r, in, tok[0][0] - '0', tr)) &&
	    !rules_gate(r, rule, in, open)) {
		res->menu_choice = tok[0][0] - '0';
		snprintf(res->why, sizeof(res->why), "choice %c", tok[0][0]);
		return rule;
	}
	rules_tracef(tr, "scores:\n");
	bool all_keywords = false;
	int nri = candidates(&m, ri);
	if (nri < 0 && !(c = calloc((size_t)r->nrules + 1, sizeof(*c))))
		return NULL;
	int nc = score_all(r, in, open, &m, ri, nri, c, &all_keywords, tr);
	rule = nc > 0 ? pick(res, c, nc, all_keywords) : NULL;
	if (c != cbuf)
		free(c);
	if (rule || res->nchoices > 1)
		return rule;
	if (is_greeting(&m) && r->menu >= 0) {
		rule = &r->rule[r->menu];
		const char *no = rules_gate(r, rule, in, open);
		rules_tracef(tr, "greeting only -> [menu]%s%s\n",
			     no ? ": no: " : "", no ? no : "");
		snprintf(res->why, sizeof(res->why), "greeting only");
		if (!no)
			return rule;
	}
	rule = by_fallback(r, in, open, tr);
	snprintf(res->why, sizeof(res->why), "no intent scored: fallback");
	return rule;
}
