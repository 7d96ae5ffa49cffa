#include "api_report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "http.h"
#include "store.h"
#include "store_report.h"

struct month {
	int year, mon; /* mon 1..12 */
	int64_t from_ms, to_ms;
	int tz;
	char name[16]; /* "2026-11" */
};

static int64_t local_midnight_ms(struct app *app, int y, int m)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = 1};
	int64_t t = (int64_t)timegm(&tm) * 1000;

	return t - (int64_t)app_tz_offset(app, t) * 1000;
}

/* "YYYY-MM", or the current month when absent. */
static bool parse_month(struct app *app, const char *arg, struct month *m)
{
	int64_t now = app_now_ms(app);

	if (arg && *arg) {
		char *end;
		long y = strtol(arg, &end, 10);
		if (end - arg != 4 || *end != '-' || y < 2000 || y > 2200)
			return false;
		long mo = strtol(end + 1, &end, 10);
		if (*end || mo < 1 || mo > 12)
			return false;
		m->year = (int)y;
		m->mon = (int)mo;
	} else {
		time_t local = (time_t)(now / 1000 + app_tz_offset(app, now));
		struct tm tm;
		gmtime_r(&local, &tm);
		m->year = tm.tm_year + 1900;
		m->mon = tm.tm_mon + 1;
	}
	m->from_ms = local_midnight_ms(app, m->year, m->mon);
	m->to_ms = local_midnight_ms(app, m->mon == 12 ? m->year + 1 : m->year,
				     m->mon == 12 ? 1 : m->mon + 1);
	m->tz = app_tz_offset(app, m->from_ms);
	snprintf(m->name, sizeof(m->name), "%04d-%02d", m->year % 10000,
		 m->mon % 100);
	return true;
}

static json_t *report(struct app *app, struct http_req *req,
		      struct http_resp *resp, struct month *m)
{
	if (!parse_month(app, http_arg(req, "month"), m)) {
		http_error(resp, 400, "month: YYYY-MM");
		return NULL;
	}
	json_t *j = store_report_json(app->st, m->from_ms, m->to_ms, m->tz);
	if (!j)
		http_error(resp, 500, store_errmsg(app->st));
	else
		json_object_set_new(j, "month", json_string(m->name));
	return j;
}

static int get_report(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct month m;
	json_t *j = report(ud, req, resp, &m);

	if (j)
		http_reply_json(resp, 200, j);
	return HTTP_DONE;
}

/* ---- CSV (RFC 4180: CRLF, fields with , or " quoted) ------------------ */

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* One table: a title row, a header row, then a row per object of arr
 * with the values of keys (integers or strings). */
static void csv_table(FILE *f, const char *title, const char *const *heads,
		      const char *const *keys, int n, json_t *arr)
{
	size_t i;
	json_t *row;

	csv_field(f, title);
	fputs("\r\n", f);
	for (int k = 0; k < n; k++) {
		if (k)
			fputc(',', f);
		csv_field(f, heads[k]);
	}
	fputs("\r\n", f);
	json_array_foreach(arr, i, row)
	{
		for (int k = 0; k < n; k++) {
			json_t *v = json_object_get(row, keys[k]);
			if (k)
				fputc(',', f);
			if (json_is_integer(v))
				fprintf(f, "%lld",
					(long long)json_integer_value(v));
			else
				csv_field(f, json_string_value(v)
						 ? json_string_value(v)
						 : "");
		}
		fputs("\r\n", f);
	}
	fputs("\r\n", f);
}

static void csv_write(FILE *f, json_t *j)
{
	static const char *const
	    day_h[] = {"tanggal", "sms_masuk", "sms_keluar", "wa_masuk",
		       "wa_keluar"},
	    *const day_k[] = {"date", "sms_in", "sms_out", "wa_in", "wa_out"},
	    *const cat_h[] = {"kategori", "percakapan"},
	    *const cat_k[] = {"category", "count"},
	    *const tk_h[] = {"tiket_dibuka", "tiket_selesai",
			     "selesai_tepat_waktu", "persen_tepat_waktu"},
	    *const tk_k[] = {"opened", "closed", "closed_in_time",
			     "percent_in_time"},
	    *const fr_h[] = {"petugas", "percakapan", "median_menit"},
	    *const fr_k[] = {"user", "count", "median_minutes"},
	    *const rt_h[] = {"diminta", "dijawab",     "dibenarkan",
			     "ditolak", "kedaluwarsa", "median_menit"},
	    *const rt_k[] = {"asked",	 "answered", "approved",
			     "rejected", "expired",  "median_minutes"},
	    *const sv_h[] = {"diminta", "dijawab", "rata_rata_x10", "nilai_1",
			     "nilai_2", "nilai_3", "nilai_4",	    "nilai_5"},
	    *const sv_k[] = {"asked", "answered", "average_tenths",
			     "s1",    "s2",	  "s3",
			     "s4",    "s5"};
	json_t *one;

	csv_table(f, "Pesan per hari", day_h, day_k, 5,
		  json_object_get(j, "days"));
	csv_table(f, "Percakapan per kategori", cat_h, cat_k, 2,
		  json_object_get(j, "categories"));
	one = json_pack("[O]", json_object_get(j, "tickets"));
	csv_table(f, "Tiket", tk_h, tk_k, 4, one);
	json_decref(one);
	csv_table(f, "Tanggapan pertama petugas", fr_h, fr_k, 3,
		  json_object_get(j, "first_response"));
	one = json_pack("[O]", json_object_get(j, "rt"));
	csv_table(f, "Konfirmasi Ketua RT", rt_h, rt_k, 6, one);
	json_decref(one);
	one = json_pack("[O]", json_object_get(j, "satisfaction"));
	csv_table(f, "Kepuasan warga", sv_h, sv_k, 8, one);
	json_decref(one);
}

static int get_csv(void *ud, struct http_req *req, struct http_resp *resp)
{
	struct month m;
	json_t *j = report(ud, req, resp, &m);
	char *buf = NULL, disp[80];
	size_t len = 0;

	if (!j)
		return HTTP_DONE;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		json_decref(j);
		http_error(resp, 500, "out of memory");
		return HTTP_DONE;
	}
	csv_write(f, j);
	fclose(f);
	json_decref(j);
	http_take(resp, 200, buf, len, "text/csv; charset=utf-8");
	snprintf(disp, sizeof(disp),
		 "attachment; filename=\"laporan-simpul-%s.csv\"", m.name);
	http_add_header(resp, "Content-Disposition", disp);
	return HTTP_DONE;
}

int api_report_routes(struct app *app)
{
	return http_route(app->http, "GET", "/api/v1/reports", 0, get_report,
			  app) |
	       http_route(app->http, "GET", "/api/v1/reports/csv", 0, get_csv,
			  app);
}
