#include "phone.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static bool is_separator(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' ||
	       c == '/' || c == '\t';
}

/* Copies the digits of in to digits[], noting a leading '+'; returns false
 * on a character that is neither digit nor separator. */
static bool collect_digits(const char *in, char *digits, size_t cap, bool *plus)
{
	size_t n = 0;

	*plus = false;
	for (const char *p = in; *p; p++) {
		if (*p == '+' && n == 0 && !*plus)
			*plus = true;
		else if (isdigit((unsigned char)*p) && n + 1 < cap)
			digits[n++] = *p;
		else if (!is_separator(*p))
			return false;
	}
	digits[n] = '\0';
	return n > 0;
}

static void trim_copy(const char *in, char *out, size_t outlen)
{
	while (isspace((unsigned char)*in))
		in++;
	snprintf(out, outlen, "%s", in);
	size_t n = strlen(out);
	while (n && isspace((unsigned char)out[n - 1]))
		out[--n] = '\0';
}

/* national: the number after +62 without its trunk 0. Mobile numbers are
 * 8xx with 9..12 digits in all; landlines have a 1..3 digit area code. */
static enum phone_kind indonesian(const char *national, char *out,
				  size_t outlen)
{
	size_t n = strlen(national);

	if (national[0] == '8' && n >= 9 && n <= 12) {
		snprintf(out, outlen, "+62%s", national);
		return PHONE_MOBILE;
	}
	if (national[0] >= '2' && national[0] <= '9' && national[0] != '8' &&
	    n >= 7 && n <= 11) {
		snprintf(out, outlen, "+62%s", national);
		return PHONE_FIXED;
	}
	return PHONE_INVALID;
}

static enum phone_kind from_digits(const char *d, bool plus, char *out,
				   size_t outlen)
{
	size_t n = strlen(d);

	if (!plus && strncmp(d, "00", 2) == 0) /* international prefix */
		return from_digits(d + 2, true, out, outlen);
	/* The shortest national number is a 7-digit landline: with a '+'
	 * "+62" and 7 digits is Indonesian, so that the E.164 form we write
	 * normalises to itself (found by tests/fuzz/fuzz_phone). Without
	 * the '+', 9 digits starting "62" may be a local number: need 10. */
	if (strncmp(d, "62", 2) == 0 && (n >= 10 || (plus && n >= 9))) {
		/* "62 0812..." written with the trunk zero kept */
		return indonesian(d[2] == '0' ? d + 3 : d + 2, out, outlen);
	}
	if (plus) {
		if (n < 8 || n > 15)
			return PHONE_INVALID;
		snprintf(out, outlen, "+%s", d);
		return PHONE_FOREIGN;
	}
	if (d[0] == '0')
		return indonesian(d + 1, out, outlen);
	if (d[0] == '8' && n >= 9)
		return indonesian(d, out, outlen);
	return PHONE_INVALID;
}

enum phone_kind phone_normalize(const char *in, char *out, size_t outlen)
{
	char digits[32];
	bool plus, alpha = false;

	if (!in || !*in) {
		snprintf(out, outlen, "%s", "");
		return PHONE_INVALID;
	}
	for (const char *p = in; *p; p++)
		alpha |=
		    isalpha((unsigned char)*p) || (unsigned char)*p >= 0x80;
	trim_copy(in, out, outlen);
	if (alpha)
		return *out ? PHONE_ALNUM : PHONE_INVALID;
	if (strchr(in, '*') || strchr(in, '#'))
		return PHONE_SHORTCODE; /* USSD-style service codes */
	if (!collect_digits(in, digits, sizeof(digits), &plus))
		return PHONE_INVALID;
	if (!plus && strlen(digits) <= 6)
		return PHONE_SHORTCODE;
	enum phone_kind k = from_digits(digits, plus, out, outlen);
	if (k == PHONE_INVALID)
		trim_copy(in, out, outlen);
	return k;
}

const char *phone_kind_name(enum phone_kind k)
{
	static const char *const names[] = {"invalid", "mobile",    "fixed",
					    "foreign", "shortcode", "alnum"};

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

void phone_to_wa(const char *e164, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", e164[0] == '+' ? e164 + 1 : e164);
}
