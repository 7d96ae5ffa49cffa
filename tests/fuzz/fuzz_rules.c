/* fuzz_rules: a rules.d file through rules_load (rules/rules*.c, hours.c,
 * template.c), then a few messages through rules_match.
 *
 * Input: an INI file written as rules.d/50-fuzz.ini; if it contains a line
 * "#--holidays--", what follows goes to the holidays file instead. The
 * shipped etc/rules.d is not loaded, so the fuzzer owns the whole rule
 * set. Checks: no crash or leak; rules come back exactly when no error
 * was reported; every diagnostic names a file; a rendered reply is UTF-8
 * and its segment count is at least 1. */
#include "fuzz.h"

#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "rules.h"

static char dir[64], rules_path[96], hol_path[96];

static void cleanup(void)
{
	unlink(rules_path);
	unlink(hol_path);
	rmdir(dir);
}

static void write_file(const char *p, const void *data, size_t size)
{
	FILE *f = fopen(p, "wb");

	FUZZ_CHECK(f != NULL);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size);
	FUZZ_CHECK(fclose(f) == 0);
}

static void match(const struct rules *r, const char *text, const char *from,
		  enum rules_sender kind, int64_t now)
{
	struct rules_input in = {
	    .channel = kind == RULES_WA_ONLY ? "whatsapp" : "sms",
	    .from = from,
	    .kind = kind,
	    .text = text,
	    .now = now,
	    .name = "Ibu Sari",
	    .rt = "RT 03",
	    .same_text_count = 1,
	};
	struct rules_result res;

	memset(&res, 0, sizeof(res));
	FUZZ_CHECK(rules_match(r, &in, &res) == 0);
	if (res.reply) {
		FUZZ_CHECK(fuzz_utf8_valid(res.reply, strlen(res.reply)));
		FUZZ_CHECK(res.segments >= 1);
	}
	if (res.ticket) {
		char ref[64];
		rules_format_ticket(r, now, 15, ref, sizeof(ref));
		in.ticket = ref;
		FUZZ_CHECK(rules_render(r, &in, &res) == 0);
	}
	rules_result_free(&res);
	FILE *devnull = fopen("/dev/null", "w");
	FUZZ_CHECK(devnull != NULL);
	rules_explain(r, &in, devnull);
	fclose(devnull);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/simpul-fuzz-rules-%d",
			 (int)getpid());
		FUZZ_CHECK(mkdir(dir, 0700) == 0);
		snprintf(rules_path, sizeof(rules_path), "%s/50-fuzz.ini", dir);
		snprintf(hol_path, sizeof(hol_path), "%s/holidays", dir);
		atexit(cleanup);
	}
	static const char mark[] = "\n#--holidays--\n";
	const uint8_t *sep = memmem(data, size, mark, sizeof(mark) - 1);
	size_t rlen = sep ? (size_t)(sep - data) : size;
	write_file(rules_path, data, rlen);
	if (sep)
		write_file(hol_path, sep + sizeof(mark) - 1,
			   size - rlen - (sizeof(mark) - 1));
	else
		unlink(hol_path);

	struct diag *d = diag_new();
	FUZZ_CHECK(d != NULL);
	struct rules *r = rules_load(dir, sep ? hol_path : NULL, d);
	FUZZ_CHECK((r != NULL) == (diag_errors(d) == 0));
	if (r) {
		/* Mon 2026-07-06 09:00 WITA, Sunday night, a holiday-ish date
		 */
		static const int64_t times[] = {1783299600, 1783180800,
						1786406400};
		static const char *const texts[] = {
		    "ktp",
		    "Selamat pagi, mau urus KTP",
		    "CEK KLS-2607-0015",
		    "menu",
		    "1",
		    "",
		    "sampah menumpuk di RT 03 😡"};
		for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
			match(r, texts[i], "+6281234567890", RULES_MOBILE,
			      times[i % 3]);
		match(r, "promo", "TELKOMSEL", RULES_ALNUM, times[0]);
		rules_free(r);
	}
	diag_free(d);
	return 0;
}
