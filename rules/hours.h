/* hours: the office calendar. Weekly opening hours (several intervals a
 * day), dated overrides (e.g. Ramadan), closed days (holidays, cuti
 * bersama, ad-hoc closures) and the office time zone, read from the tz
 * database (a small TZif reader: no process-global setenv("TZ")).
 *
 * Days are counted as "local days": days since 1970-01-01 in the office
 * time zone. Weekdays are 0 = Minggu (Sunday) .. 6 = Sabtu. */
#ifndef SIMPUL_HOURS_H
#define SIMPUL_HOURS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOURS_MAX_INTERVALS 4

struct hours_interval {
	int start, end; /* minutes since local midnight, start < end */
};

struct hours_day {
	int n; /* 0: closed all day */
	struct hours_interval iv[HOURS_MAX_INTERVALS];
};

struct hours_week {
	bool set[7]; /* for overrides: days not set keep the normal hours */
	struct hours_day day[7];
};

struct hours;

struct hours *hours_new(void);
void hours_free(struct hours *h);

/* Loads the IANA zone (e.g. "Asia/Makassar") from $TZDIR, else
 * /usr/share/zoneinfo. On failure returns -1 with a message in err. */
int hours_set_zone(struct hours *h, const char *zone, char *err, size_t n);
const char *hours_zone(const struct hours *h);
/* UTC offset in seconds and abbreviation ("WITA") in force at t. */
int hours_offset(const struct hours *h, int64_t t);
const char *hours_abbr(const struct hours *h, int64_t t);

/* "08.00-11.30, 13.30-16.00" (':' also accepted) or "tutup"/"libur".
 * Intervals must be increasing and not overlap. -1 with err on error. */
int hours_parse_day(const char *text, struct hours_day *out, char *err,
		    size_t n);
/* "YYYY-MM-DD" -> local day number; -1 if not a valid date. */
int hours_parse_date(const char *text, int32_t *day);
/* "senin".."minggu" (lower case) -> 1..6, 0; -1 otherwise. */
int hours_weekday_index(const char *name);
const char *hours_weekday_name(int wday); /* "Senin" */

void hours_set_week(struct hours *h, const struct hours_week *w);
/* Later calls do not replace earlier ones: the first override that covers
 * a day wins. name is copied. Returns -1 on allocation failure. */
int hours_add_override(struct hours *h, const char *name, int32_t from,
		       int32_t to, const struct hours_week *w);
/* A closed day with its reason ("Hari Raya Natal"). A day closed twice
 * keeps the first reason. */
int hours_add_closed(struct hours *h, int32_t day, const char *name);
/* The reason of a closed day, or NULL. */
const char *hours_closed_reason(const struct hours *h, int32_t day);

int32_t hours_local_day(const struct hours *h, int64_t t);
bool hours_is_open(const struct hours *h, int64_t t);
/* t itself when open; the next opening instant; -1 if none in 400 days */
int64_t hours_next_open(const struct hours *h, int64_t t);
/* The closing instant of the days-th working day, counting the day of t
 * as day 1 if it is a working day and t is before its closing time. So a
 * request on Monday 09.00 with 3 days is due Wednesday at closing. */
int64_t hours_add_working_days(const struct hours *h, int64_t t, int days);

/* Text for replies (Bahasa Indonesia). */
/* "08.00-11.30, 13.30-16.00", "tutup" or "tutup (Hari Raya Natal)" */
void hours_today(const struct hours *h, int64_t t, char *buf, size_t n);
/* "Senin 08.00 WITA"; "Senin 30/03 08.00 WITA" a week or more ahead */
void hours_format_next_open(const struct hours *h, int64_t t, char *buf,
			    size_t n);
/* "Rabu 15/07/2026" */
void hours_format_date(const struct hours *h, int64_t t, char *buf, size_t n);
/* The longest text hours_today can produce on this calendar. */
size_t hours_today_maxlen(const struct hours *h);
/* The weekly hours in force at t (an override such as Ramadan counts):
 * "Sen-Kam 08.00-16.00; Jum 08.00-11.30, 13.30-16.00; Sab-Min tutup".
 * Holidays are single days and are not listed. */
void hours_week_text(const struct hours *h, int64_t t, char *buf, size_t n);
/* The longest text hours_week_text can produce on this calendar. */
size_t hours_week_maxlen(const struct hours *h);
/* The last closed day (holiday or closure) known, -1 when none: the
 * holidays file runs out after it. */
int32_t hours_last_closed_day(const struct hours *h);

#endif
