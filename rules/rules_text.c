/* Words: a message as normalised tokens (fillers marked), typo-tolerant
 * comparison, and the small helpers the other files share. */

#include "rules_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "gsm.h"
#include "phone.h"

bool rules_uses(const char *text, enum template_var v)
{
	return text && (template_uses(text) & (1u << v));
}

/* Greetings and fillers that carry no request, normalised (lower case,
 * repeated letters collapsed): "assalamualaikum bu, kk hilang gimana"
 * keeps only "kk hilang". */
/* Salutations: the words that make a message a greeting (rules_match.c)
 * and fillers too. Normalised. */
static const char *const salutations[] = {
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

const struct word_list rules_text_lists[] = {
    {salutations, WC_SALUTATION | WC_FILLER},
    {fillers, WC_FILLER},
    {NULL, 0},
};

static bool is_filler(const char *tok)
{
	return rules_in_list(tok, salutations) || rules_in_list(tok, fillers);
}

/* gsm_transliterate changes only '`' and TAB of ASCII, both into
 * separators as they are themselves: text without a byte >= 0x80 (most
 * messages) skips its table walk per character, a sixth of a message's
 * matching. */
static bool ascii_only(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s & 0x80)
			return false;
	return true;
}

/* Lower case, transliterated, every non-alphanumeric byte a separator;
 * runs of single letters joined ("K T P" -> "ktp"); repeated letters
 * collapsed ("ktppp" -> "ktp", "halooo" -> "halo"). Digits are kept
 * as they are (ticket numbers). */
void rules_tokenize(const char *text, struct tokens *t)
{
	rules_words(text, t);
	for (int i = 0; i < t->n; i++)
		t->filler[i] = is_filler(t->tok[i]);
}

void rules_words(const char *text, struct tokens *t)
{
	char raw[1024];
	char *words[MAX_TOKENS];
	int nw = 0;

	snprintf(raw, sizeof(raw), "%s", text ? text : "");
	if (!ascii_only(raw))
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
		t->filler[t->n] = false;
		t->n++;
		used += w + 1;
	}
}

/* Optimal string alignment distance, capped: we only ask "<= 1?". */
int rules_edit_distance(const char *a, const char *b)
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
int rules_tok_match(const char *kw, const char *in)
{
	if (strcmp(kw, in) == 0)
		return 1;
	if (strlen(kw) >= 5 && !isdigit((unsigned char)kw[0]) &&
	    one_edit(kw, in) && !is_real_word(in))
		return 2;
	return 0;
}

/* A number as comparable digits (62812...): common/phone.c is the one
 * place that knows Indonesian number forms. "" for anything that is not a
 * phone number (alphanumeric senders, short codes). */
void rules_phone_key(const char *number, char *buf, size_t n)
{
	char e164[64];
	enum phone_kind k = phone_normalize(number, e164, sizeof(e164));

	if (k == PHONE_MOBILE || k == PHONE_FIXED || k == PHONE_FOREIGN)
		phone_to_wa(e164, buf, n);
	else if (n)
		buf[0] = '\0';
}

void rules_tracef(FILE *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

bool rules_in_list(const char *tok, const char *const *list)
{
	/* the first letter first: the lists are walked for every word */
	for (; *list; list++)
		if (**list == *tok && strcmp(*list, tok) == 0)
			return true;
	return false;
}

void rules_addf(char *buf, size_t n, const char *fmt, ...)
{
	size_t l = strlen(buf);
	va_list ap;

	if (l + 1 >= n)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + l, n - l, fmt, ap);
	va_end(ap);
}
