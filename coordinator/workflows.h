/*
 * workflows.h - definitions as the coordinator stores and checks them.
 */
#ifndef WF_WORKFLOWS_H
#define WF_WORKFLOWS_H

#include <cjson/cJSON.h>

#include "db.h"
#include "definition.h"
#include "template_set.h"

/*
 * A resolver that looks other workflows up in the database, for shared_flow
 * checks, and cron time zones in pg_timezone_names. Trees it returns stay
 * valid until workflows_resolver_free.
 */
typedef struct {
	def_resolver_t resolver;
	db_t *db;
	cJSON *loaded; /* name -> definition, owned */
} workflows_resolver_t;

/* Holds the templates read lock until workflows_resolver_free: template names are checked too. */
void workflows_resolver_init(workflows_resolver_t *r, db_t *db);
void workflows_resolver_free(workflows_resolver_t *r);

/*
 * The email templates that definitions are checked against (send_email's
 * "template"). Takes ownership of set and frees the one it replaces, once no
 * validation uses it. NULL: names are not checked.
 */
void workflows_set_templates(tpl_set_t *set);

/*
 * The names of those templates in name order, as a new JSON array the
 * caller deletes; NULL when no set is loaded (names are not checked).
 */
cJSON *workflows_template_names(void);

/*
 * Validates every workflow whose definition was written without validation
 * (valid IS NULL, e.g. by plain SQL) and records the verdict and problems,
 * however many there are. Returns how many were checked, or -1 on a
 * database error.
 */
int workflows_validate_pending(db_t *db);

/*
 * The same for the workflow called name only, if it is pending; waits for a
 * session that holds its row (another validator, say), where the jobs skip
 * such a row, so that the caller then reads a verdict.
 */
int workflows_validate_named(db_t *db, const char *name);

#endif
