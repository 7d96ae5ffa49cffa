/* store_people: what staff know about a person (the name they gave, RT,
 * RW, notes) and the contact page: one person with every conversation on
 * both channels. Part of the store module (SQL stays in store*.c). */
#ifndef SIMPUL_STORE_PEOPLE_H
#define SIMPUL_STORE_PEOPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "store.h"

/* Which of the staff-editable fields to set: NULL leaves a field as it
 * is, "" clears it. */
struct store_contact_edit {
	const char *name, *rt, *rw, *notes;
};

/* STORE_OK, STORE_NOTFOUND or STORE_ERR. */
int store_contact_edit(struct store *st, int64_t id,
		       const struct store_contact_edit *e, int64_t now_ms);
/* {"contact":{id,name,profile_name,phone,wa_id,raw,kind,rt,rw,notes},
 *  "conversations":[{id,status,category,ticket,opened_at,updated_at,
 *  channels,last}]}, newest first; NULL when there is no such contact. */
json_t *store_contact_page_json(struct store *st, int64_t id, int tz);
/* [{"slug","count"}]: the categories conversations have, most used
 * first (the UI shows their labels). */
json_t *store_categories_json(struct store *st);

/* The satisfaction survey. survey_asked: "Balas 1-5" went out now.
 * survey_waiting: the contact's conversation asked since since_ms and not
 * answered yet (its id), 0 when none, -1 on error. survey_answer: stores
 * the score on that conversation and moves the answering message there,
 * dropping the conversation the answer opened if it holds nothing else. */
int store_survey_asked(struct store *st, int64_t conv_id, int64_t now_ms);
int64_t store_survey_waiting(struct store *st, int64_t contact_id,
			     int64_t since_ms);
int store_survey_answer(struct store *st, int64_t conv_id, int score,
			int64_t message_id, int64_t opened_conv_id);

#endif
