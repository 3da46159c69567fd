/*
 * config.h - every setting of both daemons, read once at start.
 *
 * Settings come from the environment, then from an optional .env file in the
 * working directory (which never overrides the environment), then from the
 * defaults in the table in config.c. A missing or malformed setting is one
 * clear line of error and the process does not start.
 */
#ifndef WF_CONFIG_H
#define WF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Most children one wf-worker pool runs (its slot table's size). */
#define WORKER_PROCESSES_MAX 256

typedef struct {
	/* database */
	char *database_url;
	char *db_host;
	int db_port;
	char db_port_text[8]; /* derived: db_port as text for libpq */
	char *db_user;
	char *db_password;
	char *db_name;

	/* coordinator */
	int port;
	char *api_token;
	int batch_interval_ms;
	int sweep_interval_ms;
	int http_max_body;
	char *web_dir;
	char *public_url;

	/* worker pool */
	int worker_processes;
	char *worker_host;
	int worker_poll_ms;
	int worker_batch;
	int worker_grace_s;
	int worker_dead_after_s;
	int step_lease_s;

	/* engine */
	double delay_scale;

	/* messaging */
	char *email_mode;
	char *smtp_host;
	int smtp_port;
	char *smtp_user;
	char *smtp_pass;
	char *smtp_tls;
	int smtp_timeout_ms;
	char *from_email;
	char *sms_mode;
	char *sms_api_url;
	char *sms_api_token;
	int sms_timeout_ms;
	char *webhook_mode;
	char *webhook_secret;
	int webhook_timeout_ms;
	char *templates_dir;
	int email_rate_per_s;
	int email_domain_rate_per_s;
	int sms_rate_per_s;
	int webhook_rate_per_s;

	/* logging */
	char *log_level;
	char *log_format;
} wf_config_t;

/*
 * Loads every setting. env_file may be NULL (no file) or a path that need not
 * exist. On error returns -1 with a one-line message in err; the config is
 * then freed. The strings in cfg are owned by cfg: free with config_free().
 */
int config_load(wf_config_t *cfg, const char *env_file, char *err, size_t errlen);
void config_free(wf_config_t *cfg);

/* Prints every setting as "NAME=default" with its description, env.example style. */
void config_print_example(FILE *out);

/*
 * WEB_DIR's default: the installed editor (<datadir>/wf-engine/web) when
 * that folder exists, else web/dist of the source tree this was built
 * from when it has been built (npm run build in web/), else NULL: no
 * editor to serve. A static string.
 */
const char *config_default_web_dir(void);
/* The folder served at /: WEB_DIR when set, else its default (may be NULL). Borrowed. */
const char *config_web_dir(const wf_config_t *cfg);

/* The connection settings as libpq keyword/value arrays (NULL-terminated; the strings belong to cfg). */
void config_db_params(const wf_config_t *cfg, const char *application_name,
		      const char **keys, const char **values, size_t max);

#endif
