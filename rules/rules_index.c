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

/* Keys live in one text arena and lists in one link arena, by offset:
 * ~2,000 keys for the shipped rules, 16 bytes a slot, and no malloc per
 * key or per list (RssAnon counts, issue 17). */
struct slot {
	uint32_t key;  /* offset in text; 0: empty */
	int32_t exact; /* the id of the word key, -1: key is only a deletion */
	int32_t near;  /* link chain of the typo-able words that key equals
			* or is a deletion of; -1 none */
	uint32_t cls;  /* enum word_class */
};

struct link {
	int32_t id, next;
};

struct word {
	uint32_t text; /* offset in text */
	int32_t rules; /* link chain: rules with a phrase starting with it */
};

struct rules_index {
	char *text;
	size_t ntext, captext;
	struct link *link;
	int nlink, caplink;
	struct word *word;
	int nword, cap;
	struct slot *slot;
	size_t mask, used;
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

	while (ix->slot[i].key && strcmp(ix->text + ix->slot[i].key, key) != 0)
		i = (i + 1) & ix->mask;
	return &ix->slot[i];
}

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;

	while (n < need)
		n *= 2;
	if (n == *cap)
		return true;
	void *q = realloc(*p, n * size);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

/* Twice the slots, every key placed again; false when out of memory. */
static bool rehash(struct rules_index *ix)
{
	size_t size = 2 * (ix->mask + 1);
	struct slot *old = ix->slot, *s = calloc(size, sizeof(*s));

	if (!s)
		return false;
	ix->slot = s;
	ix->mask = size - 1;
	for (size_t i = 0; i < size / 2; i++)
		if (old[i].key)
			*probe(ix, ix->text + old[i].key) = old[i];
	free(old);
	return true;
}

/* The slot of key, added when new (the table at most half full). */
static struct slot *put(struct rules_index *ix, const char *key)
{
	struct slot *s = probe(ix, key);
	size_t n = strlen(key) + 1;

	if (s->key)
		return s;
	if (2 * (ix->used + 1) > ix->mask + 1)
		return rehash(ix) ? put(ix, key) : NULL;
	if (!grow((void **)&ix->text, &ix->captext, ix->ntext + n, 1))
		return NULL;
	memcpy(ix->text + ix->ntext, key, n);
	*s = (struct slot){(uint32_t)ix->ntext, -1, -1, 0};
	ix->ntext += n;
	ix->used++;
	return s;
}

/* id in front of the chain at *head, unless it is there already: the
 * same id comes in a row ("kk": both deletions are "k"; a rule's
 * phrases one after another). */
static bool push(struct rules_index *ix, int32_t *head, int id)
{
	size_t cap = (size_t)ix->caplink;

	if (*head >= 0 && ix->link[*head].id == id)
		return true;
	if (!grow((void **)&ix->link, &cap, (size_t)ix->nlink + 1,
		  sizeof(*ix->link)))
		return false;
	ix->caplink = (int)cap;
	ix->link[ix->nlink] = (struct link){id, *head};
	*head = ix->nlink++;
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
	ix->word[ix->nword] = (struct word){s->key, -1};
	s->exact = ix->nword++;
	return s->exact;
}

static const char *word_text(const struct rules_index *ix, int id)
{
	return ix->text + ix->word[id].text;
}

static bool typo_able(const char *w)
{
	size_t n = strlen(w);

	return n >= TYPO_MIN && n < TYPO_CAP && !isdigit((unsigned char)w[0]);
}

/* w and its one-letter deletions lead to id. */
static bool add_near(struct rules_index *ix, int id)
{
	char w[TYPO_CAP], d[TYPO_CAP];
	size_t n = strlen(word_text(ix, id));
	struct slot *s;

	memcpy(w, word_text(ix, id), n + 1); /* put() may move the text */
	if (!(s = put(ix, w)) || !push(ix, &s->near, id))
		return false;
	for (size_t i = 0; i < n; i++) {
		memcpy(d, w, i);
		memcpy(d + i, w + i + 1, n - i);
		if (!(s = put(ix, d)) || !push(ix, &s->near, id))
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
		if (!index_phrase(ix, p) ||
		    (p->n && !push(ix, &ix->word[p->id[0]].rules, ri)))
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

static int count_words(const struct rules *r)
{
	int n = 0;

	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *x = &r->rule[i];
		for (int k = 0; k < x->nkw; k++)
			n += x->kw[k].n;
		for (int k = 0; k < x->nneg; k++)
			n += x->neg[k].n;
		n += x->nctx;
	}
	return n;
}

static bool alloc_index(struct rules_index *ix, const struct rules *r)
{
	ix->cap = count_words(r);
	ix->word = calloc((size_t)ix->cap + 1, sizeof(*ix->word));
	ix->slot = calloc(256, sizeof(*ix->slot));
	ix->mask = 255;
	ix->text = calloc(1, 1); /* offset 0 is no key */
	ix->ntext = ix->captext = 1;
	return ix->word && ix->slot && ix->text;
}

/* The arenas grew by doubling: give back what they will never use. */
static void trim(struct rules_index *ix)
{
	char *t = realloc(ix->text, ix->ntext);
	struct link *l =
	    realloc(ix->link, (size_t)(ix->nlink ? ix->nlink : 1) * sizeof(*l));

	ix->text = t ? t : ix->text;
	ix->link = l ? l : ix->link;
}

struct rules_index *rules_index_build(struct rules *r)
{
	struct rules_index *ix = calloc(1, sizeof(*ix));
	bool ok = ix && alloc_index(ix, r) && add_classes(ix);

	for (int i = 0; ok && i < r->nrules; i++)
		ok = index_rule(ix, &r->rule[i], i);
	for (int v = 0; ok && v < ix->nword; v++)
		if (typo_able(word_text(ix, v)))
			ok = add_near(ix, v);
	if (ok) {
		trim(ix);
		return ix;
	}
	rules_index_free(ix);
	return NULL;
}

void rules_index_free(struct rules_index *ix)
{
	if (!ix)
		return;
	free(ix->text);
	free(ix->link);
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
	for (int32_t l = s ? s->near : -1; l >= 0; l = ix->link[l].next)
		if (rules_tok_match(word_text(ix, ix->link[l].id), tok))
			hit(h, ix->link[l].id);
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
		return rules_tok_match(word_text(ix, id), tok) != 0;
	for (int i = 0; i < h->n; i++)
		if (h->id[i] == id)
			return true;
	return false;
}

int rules_index_rules(const struct rules_index *ix, int id, int *out, int max)
{
	int n = 0;

	for (int32_t l = ix->word[id].rules; l >= 0; l = ix->link[l].next)
		if (n < max)
			out[n++] = ix->link[l].id;
		else
			return -1;
	return n;
}
