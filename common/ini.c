#include "ini.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iniparser.h>

struct ini_key {
	char *sec, *key, *value;
	int line;
};

struct ini {
	char *path;
	dictionary *dict;
	struct ini_key *keys; /* key NULL: a section header */
	size_t n, cap;
};

/* iniparser prints its own syntax errors to stderr; our scanner reports
 * them with a location instead, so silence it. */
static int quiet(const char *fmt, ...)
{
	(void)fmt;
	return 0;
}

static char *lower_dup(const char *s, size_t len)
{
	char *r = malloc(len + 1);

	if (!r)
		return NULL;
	for (size_t i = 0; i < len; i++)
		r[i] = (char)tolower((unsigned char)s[i]);
	r[len] = '\0';
	return r;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static const struct ini_key *find(const struct ini *ini, const char *sec,
				  const char *key)
{
	for (size_t i = 0; i < ini->n; i++) {
		const struct ini_key *k = &ini->keys[i];
		if (strcasecmp(k->sec, sec) != 0)
			continue;
		if (key ? (k->key && strcasecmp(k->key, key) == 0) : !k->key)
			return k;
	}
	return NULL;
}

static void add_entry(struct ini *ini, char *sec, char *key, char *value,
		      int line)
{
	if (ini->n == ini->cap) {
		size_t cap = ini->cap ? ini->cap * 2 : 32;
		void *p = realloc(ini->keys, cap * sizeof(*ini->keys));
		if (!p) {
			free(sec);
			free(key);
			free(value);
			return;
		}
		ini->keys = p;
		ini->cap = cap;
	}
	ini->keys[ini->n++] = (struct ini_key){sec, key, value, line};
}

static void scan_section(struct ini *ini, char *s, int line, char **cur,
			 struct diag *d)
{
	char *end = strchr(s, ']');

	if (!end || end == s + 1) {
		diag_add(d, DIAG_ERROR, ini->path, line, NULL, NULL,
			 "malformed section header; write it as [name]");
		return;
	}
	free(*cur);
	*cur = lower_dup(s + 1, (size_t)(end - s - 1));
	if (find(ini, *cur, NULL))
		diag_add(d, DIAG_ERROR, ini->path, line, NULL, NULL,
			 "section [%s] appears twice (first at line %d)", *cur,
			 find(ini, *cur, NULL)->line);
	else
		add_entry(ini, strdup(*cur), NULL, NULL, line);
}

/* iniparser's value rules, for when it refuses the whole file: quotes
 * removed, a ';' or '#' comment after an unquoted value dropped. */
static char *unquote(char *v)
{
	size_t n = strlen(v);

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		return v + 1;
	}
	char *c = strpbrk(v, ";#");
	if (c && c > v && isspace((unsigned char)c[-1])) {
		*c = '\0';
		return trim(v);
	}
	return v;
}

static void scan_key(struct ini *ini, char *s, int line, const char *cur,
		     struct diag *d)
{
	char *eq = strchr(s, '=');

	if (!eq) {
		diag_add(d, DIAG_ERROR, ini->path, line, NULL, NULL,
			 "expected 'key = value', '[section]' or a comment");
		return;
	}
	*eq = '\0';
	char *k = trim(s);
	if (!*k) {
		diag_add(d, DIAG_ERROR, ini->path, line, NULL, NULL,
			 "missing key name before '='");
		return;
	}
	if (!cur) {
		diag_add(d, DIAG_ERROR, ini->path, line, NULL, NULL,
			 "key '%s' is outside any [section]", k);
		return;
	}
	char *lk = lower_dup(k, strlen(k));
	const struct ini_key *prev = find(ini, cur, lk);
	if (prev)
		diag_add(d, DIAG_ERROR, ini->path, line, NULL, NULL,
			 "key '%s' given twice in [%s] (first at line %d)", lk,
			 cur, prev->line);
	add_entry(ini, strdup(cur), lk, strdup(unquote(trim(eq + 1))), line);
}

static void scan(struct ini *ini, FILE *f, struct diag *d)
{
	char buf[4096], *cur = NULL;
	int line = 0;

	while (fgets(buf, sizeof(buf), f)) {
		line++;
		char *s = trim(buf);
		if (line == 1 && (unsigned char)s[0] == 0xEF &&
		    (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
			s += 3; /* UTF-8 BOM from Windows editors */
		if (!*s || *s == ';' || *s == '#')
			continue;
		if (*s == '[')
			scan_section(ini, s, line, &cur, d);
		else
			scan_key(ini, s, line, cur, d);
	}
	free(cur);
}

struct ini *ini_load(const char *path, struct diag *d)
{
	FILE *f = fopen(path, "r");

	if (!f) {
		diag_add(d, DIAG_ERROR, path, 0, NULL, NULL, "cannot read: %m");
		return NULL;
	}
	struct ini *ini = calloc(1, sizeof(*ini));
	ini->path = strdup(path);
	scan(ini, f, d);
	fclose(f);
	iniparser_set_error_callback(quiet);
	ini->dict = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	return ini;
}

void ini_free(struct ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n; i++) {
		free(ini->keys[i].sec);
		free(ini->keys[i].key);
		free(ini->keys[i].value);
	}
	free(ini->keys);
	if (ini->dict)
		iniparser_freedict(ini->dict);
	free(ini->path);
	free(ini);
}

const char *ini_path(const struct ini *ini)
{
	return ini->path;
}

int ini_nsections(const struct ini *ini)
{
	int n = 0;

	for (size_t i = 0; i < ini->n; i++)
		n += ini->keys[i].key == NULL;
	return n;
}

const char *ini_section(const struct ini *ini, int idx)
{
	for (size_t i = 0; i < ini->n; i++)
		if (!ini->keys[i].key && idx-- == 0)
			return ini->keys[i].sec;
	return NULL;
}

bool ini_has_section(const struct ini *ini, const char *sec)
{
	return find(ini, sec, NULL) != NULL;
}

int ini_nkeys(const struct ini *ini, const char *sec)
{
	int n = 0;

	for (size_t i = 0; i < ini->n; i++)
		n += ini->keys[i].key && strcasecmp(ini->keys[i].sec, sec) == 0;
	return n;
}

const char *ini_key(const struct ini *ini, const char *sec, int idx)
{
	for (size_t i = 0; i < ini->n; i++)
		if (ini->keys[i].key &&
		    strcasecmp(ini->keys[i].sec, sec) == 0 && idx-- == 0)
			return ini->keys[i].key;
	return NULL;
}

const char *ini_get(const struct ini *ini, const char *sec, const char *key)
{
	char full[512];

	if (!ini->dict) {
		/* iniparser refused the file (syntax error, reported by our
		 * scan): use the scanned values so every other error shows */
		const struct ini_key *k = find(ini, sec, key);
		return k ? k->value : NULL;
	}
	snprintf(full, sizeof(full), "%s:%s", sec, key);
	for (char *p = full; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return iniparser_getstring(ini->dict, full, NULL);
}

int ini_line(const struct ini *ini, const char *sec, const char *key)
{
	const struct ini_key *k = find(ini, sec, key);

	return k ? k->line : 0;
}

void ini_diag(struct diag *d, enum diag_level lvl, const struct ini *ini,
	      const char *sec, const char *key, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(d, lvl, ini->path, ini_line(ini, sec, key), sec, key, "%s",
		 msg);
}

int ini_parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = {"yes", "ya", "true", "1", "on"};
	static const char *const no[] = {"no", "tidak", "false", "0", "off"};

	for (size_t i = 0; v && i < 5; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}
