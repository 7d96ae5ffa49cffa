/* The keyword index, built once at load (issue 17). Every word of every
 * keyword, negative phrase and context word gets an id; one hash table
 * maps a word to its id and its classes (filler, greeting, closer,
 * place: the word lists), and every deletion of one letter of a
 * typo-able word (rules_tok_match: 5 letters or more) to the ids it
 * comes from. A message word is then looked up once instead of compared
 * with every keyword of every rule and every list: its classes, its
 * exact id, plus the words one edit away, found through its own
 * one-letter deletions (an insertion, deletion, substitution or swap of
 * neighbours leaves a deletion in common: the symmetric-delete method)
 * and confirmed with rules_tok_match itself, so a hit is exactly what
 * comparing with every keyword found. */

#include "rules_int.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* rules_tok_match's typos: keywords of 5 letters or more, not starting
 * with a digit, shorter than the edit-distance cap (39). */
#define TYPO_MIN 5
#define TYPO_CAP 39

struct slot {
	char *key; /* NULL: empty */
	int exact; /* the id of the word key, -1: key is only a deletion */
	int *near; /* typo-able words that key equals or is a deletion of */
	int nnear;
	unsigned cls; /* enum word_class */
};

struct word {
	char *text;
	int *rule; /* rules with a keyword phrase starting with it, in order */
	int nrule;
};

struct rules_index {
	struct word *word;
	int nword, cap;
	struct slot *slot;
	size_t mask;
};

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The slot of key, or the empty slot where it would go. */
static struct slot *probe(const struct rules_index *ix, const char *key)
{
	size_t i = hash(key) & ix->mask;

	while (ix->slot[i].key && strcmp(ix->slot[i].key, key) != 0)
		i = (i + 1) & ix->mask;
	return &ix->slot[i];
}

static struct slot *put(struct rules_index *ix, const char *key)
{
	struct slot *s = probe(ix, key);

	if (!s->key) {
		s->key = strdup(key);
		s->exact = -1;
	}
	return s->key ? s : NULL;
}

static bool append(int **list, int *n, int v)
{
	if (*n && (*list)[*n - 1] == v)
		return true; /* "kk": both deletions are "k" */
	int *p = realloc(*list, (size_t)(*n + 1) * sizeof(*p));
	if (!p)
		return false;
	*list = p;
	p[(*n)++] = v;
	return true;
}

/* The id of w, added when new; -1 on allocation failure. */
static int intern(struct rules_index *ix, const char *w)
{
	struct slot *s = put(ix, w);

	if (!s)
		return -1;
	if (s->exact >= 0)
		return s->exact;
	if (ix->nword == ix->cap)
		return -1; /* cannot happen: cap counts every word */
	ix->word[ix->nword] = (struct word){s->key, NULL, 0};
	s->exact = ix->nword++;
	return s->exact;
}

static bool typo_able(const char *w)
{
	size_t n = strlen(w);

	return n >= TYPO_MIN && n < TYPO_CAP && !isdigit((unsigned char)w[0]);
}

/* w and its one-letter deletions lead to id. */
static bool add_near(struct rules_index *ix, const char *w, int id)
{
	char d[TYPO_CAP];
	size_t n = strlen(w);
	struct slot *s = put(ix, w);

	if (!s || !append(&s->near, &s->nnear, id))
		return false;
	for (size_t i = 0; i < n; i++) {
		memcpy(d, w, i);
		memcpy(d + i, w + i + 1, n - i);
		if (!(s = put(ix, d)) || !append(&s->near, &s->nnear, id))
			return false;
	}
	return true;
}

/* Ids for the words of one phrase (p->id). */
static bool index_phrase(struct rules_index *ix, struct phrase *p)
{
	p->id = calloc((size_t)p->n + 1, sizeof(int));
	if (!p->id)
		return false;
	for (int j = 0; j < p->n; j++)
		if ((p->id[j] = intern(ix, p->tok[j])) < 0)
			return false;
	return true;
}

static bool index_rule(struct rules_index *ix, struct rules_rule *rule, int ri)
{
	for (int k = 0; k < rule->nkw; k++) {
		struct phrase *p = &rule->kw[k];
		if (!index_phrase(ix, p))
			return false;
		struct word *w = p->n ? &ix->word[p->id[0]] : NULL;
		if (w && !append(&w->rule, &w->nrule, ri))
			return false;
	}
	for (int k = 0; k < rule->nneg; k++)
		if (!index_phrase(ix, &rule->neg[k]))
			return false;
	rule->ctx_id = calloc((size_t)rule->nctx + 1, sizeof(int));
	if (!rule->ctx_id)
		return false;
	for (int k = 0; k < rule->nctx; k++)
		if ((rule->ctx_id[k] = intern(ix, rule->ctx[k])) < 0)
			return false;
	return true;
}

static size_t phrase_keys(const struct phrase *p, int n, int *words)
{
	size_t keys = 0;

	for (int k = 0; k < n; k++)
		for (int j = 0; j < p[k].n; j++) {
			keys += 1 + strlen(p[k].tok[j]);
			(*words)++;
		}
	return keys;
}

static const struct word_list *const all_lists[] = {rules_text_lists,
						    rules_match_lists};

/* The words of the lists of rules_text.c and rules_match.c get their
 * classes. */
static bool add_classes(struct rules_index *ix)
{
	for (size_t k = 0; k < sizeof(all_lists) / sizeof(*all_lists); k++)
		for (const struct word_list *l = all_lists[k]; l->words; l++)
			for (const char *const *w = l->words; *w; w++) {
				struct slot *s = put(ix, *w);
				if (!s)
					return false;
				s->cls |= l->cls;
			}
	return true;
}

static size_t class_keys(void)
{
	size_t keys = 0;

	for (size_t k = 0; k < sizeof(all_lists) / sizeof(*all_lists); k++)
		for (const struct word_list *l = all_lists[k]; l->words; l++)
			for (const char *const *w = l->words; *w; w++)
				keys++;
	return keys;
}

/* Enough slots for every word, every deletion and every listed word, at
 * most half full. */
static bool alloc_index(struct rules_index *ix, const struct rules *r)
{
	size_t keys = class_keys(), size = 16;
	int words = 0;

	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *x = &r->rule[i];
		keys += phrase_keys(x->kw, x->nkw, &words);
		keys += phrase_keys(x->neg, x->nneg, &words);
		for (int k = 0; k < x->nctx; k++, words++)
			keys += 1 + strlen(x->ctx[k]);
	}
	while (size < 2 * keys)
		size *= 2;
	ix->mask = size - 1;
	ix->cap = words;
	ix->slot = calloc(size, sizeof(*ix->slot));
	ix->word = calloc((size_t)words + 1, sizeof(*ix->word));
	return ix->slot && ix->word;
}

struct rules_index *rules_index_build(struct rules *r)
{
	struct rules_index *ix = calloc(1, sizeof(*ix));
	bool ok = ix && alloc_index(ix, r) && add_classes(ix);

	for (int i = 0; ok && i < r->nrules; i++)
		ok = index_rule(ix, &r->rule[i], i);
	for (int v = 0; ok && v < ix->nword; v++)
		if (typo_able(ix->word[v].text))
			ok = add_near(ix, ix->word[v].text, v);
	if (ok)
		return ix;
	rules_index_free(ix);
	return NULL;
}

void rules_index_free(struct rules_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; ix->slot && i <= ix->mask; i++) {
		free(ix->slot[i].key); /* the words' text too */
		free(ix->slot[i].near);
	}
	for (int v = 0; ix->word && v < ix->nword; v++)
		free(ix->word[v].rule);
	free(ix->slot);
	free(ix->word);
	free(ix);
}

static const struct slot *find(const struct rules_index *ix, const char *key)
{
	const struct slot *s = probe(ix, key);

	return s->key ? s : NULL;
}

static void hit(struct hits *h, int id)
{
	for (int i = 0; i < h->n; i++)
		if (h->id[i] == id)
			return;
	if (h->n < 0 || h->n == HIT_MAX)
		h->n = -1; /* too many: rules_hit compares itself */
	else
		h->id[h->n++] = id;
}

/* The typo-able words s leads to that rules_tok_match accepts for tok
 * (a deletion in common is necessary, not sufficient: "kartu" and
 * "krtau" share "krtu"). */
static void near_hits(const struct rules_index *ix, const struct slot *s,
		      const char *tok, struct hits *h)
{
	for (int i = 0; s && i < s->nnear; i++)
		if (rules_tok_match(ix->word[s->near[i]].text, tok))
			hit(h, s->near[i]);
}

void rules_index_hits(const struct rules_index *ix, const char *tok,
		      struct hits *h)
{
	const struct slot *s = find(ix, tok);
	size_t n = strlen(tok);
	char d[TYPO_CAP];

	h->n = 0;
	h->cls = s ? s->cls : 0;
	if (s && s->exact >= 0)
		hit(h, s->exact);
	near_hits(ix, s, tok, h);
	/* a typo-able word is 5..38 letters: a word one edit away 4..38 */
	if (n < TYPO_MIN - 1 || n >= TYPO_CAP)
		return;
	for (size_t i = 0; i < n && h->n >= 0; i++) {
		memcpy(d, tok, i);
		memcpy(d + i, tok + i + 1, n - i);
		near_hits(ix, find(ix, d), tok, h);
	}
}

bool rules_hit(const struct rules_index *ix, const struct hits *h,
	       const char *tok, int id)
{
	if (h->n < 0)
		return rules_tok_match(ix->word[id].text, tok) != 0;
	for (int i = 0; i < h->n; i++)
		if (h->id[i] == id)
			return true;
	return false;
}

const int *rules_index_rules(const struct rules_index *ix, int id, int *n)
{
	*n = ix->word[id].nrule;
	return ix->word[id].rule;
}
