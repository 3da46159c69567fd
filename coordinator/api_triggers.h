/*
 * api_triggers.h - creating trigger rows, shared by the trigger endpoints
 * and the test endpoints (which make "test-" rows).
 */
#ifndef WF_API_TRIGGERS_H
#define WF_API_TRIGGERS_H

#include <stdbool.h>

#include "api.h"

/*
 * Inserts a subscription (and its user, when given by email) in one
 * transaction; 201 with ids. An email matches an existing user regardless of
 * case, or, with exact, only as written (the test endpoints' "test-" rows).
 */
void api_create_subscription(db_t *db, api_reply_t *reply, const char *user_id, const char *email,
			     const char *name, const char *type, bool exact);
/* Inserts a newsletter signup; 201 with its id. */
void api_create_newsletter(db_t *db, api_reply_t *reply, const char *user_id, const char *email,
			   const char *name);
/* Checks user_id/email/name of a request body; false after answering 400. */
bool api_check_person(http_request_t *req, const cJSON *body, char *user_id, size_t size,
		      bool *has_user);

extern const http_route_t api_trigger_routes[];
extern const size_t api_trigger_routes_count;

#endif
