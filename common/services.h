/*
 * services.h - what node executors use from the outside world: the email
 * templates, the delivery clients' settings, and a read-only look at the
 * database (to skip a send that already happened). A worker child owns one
 * services_t for its life; SIGHUP replaces the child, and with it this.
 */
#ifndef WF_SERVICES_H
#define WF_SERVICES_H

#include <stdbool.h>

#include "config.h"
#include "db.h"
#include "email.h"
#include "sms.h"
#include "template_set.h"
#include "webhook.h"

typedef struct services {
	const wf_config_t *cfg;
	tpl_set_t *templates;
	email_settings_t email;
	sms_settings_t sms;
	webhook_settings_t webhook;
	db_t *db;		/* borrowed; NULL outside a worker */
} services_t;

/*
 * Loads the templates of TEMPLATES_DIR (its default when unset) and fills
 * the clients' settings. db may be NULL. Returns 0, or -1 with the reason
 * (e.g. "templates/x/html.hbs:3:7: ...") in err: a configuration error.
 */
int services_init(services_t *svc, const wf_config_t *cfg, db_t *db, char *err, size_t errlen);
void services_free(services_t *svc);

/* The templates folder in use: TEMPLATES_DIR or its default. Borrowed. */
const char *services_templates_dir(const wf_config_t *cfg);

/*
 * True when log_table ("email_logs", "sms_logs", "webhook_logs") already
 * holds a 'sent' row for this execution and node: a replayed or re-run step
 * must not send again. False when unknown (no database).
 */
bool services_already_sent(const services_t *svc, const char *log_table, const char *execution_id,
			   const char *node_id);

/*
 * Takes a token from the fleet-wide bucket key, refilled at rate per second
 * (burst: one second's worth). Returns 0 when taken (or rate is 0: no
 * limit, or there is no database), else the seconds to wait.
 */
double services_rate_wait(const services_t *svc, const char *key, int rate);

#endif
