/* ini: an INI file loaded with iniparser 4.1, plus what iniparser does not
 * keep: the line of every section and key, so errors can say file:line.
 * Section and key names are case-insensitive (stored lower case). */
#ifndef SIMPUL_INI_H
#define SIMPUL_INI_H

#include <stdbool.h>
#include "diag.h"

struct ini;

/* Loads path; syntax errors (a line that is neither a section, a key nor
 * a comment; a key outside a section; a duplicate key) go to d. Returns
 * NULL only when the file cannot be read at all. */
struct ini *ini_load(const char *path, struct diag *d);
void ini_free(struct ini *ini);
const char *ini_path(const struct ini *ini);

int ini_nsections(const struct ini *ini);
const char *ini_section(const struct ini *ini, int i); /* file order */
bool ini_has_section(const struct ini *ini, const char *sec);
int ini_nkeys(const struct ini *ini, const char *sec);
const char *ini_key(const struct ini *ini, const char *sec, int i); /* name */
/* The value (quotes removed), or NULL when absent. */
const char *ini_get(const struct ini *ini, const char *sec, const char *key);
/* Line of the key (or of the section header when key is NULL); 0 unknown */
int ini_line(const struct ini *ini, const char *sec, const char *key);
/* A yes/no value as admins write it (yes/ya/true/on/1, no/tidak/false/
 * off/0, any case): 0 with *out set, or -1 when it is neither. */
int ini_parse_bool(const char *v, bool *out);

/* diag_add with this file's location of sec/key filled in. */
void ini_diag(struct diag *d, enum diag_level lvl, const struct ini *ini,
	      const char *sec, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif
