/* The checks behind `simpulctl doctor`. Each looks at what the daemon
 * already knows (config, modem health, store) and never blocks: the modem
 * is not asked anything new, the config is re-read from disk into a
 * throwaway struct (as SIGHUP would, without applying it). */
#include "doctor.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "app.h"
#include "autoreply.h"
#include "config.h"
#include "diag.h"
#include "hours.h"
#include "modem.h"
#include "rt.h"
#include "rules.h"
#include "sms.h"
#include "store_ops.h"

#define SIGNAL_WEAK_DBM (-100) /* below this SMS sends start failing */
#define CLOCK_SKEW_S	(5 * 60)
#define CLOCK_MIN_MS                                                           \
	1704067200000LL	      /* 2024-01-01: a Pi without RTC/NTP              \
			       * boots in 1970 */
#define HOLIDAYS_WARN_DAYS 60 /* time to add next year's list */
#define DISK_WARN_MB	   500
#define DISK_FAIL_MB	   50

enum level { OK, WARN, FAIL };

struct check {
	const char *name;
	enum level level;
	const char *id; /* message_id */
	char text_id[400], text_en[400];
	char fix[400], fix_en[400];
};

static void add(json_t *arr, const struct check *c)
{
	static const char *const names[] = {"ok", "warn", "fail"};

	json_array_append_new(
	    arr,
	    json_pack("{ss sb ss ss ss ss ss ss}", "name", c->name, "ok",
		      c->level != FAIL, "level", names[c->level], "message_id",
		      c->id, "text_id", c->text_id, "text_en", c->text_en,
		      "fix", c->fix, "fix_en", c->fix_en));
}

/* Sets level, id and both texts; fixes are set by the caller if needed. */
#define SAY(c, lv, mid, ...)                                                   \
	do {                                                                   \
		(c)->level = (lv);                                             \
		(c)->id = (mid);                                               \
		say_texts((c), __VA_ARGS__);                                   \
	} while (0)

static void say_texts(struct check *c, const char *text_id, const char *text_en)
{
	snprintf(c->text_id, sizeof(c->text_id), "%s", text_id);
	snprintf(c->text_en, sizeof(c->text_en), "%s", text_en);
}

static void fix(struct check *c, const char *fix_id, const char *fix_en)
{
	snprintf(c->fix, sizeof(c->fix), "%s", fix_id);
	snprintf(c->fix_en, sizeof(c->fix_en), "%s", fix_en);
}

/* Config and rules as a reload would see them now. */
static void check_config(struct app *app, json_t *arr)
{
	struct check c = {.name = "config"};
	struct diag *d = diag_new();
	struct config *cfg = config_load(app->config_path, d);
	char a[400], b[400];

	if (cfg) {
		autoreply_check(cfg, d);
		rt_check(cfg, d);
	}
	int errors = diag_errors(d);
	if (errors == 0) {
		snprintf(a, sizeof(a), "Konfigurasi dan aturan valid (%s)",
			 app->config_path);
		snprintf(b, sizeof(b), "configuration and rules are valid (%s)",
			 app->config_path);
		SAY(&c, OK, "config_ok", a, b);
	} else {
		const char *first = diag_count(d) ? diag_line(d, 0) : "";
		snprintf(a, sizeof(a),
			 "Konfigurasi/aturan ada %d kesalahan: %s", errors,
			 first);
		snprintf(b, sizeof(b), "%d error(s) in configuration/rules: %s",
			 errors, first);
		SAY(&c, FAIL, "config_invalid", a, b);
		snprintf(
		    a, sizeof(a),
		    "Perbaiki berkasnya, periksa dengan 'simpuld -n -c %s', "
		    "lalu 'systemctl reload simpul'",
		    app->config_path);
		snprintf(b, sizeof(b),
			 "fix the file, check with 'simpuld -n -c %s', then "
			 "'systemctl reload simpul'",
			 app->config_path);
		fix(&c, a, b);
	}
	add(arr, &c);
	config_free(cfg);
	diag_free(d);
}

struct modem_facts {
	const char *state;
	const char *reason;
	int signal, creg;
	long balance;
	int64_t network_time;
};

static void check_port(struct app *app, const struct modem_facts *m,
		       json_t *arr)
{
	struct check c = {.name = "modem_port"};
	const char *dev = app->cfg->modem_device;
	struct stat sb;
	char a[400], b[400];

	if (strcmp(dev, "auto") != 0 && stat(dev, &sb) != 0) {
		snprintf(a, sizeof(a), "Port modem %s tidak ada", dev);
		snprintf(b, sizeof(b), "modem port %s does not exist", dev);
		SAY(&c, FAIL, "port_missing", a, b);
		fix(&c,
		    "Pastikan modem USB tercolok; periksa 'ls -l "
		    "/dev/simpul-modem' dan [modem] device",
		    "make sure the USB modem is plugged in; check 'ls -l "
		    "/dev/simpul-modem' and [modem] device");
	} else if (strcmp(m->state, "closed") == 0) {
		snprintf(a, sizeof(a), "Port modem (%s) belum bisa dibuka: %s",
			 dev, m->reason);
		snprintf(b, sizeof(b),
			 "modem port (%s) cannot be opened yet: %s", dev,
			 m->reason);
		SAY(&c, FAIL, "port_closed", a, b);
		fix(&c,
		    "Colok ulang modem; pastikan ModemManager tidak memakainya "
		    "(aturan udev simpul) dan user simpul ada di grup dialout",
		    "replug the modem; make sure ModemManager leaves it alone "
		    "(simpul's udev rule) and the simpul user is in dialout");
	} else {
		snprintf(a, sizeof(a), "Port modem %s terbuka", dev);
		snprintf(b, sizeof(b), "modem port %s is open", dev);
		SAY(&c, OK, "port_ok", a, b);
	}
	add(arr, &c);
}

static void check_state(const struct modem_facts *m, json_t *arr)
{
	struct check c = {.name = "modem_state"};
	char a[400], b[400];

	if (strcmp(m->state, "ready") == 0) {
		SAY(&c, OK, "modem_ready", "Modem siap (ready)",
		    "modem is ready");
	} else if (strcmp(m->state, "fatal") == 0) {
		snprintf(a, sizeof(a), "Modem berhenti dan butuh bantuan: %s",
			 m->reason);
		snprintf(b, sizeof(b), "modem stopped and needs a human: %s",
			 m->reason);
		SAY(&c, FAIL, "modem_fatal", a, b);
		fix(&c,
		    "Lihat baris SIM/PIN di bawah, lalu 'systemctl restart "
		    "simpul'",
		    "see the SIM/PIN line, then 'systemctl restart simpul'");
	} else {
		snprintf(a, sizeof(a), "Modem sedang bersiap (%s)", m->state);
		snprintf(b, sizeof(b), "modem is still starting (%s)",
			 m->state);
		SAY(&c, WARN, "modem_starting", a, b);
		fix(&c, "Tunggu satu menit lalu jalankan doctor lagi",
		    "wait a minute and run doctor again");
	}
	add(arr, &c);
}

static void check_sim(const struct modem_facts *m, json_t *arr)
{
	struct check c = {.name = "sim"};
	char a[400], b[400];
	bool fatal = strcmp(m->state, "fatal") == 0;

	if (fatal && strstr(m->reason, "PUK")) {
		snprintf(a, sizeof(a), "SIM terblokir PUK: %s", m->reason);
		snprintf(b, sizeof(b), "SIM is PUK-locked: %s", m->reason);
		SAY(&c, FAIL, "sim_puk", a, b);
		fix(&c,
		    "Buka blokir SIM dengan kode PUK di ponsel, lalu "
		    "pasang kembali",
		    "unlock the SIM with its PUK in a phone, then put it "
		    "back");
	} else if (fatal && strstr(m->reason, "PIN")) {
		snprintf(a, sizeof(a), "SIM meminta PIN: %s", m->reason);
		snprintf(b, sizeof(b), "SIM asks for a PIN: %s", m->reason);
		SAY(&c, FAIL, "sim_pin", a, b);
		fix(&c,
		    "Isi [modem] pin = PIN SIM di simpul.ini (atau matikan "
		    "PIN di ponsel), lalu 'systemctl restart simpul'",
		    "set [modem] pin in simpul.ini (or disable the PIN in a "
		    "phone), then 'systemctl restart simpul'");
	} else if (fatal) {
		snprintf(a, sizeof(a), "SIM bermasalah: %s", m->reason);
		snprintf(b, sizeof(b), "SIM problem: %s", m->reason);
		SAY(&c, FAIL, "sim_fatal", a, b);
		fix(&c, "Periksa SIM terpasang dengan benar dan aktif",
		    "check the SIM is inserted properly and active");
	} else if (strcmp(m->state, "ready") == 0 ||
		   strcmp(m->state, "register") == 0) {
		SAY(&c, OK, "sim_ok",
		    "SIM siap (PIN tidak diperlukan atau "
		    "sudah dimasukkan)",
		    "SIM ready (no PIN needed, or PIN accepted)");
	} else {
		SAY(&c, WARN, "sim_unknown", "Status SIM belum diketahui",
		    "SIM state not known yet");
		fix(&c, "Tunggu modem siap", "wait for the modem");
	}
	add(arr, &c);
}

static void check_signal(const struct modem_facts *m, json_t *arr)
{
	struct check c = {.name = "signal"};
	char a[400], b[400];

	if (m->signal == 0) {
		SAY(&c, FAIL, "signal_none",
		    "Tidak ada sinyal (atau belum "
		    "terbaca)",
		    "no signal (or not read yet)");
		fix(&c,
		    "Pindahkan modem ke dekat jendela atau pakai kabel "
		    "USB ekstensi; cek SIM aktif",
		    "move the modem near a window or use a USB extension "
		    "cable; check the SIM is active");
	} else if (m->signal < SIGNAL_WEAK_DBM) {
		snprintf(a, sizeof(a), "Sinyal lemah: %d dBm", m->signal);
		snprintf(b, sizeof(b), "weak signal: %d dBm", m->signal);
		SAY(&c, WARN, "signal_weak", a, b);
		fix(&c, "Pindahkan modem ke tempat yang sinyalnya lebih baik",
		    "move the modem to a spot with better reception");
	} else {
		snprintf(a, sizeof(a), "Sinyal %d dBm", m->signal);
		snprintf(b, sizeof(b), "signal %d dBm", m->signal);
		SAY(&c, OK, "signal_ok", a, b);
	}
	add(arr, &c);
}

/* +CREG stat, TS 27.007 7.2: 1 home, 5 roaming; 2 searching, 3 denied. */
static void check_registration(const struct modem_facts *m, json_t *arr)
{
	struct check c = {.name = "registration"};
	char a[400], b[400];

	if (m->creg == 1 || m->creg == 5) {
		snprintf(a, sizeof(a), "Terdaftar di jaringan%s",
			 m->creg == 5 ? " (roaming)" : "");
		snprintf(b, sizeof(b), "registered on the network%s",
			 m->creg == 5 ? " (roaming)" : "");
		SAY(&c, OK, "registered", a, b);
		add(arr, &c);
		return;
	}
	snprintf(a, sizeof(a), "Tidak terdaftar di jaringan (+CREG %d%s)",
		 m->creg,
		 m->creg == 3	? ": ditolak"
		 : m->creg == 2 ? ": mencari"
				: "");
	snprintf(b, sizeof(b), "not registered on the network (+CREG %d%s)",
		 m->creg,
		 m->creg == 3	? ": denied"
		 : m->creg == 2 ? ": searching"
				: "");
	SAY(&c, FAIL, "not_registered", a, b);
	fix(&c,
	    "Periksa sinyal dan masa aktif kartu SIM; SMS tidak bisa "
	    "terkirim sampai terdaftar",
	    "check signal and that the SIM is still active; no SMS goes out "
	    "until registered");
	add(arr, &c);
}

static void check_credit(struct app *app, const struct modem_facts *m,
			 json_t *arr)
{
	struct check c = {.name = "credit"};
	const char *ussd = app->cfg->modem_ussd_balance;
	long low = app->cfg->modem_low_credit;
	char a[400], b[400];

	if (!ussd || !*ussd) {
		SAY(&c, WARN, "credit_unmonitored", "Pulsa tidak dipantau",
		    "credit is not monitored");
		fix(&c,
		    "Isi [modem] ussd_balance dengan kode cek pulsa "
		    "operator (mis. *888#)",
		    "set [modem] ussd_balance to the operator's balance code "
		    "(e.g. *888#)");
	} else if (ussd[strlen(ussd) - 1] != '#') {
		/* iniparser takes '#' as a comment: *888# unquoted is *888 */
		snprintf(a, sizeof(a), "Kode cek pulsa '%s' tidak diakhiri '#'",
			 ussd);
		snprintf(b, sizeof(b), "balance code '%s' does not end in '#'",
			 ussd);
		SAY(&c, WARN, "credit_code", a, b);
		fix(&c, "Tulis dengan tanda kutip: ussd_balance = \"*888#\"",
		    "quote it: ussd_balance = \"*888#\"");
	} else if (m->balance < 0) {
		SAY(&c, WARN, "credit_unknown", "Pulsa belum diketahui",
		    "credit not known yet");
		fix(&c,
		    "Tunggu beberapa menit; pastikan kode ussd_balance "
		    "benar untuk operator ini",
		    "wait a few minutes; check ussd_balance is right for this "
		    "operator");
	} else if (m->balance < low) {
		snprintf(a, sizeof(a), "Pulsa rendah: Rp%ld (batas Rp%ld)",
			 m->balance, low);
		snprintf(b, sizeof(b), "low credit: Rp%ld (limit Rp%ld)",
			 m->balance, low);
		SAY(&c, FAIL, "credit_low", a, b);
		fix(&c, "Isi ulang pulsa kartu SIM modem",
		    "top up the modem SIM's credit");
	} else {
		snprintf(a, sizeof(a), "Pulsa Rp%ld", m->balance);
		snprintf(b, sizeof(b), "credit Rp%ld", m->balance);
		SAY(&c, OK, "credit_ok", a, b);
	}
	add(arr, &c);
}

/* The modem's network time is refreshed by its health poll while READY
 * (once a minute), so it is compared only then; 5 minutes of slack covers
 * the age of the sample. */
static void check_clock(struct app *app, const struct modem_facts *m,
			json_t *arr)
{
	struct check c = {.name = "clock"};
	int64_t now = app_now_ms(app);
	char a[400], b[400];

	if (now < CLOCK_MIN_MS) {
		snprintf(a, sizeof(a), "Jam sistem salah (sebelum 2024): %lld",
			 (long long)(now / 1000));
		snprintf(b, sizeof(b),
			 "system clock is wrong (before 2024): %lld",
			 (long long)(now / 1000));
		SAY(&c, FAIL, "clock_unset", a, b);
		fix(&c,
		    "Aktifkan NTP ('timedatectl set-ntp true') atau pasang "
		    "modul RTC",
		    "enable NTP ('timedatectl set-ntp true') or fit an RTC "
		    "module");
	} else if (m && m->network_time > 0 && strcmp(m->state, "ready") == 0 &&
		   llabs(now / 1000 - m->network_time) > CLOCK_SKEW_S) {
		long long d = now / 1000 - m->network_time;
		snprintf(a, sizeof(a),
			 "Jam sistem beda %lld menit dengan jam jaringan "
			 "seluler",
			 d / 60);
		snprintf(b, sizeof(b),
			 "system clock differs by %lld minutes from the "
			 "network time",
			 d / 60);
		SAY(&c, WARN, "clock_skew", a, b);
		fix(&c,
		    "Aktifkan NTP ('timedatectl set-ntp true') dan periksa "
		    "'timedatectl'",
		    "enable NTP ('timedatectl set-ntp true') and check "
		    "'timedatectl'");
	} else {
		SAY(&c, OK, "clock_ok", "Jam sistem wajar",
		    "system clock looks right");
	}
	add(arr, &c);
}

/* After the last holiday listed every day is an ordinary working day to
 * the rules: 17 August of a year not in the file would be "open". Warn
 * while there is still time to add next year's list. */
static void check_holidays(struct app *app, const struct hours *h, json_t *arr)
{
	struct check c = {.name = "holidays"};
	const char *file = app->cfg->holidays && *app->cfg->holidays
			       ? app->cfg->holidays
			       : "holidays.ini";
	int32_t last = hours_last_closed_day(h);
	int32_t today = hours_local_day(h, app_now_ms(app) / 1000);
	char day[16] = "", a[400], b[400];
	time_t t = (time_t)last * 86400;
	struct tm tm;

	if (last >= 0 && gmtime_r(&t, &tm))
		strftime(day, sizeof(day), "%d/%m/%Y", &tm);
	if (last < 0) {
		SAY(&c, WARN, "holidays_none",
		    "Tidak ada hari libur yang terdaftar: tanggal merah "
		    "dianggap hari kerja",
		    "no holidays are listed: public holidays count as "
		    "working days");
	} else if (last - today < HOLIDAYS_WARN_DAYS) {
		snprintf(a, sizeof(a),
			 "Daftar hari libur di %s hanya sampai %s (%d hari "
			 "lagi); sesudahnya tanggal merah dianggap hari kerja",
			 file, day, last - today);
		snprintf(b, sizeof(b),
			 "the holidays in %s end on %s (%d days from now); "
			 "after that, public holidays count as working days",
			 file, day, last - today);
		SAY(&c, WARN, "holidays_ending", a, b);
	} else {
		snprintf(a, sizeof(a), "Hari libur terdaftar sampai %s", day);
		snprintf(b, sizeof(b), "holidays listed up to %s", day);
		SAY(&c, OK, "holidays_ok", a, b);
	}
	if (c.level != OK) {
		snprintf(a, sizeof(a),
			 "Tambahkan libur nasional dan cuti bersama tahun "
			 "berikutnya (SKB 3 Menteri) ke %s, lalu 'systemctl "
			 "reload simpul'",
			 file);
		snprintf(b, sizeof(b),
			 "add next year's public holidays and cuti bersama "
			 "(the joint ministerial decree) to %s, then "
			 "'systemctl reload simpul'",
			 file);
		fix(&c, a, b);
	}
	add(arr, &c);
}

static void utc_text(int off, char *buf, size_t n)
{
	int m = (off < 0 ? -off : off) / 60;

	if (m % 60)
		snprintf(buf, n, "UTC%c%d.%02d", off < 0 ? '-' : '+', m / 60,
			 m % 60);
	else
		snprintf(buf, n, "UTC%c%d", off < 0 ? '-' : '+', m / 60);
}

/* The rules keep office time in [office] timezone, but the Pi's own zone
 * is what journalctl, cron and staff reading the logs see; when the two
 * differ one of them is usually a mistake (the shipped WITA default on a
 * WIB office). Compared by UTC offset, so aliases of one zone agree. */
static void check_timezone(struct app *app, const struct rules *r, json_t *arr)
{
	struct check c = {.name = "timezone"};
	time_t now = (time_t)(app_now_ms(app) / 1000);
	int office = hours_offset(rules_hours(r), (int64_t)now);
	struct tm tm;
	char o[16], sys[16], a[400], b[400];

	if (!localtime_r(&now, &tm))
		return;
	utc_text(office, o, sizeof(o));
	utc_text((int)tm.tm_gmtoff, sys, sizeof(sys));
	if (tm.tm_gmtoff != office) {
		snprintf(a, sizeof(a),
			 "Zona waktu kantor %s (%s) beda dengan zona waktu "
			 "sistem %s (%s)",
			 rules_timezone(r), o, tm.tm_zone, sys);
		snprintf(b, sizeof(b),
			 "the office time zone %s (%s) differs from the "
			 "system's %s (%s)",
			 rules_timezone(r), o, tm.tm_zone, sys);
		SAY(&c, WARN, "timezone_differs", a, b);
		snprintf(a, sizeof(a),
			 "Periksa timezone = di [office] (WIB Asia/Jakarta, "
			 "WITA Asia/Makassar, WIT Asia/Jayapura); bila benar, "
			 "'sudo timedatectl set-timezone %s'",
			 rules_timezone(r));
		snprintf(b, sizeof(b),
			 "check timezone = in [office] (WIB Asia/Jakarta, "
			 "WITA Asia/Makassar, WIT Asia/Jayapura); if it is "
			 "right, 'sudo timedatectl set-timezone %s'",
			 rules_timezone(r));
		fix(&c, a, b);
	} else {
		snprintf(a, sizeof(a),
			 "Zona waktu kantor %s (%s) sama dengan "
			 "sistem",
			 rules_timezone(r), o);
		snprintf(b, sizeof(b),
			 "office time zone %s (%s) matches the "
			 "system's",
			 rules_timezone(r), o);
		SAY(&c, OK, "timezone_ok", a, b);
	}
	add(arr, &c);
}

static void check_disk(struct app *app, json_t *arr)
{
	struct check c = {.name = "disk"};
	char dir[512], a[400], b[400];
	struct statvfs vs;

	snprintf(dir, sizeof(dir), "%s", app->cfg->store_path);
	char *d = dirname(dir);
	if (statvfs(d, &vs) != 0) {
		snprintf(a, sizeof(a), "Ruang disk %s tidak bisa diperiksa", d);
		snprintf(b, sizeof(b), "cannot check free space of %s", d);
		SAY(&c, WARN, "disk_unknown", a, b);
		add(arr, &c);
		return;
	}
	unsigned long long mb =
	    (unsigned long long)vs.f_bavail * vs.f_frsize / (1024 * 1024);
	snprintf(a, sizeof(a), "Sisa disk %s: %llu MB", d, mb);
	snprintf(b, sizeof(b), "free space in %s: %llu MB", d, mb);
	if (mb < DISK_FAIL_MB) {
		SAY(&c, FAIL, "disk_full", a, b);
	} else if (mb < DISK_WARN_MB) {
		SAY(&c, WARN, "disk_low", a, b);
	} else {
		SAY(&c, OK, "disk_ok", a, b);
	}
	if (c.level != OK)
		fix(&c,
		    "Kosongkan kartu SD (journalctl --vacuum-size=50M, "
		    "cadangan lama) atau kurangi media_retention_days",
		    "free space on the SD card (journalctl --vacuum-size=50M, "
		    "old backups) or lower media_retention_days");
	add(arr, &c);
}

static void check_database(struct app *app, json_t *arr)
{
	struct check c = {.name = "database"};
	char res[200], a[400], b[400];

	if (store_quick_check(app->st, res, sizeof(res)) == 0) {
		SAY(&c, OK, "db_ok", "Basis data utuh (quick_check)",
		    "database is intact (quick_check)");
	} else {
		snprintf(a, sizeof(a), "Basis data rusak: %s", res);
		snprintf(b, sizeof(b), "database damaged: %s", res);
		SAY(&c, FAIL, "db_damaged", a, b);
		fix(&c,
		    "Hentikan simpul, pulihkan dari cadangan terakhir "
		    "(simpulctl backup), ganti kartu SD",
		    "stop simpul, restore the last backup (simpulctl backup), "
		    "replace the SD card");
	}
	add(arr, &c);
}

static void check_whatsapp(struct app *app, json_t *arr)
{
	struct check c = {.name = "whatsapp"};
	const struct config *k = app->cfg;
	char missing[200] = "", a[400], b[400];

	if (!k->wa_enabled) {
		SAY(&c, OK, "wa_disabled", "WhatsApp tidak diaktifkan",
		    "WhatsApp is not enabled");
		add(arr, &c);
		return;
	}
	const struct {
		const char *key, *v;
	} need[] = {
	    {"verify_token", k->wa_verify_token},
	    {"app_secret", k->wa_app_secret},
	    {"access_token", k->wa_access_token},
	    {"phone_number_id", k->wa_phone_number_id},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i].v || !*need[i].v)
			snprintf(missing + strlen(missing),
				 sizeof(missing) - strlen(missing), "%s%s",
				 missing[0] ? ", " : "", need[i].key);
	if (missing[0]) {
		snprintf(a, sizeof(a), "Pengaturan WhatsApp belum lengkap: %s",
			 missing);
		snprintf(b, sizeof(b), "WhatsApp settings missing: %s",
			 missing);
		SAY(&c, FAIL, "wa_incomplete", a, b);
		fix(&c,
		    "Isi kunci itu di [whatsapp] simpul.ini (dari Meta "
		    "App Dashboard), lalu 'systemctl reload simpul'",
		    "set those keys in [whatsapp] (from the Meta App "
		    "Dashboard), then 'systemctl reload simpul'");
	} else {
		SAY(&c, OK, "wa_ok", "Pengaturan WhatsApp lengkap",
		    "WhatsApp settings present");
	}
	add(arr, &c);
}

static void modem_checks(struct app *app, json_t *arr,
			 const struct sms_status *st)
{
	struct modem_facts m = {
	    .state = st->state,
	    .reason = st->reason,
	    .signal = st->health->rssi_dbm,
	    .creg = st->health->creg_stat,
	    .balance = st->health->balance,
	    .network_time = st->health->network_time,
	};

	if (!m.state)
		m.state = "?";
	if (!m.reason)
		m.reason = "";
	check_port(app, &m, arr);
	check_state(&m, arr);
	check_sim(&m, arr);
	check_signal(&m, arr);
	check_registration(&m, arr);
	check_credit(app, &m, arr);
	check_clock(app, &m, arr);
}

json_t *doctor_run(struct app *app, const struct sms *sms)
{
	json_t *arr = json_array();
	bool ok = true;
	size_t i;
	json_t *c;

	check_config(app, arr);
	if (sms) {
		struct sms_status st;
		sms_status(sms, &st);
		modem_checks(app, arr, &st);
	} else {
		struct check m = {.name = "modem"};
		SAY(&m, OK, "modem_disabled",
		    "Modem dinonaktifkan ([modem] "
		    "enabled = no)",
		    "modem disabled ([modem] enabled = no)");
		add(arr, &m);
		check_clock(app, NULL, arr);
	}
	if (app->calendar) { /* NULL: the config check reports the rules */
		check_holidays(app, rules_hours(app->calendar), arr);
		check_timezone(app, app->calendar, arr);
	}
	check_disk(app, arr);
	check_database(app, arr);
	check_whatsapp(app, arr);
	json_array_foreach(arr, i, c) ok =
	    ok && json_is_true(json_object_get(c, "ok"));
	return json_pack("{sb so}", "ok", ok, "checks", arr);
}
