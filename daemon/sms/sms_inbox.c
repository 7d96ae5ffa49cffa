/* sms_inbox: one SMS read from the modem into the inbox, inside the
 * caller's transaction (sms.c commits, then lets the modem delete it).
 * Channel logic only, no modem I/O, so the fuzzers and tests call exactly
 * what the daemon runs. */
#include "sms_inbox.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "inbox.h"
#include "log.h"
#include "modem.h"
#include "store.h"

/* Ends the part-group key of an alphanumeric sender (TS 23.040 9.1.2.5),
 * so that the flag outlives a restart with the parts in the store. */
#define ALNUM_KEY "|alnum"

/* Source ids: a hash of what identifies one SMS on the network (SMSC
 * timestamp, sender, concatenation reference and part) plus its text, so
 * two different texts in the same second stay two messages. */
void sms_inbox_hash_id(char *out, size_t outlen, const char *prefix,
		       const char *fmt, ...)
{
	char buf[2048];
	unsigned char h[16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	crypto_generichash(h, sizeof(h), (const unsigned char *)buf,
			   strlen(buf), NULL, 0);
	char hex[33];
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, outlen, "%s%s", prefix, hex);
}

static int commit_msg(struct inbox *ib, struct store *st,
		      const struct inbox_msg *m)
{
	enum inbox_result r = inbox_add(ib, m, NULL);

	if (r == INBOX_FAILED) {
		log_msg(LOG_ERR, "sms from %s: storing failed: %s", m->from,
			store_errmsg(st));
		return -1;
	}
	if (r == INBOX_DUPLICATE)
		log_msg(LOG_INFO,
			"sms from %s: already stored (%s), deleting "
			"it from the SIM again",
			m->from, m->source_id);
	return 0;
}

static int store_single(struct inbox *ib, struct store *st,
			const struct modem_sms *p)
{
	char sid[64];
	struct inbox_msg m = {
	    .channel = "sms",
	    .from = p->sender,
	    .from_alnum = p->sender_alnum,
	    .body = p->text ? p->text : "",
	    .at_ms = p->scts * 1000,
	    .source_id = sid,
	    .raw = p->pdu_hex,
	};

	if (p->error) {
		sms_inbox_hash_id(sid, sizeof(sid), "sms:", "pdu|%s",
				  p->pdu_hex);
		m.status = "error";
		m.error = p->error;
		m.body = "[SMS tidak dapat dibaca]";
		m.kind = "error";

	} else {
		sms_inbox_hash_id(sid, sizeof(sid), "sms:", "%s|%lld|%d|%d|%s",
				  p->sender, (long long)p->scts, p->ref, p->seq,
				  p->text ? p->text : "");
		if (p->binary) {
			m.kind = "binary";
			m.body = "[pesan data, bukan teks]";
		}
	}
	return commit_msg(ib, st, &m);
}

static char *join_parts(const struct store_part *parts, int n, int total,
			bool *missing)
{
	size_t len = 1;
	static const char gap[] = "[...bagian hilang...]";

	for (int i = 0; i < n; i++)
		len += strlen(parts[i].text) + sizeof(gap);
	char *out = calloc(1, len + (size_t)total * sizeof(gap));
	int want = 1;
	*missing = false;
	for (int i = 0; i < n; i++, want++) {
		for (; want < parts[i].seq; want++, *missing = true)
			strcat(out, gap);
		strcat(out, parts[i].text);
	}
	if (want <= total) {
		strcat(out, gap);
		*missing = true;
	}
	return out;
}

/* Assembles the group if every part is there (or forced after the part
 * timeout, with a visible mark) and stores it as one message. */
int sms_inbox_assemble(struct inbox *ib, struct store *st, const char *key,
		       const char *sender, int total, bool force)
{
	struct store_part *parts;
	int n = store_parts_get(st, key, &parts), rc = 0;
	bool missing;

	if (n < 0)
		return -1;
	if (n == 0 || (n < total && !force)) {
		store_parts_free(parts, n);
		return 0;
	}
	char *body = join_parts(parts, n, total, &missing);
	size_t kl = strlen(key);
	char sid[64];
	sms_inbox_hash_id(sid, sizeof(sid), "sms:", "group|%s", key);
	struct inbox_msg m = {
	    .channel = "sms",
	    .from = sender,
	    .from_alnum = kl > 6 && !strcmp(key + kl - 6, ALNUM_KEY),
	    .body = body,
	    .at_ms = parts[0].scts * 1000,
	    .source_id = sid,
	    .status = missing ? "partial" : "received",
	    .error = missing ? "bagian SMS tidak lengkap" : NULL,
	};
	int64_t id = 0;
	enum inbox_result r = inbox_add(ib, &m, &id);
	if (r == INBOX_FAILED || store_parts_done(st, key, id))
		rc = -1;
	free(body);
	store_parts_free(parts, n);
	return rc;
}

/* TS 23.040 9.2.3.24.1: parts of one message share sender, reference,
 * total and reference width; persisted until the group is complete. */
static int store_part(struct inbox *ib, struct store *st,
		      const struct modem_sms *p, int64_t now_ms)
{
	char key[128], sid[64];

	snprintf(key, sizeof(key), "%.40s|%d|%d|%d%s", p->sender, p->ref,
		 p->parts, p->ref16 ? 16 : 8, p->sender_alnum ? ALNUM_KEY : "");
	sms_inbox_hash_id(sid, sizeof(sid), "part:", "%s|%lld|%d|%s", key,
			  (long long)p->scts, p->seq, p->text ? p->text : "");
	int r = store_part_add(st, sid, key, p->sender, p->parts, p->seq,
			       p->text, p->scts, now_ms);
	if (r == STORE_DUP)
		return 0;
	if (r != STORE_OK)
		return -1;
	return sms_inbox_assemble(ib, st, key, p->sender, p->parts, false);
}

int sms_inbox_add(struct inbox *ib, struct store *st, const struct modem_sms *p,
		  int64_t now_ms)
{
	return p->parts > 1 && !p->error ? store_part(ib, st, p, now_ms)
					 : store_single(ib, st, p);
}
