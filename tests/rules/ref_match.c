/* The matcher as it was before the keyword index (main a45676c:
 * rules/rules_match.c and the word functions of rules/rules_text.c),
 * kept verbatim but for the names: every keyword compared with every
 * word of every message. It is the specification the indexed matcher
 * must equal (test_match_diff) and the "before" of bench/rules_bench.
 * Only the helpers that did not change (rules_gate, rules_parse_ref,
 * rules_tracef, rules_addf) come from the library. */

#include "ref_match.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "gsm.h"

/* Greetings and fillers that carry no request, normalised (lower case,
 * repeated letters collapsed): "assalamualaikum bu, kk hilang gimana"
 * keeps only "kk hilang". */
static bool ref_in_list(const char *tok, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(*list, tok) == 0)
			return true;
	return false;
}

/* Salutations: the words that make a message a greeting (rules_match.c)
 * and fillers too. Normalised. */
static const char *const ref_salutations[] = {
    "asalamualaikum", "asalamu", "alaikum",
    "asalamualaikom", "salam",	 "halo",
    "helo",	      "hai",	 "hi",
    "selamat",	      "met",	 "pagi",
    "siang",	      "sore",	 "malam",
    "permisi",	      "punten",	 "swastiastu",
    "shalom",	      NULL};

/* The other fillers. */
static const char *const fillers[] = {
    "wr",	 "wb",	      "warahmatulahi", "wabarakatuh",
    "om",	 "pak",	      "bapak",	       "bu",
    "ibu",	 "min",	      "admin",	       "kak",
    "kakak",	 "mas",	      "mbak",	       "bang",
    "dik",	 "tolong",    "dong",	       "ya",
    "yah",	 "ok",	      "oke",	       "mau",
    "ingin",	 "tanya",     "bertanya",      "nanya",
    "syarat",	 "syaratnya", "persyaratan",   "gimana",
    "bagaimana", "gmn",	      "cara",	       "caranya",
    "buat",	 "bikin",     "membuat",       "urus",
    "mengurus",	 "ngurus",    "saya",	       "aku",
    "sy",	 "apa",	      "apakah",	       "ada",
    "untuk",	 "utk",	      "yang",	       "yg",
    "mohon",	 "terima",    "kasih",	       "makasih",
    "trims",	 "nih",	      "sih",	       "deh",
    "kah",	 "lur",	      "pak lurah",     "p",
    "di",	 "ke",	      "dan",	       "dari",
    "dr",	 "nya",	      "aja",	       "saja",
    "apa",	 "itu",	      "ini",	       "kita",
    "kami",	 "sya",	      "kulo",	       "torang",
    "kita",	 "mo",	      "nak",	       "pung",
    "bae",	 "lah",	      "lho",	       "to",
    "pripun",	 "bagimana",  "gimana",	       NULL};

static bool is_filler(const char *tok)
{
	return ref_in_list(tok, ref_salutations) || ref_in_list(tok, fillers);
}

/* Lower case, transliterated, every non-alphanumeric byte a separator;
 * runs of single letters joined ("K T P" -> "ktp"); repeated letters
 * collapsed ("ktppp" -> "ktp", "halooo" -> "halo"). Digits are kept
 * as they are (ticket numbers). */
static void ref_tokenize(const char *text, struct tokens *t)
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
			for (int k = i;
			     k < j && used + len + 2 < sizeof(t->buf); k++)
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

/* Common words one letter away from a shipped keyword: never typos. */
static const char *const real_words[] = {
    "sampai", "lampau", "lampir", "bukan", "timbang", "tumbang", "mampu",
};

static bool is_real_word(const char *tok)
{
	for (size_t i = 0; i < sizeof(real_words) / sizeof(*real_words); i++)
		if (strcmp(real_words[i], tok) == 0)
			return true;
	return false;
}

/* rules_edit_distance(a, b) == 1 for a != b, in one pass: every
 * keyword is tried against every word of every message, and the full
 * table was a quarter of simpuld's time under a webhook load. One edit is
 * one substitution or one swap of neighbours (same length), or one letter
 * more in the longer string. */
static bool one_edit(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la < lb) {
		const char *t = a;
		a = b;
		b = t;
		size_t tl = la;
		la = lb;
		lb = tl;
	}
	if (la - lb > 1 || la >= 39) /* the table's cap */
		return false;
	size_t i = 0;
	while (i < lb && a[i] == b[i])
		i++;
	if (i == lb) /* equal, or one letter more at the end of a */
		return la != lb;
	if (la != lb) /* skip one letter of the longer */
		return strcmp(a + i + 1, b + i) == 0;
	if (strcmp(a + i + 1, b + i + 1) == 0) /* one substitution */
		return true;
	return a[i] == b[i + 1] && a[i + 1] == b[i] &&
	       strcmp(a + i + 2, b + i + 2) == 0; /* one swap */
}

/* 0 no, 1 exact, 2 one-letter typo (keywords of 5 letters or more) */
static int ref_tok_match(const char *kw, const char *in)
{
	if (strcmp(kw, in) == 0)
		return 1;
	if (strlen(kw) >= 5 && !isdigit((unsigned char)kw[0]) &&
	    one_edit(kw, in) && !is_real_word(in))
		return 2;
	return 0;
}

/* The meaningful (non-filler) tokens of t, in order. */
static int ref_content(const struct tokens *t, const char **out)
{
	int n = 0;

	for (int i = 0; i < t->n; i++)
		if (!t->filler[i])
			out[n++] = t->tok[i];
	return n;
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

struct cand {
	const struct rules_rule *rule;
	int score;
	bool used[MAX_TOKENS];
	char expl[200];
};

/* Where the phrase starts in tok (not in used[]), or -1; the tokens it
 * takes are written to at[]. */
static int find_phrase(const struct phrase *p, const char **tok, int n,
		       const bool *used, enum match_mode mode, int *at)
{
	for (int i = 0; i < n; i++) {
		int k = i, j = 0;
		if (mode != MATCH_ANY && i > 0)
			break;
		for (; j < p->n && k < n; j++) {
			int gap = j ? 2 : 1; /* one word may sit between */
			int found = -1;
			for (int g = 0; g < gap && k + g < n && found < 0; g++)
				if (!used[k + g] &&
				    ref_tok_match(p->tok[j], tok[k + g]))
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
static bool place_or_duration(const struct tokens *t)
{
	for (int i = 0; i < t->n; i++) {
		const char *w = t->tok[i];
		bool num_next =
		    i + 1 < t->n && isdigit((unsigned char)t->tok[i + 1][0]);
		if (ref_in_list(w, place_words) ||
		    ref_in_list(w, duration_words))
			return true;
		if (isdigit((unsigned char)w[0]) && i + 1 < t->n &&
		    ref_in_list(t->tok[i + 1], duration_units))
			return true;
		(void)num_next;
	}
	return false;
}

/* The keywords of rule in tok: their weight sum, c->used and c->expl. */
static int keyword_sum(const struct rules_rule *rule, const char **tok, int n,
		       struct cand *c)
{
	int sum = 0, at[MAX_TOKENS];

	for (int k = 0; k < rule->nkw; k++) {
		const struct phrase *p = &rule->kw[k];
		if (p->n > MAX_TOKENS ||
		    find_phrase(p, tok, n, c->used, rule->mode, at) < 0)
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
static int context_sum(const struct rules_rule *rule, const struct tokens *t,
		       struct cand *c)
{
	int sum = 0;

	for (int k = 0; k < rule->nctx && sum < 2; k++)
		for (int i = 0; i < t->n; i++)
			if (ref_tok_match(rule->ctx[k], t->tok[i])) {
				sum++;
				rules_addf(c->expl, sizeof(c->expl),
					   " + context '%s' 1", rule->ctx[k]);
				break;
			}
	return sum;
}

static int negative_sum(const struct rules_rule *rule, const char **tok, int n,
			struct cand *c)
{
	int sum = 0, at[MAX_TOKENS];
	bool none[MAX_TOKENS] = {false};

	for (int k = 0; k < rule->nneg; k++) {
		const struct phrase *p = &rule->neg[k];
		if (p->n > MAX_TOKENS ||
		    find_phrase(p, tok, n, none, MATCH_ANY, at) < 0)
			continue;
		sum += p->weight;
		rules_addf(c->expl, sizeof(c->expl), " - negative '%s' %d",
			   p->text, p->weight);
	}
	return sum;
}

/* Scores every keyword rule into c[], best first; returns how many
 * reached MIN_SCORE and passed their gate. */
static int score_all(const struct rules *r, const struct rules_input *in,
		     bool open, const struct tokens *t, const char **tok, int n,
		     struct cand *c, bool *all_keywords, FILE *tr)
{
	int nc = 0;
	bool covered[MAX_TOKENS] = {false}, all = n > 0;
	bool place = place_or_duration(t);

	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *rule = &r->rule[i];
		struct cand *x = &c[nc];
		if (rule->mode == MATCH_FALLBACK)
			continue;
		memset(x, 0, sizeof(*x));
		x->rule = rule;
		int kw = keyword_sum(rule, tok, n, x);
		if (kw == 0)
			continue;
		x->score = kw + context_sum(rule, t, x);
		if (rule->kind == KIND_COMPLAINT && kw >= 2 && place) {
			x->score += 2;
			rules_addf(x->expl, sizeof(x->expl),
				   " + place/duration 2");
		}
		x->score -= negative_sum(rule, tok, n, x);
		for (int k = 0; k < n; k++)
			covered[k] = covered[k] || x->used[k];
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
 * ref_salutations, as opposed to fillers alone ("mau tanya", "pak lurah
 * ada?"). Normalised. */
static const char *const greeting_words[] = {"p",      "menu", "horas",
					     "sugeng", "tabe", NULL};
static const char *const honorifics[] = {
    "lurah", "k",   "kk",    "min", "admin", "pak",  "bapak", "bu",
    "ibu",   "kak", "kakak", "mas", "mbak",  "bang", "om",    NULL};

/* Only a greeting (fillers and honorifics around it), or only a call
 * ("min", "pak"): answer the menu. */
static bool is_greeting(const struct tokens *t)
{
	bool greet = false, call = t->n > 0;

	for (int i = 0; i < t->n; i++) {
		bool h = ref_in_list(t->tok[i], honorifics);
		call = call && h;
		if (ref_in_list(t->tok[i], ref_salutations) ||
		    ref_in_list(t->tok[i], greeting_words))
			greet = true;
		else if (!t->filler[i] && !h)
			return false;
	}
	return greet || call;
}

/* A message of thanks or "ok" only: a closer, never the menu. */
static bool is_closer(const struct tokens *t)
{
	bool core = false;

	for (int i = 0; i < t->n; i++) {
		const char *w = t->tok[i];
		if (ref_in_list(w, closer_core))
			core = true;
		else if (!t->filler[i] && !ref_in_list(w, closer_extra))
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
const struct rules_rule *ref_choose(const struct rules *r,
				    const struct rules_input *in, bool open,
				    struct rules_result *res, FILE *tr)
{
	struct tokens t;
	const char *tok[MAX_TOKENS];
	struct cand *c;
	const struct rules_rule *rule;
	char ref[32];

	ref_tokenize(in->text, &t);
	int n = ref_content(&t, tok);
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
	if (is_closer(&t)) {
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
	c = calloc((size_t)r->nrules + 1, sizeof(*c));
	if (!c)
		return NULL;
	int nc = score_all(r, in, open, &t, tok, n, c, &all_keywords, tr);
	rule = nc > 0 ? pick(res, c, nc, all_keywords) : NULL;
	free(c);
	if (rule || res->nchoices > 1)
		return rule;
	if (is_greeting(&t) && r->menu >= 0) {
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
