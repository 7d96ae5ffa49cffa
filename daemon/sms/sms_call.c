/* sms_call: missed calls into the inbox (see sms_call.h). */
#include "sms_call.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "counters.h"
#include "inbox.h"
#include "log.h"
#include "modem.h"
#include "phone.h"
#include "sms_inbox.h"

/* Forms seen from Indonesian operators (doc/field.md); [miskol]
 * notice_patterns replaces them. */
static const char default_patterns[] =
    "panggilan tak terjawab dari {nomor}|"
    "panggilan tidak terjawab dari {nomor}|"
    "missed call dari {nomor}|missed call from {nomor}|"
    "{nomor} mencoba menghubungi anda|"
    "{nomor} telah mencoba menghubungi anda|"
    "{nomor} menelepon anda";

#define BODY "Panggilan tak terjawab"

static int add(struct inbox *ib, const char *from, bool hidden, const char *via,
	       int64_t at_ms, const char *sid)
{
	char body[160];
	struct inbox_msg m = {
	    .channel = "sms",
	    .from = hidden ? MISSED_CALL_HIDDEN : from,
	    .body = body,
	    .at_ms = at_ms,
	    .source_id = sid,
	    .kind = "missed_call",
	    .raw = via,
	};

	snprintf(body, sizeof(body), "%s%s", BODY,
		 hidden ? " (nomor disembunyikan)" : "");
	if (inbox_add(ib, &m, NULL) == INBOX_FAILED)
		return -1;
	counters_add(hidden ? "missed_call_hidden" : "missed_call");
	return 0;
}

int sms_call_missed(struct inbox *ib, const struct modem_ring *r,
		    int64_t now_ms)
{
	static unsigned seq;
	char num[48], sid[64];

	/* TS 24.008 10.5.4.7: type 145 is international even without '+' */
	snprintf(num, sizeof(num), "%s%s",
		 r->ton == 145 && r->number[0] != '+' ? "+" : "", r->number);
	sms_inbox_hash_id(sid, sizeof(sid), "call:", "%s|%lld|%u", num,
			  (long long)now_ms, seq++);
	log_msg(LOG_INFO, "modem: missed call from %s, %d ring(s), %s",
		r->hidden ? "a withheld number" : num, r->rings,
		r->hung_up ? "hung up" : "the caller gave up");
	if (inbox_begin(ib))
		return -1;
	if (add(ib, num, r->hidden,
		r->hung_up ? "call: hung up" : "call: caller gave up", now_ms,
		sid) ||
	    inbox_commit(ib)) {
		log_msg(LOG_ERR, "missed call from %s: storing failed", num);
		inbox_rollback(ib);
		return -1;
	}
	return 0;
}

/* text at t matches pattern p up to {nomor}/end; returns the end in t */
static const char *match_lit(const char *t, const char *p, const char *pe)
{
	while (p < pe) {
		if (isspace((unsigned char)*p)) {
			if (!isspace((unsigned char)*t))
				return NULL;
			while (isspace((unsigned char)*p))
				p++;
			while (isspace((unsigned char)*t))
				t++;
			continue;
		}
		if (tolower((unsigned char)*p) != tolower((unsigned char)*t))
			return NULL;
		p++;
		t++;
	}
	return t;
}

/* A number as written in a notice: +62 812-3456-7890, 0812 3456 7890. */
static const char *take_number(const char *t, char *num, size_t n)
{
	size_t k = 0, digits = 0;

	if (*t == '+' && k + 1 < n)
		num[k++] = *t++;
	while (*t && k + 1 < n) {
		if (isdigit((unsigned char)*t)) {
			num[k++] = *t++;
			digits++;
		} else if ((*t == '-' || *t == ' ' || *t == '.') &&
			   isdigit((unsigned char)t[1])) {
			t++;
		} else {
			break;
		}
	}
	num[k] = '\0';
	return digits >= 8 ? t : NULL;
}

/* One pattern [p, pe) anywhere in text. */
static bool match_one(const char *p, const char *pe, const char *text,
		      char *num, size_t n)
{
	const char *hole = strstr(p, "{nomor}");

	if (!hole || hole >= pe)
		return false;
	for (const char *s = text; *s; s++) {
		const char *t = match_lit(s, p, hole);

		if (t && (t = take_number(t, num, n)) &&
		    match_lit(t, hole + 7, pe))
			return true;
	}
	return false;
}

bool sms_call_match(const char *patterns, const char *text, char *num,
		    size_t numlen)
{
	const char *p = patterns && *patterns ? patterns : default_patterns;

	while (*p) {
		const char *pe = strchr(p, '|');

		if (!pe)
			pe = p + strlen(p);
		while (p < pe && isspace((unsigned char)*p))
			p++;
		if (match_one(p, pe, text, num, numlen))
			return true;
		p = *pe ? pe + 1 : pe;
	}
	return false;
}

int sms_call_from_notice(struct inbox *ib, const char *patterns,
			 const struct modem_sms *p)
{
	char norm[64], num[48], sid[64], via[200];
	enum phone_kind k = phone_normalize(p->sender, norm, sizeof(norm));

	/* only an operator sends these: a resident's words stay a message */
	if (p->error || p->binary || !p->text || p->parts > 1 ||
	    (k != PHONE_ALNUM && k != PHONE_SHORTCODE) ||
	    !sms_call_match(patterns, p->text, num, sizeof(num)))
		return 0;
	sms_inbox_hash_id(sid, sizeof(sid), "sms:", "%s|%lld|%d|%d|%s",
			  p->sender, (long long)p->scts, p->ref, p->seq,
			  p->text);
	snprintf(via, sizeof(via), "notice from %s: %s", p->sender, p->text);
	log_msg(LOG_INFO, "sms from %s is a missed-call notice for %s",
		p->sender, num);
	return add(ib, num, false, via, p->scts * 1000, sid) ? -1 : 1;
}
