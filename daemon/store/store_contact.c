/* store_contact: the people who write, one row per person whatever the
 * channel (an SMS number and a WhatsApp id are one contact), found and
 * filled in as each message arrives. */
#include <string.h>

#include "store.h"
#include "store_int.h"

#define CONTACT_COLS "id, phone, wa_id, raw, kind, name, rt"

static void read_contact(sqlite3_stmt *s, struct store_contact *c)
{
	c->id = sqlite3_column_int64(s, 0);
	store_col_copy(s, 1, c->phone, sizeof(c->phone));
	store_col_copy(s, 2, c->wa_id, sizeof(c->wa_id));
	store_col_copy(s, 3, c->raw, sizeof(c->raw));
	store_col_copy(s, 4, c->kind, sizeof(c->kind));
	store_col_copy(s, 5, c->name, sizeof(c->name));
	store_col_copy(s, 6, c->rt, sizeof(c->rt));
}

/* Steps a bound contact query: the contact, STORE_NOTFOUND or STORE_ERR. */
static int contact_row(struct store *st, sqlite3_stmt *s,
		       struct store_contact *out)
{
	int r = store_step(st, s);

	if (r == SQLITE_ROW)
		read_contact(s, out);
	sqlite3_reset(s);
	return store_row_result(r);
}

static int contact_by(struct store *st, const char *sql, const char *v,
		      struct store_contact *out)
{
	sqlite3_stmt *s = store_stmt(st, sql);

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, v);
	return contact_row(st, s, out);
}

static const char SQL_C_PHONE[] =
    "SELECT " CONTACT_COLS " FROM contacts WHERE phone = ?";
static const char SQL_C_WA[] =
    "SELECT " CONTACT_COLS " FROM contacts WHERE wa_id = ?";
static const char SQL_C_RAW[] =
    "SELECT " CONTACT_COLS " FROM contacts INDEXED BY contacts_raw"
    " WHERE raw = ? AND " STORE_RAW_ONLY;
static const char SQL_C_ID[] =
    "SELECT " CONTACT_COLS " FROM contacts WHERE id = ?";
static const char SQL_C_INSERT[] =
    "INSERT INTO contacts(phone, wa_id, raw, kind, name, created_at,"
    " updated_at) VALUES(?, ?, ?, ?, ?, ?, ?)";
/* Only when it changes something: naming `name` in the SET fires the
 * trigram index's trigger (contacts_fts_au: a delete and an insert into
 * contacts_fts, with FTS5's flush) even when the name is the same, and
 * this runs for every inbound message (~9% of simpuld's CPU under a
 * webhook flood). contacts.updated_at is read by nothing. */
static const char SQL_C_FILL[] =
    "UPDATE contacts SET phone = coalesce(phone, ?1),"
    " wa_id = coalesce(wa_id, ?2), name = coalesce(?3, name),"
    " updated_at = ?4 WHERE id = ?5 AND NOT ("
    " (?1 IS NULL OR phone IS NOT NULL) AND (?2 IS NULL OR wa_id IS NOT NULL)"
    " AND (?3 IS NULL OR (staff_name IS NULL AND ?3 IS name)))";

static int contact_find(struct store *st, const char *phone, const char *wa_id,
			const char *raw, struct store_contact *out)
{
	int r = STORE_NOTFOUND;

	if (phone && *phone)
		r = contact_by(st, SQL_C_PHONE, phone, out);
	if (r == STORE_NOTFOUND && wa_id && *wa_id)
		r = contact_by(st, SQL_C_WA, wa_id, out);
	if (r == STORE_NOTFOUND && !(phone && *phone) && !(wa_id && *wa_id) &&
	    raw && *raw)
		r = contact_by(st, SQL_C_RAW, raw, out);
	return r;
}

static int contact_insert(struct store *st, const char *phone,
			  const char *wa_id, const char *raw, const char *kind,
			  const char *name, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, SQL_C_INSERT);

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, wa_id);
	store_bind_text(s, 3, raw);
	store_bind_text(s, 4, kind);
	store_bind_text(s, 5, name);
	sqlite3_bind_int64(s, 6, now);
	sqlite3_bind_int64(s, 7, now);
	if (store_exec_done(st, s))
		return STORE_ERR;
	store_fts_added(st); /* indexed in a batch (schema 19) */
	return STORE_OK;
}

static int contact_fill(struct store *st, int64_t id, const char *phone,
			const char *wa_id, const char *name, int64_t now)
{
	sqlite3_stmt *s = store_stmt(st, SQL_C_FILL);

	if (!s)
		return STORE_ERR;
	store_bind_text(s, 1, phone);
	store_bind_text(s, 2, wa_id);
	store_bind_text(s, 3, name);
	sqlite3_bind_int64(s, 4, now);
	sqlite3_bind_int64(s, 5, id);
	return store_exec_done(st, s);
}

int store_contact_upsert(struct store *st, const char *phone, const char *wa_id,
			 const char *raw, const char *kind, const char *name,
			 int64_t now_ms, struct store_contact *out)
{
	int r = contact_find(st, phone, wa_id, raw, out);

	if (r == STORE_ERR)
		return r;
	if (r == STORE_NOTFOUND) {
		if (contact_insert(st, phone, wa_id, raw, kind, name, now_ms))
			return STORE_ERR;
		return contact_find(st, phone, wa_id, raw, out);
	}
	/* Never take a wa_id that another contact already has. */
	struct store_contact other;
	if (wa_id && *wa_id && !*out->wa_id &&
	    contact_by(st, SQL_C_WA, wa_id, &other) == STORE_OK)
		wa_id = NULL;
	if (contact_fill(st, out->id, *out->phone ? NULL : phone,
			 *out->wa_id ? NULL : wa_id, name, now_ms))
		return STORE_ERR;
	if (sqlite3_changes(store_db(st)) == 0)
		return STORE_OK; /* as found: nothing to read again */
	return store_contact_get(st, out->id, out);
}

int store_contact_get(struct store *st, int64_t id, struct store_contact *out)
{
	sqlite3_stmt *s = store_stmt(st, SQL_C_ID);

	if (!s)
		return STORE_ERR;
	sqlite3_bind_int64(s, 1, id);
	return contact_row(st, s, out);
}

int store_contact_set_rt(struct store *st, int64_t id, const char *rt)
{
	static const char sql[] = "UPDATE contacts SET rt = ? WHERE id = ?";

	return store_set_text(st, sql, rt, id);
}
