#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "diag.h"

static char path[256];

static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/simpul-config-test-%d.ini",
		 (int)getpid());
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* Loads text; returns the diag lines joined by '\n' (caller frees). */
static char *load(const char *text, struct config **out)
{
	struct diag *d = diag_new();
	write_file(text);
	struct config *c = config_load(path, d);
	size_t len = 1;
	for (size_t i = 0; i < diag_count(d); i++)
		len += strlen(diag_line(d, i)) + 1;
	char *all = calloc(1, len);
	for (size_t i = 0; i < diag_count(d); i++) {
		strcat(all, diag_line(d, i));
		strcat(all, "\n");
	}
	diag_free(d);
	if (out)
		*out = c;
	else
		config_free(c);
	unlink(path);
	return all;
}

static void good_config_with_defaults(void **state)
{
	struct config *c;
	char *errs = load("[modem]\ndevice = /dev/ttyUSB2\n"
			  "[store]\npath = data/simpul.db\n"
			  "[http]\nlisten = 0.0.0.0:9000\n",
			  &c);
	assert_string_equal(errs, "");
	assert_non_null(c);
	assert_string_equal(c->modem_device, "/dev/ttyUSB2");
	assert_string_equal(c->http_listen, "0.0.0.0:9000");
	/* relative to the config file's directory */
	assert_string_equal(c->store_path, "/tmp/data/simpul.db");
	assert_int_equal(c->sms_interval_ms, 3000);
	assert_true(c->modem_enabled);
	config_free(c);
	free(errs);
}

static void shipped_config_is_clean(void **state)
{
	struct diag *d = diag_new();
	struct config *c = config_load(SRCDIR "/etc/simpul.ini", d);
	diag_print(d, stderr);
	assert_int_equal(diag_count(d), 0);
	assert_non_null(c);
	config_free(c);
	diag_free(d);
}

static void every_error_with_its_line(void **state)
{
	struct config *c;
	char *errs = load("[modem]\n"		      /* 1 */
			  "devise = /dev/ttyUSB0\n"   /* 2 unknown */
			  "balance_interval = soon\n" /* 3 not int */
			  "[http]\n"		      /* 4 */
			  "listen = localhost\n"      /* 5 no port */
			  "[outbox]\n"		      /* 6 */
			  "retry_max = 0\n"	      /* 7 range */
			  "[whatsap]\n"		      /* 8 section */
			  "x = 1\n"		      /* 9 */
			  "[modem]\n"		      /* 10 twice */
			  "garbage line\n",	      /* 11 syntax */
			  &c);
	assert_null(c);
	const char *want[] = {
	    ":2: error: unknown key 'devise' in [modem]; did you mean "
	    "'device'?",
	    ":3: error: balance_interval: 'soon' is not a whole number",
	    ":5: error: listen: 'localhost' is not host:port",
	    ":7: error: retry_max: '0' is not a whole number from 1 to 100",
	    ":8: error: unknown section [whatsap]; did you mean "
	    "[whatsapp]?",
	    ":10: error: section [modem] appears twice",
	    ":11: error: expected 'key = value'",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(errs, want[i]))
			fail_msg("missing '%s' in:\n%s", want[i], errs);
	free(errs);
}

static void whatsapp_enabled_needs_secrets(void **state)
{
	struct config *c;
	char *errs = load("[whatsapp]\nenabled = yes\nverify_token = v\n", &c);
	assert_null(c);
	assert_non_null(strstr(errs, "[whatsapp] app_secret is empty"));
	assert_non_null(strstr(errs, "access_token is empty"));
	free(errs);
}

static void bad_bool_and_url(void **state)
{
	struct config *c;
	char *errs = load("[modem]\nenabled = maybe\n[whatsapp]\n"
			  "graph_url = ftp://x\n",
			  &c);
	assert_null(c);
	assert_non_null(
	    strstr(errs, ":2: error: enabled: 'maybe' is not yes or no"));
	assert_non_null(
	    strstr(errs, ":4: error: graph_url: 'ftp://x' must start"));
	free(errs);
}

static void missing_file_is_an_error(void **state)
{
	struct diag *d = diag_new();
	assert_null(config_load("/nonexistent/simpul.ini", d));
	assert_int_equal(diag_errors(d), 1);
	assert_non_null(strstr(diag_line(d, 0), "/nonexistent/simpul.ini"));
	diag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(good_config_with_defaults),
	    cmocka_unit_test(shipped_config_is_clean),
	    cmocka_unit_test(every_error_with_its_line),
	    cmocka_unit_test(whatsapp_enabled_needs_secrets),
	    cmocka_unit_test(bad_bool_and_url),
	    cmocka_unit_test(missing_file_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
