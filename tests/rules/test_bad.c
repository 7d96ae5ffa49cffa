/* Golden tests: each tests/rules/bad/<case>/ holds a rules.d/ (and maybe
 * a holidays.ini) with mistakes an admin makes, and an "expected" file:
 * the exact lines rules_load must report, with paths relative to the
 * case directory. The load must fail when any line is an error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "rules.h"

#define BAD_DIR SRCDIR "/tests/rules/bad"

static void check_case(const char *name)
{
	char dir[1100], hol[1100], exp[1100], prefix[1024], line[2048];
	struct diag *d = diag_new();

	snprintf(prefix, sizeof(prefix), "%s/%s/", BAD_DIR, name);
	snprintf(dir, sizeof(dir), "%srules.d", prefix);
	snprintf(hol, sizeof(hol), "%sholidays.ini", prefix);
	snprintf(exp, sizeof(exp), "%sexpected", prefix);
	struct rules *r =
	    rules_load(dir, access(hol, R_OK) == 0 ? hol : NULL, d);
	FILE *f = fopen(exp, "r");
	if (!f)
		fail_msg("%s: no expected file", name);
	size_t i = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		const char *got = diag_line(d, i++);
		if (got && strncmp(got, prefix, strlen(prefix)) == 0)
			got += strlen(prefix);
		if (!got || strcmp(got, line) != 0)
			fail_msg("%s line %zu:\n  want: %s\n  got:  %s", name,
				 i, line, got ? got : "(nothing)");
	}
	fclose(f);
	if (i != diag_count(d))
		fail_msg("%s: %zu more lines than expected, first: %s", name,
			 diag_count(d) - i, diag_line(d, i));
	if (diag_errors(d))
		assert_null(r);
	rules_free(r);
	diag_free(d);
}

static void test_bad_cases(void **state)
{
	(void)state;
	struct dirent **names;
	int n = scandir(BAD_DIR, &names, NULL, alphasort), ran = 0;

	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			check_case(names[i]->d_name);
			ran++;
		}
		free(names[i]);
	}
	free(names);
	assert_true(ran >= 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
