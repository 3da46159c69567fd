/*
 * services.c - set-up of the executors' services.
 */
#include "services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *services_templates_dir(const wf_config_t *cfg)
{
	return cfg->templates_dir && *cfg->templates_dir ? cfg->templates_dir : tpl_default_dir();
}

int services_init(services_t *svc, const wf_config_t *cfg, db_t *db, char *err, size_t errlen)
{
	memset(svc, 0, sizeof(*svc));
	svc->cfg = cfg;
	svc->db = db;
	if (tpl_set_load(services_templates_dir(cfg), &svc->templates, err, errlen) < 0)
		return -1;
	email_settings_from_config(&svc->email, cfg);
	sms_settings_from_config(&svc->sms, cfg);
	webhook_settings_from_config(&svc->webhook, cfg);
	return 0;
}

void services_free(services_t *svc)
{
	if (svc == NULL)
		return;
	tpl_set_free(svc->templates);
	svc->templates = NULL;
}

bool services_already_sent(const services_t *svc, const char *log_table, const char *execution_id,
			   const char *node_id)
{
	static const struct {
		const char *table, *sql;
	} queries[] = {
		{ "email_logs", "SELECT 1 FROM email_logs WHERE execution_id = $1::uuid AND node_id = $2 AND status = 'sent'" },
		{ "sms_logs", "SELECT 1 FROM sms_logs WHERE execution_id = $1::uuid AND node_id = $2 AND status = 'sent'" },
		{ "webhook_logs", "SELECT 1 FROM webhook_logs WHERE execution_id = $1::uuid AND node_id = $2 AND status = 'sent'" },
	};
	const char *params[2] = { execution_id, node_id };

	if (svc == NULL || svc->db == NULL)
		return false;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		if (strcmp(queries[i].table, log_table) == 0) {
			PGresult *res = db_query(svc->db, queries[i].sql, 2, params);
			bool sent = db_ok(res) && PQntuples(res) > 0;

			PQclear(res);
			return sent;
		}
	}
	return false;
}

double services_rate_wait(const services_t *svc, const char *key, int rate)
{
	char rate_text[24];
	const char *params[3] = { key, rate_text, rate_text };
	PGresult *res;
	double wait = 0;

	if (rate <= 0 || svc == NULL || svc->db == NULL)
		return 0;
	snprintf(rate_text, sizeof(rate_text), "%d", rate);
	res = db_query(svc->db, "SELECT wf_rate_take($1, $2::float8, $3::float8)", 3, params);
	/* A limit that cannot be checked does not hold the message back. */
	if (db_ok(res))
		wait = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	return wait;
}
