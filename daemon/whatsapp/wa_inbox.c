/* wa_inbox: a parsed webhook into the store (see wa_inbox.h). */
#include "wa_inbox.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"
#include "wa_parse.h"

static char *media_json(const struct wa_message *m)
{
	json_t *j =
	    json_pack("{ss ss* ss* ss* sb}", "id", m->media.id, "mime_type",
		      m->media.mime_type, "sha256", m->media.sha256, "filename",
		      m->media.filename, "voice", m->media.voice);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	return s;
}

enum inbox_result wa_inbox_message(struct inbox *ib, const struct wa_message *m,
				   int64_t *id)
{
	char *media = m->media.id ? media_json(m) : NULL;
	struct inbox_msg in = {
	    .channel = "whatsapp",
	    .from = m->from ? m->from : m->user_id,
	    .wa_user_id = m->wa_only,
	    .name = m->profile_name,
	    .body = m->body[0] ? m->body : wa_msg_label(m),
	    .at_ms = m->ts_ms,
	    .source_id = m->wamid,
	    .kind = m->type_name,
	    .raw = m->raw,
	    .media = media,
	    .error = m->error.code ? m->error.message : NULL,
	};
	enum inbox_result r = inbox_add(ib, &in, id);

	free(media);
	return r;
}

int wa_inbox_status(struct store *st, const struct wa_status *s)
{
	int64_t id;
	char cur[16], why[400] = "";
	int r = store_message_by_external(st, s->wamid, &id, cur, sizeof(cur));

	if (r == STORE_NOTFOUND)
		return 0; /* not ours (or sent by another tool): ignore */
	if (r != STORE_OK)
		return -1;
	if (!wa_status_supersedes(cur, s->status))
		return 0; /* never downgrade: read stays read */
	if (s->nerrors)
		snprintf(why, sizeof(why), "WhatsApp %ld: %s%s%s",
			 s->errors[0].code, s->errors[0].title,
			 s->errors[0].details[0] ? " - " : "",
			 s->errors[0].details);
	return store_message_status(st, id, s->status, why[0] ? why : NULL);
}
