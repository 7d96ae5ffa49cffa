/* The resident corpus (tests/rules/corpus.tsv): every message goes
 * through the dry run (rules_explain, what `simpulctl rules test` prints)
 * on the shipped rules, and the answer must be the one the corpus says a
 * resident deserves. Prints every miss and the pass rate. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules.h"

#define RULES_DIR SRCDIR "/etc/rules.d"
#define HOLIDAYS  SRCDIR "/etc/holidays.ini"
#define CORPUS	  SRCDIR "/tests/rules/corpus.tsv"

struct moment {
	const char *name;
	int y, mo, d, hh, mm;
};

/* Office time, WITA (UTC+8), as the shipped [office] says. */
static const struct moment moments[] = {
    {"open", 2026, 12, 2, 10, 0},    {"jumat", 2026, 12, 4, 12, 15},
    {"malam", 2026, 12, 2, 20, 30},  {"sabtu", 2026, 12, 5, 9, 0},
    {"libur", 2026, 12, 25, 10, 0},  {"ramadan", 2026, 3, 4, 10, 0},
    {"ramsore", 2026, 3, 4, 15, 30},
};

static int64_t moment_time(const char *name)
{
	for (size_t i = 0; i < sizeof(moments) / sizeof(*moments); i++) {
		const struct moment *m = &moments[i];
		if (strcmp(m->name, name) != 0)
			continue;
		struct tm tm = {.tm_year = m->y - 1900,
				.tm_mon = m->mo - 1,
				.tm_mday = m->d,
				.tm_hour = m->hh,
				.tm_min = m->mm};
		return (int64_t)timegm(&tm) - 8 * 3600;
	}
	return -1;
}

/* The text after key on the line that starts with key, up to the end of
 * that line, copied to out; NULL if there is no such line. */
static const char *line_after(const char *trace, const char *key, char *out,
			      size_t n)
{
	size_t kl = strlen(key);

	for (const char *p = trace; p && *p;) {
		if (strncmp(p, key, kl) == 0) {
			const char *e = strchr(p, '\n');
			size_t len = e ? (size_t)(e - p) - kl : strlen(p) - kl;
			snprintf(out, n, "%.*s", (int)len, p + kl);
			return out;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return NULL;
}

/* Does the dry run in trace give the answer expect? why says what was
 * wrong. */
static bool judge(const char *trace, const char *expect, bool open, char *why,
		  size_t wn)
{
	char chosen[512] = "", reply[1024] = "", buf[512], want[128];
	bool has_reply = line_after(trace, "reply (", reply, sizeof(reply));

	line_after(trace, "chosen: ", chosen, sizeof(chosen));
	if (strcmp(expect, "none") == 0) {
		snprintf(why, wn, "a reply was sent");
		return !has_reply;
	}
	if (strncmp(expect, "status:", 7) == 0) {
		snprintf(why, wn, "not the status of %s", expect + 7);
		return line_after(trace, "status query: ", buf, sizeof(buf)) &&
		       strcmp(buf, expect + 7) == 0;
	}
	if (!has_reply) {
		snprintf(why, wn, "no reply");
		return false;
	}
	/* a reply sent while closed says when the office opens again */
	if (!open && line_after(trace, "office: ", buf, sizeof(buf))) {
		char *next = strstr(buf, "next open ");
		if (next) {
			next += strlen("next open ");
			next[strcspn(next, ")")] = '\0';
			if (!strstr(reply, next)) {
				snprintf(why, wn,
					 "closed, but the reply does not say "
					 "it opens %s",
					 next);
				return false;
			}
		}
	}
	if (strncmp(expect, "choice:", 7) == 0) {
		char list[128];
		snprintf(list, sizeof(list), "%s", expect + 7);
		snprintf(why, wn, "no numbered choice offering %s", list);
		if (!strstr(chosen, "numbered choice"))
			return false;
		for (char *s = strtok(list, ","); s; s = strtok(NULL, ",")) {
			snprintf(want, sizeof(want), "[%s]", s);
			if (!strstr(chosen, want))
				return false;
		}
		return true;
	}
	snprintf(want, sizeof(want), "[%s]", expect);
	snprintf(why, wn, "expected %s", want);
	return strncmp(chosen, want, strlen(want)) == 0;
}

static void short_verdict(const char *trace, char *out, size_t n)
{
	char chosen[256] = "-";

	line_after(trace, "chosen: ", chosen, sizeof(chosen));
	snprintf(out, n, "%.90s", chosen);
}

int main(void)
{
	struct diag *d = diag_new();
	struct rules *r = rules_load(RULES_DIR, HOLIDAYS, d);
	FILE *f = fopen(CORPUS, "r");
	char line[1024];
	int total = 0, pass = 0, lineno = 0;
	bool verbose = getenv("CORPUS_VERBOSE") != NULL;

	if (!r || !f) {
		diag_print(d, stderr);
		fprintf(stderr, "cannot load the shipped rules or %s\n",
			CORPUS);
		return 1;
	}
	diag_free(d);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || !line[0])
			continue;
		char *save, *when = strtok_r(line, "\t", &save);
		char *from = strtok_r(NULL, "\t", &save);
		char *expect = strtok_r(NULL, "\t", &save);
		char *text = strtok_r(NULL, "", &save);
		int64_t t = when ? moment_time(when) : -1;
		if (!text || t < 0) {
			fprintf(stderr, "%s:%d: malformed line\n", CORPUS,
				lineno);
			return 1;
		}
		bool mobile = strcmp(from, "-") == 0;
		bool digits = strspn(from, "0123456789") == strlen(from);
		struct rules_input in = {
		    .channel = "sms",
		    .from = mobile ? "081234567890" : from,
		    .kind = mobile   ? RULES_MOBILE
			    : digits ? RULES_SHORTCODE
				     : RULES_ALNUM,
		    .text = text,
		    .now = t,
		    .same_text_count = 1,
		};
		char *trace = NULL, why[256], got[128];
		size_t tn = 0;
		FILE *m = open_memstream(&trace, &tn);
		rules_explain(r, &in, m);
		fclose(m);
		total++;
		if (judge(trace, expect, rules_is_open(r, t), why, sizeof(why)))
			pass++;
		else {
			short_verdict(trace, got, sizeof(got));
			printf("MISS corpus.tsv:%d [%s] \"%s\": %s; got %s\n",
			       lineno, when, text, why, got);
			if (verbose)
				printf("%s\n", trace);
		}
		free(trace);
	}
	fclose(f);
	rules_free(r);
	printf("corpus: %d of %d pass (%.0f%%)\n", pass, total,
	       total ? 100.0 * pass / total : 0.0);
	return pass == total && total >= 150 ? 0 : 1;
}
