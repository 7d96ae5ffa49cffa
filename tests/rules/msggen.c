/* Resident-like messages (msggen.h). A message is a few pieces, each a
 * keyword of the rules, a filler, a greeting, a place, a number, a
 * ticket number or a made-up word, each piece maybe misspelt, shouted,
 * stretched or spaced out, joined by spaces, punctuation or emoji. */

#include "msggen.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fillers[] = {
    "pak",
    "bu",
    "min",
    "tolong",
    "mau tanya",
    "ya",
    "dong",
    "gimana",
    "syaratnya apa",
    "saya",
    "mohon",
    "kak",
    "bapak",
    "ibu",
    "yg",
    "untuk",
    "di",
    "apa",
    "ada",
    "bikin",
    "buat",
    "ngurus",
    "caranya",
    "pak lurah",
    "nya",
    "halo",
    "selamat pagi",
    "assalamualaikum",
    "permisi",
    "p",
    "menu",
    "ok",
    "oke",
    "terima kasih",
    "makasih",
    "sip",
    "siap",
    "thanks",
    "tq",
    "mantap",
    "banyak",
    "sudah",
    "jelas",
    "iya",
    "semoga sehat",
    "lurah",
    "horas",
    "tabe",
    "om",
    "mas",
    "tidak",
    "belum",
    "kapan",
    "berapa",
    "hari ini",
    "besok",
    "sekarang",
    "lagi",
    "kenapa",
    "sudah lama",
    "sampai",
    "bukan",
    "mampu",
    "lampir",
    "timbang",
};
static const char *const places[] = {
    "rt 05",	     "rw 2",	      "gang mawar", "jl. merdeka", "jln kenari",
    "dekat masjid",  "depan sekolah", "3 hari",	    "2 minggu",	   "seminggu",
    "sejak kemarin", "tiap malam",    "5 bln",	    "sebulan",	   "terus",
};
static const char *const emoji[] = {
    "\xF0\x9F\x99\x8F", "\xF0\x9F\x98\x80",
    "\xF0\x9F\x91\x8D", "\xE2\x9D\xA4\xEF\xB8\x8F",
    "\xC3\xA9",		"\xC3\xB1",
    "\xE2\x80\x99",	"\xE2\x80\x9C",
    "\xC2\xB2",
};
static const char *const seps[] = {" ",	 " ",	" ",   " ",   ", ", ". ",
				   "? ", "!! ", " - ", "...", "\n", "/"};
static const char *const sylls[] = {
    "ka", "ta", "pa", "ma", "na", "sa", "ra", "la", "ba", "da", "ga",
    "ku", "tu", "pu", "mu", "nu", "su", "ru", "lu", "bi", "di", "ri",
    "ke", "te", "pe", "me", "ne", "se", "an", "ng", "kk", "tp", "h"};

#define N(a) (sizeof(a) / sizeof(*(a)))

static uint64_t next(struct msggen *g)
{
	g->s ^= g->s << 13; /* xorshift64 */
	g->s ^= g->s >> 7;
	g->s ^= g->s << 17;
	return g->s;
}

unsigned msggen_below(struct msggen *g, unsigned n)
{
	return (unsigned)(next(g) % n);
}

static int add_word(struct msggen *g, const char *w)
{
	char **p = realloc(g->word, (size_t)(g->nword + 1) * sizeof(*p));

	if (!p)
		return -1;
	g->word = p;
	return (p[g->nword++] = strdup(w)) ? 0 : -1;
}

static int add_phrases(struct msggen *g, const struct phrase *p, int n)
{
	for (int k = 0; k < n; k++) {
		if (add_word(g, p[k].text) < 0)
			return -1;
		for (int j = 0; j < p[k].n; j++)
			if (add_word(g, p[k].tok[j]) < 0)
				return -1;
	}
	return 0;
}

int msggen_init(struct msggen *g, const struct rules *r, uint64_t seed)
{
	memset(g, 0, sizeof(*g));
	g->s = seed ? seed : 88172645463325252ull;
	snprintf(g->prefix, sizeof(g->prefix), "%s", r->prefix);
	for (int i = 0; i < r->nrules; i++) {
		const struct rules_rule *x = &r->rule[i];
		if (add_phrases(g, x->kw, x->nkw) < 0 ||
		    add_phrases(g, x->neg, x->nneg) < 0)
			return -1;
		for (int k = 0; k < x->nctx; k++)
			if (add_word(g, x->ctx[k]) < 0)
				return -1;
	}
	return g->nword ? 0 : add_word(g, "ktp");
}

void msggen_free(struct msggen *g)
{
	for (int i = 0; i < g->nword; i++)
		free(g->word[i]);
	free(g->word);
}

const char *msggen_word(struct msggen *g)
{
	return g->word[msggen_below(g, (unsigned)g->nword)];
}

/* One letter changed, dropped, doubled, added or swapped. */
static void typo(struct msggen *g, char *w)
{
	size_t n = strlen(w), i = msggen_below(g, (unsigned)n + 1);
	char c = (char)('a' + msggen_below(g, 26));

	if (n < 2)
		return;
	i = i >= n ? n - 1 : i;
	switch (msggen_below(g, 5)) {
	case 0:
		w[i] = c;
		break;
	case 1:
		memmove(w + i, w + i + 1, n - i);
		break;
	case 2:
	case 3:
		memmove(w + i + 1, w + i, n - i + 1);
		w[i] = msggen_below(g, 2) ? c : w[i + 1];
		break;
	default:
		if (i + 1 < n) {
			char t = w[i];
			w[i] = w[i + 1];
			w[i + 1] = t;
		}
	}
}

static void shout(struct msggen *g, char *w)
{
	unsigned how = msggen_below(g, 3);

	for (size_t i = 0; w[i]; i++)
		if (how == 0 || (how == 1 && i == 0) ||
		    (how == 2 && msggen_below(g, 2)))
			w[i] = (char)toupper((unsigned char)w[i]);
}

/* "ktp" -> "k t p" or "ktppp" */
static void stretch(struct msggen *g, char *w, size_t cap)
{
	size_t n = strlen(w);
	char out[128];
	size_t k = 0;

	if (n == 0 || n > 20)
		return;
	if (msggen_below(g, 2) && n <= 4) {
		for (size_t i = 0; i < n; i++) {
			out[k++] = w[i];
			out[k++] = ' ';
		}
		out[k - 1] = '\0';
	} else {
		memcpy(out, w, n);
		k = n;
		for (unsigned r = msggen_below(g, 4) + 1; r; r--)
			out[k++] = w[n - 1];
		out[k] = '\0';
	}
	snprintf(w, cap, "%s", out);
}

static void made_up(struct msggen *g, char *w, size_t cap)
{
	w[0] = '\0';
	for (unsigned s = msggen_below(g, 4) + 1; s; s--)
		strncat(w, sylls[msggen_below(g, N(sylls))],
			cap - strlen(w) - 1);
}

static void piece(struct msggen *g, char *w, size_t cap)
{
	unsigned k = msggen_below(g, 20);

	if (k < 9)
		snprintf(w, cap, "%s", msggen_word(g));
	else if (k < 13)
		snprintf(w, cap, "%s", fillers[msggen_below(g, N(fillers))]);
	else if (k < 14)
		snprintf(w, cap, "%s", places[msggen_below(g, N(places))]);
	else if (k < 16)
		snprintf(w, cap, "%u",
			 msggen_below(g, 3) ? msggen_below(g, 10)
					    : msggen_below(g, 3000));
	else if (k < 17)
		snprintf(w, cap, "%s%s%u%02u%s%u",
			 msggen_below(g, 2) ? g->prefix : "kls",
			 msggen_below(g, 2) ? "-" : " ",
			 24 + msggen_below(g, 4), 1 + msggen_below(g, 12),
			 msggen_below(g, 2) ? "-" : "", msggen_below(g, 20000));
	else
		made_up(g, w, cap);
}

static void mutate(struct msggen *g, char *w, size_t cap)
{
	if (strlen(w) + 8 < cap && msggen_below(g, 6) == 0)
		typo(g, w);
	if (msggen_below(g, 8) == 0)
		stretch(g, w, cap);
	if (msggen_below(g, 5) == 0)
		shout(g, w);
}

void msggen_next(struct msggen *g, char *buf, size_t n)
{
	unsigned len = msggen_below(g, 40) == 0 ? 20 + msggen_below(g, 200)
						: 1 + msggen_below(g, 7);
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < len && used + 1 < n; i++) {
		char w[160];
		piece(g, w, sizeof(w) - 40);
		mutate(g, w, sizeof(w));
		const char *sep =
		    i + 1 == len ? "" : seps[msggen_below(g, N(seps))];
		const char *e = msggen_below(g, 12) == 0
				    ? emoji[msggen_below(g, N(emoji))]
				    : "";
		int k = snprintf(buf + used, n - used, "%s%s%s", w, e, sep);
		if (k < 0 || (size_t)k >= n - used)
			break; /* full: cut, like a long SMS */
		used += (size_t)k;
	}
}
