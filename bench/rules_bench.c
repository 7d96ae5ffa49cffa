/* rules_choose per message on the shipped rules, the matcher before the
 * keyword index (tests/rules/ref_match.c) and the indexed one in the same
 * run, alternating round by round so that the machine's load falls on
 * both alike:
 *
 *     build/bench/rules_bench [ROUNDS] [GENERATED]
 *
 * Two workloads: the resident corpus (tests/rules/corpus.tsv, real
 * messages) and GENERATED (20,000) messages from tests/rules/msggen.c.
 * Prints the median ns/message and messages/s of each. For perf:
 * RULES_BENCH_ONLY=before or =indexed runs one of the two only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msggen.h"
#include "ref_match.h"

#define RULES_DIR SRCDIR "/etc/rules.d"
#define HOLIDAYS  SRCDIR "/etc/holidays.ini"
#define CORPUS	  SRCDIR "/tests/rules/corpus.tsv"
#define MAXR	  64

typedef const struct rules_rule *(*choose_fn)(const struct rules *,
					      const struct rules_input *, bool,
					      struct rules_result *, FILE *);

struct set {
	const char *name;
	char **text;
	int n;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per message for one pass of f over s. */
static double pass(choose_fn f, const struct rules *r, const struct set *s)
{
	struct rules_input in = {
	    .channel = "sms", .from = "081234567890", .kind = RULES_MOBILE};
	struct rules_result res;
	volatile const void *sink;
	double t0 = now_ns();

	for (int i = 0; i < s->n; i++) {
		in.text = s->text[i];
		memset(&res, 0, sizeof(res));
		sink = f(r, &in, true, &res, NULL);
	}
	(void)sink;
	return (now_ns() - t0) / s->n;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void only(const char *which, const struct rules *r, const struct set *s,
		 int rounds)
{
	choose_fn f = strcmp(which, "before") == 0 ? ref_choose : rules_choose;
	double ns[MAXR];

	for (int i = 0; i < rounds; i++)
		ns[i] = pass(f, r, s);
	printf("%-10s %6d msgs  %s %8.0f ns/msg\n", s->name, s->n, which,
	       median(ns, rounds));
}

static void bench(const struct rules *r, const struct set *s, int rounds)
{
	double before[MAXR], after[MAXR];
	const char *which = getenv("RULES_BENCH_ONLY");

	if (which) {
		only(which, r, s, rounds);
		return;
	}

	pass(ref_choose, r, s); /* warm the caches */
	pass(rules_choose, r, s);
	for (int i = 0; i < rounds; i++) {
		before[i] = pass(ref_choose, r, s);
		after[i] = pass(rules_choose, r, s);
	}
	double b = median(before, rounds), a = median(after, rounds);
	printf("%-10s %6d msgs  before %8.0f ns/msg %9.0f msg/s   "
	       "indexed %8.0f ns/msg %9.0f msg/s   %.1fx\n",
	       s->name, s->n, b, 1e9 / b, a, 1e9 / a, b / a);
}

static void add(struct set *s, const char *text)
{
	char **p = realloc(s->text, (size_t)(s->n + 1) * sizeof(*p));

	if (!p || !(p[s->n] = strdup(text)))
		exit(1);
	s->text = p;
	s->n++;
}

static void load_corpus(struct set *s)
{
	FILE *f = fopen(CORPUS, "r");
	char line[1024];

	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *text = strrchr(line, '\t');
		if (line[0] != '#' && text)
			add(s, text + 1);
	}
	if (f)
		fclose(f);
}

static void free_set(struct set *s)
{
	for (int i = 0; i < s->n; i++)
		free(s->text[i]);
	free(s->text);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	int ngen = argc > 2 ? atoi(argv[2]) : 20000;
	struct diag *d = diag_new();
	struct rules *r = rules_load(RULES_DIR, HOLIDAYS, d);
	struct set corpus = {"corpus", NULL, 0}, gen = {"generated", NULL, 0};
	struct msggen g;
	char text[1400];

	if (!r || rounds < 1 || rounds > MAXR || ngen < 1) {
		diag_print(d, stderr);
		fprintf(stderr, "usage: rules_bench [ROUNDS 1-%d] [N]\n", MAXR);
		return 2;
	}
	diag_free(d);
	load_corpus(&corpus);
	if (msggen_init(&g, r, 20261129) < 0)
		return 1;
	for (int i = 0; i < ngen; i++) {
		msggen_next(&g, text, sizeof(text));
		add(&gen, text);
	}
	msggen_free(&g);
	printf("rules_choose on etc/rules.d (%d rules), median of %d rounds\n",
	       rules_count(r), rounds);
	if (corpus.n)
		bench(r, &corpus, rounds);
	bench(r, &gen, rounds);
	free_set(&corpus);
	free_set(&gen);
	rules_free(r);
	return 0;
}
