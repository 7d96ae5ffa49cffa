/* Resident-like messages for the matcher's differential test and its
 * benchmark: Indonesian-ish words drawn from a rule set's own keywords,
 * fillers, greetings, places, numbers and ticket numbers, with typos,
 * mixed case, repeated and spaced letters, punctuation and emoji. The
 * same seed gives the same messages on every machine. */
#ifndef SIMPUL_MSGGEN_H
#define SIMPUL_MSGGEN_H

#include <stddef.h>
#include <stdint.h>

#include "rules_int.h"

struct msggen {
	uint64_t s;
	char **word; /* the keyword words and phrases of the rule set */
	int nword;
	char prefix[8];
};

/* Draws from r's keywords, negative phrases and context words. */
int msggen_init(struct msggen *g, const struct rules *r, uint64_t seed);
void msggen_free(struct msggen *g);
/* The next message into buf (always terminated). */
void msggen_next(struct msggen *g, char *buf, size_t n);
/* A uniform number below n (n > 0). */
unsigned msggen_below(struct msggen *g, unsigned n);
/* A random word of the rule set (for generated rules). */
const char *msggen_word(struct msggen *g);

#endif
