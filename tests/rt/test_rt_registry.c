/* rt_registry: etc/rt.ini loads; every mistake is reported with its
 * file:line; a broken file is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rt_registry.h"

static char path[64];

static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/test_rt_registry_%d.ini",
		 (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* All diagnostics joined, for substring checks. */
static char *lines(struct diag *d)
{
	static char buf[8192];
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < diag_count(d); i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s\n",
					 diag_line(d, i));
	return buf;
}

static void good_file(void **state)
{
	struct diag *d = diag_new();
	bool amb;

	(void)state;
	write_file("; heads\n"
		   "[rt 03]\nrw = 05\nhead = Pak Budi\nphone = 0812-3456-7890\n"
		   "[rt 04/05]\nhead = Ibu Sari\nphone = +62 813 1111 2222\n"
		   "[rt 03/06]\nhead = Pak Adi\nphone = 6281399998888\n"
		   "[rw 05]\nhead = Pak Hasan\nphone = 0815.2222.3333\n");
	struct rt_registry *r = rt_registry_load(path, d);
	assert_non_null(r);
	assert_int_equal(diag_errors(d), 0);
	assert_int_equal(rt_registry_count(r), 3);
	const struct rt_head *h = rt_registry_find(r, 3, 5, &amb);
	assert_non_null(h);
	assert_string_equal(h->name, "Pak Budi");
	assert_string_equal(h->phone, "+6281234567890");
	/* RT 03 exists in RW 05 and RW 06: without the RW it is ambiguous */
	assert_null(rt_registry_find(r, 3, 0, &amb));
	assert_true(amb);
	h = rt_registry_find(r, 4, 0, &amb);
	assert_non_null(h);
	assert_int_equal(h->rw, 5);
	assert_null(rt_registry_find(r, 9, 0, &amb));
	assert_false(amb);
	assert_string_equal(rt_registry_rw(r, 5)->phone, "+6281522223333");
	assert_null(rt_registry_rw(r, 6));
	assert_true(rt_registry_is_head(r, "+6281399998888"));
	assert_false(rt_registry_is_head(r, "+6281522223333"));
	rt_registry_free(r);
	diag_free(d);
	unlink(path);
}

static void errors_with_lines(void **state)
{
	struct diag *d = diag_new();

	(void)state;
	write_file("[rt 03]\n"				/* 1 */
		   "head = Pak Budi\n"			/* 2 */
		   "phone = 021-555-1234\n"		/* 3: landline */
		   "[rt x]\n"				/* 4 */
		   "head = A\nphone = 0812-1111-2222\n" /* 5, 6 */
		   "[rt 05]\n"				/* 7: no phone */
		   "head = Ibu Ani\n"			/* 8 */
		   "nama = Ani\n"			/* 9: unknown key */
		   "[kelurahan]\n"			/* 10 */
		   "[rt 06]\n"				/* 11 */
		   "rw = lima\n"			/* 12 */
		   "head = B\nphone = 0812-3333-4444\n"
		   "[rt 07]\nhead = C\nphone = 0812-5555-6666\n"  /* 15-17 */
		   "[rt 7]\nhead = D\nphone = 0812-7777-8888\n"); /* 18 */
	struct rt_registry *r = rt_registry_load(path, d);
	char *all = lines(d);
	assert_null(r);
	char want[128];
	static const struct {
		int line;
		const char *msg;
	} expect[] = {
	    {3, "not an Indonesian mobile number"},
	    {4, "not a number"},
	    {7, "has no phone"},
	    {9, "unknown key 'nama'"},
	    {10, "unknown section [kelurahan]"},
	    {12, "not an RW number"},
	    {18, "given twice"},
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d: error: ", path,
			 expect[i].line);
		const char *at = strstr(all, want);
		if (!at || !strstr(at, expect[i].msg))
			fail_msg("want line %d '%s' in:\n%s", expect[i].line,
				 expect[i].msg, all);
	}
	diag_free(d);
	unlink(path);
}

static void missing_file_is_empty(void **state)
{
	struct diag *d = diag_new();

	(void)state;
	struct rt_registry *r = rt_registry_load("/nonexistent/rt.ini", d);
	assert_non_null(r);
	assert_int_equal(rt_registry_count(r), 0);
	assert_int_equal(diag_errors(d), 0);
	assert_int_equal(diag_warnings(d), 1);
	rt_registry_free(r);
	diag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_file),
	    cmocka_unit_test(errors_with_lines),
	    cmocka_unit_test(missing_file_is_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
