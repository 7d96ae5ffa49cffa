/* rt_parse: answers, RT numbers, codes and working hours. */
#include "rt_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool is_letter(char c)
{
	return isalpha((unsigned char)c);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Characters between the words of an answer: "YA, 482193", "ya-482193". */
static bool is_sep(char c)
{
	return c && !is_letter(c) && !is_digit(c) && !((unsigned char)c & 0x80);
}

static const char *skip_sep(const char *p)
{
	while (is_sep(*p))
		p++;
	return p;
}

/* The word at p, lower case, runs of one letter collapsed ("yaaa" ->
 * "ya"; no answer word has a double letter). Returns the end of it. */
static const char *read_word(const char *p, char *w, size_t wlen)
{
	size_t n = 0;

	for (; is_letter(*p); p++) {
		char c = (char)tolower((unsigned char)*p);
		if (n > 0 && w[n - 1] == c)
			continue;
		if (n + 1 < wlen)
			w[n++] = c;
	}
	w[n] = '\0';
	return p;
}

static enum rt_verdict verdict_of(const char *w)
{
	static const char *const yes[] = {"ya",	 "y",	   "iya",   "ok",
					  "oke", "setuju", "benar", "betul"};
	static const char *const no[] = {"tidak", "t", "tdk", "tolak"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(w, yes[i]) == 0)
			return RT_YES;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcmp(w, no[i]) == 0)
			return RT_NO;
	return RT_NONE;
}

/* Digits at p into out->code; returns the end. */
static const char *read_code(const char *p, struct rt_answer *out)
{
	const char *s = p;

	while (is_digit(*p))
		p++;
	size_t n = (size_t)(p - s);
	if (n == RT_CODE_DIGITS)
		memcpy(out->code, s, n), out->code[n] = '\0';
	else
		out->code_bad = true;
	return p;
}

/* A code-long number anywhere in the rest ("ya benar 482193"): taken as the
 * code and cut out of the reason. */
static void find_late_code(char *rest, struct rt_answer *out)
{
	for (char *p = rest; *p; p++) {
		if (!is_digit(*p) ||
		    (p > rest && (is_digit(p[-1]) || is_letter(p[-1]))))
			continue;
		char *e = p;
		while (is_digit(*e))
			e++;
		if (e - p == RT_CODE_DIGITS && !is_letter(*e)) {
			memcpy(out->code, p, RT_CODE_DIGITS);
			out->code[RT_CODE_DIGITS] = '\0';
			memmove(p, e, strlen(e) + 1);
			return;
		}
		p = e - 1;
	}
}

static void trim_into(char *dst, size_t dstlen, const char *src)
{
	src = skip_sep(src);
	size_t n = strlen(src);
	while (n > 0 && (is_sep(src[n - 1]) || src[n - 1] == ' '))
		n--;
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	/* squeeze the gap a late code left ("bukan  warga") */
	char *w = dst;
	for (const char *r = dst; *r; r++)
		if (!(*r == ' ' && w > dst && w[-1] == ' '))
			*w++ = *r;
	*w = '\0';
}

enum rt_verdict rt_parse_answer(const char *text, struct rt_answer *out)
{
	char w[16], rest[256];
	const char *p = skip_sep(text ? text : "");

	memset(out, 0, sizeof(*out));
	if (is_digit(*p)) { /* "482193 ya" */
		p = skip_sep(read_code(p, out));
		if (out->code_bad)
			return out->verdict = RT_NONE;
	}
	p = read_word(p, w, sizeof(w));
	out->verdict = verdict_of(w);
	if (out->verdict == RT_NONE) {
		memset(out, 0, sizeof(*out));
		return RT_NONE;
	}
	p = skip_sep(p);
	if (!out->code[0] && is_digit(*p))
		p = read_code(p, out);
	snprintf(rest, sizeof(rest), "%s", p);
	if (!out->code[0] && !out->code_bad)
		find_late_code(rest, out);
	if (out->verdict == RT_NO)
		trim_into(out->reason, sizeof(out->reason), rest);
	return out->verdict;
}

/* The number after a marker ("rt", "rw") at p: separators " .:-#" and
 * leading zeros allowed, one to three digits. Returns the end or NULL. */
static const char *marker_number(const char *p, int *n)
{
	while (*p == ' ' || *p == '.' || *p == ':' || *p == '-' || *p == '#')
		p++;
	if (!is_digit(*p))
		return NULL;
	int v = 0, digits = 0;
	for (; is_digit(*p); p++, digits++)
		v = v * 10 + (*p - '0');
	if (digits > 3 || v <= 0)
		return NULL;
	*n = v;
	return p;
}

/* "rt"/"rw" as a word start (not inside "kartu", "pertama"). */
static const char *find_marker(const char *text, const char *m, int *n)
{
	for (const char *p = text; *p; p++) {
		if (tolower((unsigned char)p[0]) != m[0] ||
		    tolower((unsigned char)p[1]) != m[1])
			continue;
		if (p > text && (is_letter(p[-1]) || is_digit(p[-1])))
			continue;
		const char *e = marker_number(p + 2, n);
		if (e && !is_letter(*e))
			return e;
	}
	return NULL;
}

bool rt_find_in_text(const char *text, int *rt, int *rw)
{
	const char *e = find_marker(text ? text : "", "rt", rt);

	*rw = 0;
	if (!e)
		return false;
	if (*e == '/' && marker_number(e + 1, rw)) /* "RT 03/05" */
		return true;
	if (*e == '/' && (e[1] == 'r' || e[1] == 'R')) /* "RT 3/RW 5" */
		e++;
	if (!find_marker(e, "rw", rw))
		*rw = 0;
	return true;
}

bool rt_parse_number(const char *s, int *rt, int *rw)
{
	const char *e;

	if (!s)
		return false;
	if (rt_find_in_text(s, rt, rw))
		return true;
	*rw = 0;
	e = marker_number(s, rt);
	if (!e)
		return false;
	if (*e == '/' && !marker_number(e + 1, rw))
		return false;
	return true;
}

void rt_format_number(int n, char *out, size_t outlen)
{
	snprintf(out, outlen, "%02d", n);
}

int rt_make_code(uint32_t (*rnd)(void *ud, uint32_t n),
		 bool (*taken)(void *ud, const char *code), void *ud,
		 char out[8])
{
	/* A few random tries; then walk from a random start so a nearly
	 * full space still ends (and says so when full). */
	for (int i = 0; i < 20; i++) {
		snprintf(out, 8, "%06u", RT_CODE_MIN + rnd(ud, RT_CODE_SPAN));
		if (!taken(ud, out))
			return 0;
	}
	uint32_t start = rnd(ud, RT_CODE_SPAN);
	for (uint32_t i = 0; i < RT_CODE_SPAN; i++) {
		snprintf(out, 8, "%06u",
			 RT_CODE_MIN + (start + i) % RT_CODE_SPAN);
		if (!taken(ud, out))
			return 0;
	}
	out[0] = '\0';
	return -1;
}

int64_t rt_add_working_hours(const struct rt_calendar *c, int64_t t, int hours)
{
	int64_t left = (int64_t)hours * 3600;

	if (!c)
		return t + left;
	/* Minute steps while open, a jump to the next opening while closed:
	 * office intervals are whole minutes (hours_parse_day). */
	while (left > 0) {
		if (!c->is_open(c->ud, t)) {
			t = c->next_open(c->ud, t);
			if (t < 0)
				return -1;
			continue;
		}
		int64_t step = 60 - t % 60;
		if (step > left)
			step = left;
		t += step;
		left -= step;
	}
	return t;
}

void rt_local_number(const char *e164, char *out, size_t outlen)
{
	if (strncmp(e164, "+62", 3) == 0)
		snprintf(out, outlen, "0%s", e164 + 3);
	else
		snprintf(out, outlen, "%s", e164);
}
