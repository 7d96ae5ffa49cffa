/* api_ui: the staff inbox's part of the API (login, the conversation
 * list, actions on a conversation, media, live changes) and the static
 * web UI. Internal to the api module: api.c calls it. */
#ifndef SIMPUL_API_UI_H
#define SIMPUL_API_UI_H

#include <stdint.h>
#include <jansson.h>

struct app;
struct api_ui;
struct http_req;
struct http_resp;

/* Also installs the session check (auth.h) as the http auth hook. */
struct api_ui *api_ui_new(struct app *app);
/* Answers the logins still being checked (before http_free). */
void api_ui_stop(struct api_ui *u);
void api_ui_free(struct api_ui *u);
int api_ui_routes(struct api_ui *u);
/* POST /api/v1/conversations/{id}/{action} for every action but reply:
 * status, assign, category, notes, rt, read. */
void api_ui_conversation_action(struct api_ui *u, struct http_req *req,
				struct http_resp *resp, int64_t id,
				const char *action, json_t *body);

#endif
