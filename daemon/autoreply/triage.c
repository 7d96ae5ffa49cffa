#include "triage.h"

#include <ctype.h>
#include <string.h>

#include "store.h"
#include "store_ui.h"

/* Phrases residents use for "let me talk to someone" or "that did not
 * help", as written in SMS (doc/field.md: abbreviations, no accents). */
static const char *const person_phrases[] = {
    "petugas",	      "operator",    "bicara dengan",  "ngomong sama",
    "telepon saya",   "telpon saya", "hubungi saya",   "tidak paham",
    "tdk paham",      "gak paham",   "ga paham",       "nggak paham",
    "kurang paham",   "belum paham", "tidak mengerti", "tdk mengerti",
    "gak ngerti",     "ga ngerti",   "nggak ngerti",   "bingung",
    "tidak membantu", "bukan itu",   "orang asli",     "manusia",
};

bool triage_wants_person(const char *text)
{
	char low[512];
	size_t n = 0;

	if (!text)
		return false;
	for (; *text && n + 1 < sizeof(low); text++)
		low[n++] = (char)tolower((unsigned char)*text);
	low[n] = '\0';
	for (size_t i = 0; i < sizeof(person_phrases) / sizeof(*person_phrases);
	     i++)
		if (strstr(low, person_phrases[i]))
			return true;
	return false;
}

/* In full: a rule matched and its reply went out, and it asked for no
 * follow-up by staff (no ticket, no Ketua RT, not the closed-hours or
 * fallback reply, not the menu or a numbered choice that waits for a
 * digit). */
static bool answered_in_full(const struct rules_result *res)
{
	if (!res || res->suppressed)
		return false;
	if (res->status_query)
		return true; /* CEK: answered from the ticket */
	if (!res->reply || !res->matched)
		return false;
	if (res->closer)
		return true;
	if (res->ticket || res->rt_confirm || res->closed_reply || res->menu ||
	    res->nchoices > 1 || res->silent)
		return false;
	/* the fallback rules ("Pesan Anda sudah diterima") answer nothing */
	return res->category && strcmp(res->category, "lainnya") != 0;
}

int triage_after_rules(struct inbox_ctx *ctx, const struct rules_result *res)
{
	struct store_conversation c;
	const char *to = NULL;

	if (store_conversation_get(ctx->st, ctx->conv.id, &c) != STORE_OK)
		return -1;
	bool is_auto = strcmp(c.status, "otomatis") == 0;
	if (!is_auto && strcmp(c.status, "baru") != 0)
		return 0;
	bool done = answered_in_full(res) &&
		    !triage_wants_person(ctx->msg->body) && !c.ticket[0];
	if (done && !is_auto && store_conversation_inbound(ctx->st, c.id) == 1)
		to = "otomatis"; /* its first and only question, answered */
	else if (!done && is_auto)
		to = "baru";
	if (!to)
		return 0;
	return store_conversation_set(ctx->st, c.id, "status", to,
				      ctx->now_ms) == STORE_ERR
		   ? -1
		   : 0;
}
