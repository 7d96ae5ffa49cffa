/* rules_int.h: private to the rules module (rules.c, rules_ini.c,
 * rules_text.c, rules_match.c, rules_reply.c). The loaded rule set, the
 * tokenised message and the helpers the files share. Nothing outside
 * rules/ includes it; the contract is rules.h.
 *
 *   rules.c        loading a directory, load-time checks, freeing, accessors
 *   rules_ini.c    one INI section into the rule set (office, rules, menu)
 *   rules_text.c   words: tokenising, typos, fillers; small helpers
 *   rules_match.c  scoring a message, the numbered choice, closers, digits
 *   rules_reply.c  suppression, rendering the reply, the dry run
 *   rules_index.c  the keyword index built at load: word -> id, typos
 */
#ifndef SIMPUL_RULES_INT_H
#define SIMPUL_RULES_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "diag.h"
#include "ini.h"
#include "rules.h"
#include "template.h"

#define MAX_TOKENS 64
#define CH_SMS	   1u
#define CH_WA	   2u

enum match_mode { MATCH_ANY, MATCH_FIRST, MATCH_WHOLE, MATCH_FALLBACK };
enum when { WHEN_ALWAYS, WHEN_OPEN, WHEN_CLOSED };
/* service: a letter or a document; complaint: scores more with a place or
 * a duration; info; general: only when no specific rule scores */
enum kind { KIND_SERVICE, KIND_COMPLAINT, KIND_INFO, KIND_GENERAL };

#define KW_WEIGHT  3 /* a keyword without :N */
#define NEG_WEIGHT 4 /* a negative phrase without :N */
#define OFFICE_MAX 40
#define TITLE_MAX  22
/* Added to every reply sent while the office is closed, unless the reply
 * already says when it opens ({next_open}) or is itself the closed-hours
 * reply. */
#define CLOSED_SUFFIX " Buka lagi {next_open}."
#define CLOSER_REPLY  "Sama-sama."

struct phrase {
	char *text; /* as written, for messages */
	int n;
	char **tok; /* normalised tokens */
	int *id;    /* their ids in the keyword index */
	int weight;
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
	bool ticket, rt_confirm, status_query, is_menu, silent;
	int priority, due_days;
	struct phrase *neg; /* negative phrases: subtract their weight */
	int nneg;
	char **ctx;  /* context words: +1 each, at most 2 */
	int *ctx_id; /* their ids in the keyword index */
	int nctx;
	enum kind kind;
	char *title; /* for a numbered choice: "Syarat KK" */
};

struct rules {
	char *office, *prefix, *own;
	char **deny;
	int ndeny, max_segments;
	struct rules_limits lim;
	struct hours *hours;
	struct rules_rule *rule;
	int nrules;
	int menu;	   /* index of the menu, -1 none */
	int menu_item[10]; /* rule index per digit, -1 none */
	char *menu_target[10];
	int menu_target_line[10];
	char *menu_file;
	struct rules_index *ix; /* built once everything is loaded */
};

/* The state of one rules_load: the set being built and where problems
 * go (rules_load appends them to the caller's diag at the end). */
struct loader {
	struct rules *r;
	struct diag *d;
	bool office_seen, limits_seen;
	char office_file[256];
};

/* A message as words (rules_tokenize): normalised tokens in buf,
 * fillers (greetings, honorifics) marked. */
struct tokens {
	int n;
	char *tok[MAX_TOKENS];
	bool filler[MAX_TOKENS];
	char buf[1024];
};

/* ------------------------------------------------------ rules_text.c */

/* text uses placeholder v */
bool rules_uses(const char *text, enum template_var v);
const char *rules_closed_suffix(const char *text);
/* Lower case, transliterated, single letters joined, repeats collapsed;
 * fillers (greetings, honorifics) marked. */
void rules_tokenize(const char *text, struct tokens *t);
/* The same words, no filler marked (rules_choose looks them up). */
void rules_words(const char *text, struct tokens *t);
int rules_edit_distance(const char *a, const char *b);
/* 0 no, 1 exact, 2 one-letter typo (keywords of 5 letters or more) */
int rules_tok_match(const char *kw, const char *in);
/* A number as comparable digits (62812...), "" when not a phone number. */
void rules_phone_key(const char *number, char *buf, size_t n);
/* fprintf to f, nothing when f is NULL (the dry run's trace) */
void rules_tracef(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends to the string in buf (size n), truncating. */
void rules_addf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* tok is one of the NULL-terminated list */
bool rules_in_list(const char *tok, const char *const *list);

/* ----------------------------------------------------- rules_index.c */

/* What a word is besides a keyword, from the word lists of rules_text.c
 * and rules_match.c, looked up in the same hash as the keywords. */
enum word_class {
	WC_FILLER = 1u << 0,	    /* a greeting or filler: no request */
	WC_SALUTATION = 1u << 1,    /* makes a message a greeting */
	WC_HONORIFIC = 1u << 2,	    /* "pak", "min": a call */
	WC_CLOSER = 1u << 3,	    /* "makasih", "ok": closes a talk */
	WC_CLOSER_EXTRA = 1u << 4,  /* may stand around a closer word */
	WC_PLACE = 1u << 5,	    /* a complaint's place or duration */
	WC_DURATION_UNIT = 1u << 6, /* after a number: "3 hari" */
};
struct word_list {
	const char *const *words; /* NULL-terminated */
	unsigned cls;
};
/* NULL-terminated tables of the lists (rules_text.c, rules_match.c) */
extern const struct word_list rules_text_lists[], rules_match_lists[];

/* The keyword words one message word matches (rules_tok_match != 0), by
 * id; n = -1 when there are more than HIT_MAX (then rules_hit compares).
 * cls: its word classes. */
#define HIT_MAX 8
struct hits {
	int n;
	unsigned cls;
	int id[HIT_MAX];
};

/* Interns every keyword, negative and context word of r (phrase->id,
 * rule->ctx_id) and indexes them; NULL when out of memory. */
struct rules_index *rules_index_build(struct rules *r);
void rules_index_free(struct rules_index *ix);
/* Looks the message word tok up once: h gets what it matches. */
void rules_index_hits(const struct rules_index *ix, const char *tok,
		      struct hits *h);
/* rules_tok_match(the word of id, tok) != 0, h being tok's hits */
bool rules_hit(const struct rules_index *ix, const struct hits *h,
	       const char *tok, int id);
/* The rules (indices, in no order) with a keyword phrase whose first
 * word is id, into out; how many, -1 when more than max. */
int rules_index_rules(const struct rules_index *ix, int id, int *out, int max);

/* ------------------------------------------------------- rules_ini.c */

/* Reads one section of ini ([office], [rule x], [menu], ...) into L->r;
 * every problem goes to L->d with file:line. */
void rules_load_section(struct loader *L, const struct ini *ini,
			const char *sec);

/* ----------------------------------------------------------- rules.c */

/* Load-time checks (rules_load calls them once everything is read). */
void rules_check_segments(struct loader *L, const struct rules_rule *rule);
void rules_check_choice(struct loader *L);

/* ----------------------------------------------------- rules_match.c */

/* Why rule does not apply to this input (channel, when), or NULL. */
const char *rules_gate(const struct rules *r, const struct rules_rule *rule,
		       const struct rules_input *in, bool open);
/* The ticket number of the configured prefix anywhere in text, as
 * "KLS-2607-0015"; "" when there is none. */
void rules_parse_ref(const struct rules *r, const char *text, char *out,
		     size_t n);
/* The decision for one message: a rule, a numbered choice between rules
 * (res->nchoices), a closer (res->closer), or NULL (nothing applies).
 * Explains itself to tr when not NULL. */
const struct rules_rule *rules_choose(const struct rules *r,
				      const struct rules_input *in, bool open,
				      struct rules_result *res, FILE *tr);

#endif
