/* store_ui: the store's part for the staff inbox: users, sessions,
 * private notes, the audit trail, one conversation as the UI shows it,
 * and the revision number the UI polls (the list: store_list.h). Same
 * module as store.c (SQL stays inside store*.c). */
#ifndef SIMPUL_STORE_UI_H
#define SIMPUL_STORE_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"
#include "store_list.h"

struct store_user {
	int64_t id;
	char name[64];
	char role[8];	/* "staff" | "admin" */
	char hash[192]; /* crypto_pwhash_str (argon2id) */
	bool disabled;
};

/* STORE_DUP when the name is taken. */
int store_user_add(struct store *st, const char *name, const char *role,
		   const char *hash, int64_t now_ms);
/* Replaces the password hash (and role) of an existing user. */
int store_user_update(struct store *st, const char *name, const char *role,
		      const char *hash);
int store_user_get(struct store *st, const char *name, struct store_user *out);
/* name is a user with the admin role. */
bool store_user_is_admin(struct store *st, const char *name);
/* [{"name","role","disabled"}] of enabled users (all: disabled ones too),
 * by name. */
json_t *store_users_json(struct store *st, bool all);
/* Disabling or deleting a user ends their sessions at once, and so does a
 * new password (store_user_update). STORE_NOTFOUND when no such user. */
int store_user_disable(struct store *st, const char *name);
int store_user_delete(struct store *st, const char *name);

int store_session_add(struct store *st, const char *token_hash, int64_t user_id,
		      const char *csrf, const char *peer, int64_t now_ms,
		      int64_t expires_ms);
/* The unexpired session's user and CSRF token, or STORE_NOTFOUND. */
int store_session_get(struct store *st, const char *token_hash, int64_t now_ms,
		      struct store_user *user, char *csrf, size_t csrflen);
int store_session_del(struct store *st, const char *token_hash);
/* Deletes expired sessions; returns how many. */
int store_session_purge(struct store *st, int64_t now_ms);

int64_t store_note_add(struct store *st, int64_t conversation_id,
		       const char *author, const char *body, int64_t now_ms);
/* As store_note_add, unless the conversation's newest note is this same
 * body by the same author: then nothing is written and 0 is returned. A
 * condition that holds at every message (a rule that cannot reach the
 * Ketua RT) is told to the clerk once, not once per message. */
int64_t store_note_add_once(struct store *st, int64_t conversation_id,
			    const char *author, const char *body,
			    int64_t now_ms);
int store_audit(struct store *st, const char *user, const char *action,
		int64_t conversation_id, const char *detail, int64_t now_ms);

/* store_conversation_json plus what the UI shows: notes, unread,
 * channels, overdue, last_in_at. */
json_t *store_conversation_ui_json(struct store *st, int64_t id, int64_t now_ms,
				   int tz);
int store_conversation_read(struct store *st, int64_t id);
/* How many messages the resident wrote in the conversation. */
int64_t store_conversation_inbound(struct store *st, int64_t id);
/* Grows with every new message, status change, note or edit. */
int64_t store_ui_rev(struct store *st);
/* fn runs inside every commit (also of single statements): it must not
 * touch the store and must return 0 (else the commit turns into a
 * rollback, sqlite3_commit_hook). One hook per store; NULL removes it. */
void store_on_commit(struct store *st, int (*fn)(void *ud), void *ud);
/* The downloaded media file of a message: its path, MIME type and a
 * file name to offer; STORE_NOTFOUND when there is none (yet). */
int store_message_media_file(struct store *st, int64_t id, char *file,
			     size_t filelen, char *mime, size_t mimelen,
			     char *name, size_t namelen);

#endif
