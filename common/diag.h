/* diag: collects the error and warning lines of a config or rules check, so
 * every problem is reported at once with its location, never just the
 * first. Lines read "file:line: error: msg" when the line is known, else
 * "file: [section] key: error: msg". */
#ifndef SIMPUL_DIAG_H
#define SIMPUL_DIAG_H

#include <stddef.h>
#include <stdio.h>

enum diag_level { DIAG_WARNING, DIAG_ERROR };

struct diag;

struct diag *diag_new(void);
void diag_free(struct diag *d);
void diag_add(struct diag *d, enum diag_level lvl, const char *file, int line,
	      const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
size_t diag_errors(const struct diag *d);
size_t diag_warnings(const struct diag *d);
size_t diag_count(const struct diag *d);
const char *diag_line(const struct diag *d, size_t i);
void diag_print(const struct diag *d, FILE *out);
/* Moves every line of src to the end of dst. */
void diag_append(struct diag *dst, struct diag *src);

#endif
