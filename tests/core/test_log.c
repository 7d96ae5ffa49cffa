/* Unit tests for daemon/core/log.c: what reaches the journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* Runs one log_msg at level lvl with the given log_level and returns what
 * it wrote to stderr (static buffer). */
static const char *logged(const char *level, enum log_level lvl, const char *a,
			  const char *b)
{
	static char out[4096];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	log_set_level(level);
	log_msg(lvl, "sms from %s: %s", a, b);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	size_t n = fread(out, 1, sizeof(out) - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

/* An alphanumeric sender with a line feed cannot forge a second line. */
static void control_characters_escaped(void **state)
{
	(void)state;
	const char *s =
	    logged("debug", LOG_INFO, "A\nsimpuld: error: X", "ya\r\x1b[2J");
	assert_string_equal(s, "simpuld: info: sms from "
			       "A\\nsimpuld: error: X: ya\\x0d\\x1b[2J\n");
}

static void phone_numbers_masked_unless_debug(void **state)
{
	(void)state;
	assert_string_equal(logged("info", LOG_INFO, "+6281234567890",
				   "call 081234567890 or 6281234567890"),
			    "simpuld: info: sms from +*********7890: call "
			    "********7890 or *********7890\n");
	/* not numbers of a phone: short ones, ids inside words, times */
	assert_string_equal(logged("info", LOG_WARN, "TELKOMSEL",
				   "tiket KLS-2611-482913, 1795909505393 ms, "
				   "sms:c4709cb3de12345678 RT 03"),
			    "simpuld: warning: sms from TELKOMSEL: tiket "
			    "KLS-2611-482913, 1795909505393 ms, "
			    "sms:c4709cb3de12345678 RT 03\n");
	assert_string_equal(logged("debug", LOG_INFO, "+6281234567890", "x"),
			    "simpuld: info: sms from +6281234567890: x\n");
}

int main(void)
{
	unsetenv("JOURNAL_STREAM");
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(control_characters_escaped),
	    cmocka_unit_test(phone_numbers_masked_unless_debug),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
