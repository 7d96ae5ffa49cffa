/* rt_parse: the pure parts of the Ketua RT confirmation (daemon/rt/rt.c): a
 * head's SMS answer, an RT number written in a resident's message, the
 * random code unique among open requests, and "N working hours later" on
 * the office calendar. No store, no clock, no I/O. */
#ifndef SIMPUL_RT_PARSE_H
#define SIMPUL_RT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rt_verdict { RT_NONE, RT_YES, RT_NO };

/* Codes are six digits: 900,000 of them, so that guessing one, with the
 * attempts per number limited (rt.c), is hopeless. */
#define RT_CODE_DIGITS 6
#define RT_CODE_MIN    100000u
#define RT_CODE_SPAN   900000u

struct rt_answer {
	enum rt_verdict verdict;
	char code[8];	  /* the six digits, "" when none was given */
	bool code_bad;	  /* digits follow the verdict, but not six */
	char reason[200]; /* TIDAK: the words after verdict and code */
};

/* YA/Y/IYA/OK/OKE/SETUJU/BENAR/BETUL or TIDAK/T/TDK/TOLAK, in any case,
 * with repeated letters ("yaa"), then optionally the code (also glued on:
 * "ya482193", or first: "482193 ya") and, for TIDAK, a reason. Anything that
 * does not start so is RT_NONE. Returns out->verdict. */
enum rt_verdict rt_parse_answer(const char *text, struct rt_answer *out);

/* An RT (and RW) written in text: "KTP RT 3", "rt03", "RT.003",
 * "RT 03/05", "rt 3 rw 5", "RT 003 RW 005". rw is 0 when not given.
 * Returns false when no RT number is found. */
bool rt_find_in_text(const char *text, int *rt, int *rw);
/* The contact's rt field as staff write it: "003/005", "3", "03/5",
 * "RT 3 RW 5". */
bool rt_parse_number(const char *s, int *rt, int *rw);
/* "03" (at least two digits, as RT numbers are written). */
void rt_format_number(int n, char *out, size_t outlen);

/* A random six-digit code (100000..999999) for which taken() is false.
 * rnd(ud, n) returns a uniform number below n. Returns 0, or -1 when all
 * codes are taken. */
int rt_make_code(uint32_t (*rnd)(void *ud, uint32_t n),
		 bool (*taken)(void *ud, const char *code), void *ud,
		 char out[8]);

/* The office calendar, as rt needs it (rules/hours.h in the daemon). */
struct rt_calendar {
	bool (*is_open)(const void *ud, int64_t t);
	/* t when open; the next opening instant; -1 when none */
	int64_t (*next_open)(const void *ud, int64_t t);
	const void *ud;
};

/* The instant (unix seconds) after `hours` hours of office time from t:
 * closed hours, weekends and holidays do not count. A NULL calendar
 * counts plain hours. -1 when the calendar never opens. */
int64_t rt_add_working_hours(const struct rt_calendar *c, int64_t t, int hours);

/* A phone number as residents write it: "+6281234567890" ->
 * "081234567890"; other numbers unchanged. */
void rt_local_number(const char *e164, char *out, size_t outlen);

#endif
