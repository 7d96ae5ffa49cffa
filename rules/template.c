#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const var_names[TPL_NVARS] = {
    "office", "hours_today", "next_open",  "ticket", "name",
    "rt",     "due",	     "hours_week", "prefix",
};

static const size_t var_max[TPL_NVARS] = {
    [TPL_NAME] = TEMPLATE_NAME_MAX,
    [TPL_RT] = TEMPLATE_RT_MAX,
};

const char *template_var_name(enum template_var v)
{
	return v < TPL_NVARS ? var_names[v] : "?";
}

static int lookup(const char *name, size_t len)
{
	for (int i = 0; i < TPL_NVARS; i++)
		if (strlen(var_names[i]) == len &&
		    strncmp(var_names[i], name, len) == 0)
			return i;
	return -1;
}

/* Walks text; for each placeholder calls back with its index, for each
 * literal run with the bytes. Returns -1 with err on a malformed text. */
typedef void (*emit_fn)(void *ctx, int var, const char *lit, size_t len);

static int walk(const char *text, emit_fn emit, void *ctx, char *err, size_t n)
{
	const char *p = text;

	while (*p) {
		size_t lit = strcspn(p, "{}");
		if (lit)
			emit(ctx, -1, p, lit);
		p += lit;
		if (!*p)
			break;
		if (p[0] == p[1]) { /* "{{" or "}}" */
			emit(ctx, -1, p, 1);
			p += 2;
			continue;
		}
		if (*p == '}') {
			snprintf(err, n, "stray '}'; write '}}' for a brace");
			return -1;
		}
		const char *end = strchr(p, '}');
		if (!end) {
			snprintf(err, n,
				 "'{' without '}'; write '{{' for a brace");
			return -1;
		}
		int v = lookup(p + 1, (size_t)(end - p - 1));
		if (v < 0) {
			snprintf(err, n,
				 "unknown placeholder {%.*s}; known: {office} "
				 "{hours_today} {next_open} {ticket} {name} "
				 "{rt} {due}",
				 (int)(end - p - 1), p + 1);
			return -1;
		}
		emit(ctx, v, NULL, 0);
		p = end + 1;
	}
	return 0;
}

static void nothing(void *ctx, int var, const char *lit, size_t len)
{
	if (var >= 0)
		*(unsigned *)ctx |= 1u << var;
}

int template_check(const char *text, char *err, size_t n)
{
	unsigned uses = 0;

	return walk(text, nothing, &uses, err, n);
}

unsigned template_uses(const char *text)
{
	unsigned uses = 0;
	char err[8];

	walk(text, nothing, &uses, err, sizeof(err));
	return uses;
}

struct out {
	const struct template_vars *vars;
	char *buf;
	size_t len, cap;
	int oom;
};

static void put(struct out *o, const char *s, size_t len)
{
	if (o->len + len + 1 > o->cap) {
		size_t cap = (o->len + len + 1) * 2;
		char *p = realloc(o->buf, cap);
		if (!p) {
			o->oom = 1;
			return;
		}
		o->buf = p;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, len);
	o->len += len;
	o->buf[o->len] = '\0';
}

/* Cuts at max characters, never inside a UTF-8 sequence. */
static size_t cut_len(const char *s, size_t max)
{
	size_t chars = 0, i = 0;

	while (s[i] && (max == 0 || chars < max)) {
		i++;
		while ((s[i] & 0xC0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

static void emit_out(void *ctx, int var, const char *lit, size_t len)
{
	struct out *o = ctx;

	if (var < 0) {
		put(o, lit, len);
		return;
	}
	const char *v = o->vars ? o->vars->v[var] : NULL;
	if (v)
		put(o, v, cut_len(v, var_max[var]));
}

char *template_render(const char *text, const struct template_vars *vars)
{
	struct out o = {vars, NULL, 0, 0, 0};
	char err[8];

	put(&o, "", 0);
	if (walk(text, emit_out, &o, err, sizeof(err)) < 0 || o.oom) {
		free(o.buf);
		return NULL;
	}
	return o.buf;
}
