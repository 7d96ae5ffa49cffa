/* Table-driven simpul.ini parsing. */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ini.h"

enum key_type { T_STR, T_PATH, T_INT, T_BOOL, T_LISTEN, T_URL };

struct key_def {
	const char *section, *key;
	enum key_type type;
	size_t offset;
	const char *def;
	long min, max;
};

#define S(f) offsetof(struct config, f)

static const struct key_def keys[] = {
    {"general", "own_number", T_STR, S(own_number), "", 0, 0},
    {"general", "log_level", T_STR, S(log_level), "info", 0, 0},
    {"modem", "enabled", T_BOOL, S(modem_enabled), "yes", 0, 0},
    {"modem", "device", T_STR, S(modem_device), "auto", 0, 0},
    {"modem", "pin", T_STR, S(modem_pin), "", 0, 0},
    {"modem", "storage", T_STR, S(modem_storage), "SM", 0, 0},
    {"modem", "delete_sent", T_BOOL, S(modem_delete_sent), "no", 0, 0},
    {"modem", "ussd_balance", T_STR, S(modem_ussd_balance), "", 0, 0},
    {"modem", "balance_interval", T_INT, S(modem_balance_interval), "21600", 60,
     604800},
    {"modem", "low_credit", T_INT, S(modem_low_credit), "5000", 0, 10000000},
    {"modem", "command_timeout", T_INT, S(modem_cmd_timeout), "10000", 500,
     120000},
    {"modem", "send_timeout", T_INT, S(modem_send_timeout), "60000", 5000,
     300000},
    {"modem", "hangup_after_rings", T_INT, S(modem_hangup_rings), "2", 1, 20},
    {"miskol", "reply", T_STR, S(miskol_reply), "", 0, 0},
    {"miskol", "reply_hours", T_INT, S(miskol_reply_hours), "12", 0, 720},
    {"miskol", "notice_patterns", T_STR, S(miskol_notices), "", 0, 0},
    {"announce", "topics", T_STR, S(announce_topics), "posyandu, pkk, bansos",
     0, 0},
    {"announce", "approval_above", T_INT, S(announce_approval_above), "0", 0,
     1000000},
    {"announce", "sms_price", T_INT, S(announce_sms_price), "150", 0, 10000},
    {"store", "path", T_PATH, S(store_path), "/var/lib/simpul/simpul.db", 0, 0},
    {"store", "media_dir", T_PATH, S(media_dir), "/var/lib/simpul/media", 0, 0},
    {"store", "media_retention_days", T_INT, S(media_retention_days), "90", 1,
     3650},
    {"http", "listen", T_LISTEN, S(http_listen), "127.0.0.1:8080", 0, 0},
    {"http", "socket", T_PATH, S(http_socket), "/run/simpul/simpul.sock", 0, 0},
    {"http", "web_root", T_PATH, S(web_root), "", 0, 0},
    {"http", "https", T_BOOL, S(http_https), "no", 0, 0},
    {"http", "trusted_proxy", T_STR, S(http_trusted_proxy), "", 0, 0},
    {"http", "metrics_allow", T_STR, S(http_metrics_allow), "", 0, 0},
    {"http", "login_hashes", T_INT, S(http_login_hashes), "1", 1, 16},
    {"http", "login_queue", T_INT, S(http_login_queue), "8", 0, 1000},
    {"http", "per_address_limit", T_INT, S(http_per_address), "32", 0, 10000},
    {"http", "head_timeout", T_INT, S(http_head_timeout), "20", 1, 600},
    {"http", "request_timeout", T_INT, S(http_request_timeout), "60", 1, 3600},
    {"http", "upload_memory", T_INT, S(http_upload_memory), "8", 4, 1024},
    {"whatsapp", "enabled", T_BOOL, S(wa_enabled), "no", 0, 0},
    {"whatsapp", "verify_token", T_STR, S(wa_verify_token), "", 0, 0},
    {"whatsapp", "app_secret", T_STR, S(wa_app_secret), "", 0, 0},
    {"whatsapp", "access_token", T_STR, S(wa_access_token), "", 0, 0},
    {"whatsapp", "phone_number_id", T_STR, S(wa_phone_number_id), "", 0, 0},
    {"whatsapp", "graph_url", T_URL, S(wa_graph_url),
     "https://graph.facebook.com/v21.0", 0, 0},
    {"whatsapp", "sms_fallback", T_BOOL, S(wa_sms_fallback), "yes", 0, 0},
    {"whatsapp", "send_timeout", T_INT, S(wa_send_timeout_ms), "30000", 1000,
     300000},
    {"whatsapp", "media_downloads", T_INT, S(wa_media_downloads), "2", 1, 8},
    {"rules", "dir", T_PATH, S(rules_dir), "/etc/simpul/rules.d", 0, 0},
    {"rules", "holidays", T_PATH, S(holidays), "/etc/simpul/holidays.ini", 0,
     0},
    {"rt", "file", T_PATH, S(rt_file), "/etc/simpul/rt.ini", 0, 0},
    {"rt", "reminder_hours", T_INT, S(rt_reminder_hours), "8", 1, 400},
    {"rt", "expire_hours", T_INT, S(rt_expire_hours), "16", 2, 800},
    {"rt", "notify_rw", T_BOOL, S(rt_notify_rw), "yes", 0, 0},
    {"rt", "check_interval", T_INT, S(rt_check_interval), "60", 1, 3600},
    {"survey", "enabled", T_BOOL, S(survey_enabled), "no", 0, 0},
    {"survey", "hours", T_INT, S(survey_hours), "48", 1, 720},
    {"outbox", "sms_interval_ms", T_INT, S(sms_interval_ms), "3000", 0, 600000},
    {"outbox", "retry_max", T_INT, S(retry_max), "8", 1, 100},
    {"outbox", "retry_base_ms", T_INT, S(retry_base_ms), "5000", 100, 3600000},
    {"outbox", "part_timeout", T_INT, S(part_timeout_s), "86400", 10, 2592000},
    {"events", "enabled", T_BOOL, S(events_enabled), "no", 0, 0},
    {"events", "office", T_STR, S(events_office), "", 0, 0},
    {"events", "broker", T_STR, S(events_broker), "127.0.0.1", 0, 0},
    {"events", "port", T_INT, S(events_port), "1883", 1, 65535},
    {"events", "username", T_STR, S(events_username), "", 0, 0},
    {"events", "password", T_STR, S(events_password), "", 0, 0},
    {"events", "cafile", T_PATH, S(events_cafile), "", 0, 0},
    {"events", "certfile", T_PATH, S(events_certfile), "", 0, 0},
    {"events", "keyfile", T_PATH, S(events_keyfile), "", 0, 0},
    {"events", "personal_data", T_BOOL, S(events_personal), "no", 0, 0},
    {"events", "interval_ms", T_INT, S(events_interval_ms), "2000", 100,
     600000},
    {"events", "keep_days", T_INT, S(events_keep_days), "90", 1, 3650},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char **str_at(struct config *c, const struct key_def *k)
{
	return (char **)((char *)c + k->offset);
}

static int *int_at(struct config *c, const struct key_def *k)
{
	return (int *)((char *)c + k->offset);
}

static bool *bool_at(struct config *c, const struct key_def *k)
{
	return (bool *)((char *)c + k->offset);
}

static char *resolve_path(const struct config *c, const char *v)
{
	char *r = NULL;

	if (v[0] == '/' || !*v)
		return strdup(v);
	if (asprintf(&r, "%s/%s", c->base_dir, v) < 0)
		return NULL;
	return r;
}

static bool valid_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;

	if (!*v)
		return true; /* disabled */
	if (!colon || colon == v)
		return false;
	long port = strtol(colon + 1, &end, 10);
	return *end == '\0' && port >= 0 && port <= 65535;
}

static void set_value(struct config *c, const struct key_def *k, const char *v,
		      const struct ini *ini, struct diag *d)
{
	char *end;
	long n;

	switch (k->type) {
	case T_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || end == v || *end || n < k->min || n > k->max)
			ini_diag(
			    d, DIAG_ERROR, ini, k->section, k->key,
			    "%s: '%s' is not a whole number from %ld to %ld",
			    k->key, v, k->min, k->max);
		else
			*int_at(c, k) = (int)n;
		break;
	case T_BOOL:
		if (ini_parse_bool(v, bool_at(c, k)))
			ini_diag(d, DIAG_ERROR, ini, k->section, k->key,
				 "%s: '%s' is not yes or no", k->key, v);
		break;
	case T_LISTEN:
		if (!valid_listen(v))
			ini_diag(
			    d, DIAG_ERROR, ini, k->section, k->key,
			    "%s: '%s' is not host:port (e.g. 127.0.0.1:8080)",
			    k->key, v);
		free(*str_at(c, k));
		*str_at(c, k) = strdup(v);
		break;
	case T_URL:
		if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			ini_diag(
			    d, DIAG_ERROR, ini, k->section, k->key,
			    "%s: '%s' must start with https:// (or http:// "
			    "for a local test server)",
			    k->key, v);
		free(*str_at(c, k));
		*str_at(c, k) = strdup(v);
		break;
	case T_PATH:
		free(*str_at(c, k));
		*str_at(c, k) = resolve_path(c, v);
		break;
	case T_STR:
		free(*str_at(c, k));
		*str_at(c, k) = strdup(v);
		break;
	}
}

static const struct key_def *lookup(const char *sec, const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, sec) == 0 &&
		    strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* Levenshtein distance, for "did you mean" hints. */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[64];

	if (lb >= 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int sub = prev + (a[i - 1] != b[j - 1]);
			int del = row[j] + 1, ins = row[j - 1] + 1;
			row[j] = sub < del ? (sub < ins ? sub : ins)
					   : (del < ins ? del : ins);
			prev = cur;
		}
	}
	return row[lb];
}

static const char *nearest(const char *sec, const char *key)
{
	const char *best = NULL;
	int bd = 4;

	for (size_t i = 0; i < NKEYS; i++) {
		if (sec && strcmp(keys[i].section, sec) != 0)
			continue;
		int dd = distance(key, sec ? keys[i].key : keys[i].section);
		if (dd < bd) {
			bd = dd;
			best = sec ? keys[i].key : keys[i].section;
		}
	}
	return best;
}

static bool known_section(const char *sec)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].section, sec) == 0)
			return true;
	return false;
}

static void check_keys(const struct ini *ini, const char *sec, struct diag *d)
{
	for (int j = 0; j < ini_nkeys(ini, sec); j++) {
		const char *key = ini_key(ini, sec, j);
		if (lookup(sec, key))
			continue;
		const char *h = nearest(sec, key);
		ini_diag(d, DIAG_ERROR, ini, sec, key,
			 "unknown key '%s' in [%s]%s%s%s", key, sec,
			 h ? "; did you mean '" : "", h ? h : "",
			 h ? "'?" : "");
	}
}

static void check_unknown(const struct ini *ini, struct diag *d)
{
	for (int i = 0; i < ini_nsections(ini); i++) {
		const char *sec = ini_section(ini, i);
		if (known_section(sec)) {
			check_keys(ini, sec, d);
			continue;
		}
		const char *h = nearest(NULL, sec);
		ini_diag(d, DIAG_ERROR, ini, sec, NULL,
			 "unknown section [%s]%s%s%s", sec,
			 h ? "; did you mean [" : "", h ? h : "",
			 h ? "]?" : "");
	}
}

static void check_whatsapp(struct config *c, const struct ini *ini,
			   struct diag *d)
{
	static const char *const need[] = {"verify_token", "app_secret",
					   "access_token", "phone_number_id"};

	if (!c->wa_enabled)
		return;
	for (size_t i = 0; i < 4; i++) {
		const char *v = ini_get(ini, "whatsapp", need[i]);
		if (!v || !*v)
			ini_diag(d, DIAG_ERROR, ini, "whatsapp", "enabled",
				 "WhatsApp is enabled but [whatsapp] %s is "
				 "empty; set it from the Meta app dashboard",
				 need[i]);
	}
}

static void apply(struct config *c, const struct ini *ini, struct diag *d)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = ini_get(ini, keys[i].section, keys[i].key);
		set_value(c, &keys[i], v ? v : keys[i].def, ini, d);
	}
}

struct config *config_load(const char *path, struct diag *d)
{
	size_t before = diag_errors(d);
	struct config *c = calloc(1, sizeof(*c));
	struct ini *ini = ini_load(path, d);

	if (!c || !ini)
		goto fail;
	c->path = strdup(path);
	char *tmp = strdup(path);
	c->base_dir = strdup(dirname(tmp));
	free(tmp);
	check_unknown(ini, d);
	apply(c, ini, d);
	/* [whatsapp] enabled defaults to on when the section is filled in. */
	if (!ini_get(ini, "whatsapp", "enabled") &&
	    ini_get(ini, "whatsapp", "app_secret"))
		c->wa_enabled = true;
	check_whatsapp(c, ini, d);
	if (c->rt_expire_hours <= c->rt_reminder_hours)
		ini_diag(d, DIAG_ERROR, ini, "rt", "expire_hours",
			 "expire_hours (%d) must be more than reminder_hours "
			 "(%d): both count from the SMS to the Ketua RT",
			 c->rt_expire_hours, c->rt_reminder_hours);
	ini_free(ini);
	if (diag_errors(d) > before) {
		config_free(c);
		return NULL;
	}
	return c;
fail:
	ini_free(ini);
	config_free(c);
	return NULL;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NKEYS; i++)
		if (keys[i].type != T_INT && keys[i].type != T_BOOL)
			free(*str_at(c, &keys[i]));
	free(c->path);
	free(c->base_dir);
	free(c);
}
