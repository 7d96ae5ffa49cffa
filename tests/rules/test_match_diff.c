/* The indexed matcher (rules_choose, issue 17) against the one it
 * replaced (ref_match.c: every keyword compared with every word), on the
 * shipped rules and on a generated rule set (every match mode and kind,
 * weights, negatives, context words, words with digits, words too long
 * for typos, a word in more rules than are scored on the stack, a word
 * one letter from many keywords). The messages: corpus.tsv in all 16
 * combinations of channel, open or closed and last numbered choice;
 * every string of test_rules.c and MATCH_DIFF_N (100,000; 20,000 under
 * ASan) generated ones, each in one combination, in turn. Each must get
 * the same rule, numbered choice, closer, menu digit, reason and dry-run
 * trace. The reply is rendered from these alone (rules_reply.c), so it
 * is the same too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msggen.h"
#include "ref_match.h"

#define RULES_DIR SRCDIR "/etc/rules.d"
#define HOLIDAYS  SRCDIR "/etc/holidays.ini"
#define CORPUS	  SRCDIR "/tests/rules/corpus.tsv"
#define TESTS_C	  SRCDIR "/tests/rules/test_rules.c"

typedef const struct rules_rule *(*choose_fn)(const struct rules *,
					      const struct rules_input *, bool,
					      struct rules_result *, FILE *);

struct outcome {
	const struct rules_rule *rule;
	struct rules_result res;
	char *trace;
	size_t tn;
};

struct tally {
	long runs, diffs, rule, choice, closer, none;
};

static void run(choose_fn f, const struct rules *r,
		const struct rules_input *in, bool open, bool trace,
		struct outcome *o)
{
	FILE *m = NULL;

	memset(o, 0, sizeof(*o));
	if (trace)
		m = open_memstream(&o->trace, &o->tn);
	o->rule = f(r, in, open, &o->res, m);
	if (m)
		fclose(m);
}

static bool same(const struct outcome *a, const struct outcome *b, bool traces)
{
	const struct rules_result *x = &a->res, *y = &b->res;

	if (a->rule != b->rule || x->nchoices != y->nchoices ||
	    x->closer != y->closer || x->menu_choice != y->menu_choice ||
	    strcmp(x->why, y->why) != 0)
		return false;
	for (int i = 0; i < x->nchoices && i < 3; i++)
		if (x->choice[i] != y->choice[i])
			return false;
	return !traces || strcmp(a->trace, b->trace) == 0;
}

static void report(const char *set, const struct rules_input *in, bool open,
		   const struct outcome *ref, const struct outcome *got)
{
	printf("DIFF [%s] %s %s last_choices=%s: \"%s\"\n--- before:\n%s"
	       "(rule %s, why %s)\n--- indexed:\n%s(rule %s, why %s)\n",
	       set, in->channel, open ? "open" : "closed",
	       in->last_choices ? in->last_choices : "-", in->text,
	       ref->trace ? ref->trace : "", ref->rule ? ref->rule->name : "-",
	       ref->res.why, got->trace ? got->trace : "",
	       got->rule ? got->rule->name : "-", got->res.why);
}

static void count(struct tally *t, const struct outcome *o)
{
	t->runs++;
	if (o->res.closer)
		t->closer++;
	else if (o->res.nchoices > 1)
		t->choice++;
	else if (o->rule)
		t->rule++;
	else
		t->none++;
}

static const char *const lasts[] = {NULL, "menu", "kk,drainase", "jam,ktp,kk"};

/* One message in the input combination v (0..15), with and without a
 * trace. */
static void check(const char *set, const struct rules *r, const char *text,
		  unsigned v, struct tally *t)
{
	struct rules_input in = {.channel = v & 1 ? "whatsapp" : "sms",
				 .from = "081234567890",
				 .kind = RULES_MOBILE,
				 .text = text,
				 .last_choices = lasts[(v >> 2) & 3]};
	bool open = v & 2;
	struct outcome ref, got, quiet;

	run(ref_choose, r, &in, open, true, &ref);
	run(rules_choose, r, &in, open, true, &got);
	run(rules_choose, r, &in, open, false, &quiet);
	count(t, &got);
	if (!same(&ref, &got, true) || !same(&got, &quiet, false)) {
		if (t->diffs++ < 5)
			report(set, &in, open, &ref, &got);
	}
	free(ref.trace);
	free(got.trace);
}

/* Every message of corpus.tsv (its last column), in every combination. */
static int check_corpus(const char *set, const struct rules *r, struct tally *t)
{
	FILE *f = fopen(CORPUS, "r");
	char line[1024];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		char *text = strrchr(line, '\t');
		if (line[0] == '#' || !text)
			continue;
		for (unsigned v = 0; v < 16; v++)
			check(set, r, text + 1, v, t);
		n++;
	}
	fclose(f);
	return n;
}

/* The C string literal at *p (after its opening quote), unescaped into
 * out; *p moves past the closing quote. */
static void literal(const char **p, char *out, size_t n)
{
	size_t k = 0;
	const char *s = *p;

	for (; *s && *s != '"'; s++) {
		char c = *s;
		if (c == '\\' && s[1]) {
			s++;
			c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		}
		if (k + 1 < n)
			out[k++] = c;
	}
	out[k] = '\0';
	*p = *s ? s + 1 : s;
}

/* Every string literal of test_rules.c as a message. */
static int check_test_strings(const char *set, const struct rules *r,
			      struct tally *t)
{
	FILE *f = fopen(TESTS_C, "r");
	char line[4096], text[4096];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "#include"))
			continue;
		for (const char *p = strchr(line, '"'); p; p = strchr(p, '"')) {
			p++;
			literal(&p, text, sizeof(text));
			check(set, r, text, (unsigned)n, t);
			n++;
		}
	}
	fclose(f);
	return n;
}

static const char *const edge_texts[] = {
    "kartz",
    "kartu kartz karta",
    "surat surat surat keterangan domisili usaha",
    "12345 1234 123456",
    "kartukeluargasementarapanjangsekalisekalix",
    "",
    "1",
    "   ",
    "\xF0\x9F\x99\x8F",
    "K T P hilang pak",
    "ktppppp ilang",
    "ok makasih",
};

static void check_generated(const char *set, const struct rules *r, long n,
			    struct tally *t)
{
	struct msggen g;
	char text[1400];

	for (size_t i = 0; i < sizeof(edge_texts) / sizeof(*edge_texts); i++)
		for (unsigned v = 0; v < 16; v++)
			check(set, r, edge_texts[i], v, t);
	if (msggen_init(&g, r, 20261129) < 0)
		abort();
	for (long i = 0; i < n; i++) {
		msggen_next(&g, text, sizeof(text));
		check(set, r, text, (unsigned)i, t);
	}
	msggen_free(&g);
}

/* A keyword phrase of 1 to 3 words of the shipped set, sometimes with
 * a weight; a phrase of fillers only is drawn again (the loader refuses
 * it). */
static void gen_phrase(struct msggen *g, char *out, size_t n)
{
	struct tokens t;
	bool content = false;

	for (int tries = 0; !content && tries < 20; tries++) {
		out[0] = '\0';
		for (unsigned w = msggen_below(g, 3) + 1; w; w--)
			rules_addf(out, n, "%s%s", out[0] ? " " : "",
				   msggen_word(g));
		rules_tokenize(out, &t);
		for (int i = 0; i < t.n; i++)
			content = content || !t.filler[i];
	}
	if (msggen_below(g, 3) == 0)
		rules_addf(out, n, ":%u", 1 + msggen_below(g, 9));
}

static const char *const modes[] = {"any_word", "any_word", "first_word",
				    "whole"};
static const char *const kinds[] = {"service", "complaint", "info", "general"};
static const char *const channels[] = {"sms, whatsapp", "sms, whatsapp", "sms",
				       "whatsapp"};
static const char *const whens[] = {"always", "always", "always", "open",
				    "closed"};

static void gen_list(FILE *f, struct msggen *g, const char *key, unsigned max)
{
	char p[256];

	fprintf(f, "%s = ", key);
	for (unsigned k = msggen_below(g, max) + 1; k; k--) {
		gen_phrase(g, p, sizeof(p));
		fprintf(f, "%s%s", p, k > 1 ? ", " : "\n");
	}
}

static void gen_context(FILE *f, struct msggen *g)
{
	fprintf(f, "context = ");
	for (unsigned k = msggen_below(g, 4) + 1; k; k--) {
		char w[64];
		snprintf(w, sizeof(w), "%s", msggen_word(g));
		w[strcspn(w, " ")] = '\0';
		fprintf(f, "%s%s", w, k > 1 ? ", " : "\n");
	}
}

static void gen_rule(FILE *f, struct msggen *g, int i)
{
	fprintf(f, "[rule g%d]\n", i);
	gen_list(f, g, "keywords", 6);
	if (i % 3 == 0)
		fprintf(f, "aliases = surat, karta, kartb, kartc, kartd, "
			   "karte, kartf, kartg, karth, karti, 12345, "
			   "kartukeluargasementarapanjangsekalisekali\n");
	if (msggen_below(g, 2))
		gen_list(f, g, "negative", 3);
	if (msggen_below(g, 2))
		gen_context(f, g);
	fprintf(f,
		"match = %s\nkind = %s\npriority = %u\nchannels = %s\n"
		"when = %s\ntitle = g%d\nreply = Balasan g%d.\n%s\n",
		modes[msggen_below(g, 4)], kinds[msggen_below(g, 4)],
		45 + msggen_below(g, 3) * 5, channels[msggen_below(g, 4)],
		whens[msggen_below(g, 5)], i, i,
		msggen_below(g, 15) ? "" : "silent = yes");
}

static int copy_file(const char *from, const char *to)
{
	FILE *a = fopen(from, "r"), *b = fopen(to, "w");
	char buf[4096];
	size_t n;
	int rc = a && b ? 0 : -1;

	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), a)) > 0)
		rc = fwrite(buf, 1, n, b) == n ? 0 : -1;
	if (a)
		fclose(a);
	if (b && fclose(b) != 0)
		rc = -1;
	return rc;
}

/* The shipped [office] and [menu]-less random rules in dir. */
static int gen_rules(const struct rules *shipped, const char *dir)
{
	char path[512];
	struct msggen g;
	FILE *f;

	snprintf(path, sizeof(path), "%s/00-office.ini", dir);
	if (copy_file(RULES_DIR "/00-office.ini", path) < 0 ||
	    msggen_init(&g, shipped, 17) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/50-gen.ini", dir);
	if (!(f = fopen(path, "w")))
		return -1;
	for (int i = 0; i < 70; i++)
		gen_rule(f, &g, i);
	fprintf(f, "[rule sonst]\nmatch = fallback\nreply = Maaf.\n");
	msggen_free(&g);
	return fclose(f);
}

static void cleanup(const char *dir)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/00-office.ini", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/50-gen.ini", dir);
	unlink(path);
	rmdir(dir);
}

static bool check_set(const char *set, const struct rules *r, long n)
{
	struct tally t = {0};
	int nc = check_corpus(set, r, &t), ns = check_test_strings(set, r, &t);

	check_generated(set, r, n, &t);
	printf("%s: %ld runs (%d corpus messages, %d test strings, %ld "
	       "generated), %ld different; rule %ld, choice %ld, closer %ld, "
	       "none %ld\n",
	       set, t.runs, nc, ns, n, t.diffs, t.rule, t.choice, t.closer,
	       t.none);
	return nc > 150 && ns > 100 && t.diffs == 0 && t.rule > 0 &&
	       t.choice > 0 && t.closer > 0;
}

static struct rules *load(const char *dir, const char *holidays)
{
	struct diag *d = diag_new();
	struct rules *r = rules_load(dir, holidays, d);

	if (!r)
		diag_print(d, stderr);
	diag_free(d);
	return r;
}

/* Under ASan (tests/sanitize: a debug build, ~10x slower) the point is
 * memory errors, not more messages. */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_N 20000
#else
#define DEFAULT_N 100000
#endif

int main(void)
{
	const char *env = getenv("MATCH_DIFF_N");
	long n = env ? atol(env) : DEFAULT_N;
	char dir[] = "/tmp/match_diff.XXXXXX";
	struct rules *shipped = load(RULES_DIR, HOLIDAYS), *gen = NULL;
	bool ok = shipped != NULL;

	if (ok && mkdtemp(dir) && gen_rules(shipped, dir) == 0)
		gen = load(dir, NULL);
	cleanup(dir);
	ok = ok && gen;
	ok = ok && check_set("shipped", shipped, n);
	ok = ok && check_set("generated", gen, n);
	rules_free(shipped);
	rules_free(gen);
	printf("match_diff: %s\n", ok ? "identical" : "FAILED");
	return ok ? 0 : 1;
}
