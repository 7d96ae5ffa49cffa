/* config: simpul.ini -> a fresh struct config, validated from a key table
 * (type, range, default). Every problem is reported (file:line or
 * file: [section] key), unknown keys with a hint. A config with errors is
 * never used: on SIGHUP the old one keeps running. */
#ifndef SIMPUL_CONFIG_H
#define SIMPUL_CONFIG_H

#include <stdbool.h>
#include "diag.h"

struct config {
	char *path;	/* the file it came from */
	char *base_dir; /* directory of the file: relative paths are
			   resolved against it */
	/* [general] */
	char *own_number; /* our SIM's number: never auto-reply to it */
	char *log_level;
	/* [modem] */
	bool modem_enabled;
	bool modem_delete_sent; /* SMS-SUBMITs found on the SIM */
	char *modem_device;
	char *modem_pin;
	char *modem_storage;
	char *modem_ussd_balance;
	int modem_balance_interval; /* seconds */
	int modem_low_credit;	    /* rupiah */
	int modem_cmd_timeout;	    /* ms */
	int modem_send_timeout;	    /* ms, +CMGS */
	int modem_hangup_rings;	    /* hang up an incoming call on this ring */
	/* [miskol] missed calls */
	char *miskol_reply; /* template; "" = the menu and a call-back note */
	int miskol_reply_hours; /* one missed-call reply per contact per this */
	char *miskol_notices;	/* operator notice patterns, '|' separated */
	/* [announce] */
	char *announce_topics;	/* DAFTAR <topic>, comma separated */
	int announce_sms_price; /* rupiah per SMS segment, for the estimate */
	int announce_approval_above; /* more recipients: a second admin */
	/* [store] */
	char *store_path;
	char *media_dir;
	int media_retention_days;
	/* [http] */
	char *http_listen;	  /* host:port, "" disables TCP */
	char *http_socket;	  /* unix socket for simpulctl */
	bool http_https;	  /* the inbox is reached over HTTPS */
	char *http_trusted_proxy; /* addresses whose X-Forwarded-* count */
	char *http_metrics_allow; /* TCP peers that may GET /metrics */
	int http_login_hashes;	  /* argon2id hashes at once (threads) */
	int http_login_queue;	  /* logins waiting for one; more: 503 */
	int http_per_address;	  /* TCP connections from one address */
	int http_head_timeout;	  /* s from connect to the request head */
	int http_request_timeout; /* s from connect to the request body */
	int http_upload_memory;	  /* MiB for request bodies being received */
	char *web_root;
	/* [whatsapp] */
	bool wa_enabled;
	char *wa_verify_token;
	char *wa_app_secret;
	char *wa_access_token;
	char *wa_phone_number_id;
	char *wa_graph_url;
	bool wa_sms_fallback;
	int wa_send_timeout_ms; /* a send without an answer by then: unknown */
	int wa_media_downloads; /* media downloads at once; the rest queue */
	/* [rules] */
	char *rules_dir;
	char *holidays;
	/* [rt] */
	char *rt_file;
	int rt_reminder_hours; /* working hours until the one reminder */
	int rt_expire_hours;   /* working hours from the ask to expiry */
	bool rt_notify_rw;     /* tell the RW head when a request expires */
	int rt_check_interval; /* seconds between follow-up checks */
	/* [survey] */
	bool survey_enabled; /* "Balas 1-5" after a conversation is resolved */
	int survey_hours;    /* how long an answer is taken */
	/* [outbox] */
	int sms_interval_ms; /* pacing between SMS */
	int retry_max;	     /* attempts before failed */
	int retry_base_ms;   /* first backoff, doubled per attempt */
	int part_timeout_s;  /* incomplete multipart stored after this */
	/* [events]: the event log and its MQTT publisher (city hub) */
	bool events_enabled;
	char *events_office; /* office id, one MQTT topic level */
	char *events_broker; /* broker address (an IP: no DNS wait) */
	int events_port;
	char *events_username; /* per-office credentials */
	char *events_password;
	char *events_cafile; /* TLS when set */
	char *events_certfile;
	char *events_keyfile;
	bool events_personal;	/* also phone numbers (default: no) */
	int events_interval_ms; /* how often the capture runs */
	int events_keep_days;	/* acknowledged events kept this long */
};

/* Parses path into a new struct; NULL if any error (all of them in d). */
struct config *config_load(const char *path, struct diag *d);
void config_free(struct config *c);

#endif
