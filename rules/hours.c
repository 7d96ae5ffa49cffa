#include "hours.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZIF_MAX_SIZE (1 << 20)
#define SEARCH_DAYS   400

struct tz_type {
	int32_t utoff;
	uint8_t abbrind;
};

struct override {
	char *name;
	int32_t from, to;
	struct hours_week week;
};

struct closed {
	int32_t day;
	char *name;
};

struct hours {
	char *zone;
	/* TZif transitions (RFC 8536): times[i] switches to types[idx[i]] */
	int64_t *times;
	uint8_t *idx;
	uint32_t ntimes;
	struct tz_type *types;
	uint32_t ntypes;
	char *chars;
	uint32_t nchars;

	struct hours_week week;
	struct override *ov;
	size_t nov;
	struct closed *closed;
	size_t nclosed;
};

static const char *const day_names[7] = {"Minggu", "Senin", "Selasa", "Rabu",
					 "Kamis",  "Jumat", "Sabtu"};

struct hours *hours_new(void)
{
	return calloc(1, sizeof(struct hours));
}

static void tz_clear(struct hours *h)
{
	free(h->zone);
	free(h->times);
	free(h->idx);
	free(h->types);
	free(h->chars);
	h->zone = NULL;
	h->times = NULL;
	h->idx = NULL;
	h->types = NULL;
	h->chars = NULL;
	h->ntimes = h->ntypes = h->nchars = 0;
}

void hours_free(struct hours *h)
{
	if (!h)
		return;
	tz_clear(h);
	for (size_t i = 0; i < h->nov; i++)
		free(h->ov[i].name);
	free(h->ov);
	for (size_t i = 0; i < h->nclosed; i++)
		free(h->closed[i].name);
	free(h->closed);
	free(h);
}

/* ---- TZif reader (RFC 8536) ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_hdr {
	char version;
	uint32_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(const unsigned char *p, size_t len, struct tzif_hdr *hd)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	hd->version = (char)p[4];
	hd->isut = be32(p + 20);
	hd->isstd = be32(p + 24);
	hd->leap = be32(p + 28);
	hd->time = be32(p + 32);
	hd->type = be32(p + 36);
	hd->chars = be32(p + 40);
	if (hd->type == 0 || hd->type > 256 || hd->chars == 0)
		return -1;
	return 0;
}

static size_t tzif_block_len(const struct tzif_hdr *hd, size_t tsize)
{
	return hd->time * tsize + hd->time + hd->type * 6 + hd->chars +
	       hd->leap * (tsize + 4) + hd->isstd + hd->isut;
}

/* Parses the data block after a header; tsize 4 (v1) or 8 (v2+). */
static int tzif_block(struct hours *h, const unsigned char *p, size_t len,
		      const struct tzif_hdr *hd, size_t tsize)
{
	if (tzif_block_len(hd, tsize) > len)
		return -1;
	h->times = calloc(hd->time + 1, sizeof(*h->times));
	h->idx = calloc(hd->time + 1, 1);
	h->types = calloc(hd->type, sizeof(*h->types));
	h->chars = calloc(hd->chars + 1, 1);
	if (!h->times || !h->idx || !h->types || !h->chars)
		return -1;
	for (uint32_t i = 0; i < hd->time; i++, p += tsize)
		h->times[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
	for (uint32_t i = 0; i < hd->time; i++, p++) {
		if (*p >= hd->type)
			return -1;
		h->idx[i] = *p;
	}
	for (uint32_t i = 0; i < hd->type; i++, p += 6) {
		h->types[i].utoff = (int32_t)be32(p);
		h->types[i].abbrind = p[5];
		if (p[5] >= hd->chars)
			return -1;
	}
	memcpy(h->chars, p, hd->chars);
	h->ntimes = hd->time;
	h->ntypes = hd->type;
	h->nchars = hd->chars;
	return 0;
}

static int tzif_parse(struct hours *h, const unsigned char *p, size_t len)
{
	struct tzif_hdr hd;

	if (tzif_header(p, len, &hd) < 0)
		return -1;
	if (hd.version < '2')
		return tzif_block(h, p + 44, len - 44, &hd, 4);
	/* v2+: skip the 32-bit block, use the 64-bit one that follows */
	size_t skip = 44 + tzif_block_len(&hd, 4);
	if (skip > len || tzif_header(p + skip, len - skip, &hd) < 0)
		return -1;
	return tzif_block(h, p + skip + 44, len - skip - 44, &hd, 8);
}

static bool zone_name_ok(const char *zone)
{
	if (!*zone || zone[0] == '/' || strstr(zone, ".."))
		return false;
	for (const char *p = zone; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
			return false;
	return true;
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;

	if (!f)
		return NULL;
	buf = malloc(TZIF_MAX_SIZE);
	if (buf)
		*len = fread(buf, 1, TZIF_MAX_SIZE, f);
	fclose(f);
	return buf;
}

int hours_set_zone(struct hours *h, const char *zone, char *err, size_t n)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	size_t len = 0;

	if (!zone_name_ok(zone)) {
		snprintf(err, n,
			 "'%s' is not a time zone name; use e.g. Asia/Jakarta "
			 "(WIB), Asia/Makassar (WITA) or Asia/Jayapura (WIT)",
			 zone);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s",
		 dir && *dir ? dir : "/usr/share/zoneinfo", zone);
	unsigned char *buf = read_all(path, &len);
	if (!buf) {
		snprintf(err, n,
			 "unknown time zone '%s' (not in the tz database); use "
			 "Asia/Jakarta, Asia/Makassar or Asia/Jayapura",
			 zone);
		return -1;
	}
	tz_clear(h);
	int r = tzif_parse(h, buf, len);
	free(buf);
	if (r < 0) {
		tz_clear(h);
		snprintf(err, n,
			 "%s is not a valid TZif file; reinstall tzdata", path);
		return -1;
	}
	h->zone = strdup(zone);
	return 0;
}

const char *hours_zone(const struct hours *h)
{
	return h->zone ? h->zone : "UTC";
}

/* RFC 8536 3.2: before the first transition the first type applies;
 * after the last one the last type does (Indonesia has no DST, so the
 * footer TZ string adds nothing). */
static const struct tz_type *type_at(const struct hours *h, int64_t t)
{
	if (!h->ntypes)
		return NULL;
	if (!h->ntimes || t < h->times[0])
		return &h->types[0];
	uint32_t lo = 0, hi = h->ntimes; /* times[lo] <= t < times[hi] */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (h->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return &h->types[h->idx[lo]];
}

int hours_offset(const struct hours *h, int64_t t)
{
	const struct tz_type *ty = type_at(h, t);

	return ty ? ty->utoff : 0;
}

const char *hours_abbr(const struct hours *h, int64_t t)
{
	const struct tz_type *ty = type_at(h, t);

	return ty ? h->chars + ty->abbrind : "UTC";
}

/* ---- dates ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Howard Hinnant's days_from_civil. */
static int32_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int32_t z, int *y, int *m, int *d)
{
	z += 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp + (mp < 10 ? 3 : -9);
	*y = yoe + era * 400 + (*m <= 2);
}

int hours_parse_date(const char *text, int32_t *day)
{
	int y, m, d, len = 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	if (sscanf(text, "%4d-%2d-%2d%n", &y, &m, &d, &len) != 3 ||
	    text[len] != '\0' || len != 10)
		return -1;
	if (y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 &&
	    !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*day = days_from_civil(y, m, d);
	return 0;
}

static int weekday_of(int32_t day)
{
	int r = (int)(((int64_t)day + 4) % 7); /* 1970-01-01 was a Thursday */

	return r < 0 ? r + 7 : r;
}

int hours_weekday_index(const char *name)
{
	for (int i = 0; i < 7; i++)
		if (strcasecmp(name, day_names[i]) == 0)
			return i;
	return -1;
}

const char *hours_weekday_name(int wday)
{
	return wday >= 0 && wday < 7 ? day_names[wday] : "?";
}

/* ---- parsing hours ---- */

static const char *parse_time(const char *p, int *minutes)
{
	int hh = 0, mm = 0, nd = 0;

	while (isdigit((unsigned char)*p) && nd < 2)
		hh = hh * 10 + (*p++ - '0'), nd++;
	if (nd == 0 || (*p != '.' && *p != ':'))
		return NULL;
	p++;
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return NULL;
	mm = (p[0] - '0') * 10 + (p[1] - '0');
	if (hh > 24 || mm > 59 || (hh == 24 && mm != 0))
		return NULL;
	*minutes = hh * 60 + mm;
	return p + 2;
}

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

int hours_parse_day(const char *text, struct hours_day *out, char *err,
		    size_t n)
{
	const char *p = skip_space(text);

	memset(out, 0, sizeof(*out));
	if (strcasecmp(p, "tutup") == 0 || strcasecmp(p, "libur") == 0)
		return 0;
	while (*p) {
		struct hours_interval iv;
		const char *q = parse_time(p, &iv.start);
		if (q) {
			q = skip_space(q);
			q = *q == '-' ? parse_time(skip_space(q + 1), &iv.end)
				      : NULL;
		}
		if (!q) {
			snprintf(err, n,
				 "cannot read hours '%s'; write e.g. "
				 "'08.00-11.30, 13.30-16.00' or 'tutup'",
				 text);
			return -1;
		}
		if (iv.end <= iv.start ||
		    (out->n && iv.start < out->iv[out->n - 1].end)) {
			snprintf(err, n,
				 "hours '%s': each interval must end after it "
				 "starts and after the previous one",
				 text);
			return -1;
		}
		if (out->n == HOURS_MAX_INTERVALS) {
			snprintf(err, n,
				 "hours '%s': at most %d intervals a day", text,
				 HOURS_MAX_INTERVALS);
			return -1;
		}
		out->iv[out->n++] = iv;
		p = skip_space(q);
		if (*p == ',')
			p = skip_space(p + 1);
		else if (*p) {
			snprintf(err, n,
				 "hours '%s': separate intervals with ','",
				 text);
			return -1;
		}
	}
	if (!out->n) {
		snprintf(err, n, "empty hours; write 'tutup' for a closed day");
		return -1;
	}
	return 0;
}

void hours_set_week(struct hours *h, const struct hours_week *w)
{
	h->week = *w;
}

int hours_add_override(struct hours *h, const char *name, int32_t from,
		       int32_t to, const struct hours_week *w)
{
	struct override *p = realloc(h->ov, (h->nov + 1) * sizeof(*p));

	if (!p)
		return -1;
	h->ov = p;
	p[h->nov] = (struct override){strdup(name), from, to, *w};
	h->nov++;
	return 0;
}

int hours_add_closed(struct hours *h, int32_t day, const char *name)
{
	if (hours_closed_reason(h, day))
		return 0;
	struct closed *p = realloc(h->closed, (h->nclosed + 1) * sizeof(*p));
	if (!p)
		return -1;
	h->closed = p;
	p[h->nclosed++] = (struct closed){day, strdup(name ? name : "")};
	return 0;
}

const char *hours_closed_reason(const struct hours *h, int32_t day)
{
	for (size_t i = 0; i < h->nclosed; i++)
		if (h->closed[i].day == day)
			return h->closed[i].name;
	return NULL;
}

static const struct hours_day closed_day;
/* as on office notices: "Sen-Kam 08.00-16.00" */
static const char *const short_names[7] = {"Min", "Sen", "Sel", "Rab",
					   "Kam", "Jum", "Sab"};

/* The hours of one local day: closures first, then overrides, then the
 * normal week. */
static const struct hours_day *day_hours(const struct hours *h, int32_t day)
{
	int wd = weekday_of(day);

	if (hours_closed_reason(h, day))
		return &closed_day;
	for (size_t i = 0; i < h->nov; i++)
		if (day >= h->ov[i].from && day <= h->ov[i].to &&
		    h->ov[i].week.set[wd])
			return &h->ov[i].week.day[wd];
	return &h->week.day[wd];
}

int32_t hours_local_day(const struct hours *h, int64_t t)
{
	return (int32_t)floor_div(t + hours_offset(h, t), 86400);
}

static int64_t local_secs(const struct hours *h, int64_t t)
{
	int64_t l = t + hours_offset(h, t);

	return l - floor_div(l, 86400) * 86400;
}

/* The UTC instant of a local wall time: the offset is looked up at the
 * guess minus the offset at the guess, which is exact without DST. */
static int64_t instant(const struct hours *h, int32_t day, int minutes)
{
	int64_t guess = (int64_t)day * 86400 + minutes * 60;

	return guess - hours_offset(h, guess - hours_offset(h, guess));
}

bool hours_is_open(const struct hours *h, int64_t t)
{
	return hours_next_open(h, t) == t;
}

int64_t hours_next_open(const struct hours *h, int64_t t)
{
	int32_t d0 = hours_local_day(h, t);
	int64_t s0 = local_secs(h, t);

	for (int32_t d = d0; d < d0 + SEARCH_DAYS; d++) {
		const struct hours_day *dh = day_hours(h, d);
		for (int i = 0; i < dh->n; i++) {
			const struct hours_interval *iv = &dh->iv[i];
			if (d == d0 && s0 >= iv->start * 60 &&
			    s0 < iv->end * 60)
				return t;
			if (d > d0 || iv->start * 60 > s0)
				return instant(h, d, iv->start);
		}
	}
	return -1;
}

int64_t hours_add_working_days(const struct hours *h, int64_t t, int days)
{
	int32_t d = hours_local_day(h, t);
	int64_t s0 = local_secs(h, t);
	int counted = 0;

	if (days <= 0)
		return t;
	for (int32_t end = d + SEARCH_DAYS * 4; d < end; d++, s0 = -1) {
		const struct hours_day *dh = day_hours(h, d);
		if (!dh->n || s0 >= dh->iv[dh->n - 1].end * 60)
			continue;
		if (++counted == days)
			return instant(h, d, dh->iv[dh->n - 1].end);
	}
	return -1;
}

/* ---- text ---- */

static void format_day(const struct hours_day *dh, const char *reason,
		       char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	if (!dh->n) {
		if (reason && *reason)
			snprintf(buf, n, "tutup (%s)", reason);
		else
			snprintf(buf, n, "tutup");
		return;
	}
	for (int i = 0; i < dh->n && used < n; i++) {
		const struct hours_interval *iv = &dh->iv[i];
		int r = snprintf(buf + used, n - used, "%s%02d.%02d-%02d.%02d",
				 i ? ", " : "", iv->start / 60, iv->start % 60,
				 iv->end / 60, iv->end % 60);
		if (r < 0)
			return;
		used += (size_t)r;
	}
}

void hours_today(const struct hours *h, int64_t t, char *buf, size_t n)
{
	int32_t d = hours_local_day(h, t);

	format_day(day_hours(h, d), hours_closed_reason(h, d), buf, n);
}

void hours_format_next_open(const struct hours *h, int64_t t, char *buf,
			    size_t n)
{
	int64_t o = hours_next_open(h, t);

	if (o < 0) {
		snprintf(buf, n, "(belum ditentukan)");
		return;
	}
	int32_t d = hours_local_day(h, o);
	int64_t s = local_secs(h, o);
	int y, m, dd;
	civil_from_days(d, &y, &m, &dd);
	if (d - hours_local_day(h, t) >= 7)
		snprintf(buf, n, "%s %02d/%02d %02d.%02d %s",
			 day_names[weekday_of(d)], dd, m, (int)(s / 3600),
			 (int)(s / 60 % 60), hours_abbr(h, o));
	else
		snprintf(buf, n, "%s %02d.%02d %s", day_names[weekday_of(d)],
			 (int)(s / 3600), (int)(s / 60 % 60), hours_abbr(h, o));
}

void hours_format_date(const struct hours *h, int64_t t, char *buf, size_t n)
{
	int32_t d = hours_local_day(h, t);
	int y, m, dd;

	civil_from_days(d, &y, &m, &dd);
	snprintf(buf, n, "%s %02d/%02d/%04d", day_names[weekday_of(d)], dd, m,
		 y);
}

static size_t week_maxlen(const struct hours_week *w, bool only_set)
{
	size_t max = 0;
	char buf[128];

	for (int i = 0; i < 7; i++) {
		if (only_set && !w->set[i])
			continue;
		format_day(&w->day[i], NULL, buf, sizeof(buf));
		max = strlen(buf) > max ? strlen(buf) : max;
	}
	return max;
}

size_t hours_today_maxlen(const struct hours *h)
{
	size_t max = week_maxlen(&h->week, false);
	char buf[256];

	for (size_t i = 0; i < h->nov; i++) {
		size_t l = week_maxlen(&h->ov[i].week, true);
		max = l > max ? l : max;
	}
	for (size_t i = 0; i < h->nclosed; i++) {
		format_day(&closed_day, h->closed[i].name, buf, sizeof(buf));
		max = strlen(buf) > max ? strlen(buf) : max;
	}
	return max;
}

/* The week in force on local day d: the normal week with the days of the
 * first override that covers d (closures are single days, not a week). */
static void week_at(const struct hours *h, int32_t d, struct hours_week *out)
{
	*out = h->week;
	for (size_t i = 0; i < h->nov; i++)
		if (d >= h->ov[i].from && d <= h->ov[i].to) {
			for (int wd = 0; wd < 7; wd++)
				if (h->ov[i].week.set[wd])
					out->day[wd] = h->ov[i].week.day[wd];
			return;
		}
}

/* Senin..Minggu, with runs of days of equal hours joined:
 * "Sen-Kam 08.00-16.00; Jum 08.00-11.30, 13.30-16.00; Sab-Min tutup". */
static void format_week(const struct hours_week *w, char *buf, size_t n)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < 7 && used < n;) {
		char a[96], b[96];
		int j = i;
		format_day(&w->day[(i + 1) % 7], NULL, a, sizeof(a));
		while (j + 1 < 7) {
			format_day(&w->day[(j + 2) % 7], NULL, b, sizeof(b));
			if (strcmp(a, b) != 0)
				break;
			j++;
		}
		int r =
		    j > i ? snprintf(buf + used, n - used, "%s%s-%s %s",
				     used ? "; " : "", short_names[(i + 1) % 7],
				     short_names[(j + 1) % 7], a)
			  : snprintf(buf + used, n - used, "%s%s %s",
				     used ? "; " : "", short_names[(i + 1) % 7],
				     a);
		if (r < 0)
			return;
		used += (size_t)r;
		i = j + 1;
	}
}

void hours_week_text(const struct hours *h, int64_t t, char *buf, size_t n)
{
	struct hours_week w;

	week_at(h, hours_local_day(h, t), &w);
	format_week(&w, buf, n);
}

size_t hours_week_maxlen(const struct hours *h)
{
	char buf[512];
	size_t max;

	format_week(&h->week, buf, sizeof(buf));
	max = strlen(buf);
	for (size_t i = 0; i < h->nov; i++) {
		struct hours_week w;
		week_at(h, h->ov[i].from, &w);
		format_week(&w, buf, sizeof(buf));
		max = strlen(buf) > max ? strlen(buf) : max;
	}
	return max;
}

int32_t hours_last_closed_day(const struct hours *h)
{
	int32_t last = -1;

	for (size_t i = 0; i < h->nclosed; i++)
		if (h->closed[i].day > last)
			last = h->closed[i].day;
	return last;
}
