/* WhatsApp Cloud API webhook: signature, handshake, payload -> events. */
#include "wa_parse.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_PREFIX "sha256="

int wa_verify_signature(const char *app_secret, const void *body, size_t len,
			const char *header)
{
	unsigned char want[crypto_auth_hmacsha256_BYTES];
	unsigned char got[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	size_t glen = 0;
	const char *end = NULL;

	if (!app_secret || !*app_secret || !header || (!body && len))
		return -1;
	if (strncmp(header, SIG_PREFIX, strlen(SIG_PREFIX)) != 0)
		return -1;
	header += strlen(SIG_PREFIX);
	if (strlen(header) != 2 * sizeof(got))
		return -1;
	if (sodium_hex2bin(got, sizeof(got), header, strlen(header), NULL,
			   &glen, &end) != 0 ||
	    glen != sizeof(got) || *end != '\0')
		return -1;
	if (sodium_init() < 0)
		return -1;
	/* The app secret is used as raw bytes of any length (RFC 2104), so
	 * the one-shot API with its fixed 32-byte key does not fit. */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)app_secret,
				    strlen(app_secret));
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, want);
	int r = sodium_memcmp(want, got, sizeof(got));
	sodium_memzero(&st, sizeof(st));
	return r == 0 ? 0 : -1;
}

int wa_verify_subscribe(const char *mode, const char *token,
			const char *challenge, const char *verify_token)
{
	if (!mode || strcmp(mode, "subscribe") != 0)
		return -1;
	if (!token || !verify_token || !*verify_token || !challenge ||
	    !*challenge)
		return -1;
	size_t n = strlen(verify_token);
	if (strlen(token) != n)
		return -1;
	return sodium_memcmp(token, verify_token, n) == 0 ? 0 : -1;
}

/* ---- the batch and the strings it owns ---- */

struct priv {
	json_t *root;
	char **owned;
	size_t nowned, capowned;
	bool oom;
};

static const char *own(struct wa_batch *b, char *s)
{
	struct priv *p = b->priv;

	if (!s) {
		p->oom = true;
		return "";
	}
	if (p->nowned == p->capowned) {
		size_t cap = p->capowned ? 2 * p->capowned : 32;
		char **n = realloc(p->owned, cap * sizeof(*n));
		if (!n) {
			free(s);
			p->oom = true;
			return "";
		}
		p->owned = n;
		p->capowned = cap;
	}
	p->owned[p->nowned++] = s;
	return s;
}

static const char *ownf(struct wa_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *ownf(struct wa_batch *b, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return own(b, s);
}

void wa_batch_free(struct wa_batch *b)
{
	if (!b)
		return;
	struct priv *p = b->priv;
	if (p) {
		for (size_t i = 0; i < p->nowned; i++)
			free(p->owned[i]);
		free(p->owned);
		json_decref(p->root);
		free(p);
	}
	for (size_t i = 0; i < b->nstatuses; i++)
		free(b->statuses[i].errors);
	free(b->messages);
	free(b->statuses);
	free(b->errors);
	free(b);
}

static void skip(struct wa_batch *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void skip(struct wa_batch *b, const char *fmt, ...)
{
	if (b->nskipped++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(b->warning, sizeof(b->warning), fmt, ap);
		va_end(ap);
	}
}

/* Grows an array of elements of size sz by one; returns the new element,
 * zeroed, or NULL. */
static void *grow(void **arr, size_t *n, size_t sz)
{
	void *p = realloc(*arr, (*n + 1) * sz);

	if (!p)
		return NULL;
	*arr = p;
	void *e = (char *)p + *n * sz;
	memset(e, 0, sz);
	(*n)++;
	return e;
}

/* ---- small JSON helpers: wrong types read as absent ---- */

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	const char *s = json_string_value(v);

	return s && *s ? s : NULL;
}

static const char *jstr0(const json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return s ? s : "";
}

static json_t *jobj(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_object(v) ? v : NULL;
}

static json_t *jarr(const json_t *o, const char *key)
{
	json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	return json_is_array(v) ? v : NULL;
}

/* Meta sends seconds as a decimal string; some relays send numbers or
 * milliseconds. Anything above 1e11 cannot be seconds (year 5138), so it
 * is taken as milliseconds. */
static int64_t jtime_ms(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
	long long t = 0;

	if (json_is_string(v)) {
		char *end;
		t = strtoll(json_string_value(v), &end, 10);
		if (end == json_string_value(v) || *end)
			return 0;
	} else if (json_is_integer(v)) {
		t = json_integer_value(v);
	} else if (json_is_real(v)) {
		t = (long long)json_real_value(v);
	}
	if (t <= 0)
		return 0;
	return t > 100000000000LL ? t : t * 1000;
}

static long jlong(const json_t *o, const char *key)
{
	const json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;

	if (json_is_integer(v))
		return (long)json_integer_value(v);
	if (json_is_string(v))
		return strtol(json_string_value(v), NULL, 10);
	return 0;
}

static void parse_error(const json_t *e, struct wa_error *out)
{
	out->code = jlong(e, "code");
	out->title = jstr0(e, "title");
	out->message = jstr0(e, "message");
	out->details = jstr0(jobj(e, "error_data"), "details");
}

/* ---- message types ---- */

static const struct {
	const char *name;
	enum wa_msg_type type;
	const char *label;
} types[] = {
    {"text", WA_MSG_TEXT, "Pesan"},
    {"image", WA_MSG_IMAGE, "Gambar"},
    {"video", WA_MSG_VIDEO, "Video"},
    {"audio", WA_MSG_AUDIO, "Audio"},
    {"document", WA_MSG_DOCUMENT, "Dokumen"},
    {"sticker", WA_MSG_STICKER, "Stiker"},
    {"location", WA_MSG_LOCATION, "Lokasi"},
    {"contacts", WA_MSG_CONTACTS, "Kontak"},
    {"interactive", WA_MSG_INTERACTIVE, "Balasan pilihan"},
    {"button", WA_MSG_BUTTON, "Balasan tombol"},
    {"reaction", WA_MSG_REACTION, "Reaksi"},
    {"system", WA_MSG_SYSTEM, "Pemberitahuan sistem"},
    {"unsupported", WA_MSG_UNSUPPORTED, "Jenis pesan tidak didukung"},
};

static enum wa_msg_type type_of(const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return types[i].type;
	return WA_MSG_UNKNOWN;
}

const char *wa_msg_type_name(enum wa_msg_type t)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == t)
			return types[i].name;
	return "unknown";
}

const char *wa_msg_label(const struct wa_message *m)
{
	if (m->type == WA_MSG_AUDIO && m->media.voice)
		return "Pesan suara";
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == m->type)
			return types[i].label;
	return "Pesan jenis baru";
}

static void media_of(struct wa_message *m, const json_t *o)
{
	if (!o)
		return;
	m->media.id = jstr(o, "id");
	m->media.mime_type = jstr(o, "mime_type");
	m->media.sha256 = jstr(o, "sha256");
	m->media.filename = jstr(o, "filename");
	m->media.voice = json_is_true(json_object_get(o, "voice"));
	m->body = jstr0(o, "caption");
}

static void body_location(struct wa_batch *b, struct wa_message *m,
			  const json_t *o)
{
	const json_t *la = json_object_get(o, "latitude");
	const json_t *lo = json_object_get(o, "longitude");
	const char *name = jstr(o, "name"), *addr = jstr(o, "address");
	char where[256] = "";

	if (json_is_number(la) && json_is_number(lo))
		snprintf(where, sizeof(where), "(%.10g, %.10g)",
			 json_number_value(la), json_number_value(lo));
	m->body =
	    ownf(b, "📍 %s%s%s%s%s", name ? name : "", name && addr ? ", " : "",
		 addr ? addr : "", (name || addr) && *where ? " " : "", where);
}

/* "Kontak: Budi Santoso (+62 812-3456-7890, +62 21 555); Siti (...)" */
static void body_contacts(struct wa_batch *b, struct wa_message *m,
			  const json_t *arr)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	size_t i, j;
	json_t *c, *ph;

	if (!f) {
		m->body = "";
		return;
	}
	fputs("Kontak:", f);
	json_array_foreach(arr, i, c)
	{
		const char *nm = jstr(jobj(c, "name"), "formatted_name");
		if (!nm)
			nm = jstr(jobj(c, "name"), "first_name");
		fprintf(f, "%s %s", i ? ";" : "", nm ? nm : "(tanpa nama)");
		size_t k = 0;
		json_array_foreach(jarr(c, "phones"), j, ph)
		{
			const char *p = jstr(ph, "phone");
			if (!p)
				p = jstr(ph, "wa_id");
			if (p)
				fprintf(f, "%s%s", k++ ? ", " : " (", p);
		}
		if (k)
			fputc(')', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		buf = NULL;
	}
	m->body = own(b, buf);
}

static void body_interactive(struct wa_message *m, const json_t *o)
{
	const json_t *r;

	if ((r = jobj(o, "button_reply")) || (r = jobj(o, "list_reply"))) {
		m->body = jstr0(r, "title");
		m->reply_id = jstr(r, "id");
	} else if ((r = jobj(o, "nfm_reply"))) {
		/* A Flow answer: response_json is a JSON string of the form's
		 * fields; the caller may store it from raw. */
		m->body = jstr(r, "body") ? jstr(r, "body")
					  : jstr0(r, "response_json");
		m->reply_id = jstr(r, "name");
	}
}

static void fill_type(struct wa_batch *b, struct wa_message *m,
		      const json_t *msg)
{
	const json_t *o = jobj(msg, m->type_name);

	switch (m->type) {
	case WA_MSG_TEXT:
		m->body = jstr0(o, "body");
		break;
	case WA_MSG_IMAGE:
	case WA_MSG_VIDEO:
	case WA_MSG_AUDIO:
	case WA_MSG_DOCUMENT:
	case WA_MSG_STICKER:
		media_of(m, o);
		break;
	case WA_MSG_LOCATION:
		if (o)
			body_location(b, m, o);
		break;
	case WA_MSG_CONTACTS:
		if (jarr(msg, "contacts"))
			body_contacts(b, m, jarr(msg, "contacts"));
		break;
	case WA_MSG_INTERACTIVE:
		body_interactive(m, o);
		break;
	case WA_MSG_BUTTON:
		m->body = jstr0(o, "text");
		m->reply_id = jstr(o, "payload");
		break;
	case WA_MSG_REACTION:
		/* An empty emoji means the reaction was removed. */
		m->body = jstr0(o, "emoji");
		m->reaction_to = jstr(o, "message_id");
		break;
	case WA_MSG_SYSTEM:
		m->body = jstr0(o, "body");
		break;
	case WA_MSG_UNSUPPORTED:
	case WA_MSG_UNKNOWN:
		break;
	}
}

/* Finds the contacts[] entry of the sender: by phone, then by BSUID, then
 * the only entry (Meta sends one contact per change for one sender). */
static const json_t *contact_of(const json_t *contacts, const char *from,
				const char *user_id)
{
	size_t i;
	json_t *c;

	json_array_foreach(contacts, i, c)
	{
		if (from && jstr(c, "wa_id") && !strcmp(jstr(c, "wa_id"), from))
			return c;
		if (user_id && jstr(c, "user_id") &&
		    !strcmp(jstr(c, "user_id"), user_id))
			return c;
	}
	if (json_array_size(contacts) == 1)
		return json_array_get(contacts, 0);
	return NULL;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void parse_message(struct wa_batch *b, const json_t *msg,
			  const json_t *contacts, const char *pnid)
{
	const char *id = jstr(msg, "id");

	if (!id) {
		skip(b, "messages[] element without an id");
		return;
	}
	const char *from = jstr(msg, "from");
	const char *uid = jstr(msg, "from_user_id");
	if (!uid)
		uid = jstr(msg, "user_id");
	const json_t *c = contact_of(contacts, from, uid);
	if (!from)
		from = jstr(c, "wa_id");
	if (!uid)
		uid = jstr(c, "user_id");
	/* A BSUID ("ID.123...") in from would be taken for a phone number
	 * and get SMS fallbacks: keep only digit strings there. */
	if (from && !all_digits(from)) {
		if (!uid)
			uid = from;
		from = NULL;
	}
	if (!from && !uid) {
		skip(b, "message %s has no sender (from, user_id)", id);
		return;
	}
	struct wa_message *m =
	    grow((void **)&b->messages, &b->nmessages, sizeof(*m));
	if (!m) {
		((struct priv *)b->priv)->oom = true;
		return;
	}
	m->phone_number_id = pnid;
	m->wamid = id;
	m->from = from;
	m->user_id = uid;
	m->wa_only = from == NULL;
	m->profile_name = jstr(jobj(c, "profile"), "name");
	m->username = jstr(jobj(c, "profile"), "username");
	m->ts_ms = jtime_ms(msg, "timestamp");
	m->type_name = jstr(msg, "type") ? jstr(msg, "type") : "unknown";
	m->type = type_of(m->type_name);
	m->body = "";
	m->context_id = jstr(jobj(msg, "context"), "id");
	if (json_array_size(jarr(msg, "errors")))
		parse_error(json_array_get(jarr(msg, "errors"), 0), &m->error);
	fill_type(b, m, msg);
	m->raw = own(b, json_dumps(msg, JSON_COMPACT | JSON_ENSURE_ASCII));
}

static void parse_status(struct wa_batch *b, const json_t *st, const char *pnid)
{
	const char *id = jstr(st, "id"), *status = jstr(st, "status");
	size_t i;
	json_t *e;

	if (!id || !status) {
		skip(b, "statuses[] element without id or status");
		return;
	}
	struct wa_status *s =
	    grow((void **)&b->statuses, &b->nstatuses, sizeof(*s));
	if (!s) {
		((struct priv *)b->priv)->oom = true;
		return;
	}
	s->phone_number_id = pnid;
	s->wamid = id;
	s->status = status;
	s->ts_ms = jtime_ms(st, "timestamp");
	s->recipient_id = jstr(st, "recipient_id");
	s->recipient_user_id = jstr(st, "recipient_user_id");
	s->conversation_id = jstr(jobj(st, "conversation"), "id");
	s->pricing_category = jstr(jobj(st, "pricing"), "category");
	json_t *errs = jarr(st, "errors");
	if (!json_array_size(errs))
		return;
	s->errors = calloc(json_array_size(errs), sizeof(*s->errors));
	if (!s->errors) {
		((struct priv *)b->priv)->oom = true;
		return;
	}
	json_array_foreach(errs, i, e) parse_error(e, &s->errors[s->nerrors++]);
}

static void parse_value(struct wa_batch *b, const json_t *v)
{
	const char *pnid = jstr(jobj(v, "metadata"), "phone_number_id");
	const json_t *contacts = jarr(v, "contacts");
	size_t i;
	json_t *e;

	json_array_foreach(jarr(v, "messages"), i, e)
	{
		if (json_is_object(e))
			parse_message(b, e, contacts, pnid);
		else
			skip(b, "messages[%zu] is not an object", i);
	}
	json_array_foreach(jarr(v, "statuses"), i, e)
	{
		if (json_is_object(e))
			parse_status(b, e, pnid);
		else
			skip(b, "statuses[%zu] is not an object", i);
	}
	json_array_foreach(jarr(v, "errors"), i, e)
	{
		struct wa_error *we =
		    grow((void **)&b->errors, &b->nerrors, sizeof(*we));
		if (!we) {
			((struct priv *)b->priv)->oom = true;
			return;
		}
		parse_error(e, we);
	}
}

static void parse_entries(struct wa_batch *b, const json_t *entries)
{
	size_t i, j;
	json_t *en, *ch;

	json_array_foreach(entries, i, en)
	{
		json_t *changes = jarr(en, "changes");
		if (!changes) {
			skip(b, "entry[%zu] has no changes[]", i);
			continue;
		}
		json_array_foreach(changes, j, ch)
		{
			json_t *v = jobj(ch, "value");
			if (!v) {
				skip(b, "entry[%zu].changes[%zu] has no value",
				     i, j);
				continue;
			}
			parse_value(b, v);
		}
	}
}

int wa_parse(const char *body, size_t len, struct wa_batch **out, char *err,
	     size_t errlen)
{
	json_error_t je;
	struct wa_batch *b = NULL;
	struct priv *p = NULL;
	json_t *root;

	*out = NULL;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen,
			 "webhook body is not valid JSON: %s at line %d "
			 "column %d",
			 je.text, je.line, je.column);
		return -1;
	}
	const char *obj = jstr(root, "object");
	if (!json_is_object(root) || !obj ||
	    strcmp(obj, "whatsapp_business_account") != 0) {
		snprintf(err, errlen,
			 "webhook body is not a WhatsApp Business Account "
			 "event (object=%s)",
			 obj ? obj : "missing");
		json_decref(root);
		return -1;
	}
	b = calloc(1, sizeof(*b));
	p = calloc(1, sizeof(*p));
	if (!b || !p) {
		free(b);
		free(p);
		json_decref(root);
		snprintf(err, errlen, "out of memory parsing the webhook");
		return -1;
	}
	p->root = root;
	b->priv = p;
	if (jarr(root, "entry"))
		parse_entries(b, jarr(root, "entry"));
	else
		skip(b, "no entry[] array");
	if (p->oom) {
		wa_batch_free(b);
		snprintf(err, errlen, "out of memory parsing the webhook");
		return -1;
	}
	*out = b;
	return 0;
}

/* ---- status ordering ---- */

int wa_status_rank(const char *s)
{
	static const char *const ladder[] = {"sent", "delivered", "read",
					     "played"};

	if (!s)
		return 0;
	for (int i = 0; i < 4; i++)
		if (strcmp(s, ladder[i]) == 0)
			return i + 1;
	if (strcmp(s, "failed") == 0)
		return -1;
	if (strcmp(s, "deleted") == 0)
		return 9;
	return 0;
}

bool wa_status_supersedes(const char *cur, const char *next)
{
	int c = wa_status_rank(cur), n = wa_status_rank(next);

	if (n == 0)
		return false; /* unknown: never overwrite anything */
	if (c == 9)
		return false; /* deleted is final */
	if (n == 9)
		return true;
	if (n == -1)
		return c <= 1 && c != -1; /* nothing or sent */
	if (c == -1)
		return n >= 2; /* delivery proves the failure stale */
	return n > c;
}
