#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct diag {
	char **lines;
	size_t n, cap, errors, warnings;
};

struct diag *diag_new(void)
{
	return calloc(1, sizeof(struct diag));
}

void diag_free(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	free(d);
}

static void push(struct diag *d, char *line)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **p = realloc(d->lines, cap * sizeof(*p));
		if (!p) {
			free(line);
			return;
		}
		d->lines = p;
		d->cap = cap;
	}
	d->lines[d->n++] = line;
}

static char *location(const char *file, int line, const char *section,
		      const char *key)
{
	char *s = NULL;
	int r;

	if (line > 0)
		r = asprintf(&s, "%s:%d", file, line);
	else if (section && key)
		r = asprintf(&s, "%s: [%s] %s", file, section, key);
	else if (section)
		r = asprintf(&s, "%s: [%s]", file, section);
	else
		r = asprintf(&s, "%s", file);
	return r < 0 ? NULL : s;
}

void diag_add(struct diag *d, enum diag_level lvl, const char *file, int line,
	      const char *section, const char *key, const char *fmt, ...)
{
	char *msg = NULL,
	     *loc = location(file ? file : "?", line, section, key),
	     *out = NULL;
	va_list ap;

	va_start(ap, fmt);
	int r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r >= 0 && loc &&
	    asprintf(&out, "%s: %s: %s", loc,
		     lvl == DIAG_ERROR ? "error" : "warning", msg) >= 0)
		push(d, out);
	if (lvl == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	free(msg);
	free(loc);
}

size_t diag_errors(const struct diag *d)
{
	return d->errors;
}

size_t diag_warnings(const struct diag *d)
{
	return d->warnings;
}

size_t diag_count(const struct diag *d)
{
	return d->n;
}

const char *diag_line(const struct diag *d, size_t i)
{
	return i < d->n ? d->lines[i] : NULL;
}

void diag_print(const struct diag *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(out, "%s\n", d->lines[i]);
}

void diag_append(struct diag *dst, struct diag *src)
{
	for (size_t i = 0; i < src->n; i++)
		push(dst, src->lines[i]);
	dst->errors += src->errors;
	dst->warnings += src->warnings;
	src->n = src->errors = src->warnings = 0;
}
