/*
 * config.c - the settings table and its loader.
 *
 * The table below is the only place a setting is named: its type, default,
 * bounds and meaning. env.example is printed from it, so the documentation
 * cannot drift from the code.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "email.h"
#include "http_client.h"

typedef enum { SET_STRING, SET_INT, SET_DOUBLE, SET_CHOICE } setting_type_t;

typedef struct {
	const char *name;
	setting_type_t type;
	size_t offset;
	const char *default_value; /* NULL: unset */
	long min, max;		   /* SET_INT */
	const char *choices;	   /* SET_CHOICE: "a|b|c" */
	const char *help;
} setting_t;

#define STR(n, f, d, h) { n, SET_STRING, offsetof(wf_config_t, f), d, 0, 0, NULL, h }
#define INT(n, f, d, lo, hi, h) { n, SET_INT, offsetof(wf_config_t, f), d, lo, hi, NULL, h }
#define DBL(n, f, d, h) { n, SET_DOUBLE, offsetof(wf_config_t, f), d, 0, 0, NULL, h }
#define CHOICE(n, f, d, c, h) { n, SET_CHOICE, offsetof(wf_config_t, f), d, 0, 0, c, h }

static const setting_t settings[] = {
	STR("DATABASE_URL", database_url, NULL, "libpq connection URI; overrides the five DB_* settings"),
	STR("DB_HOST", db_host, "localhost", "PostgreSQL host name or unix socket directory"),
	INT("DB_PORT", db_port, "5432", 1, 65535, "PostgreSQL port"),
	STR("DB_USER", db_user, "workflow_user", "PostgreSQL user"),
	STR("DB_PASSWORD", db_password, "workflow_password", "PostgreSQL password"),
	STR("DB_NAME", db_name, "workflow_db", "PostgreSQL database"),

	INT("PORT", port, "4000", 0, 65535, "HTTP API port of the coordinator (0: any free port)"),
	STR("API_TOKEN", api_token, NULL, "when set, every endpoint but /health* needs 'Authorization: Bearer <token>'"),
	INT("BATCH_INTERVAL_MS", batch_interval_ms, "30000", 10, 86400000, "trigger table poll interval, the safety net under NOTIFY"),
	INT("SWEEP_INTERVAL_MS", sweep_interval_ms, "1000", 10, 600000, "how often the coordinator rescues steps of dead workers and expired leases"),
	INT("HTTP_MAX_BODY", http_max_body, "1048576", 1024, 1073741824, "largest accepted request body in bytes (413 above)"),
	STR("WEB_DIR", web_dir, NULL, "folder of the built visual editor served at / (default: web/dist of the install)"),
	STR("PUBLIC_URL", public_url, "http://localhost:4000", "the API's address as users reach it, for links in emails (unsubscribe)"),

	INT("WORKER_PROCESSES", worker_processes, "0", 0, WORKER_PROCESSES_MAX, "children per wf-worker pool, at most 256 (0: number of CPUs)"),
	STR("WORKER_HOST", worker_host, NULL, "name of this pool's host in the worker registry (default: the host name)"),
	INT("WORKER_POLL_MS", worker_poll_ms, "5000", 10, 3600000, "safety-net poll of the step queue when no NOTIFY arrives"),
	INT("WORKER_BATCH", worker_batch, "256", 1, 1000, "most nodes a round trip runs: claimed steps and nodes run in line after them (fewer when steps are slow)"),
	INT("WORKER_GRACE_S", worker_grace_s, "30", 1, 3600, "SIGTERM drain time before children are killed"),
	INT("WORKER_DEAD_AFTER_S", worker_dead_after_s, "15", 2, 3600, "a pool whose heartbeat is older than this is dead and its steps are rescued (give pools and coordinators the same value)"),
	INT("STEP_LEASE_S", step_lease_s, "300", 5, 86400, "longest a claimed step may run before it is rescued"),

	DBL("DELAY_SCALE", delay_scale, "1", "divides every delay: 86400 makes a day last a second (demos)"),

	CHOICE("EMAIL_MODE", email_mode, "mock", "mock|smtp", "mock logs emails to email_logs; smtp delivers them"),
	STR("SMTP_HOST", smtp_host, NULL, "SMTP server (EMAIL_MODE=smtp)"),
	INT("SMTP_PORT", smtp_port, "587", 1, 65535, "SMTP port"),
	STR("SMTP_USER", smtp_user, NULL, "SMTP AUTH user (AUTH is used when set)"),
	STR("SMTP_PASS", smtp_pass, NULL, "SMTP AUTH password"),
	CHOICE("SMTP_TLS", smtp_tls, "starttls", "starttls|required|off", "starttls: when offered; required: refuse plain text; off: never"),
	INT("SMTP_TIMEOUT_MS", smtp_timeout_ms, "30000", 100, 600000, "SMTP connect and per-command timeout"),
	STR("FROM_EMAIL", from_email, "Lifecycle <noreply@example.com>", "From: of every email"),
	CHOICE("SMS_MODE", sms_mode, "mock", "mock|http", "mock logs SMS to sms_logs; http posts them to SMS_API_URL"),
	STR("SMS_API_URL", sms_api_url, NULL, "SMS provider endpoint (SMS_MODE=http)"),
	STR("SMS_API_TOKEN", sms_api_token, NULL, "bearer token for the SMS provider"),
	INT("SMS_TIMEOUT_MS", sms_timeout_ms, "10000", 100, 600000, "total time allowed for one SMS provider call"),
	CHOICE("WEBHOOK_MODE", webhook_mode, "http", "mock|http", "http calls webhooks; mock only logs them to webhook_logs"),
	STR("WEBHOOK_SECRET", webhook_secret, NULL, "key of the X-Webhook-Signature HMAC-SHA256 header (unsigned when unset)"),
	INT("WEBHOOK_TIMEOUT_MS", webhook_timeout_ms, "10000", 100, 600000, "total time allowed for one webhook call"),
	STR("TEMPLATES_DIR", templates_dir, NULL, "email templates (default: templates/ of the install)"),
	INT("EMAIL_RATE_PER_S", email_rate_per_s, "0", 0, 1000000, "emails sent per second by the whole fleet (0: no limit); over it steps wait"),
	INT("EMAIL_DOMAIN_RATE_PER_S", email_domain_rate_per_s, "0", 0, 1000000, "emails per second to one recipient domain (0: no limit)"),
	INT("SMS_RATE_PER_S", sms_rate_per_s, "0", 0, 1000000, "SMS sent per second by the whole fleet (0: no limit)"),
	INT("WEBHOOK_RATE_PER_S", webhook_rate_per_s, "0", 0, 1000000, "webhook calls per second by the whole fleet (0: no limit)"),

	CHOICE("LOG_LEVEL", log_level, "info", "debug|info|warn|error", "least severe level logged"),
	CHOICE("LOG_FORMAT", log_format, "auto", "auto|text|json", "auto: text on a terminal, JSON lines otherwise"),
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

/* Values read from the .env file; looked up only when the environment has none. */
typedef struct {
	char *name;
	char *value;
} env_pair_t;

typedef struct {
	env_pair_t *pairs;
	size_t count;
} env_file_t;

static void env_file_free(env_file_t *ef)
{
	for (size_t i = 0; i < ef->count; i++) {
		free(ef->pairs[i].name);
		free(ef->pairs[i].value);
	}
	free(ef->pairs);
	ef->pairs = NULL;
	ef->count = 0;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Parses one "KEY=VALUE" line (optionally "export KEY=..." and quoted values). */
static int parse_env_line(char *line, char **name, char **value)
{
	char *eq;
	char *v;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if (strncmp(line, "export ", 7) == 0)
		line = trim(line + 7);
	eq = strchr(line, '=');
	if (eq == NULL)
		return -1;
	*eq = '\0';
	*name = trim(line);
	for (const char *p = *name; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			return -1;
	if (**name == '\0')
		return -1;
	v = trim(eq + 1);
	if (v[0] == '"' || v[0] == '\'') {
		/*
		 * A quoted value ends at the first quote of its kind followed by
		 * nothing or a comment; quotes inside it stay (a password may hold one).
		 */
		char *close = v;

		do {
			char *rest;

			close = strchr(close + 1, v[0]);
			if (close == NULL)
				return -1;
			rest = close + 1;
			while (isspace((unsigned char)*rest))
				rest++;
			if (*rest == '\0' || *rest == '#')
				break;
		} while (true);
		*close = '\0';
		v++;
	} else {
		/* An unquoted value ends at a " #" comment. */
		char *hash = strstr(v, " #");
		if (hash)
			*hash = '\0';
		v = trim(v);
	}
	*value = v;
	return 1;
}

static int env_file_read(env_file_t *ef, const char *path, char *err, size_t errlen)
{
	FILE *f;
	char line[4096];
	int lineno = 0;

	ef->pairs = NULL;
	ef->count = 0;
	if (path == NULL)
		return 0;
	f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "could not read \"%s\": %s",
						      path, strerror(errno)), -1);
	while (fgets(line, sizeof(line), f)) {
		char *name, *value;
		env_pair_t *grown;
		int r;

		lineno++;
		r = parse_env_line(line, &name, &value);
		if (r == 0)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "%s:%d: expected NAME=value", path, lineno);
			fclose(f);
			env_file_free(ef);
			return -1;
		}
		grown = realloc(ef->pairs, (ef->count + 1) * sizeof(*grown));
		if (grown == NULL)
			abort();
		ef->pairs = grown;
		ef->pairs[ef->count].name = strdup(name);
		ef->pairs[ef->count].value = strdup(value);
		ef->count++;
	}
	fclose(f);
	return 0;
}

static const char *lookup(const env_file_t *ef, const char *name)
{
	const char *v = getenv(name);

	if (v != NULL)
		return v;
	for (size_t i = ef->count; i > 0; i--)
		if (strcmp(ef->pairs[i - 1].name, name) == 0)
			return ef->pairs[i - 1].value;
	return NULL;
}

static bool choice_ok(const char *choices, const char *value)
{
	size_t len = strlen(value);
	const char *p = choices;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);

		if (n == len && strncmp(p, value, n) == 0)
			return true;
		p += n + (bar ? 1 : 0);
	}
	return false;
}

/* value as an error message may quote it: on one line, shortened. */
static const char *quotable(const char *value, char *buf, size_t size)
{
	size_t i;

	for (i = 0; value[i] && i + 1 < size; i++)
		buf[i] = iscntrl((unsigned char)value[i]) ? '?' : value[i];
	buf[i] = '\0';
	return buf;
}

static int apply_setting(wf_config_t *cfg, const setting_t *s, const char *value,
			 char *err, size_t errlen)
{
	char *base = (char *)cfg + s->offset;
	char *end, shown[120];

	switch (s->type) {
	case SET_STRING:
		*(char **)base = value ? strdup(value) : NULL;
		return 0;
	case SET_CHOICE:
		if (!choice_ok(s->choices, value)) {
			snprintf(err, errlen, "invalid setting %s=\"%s\": expected one of %s",
				 s->name, quotable(value, shown, sizeof(shown)), s->choices);
			return -1;
		}
		*(char **)base = strdup(value);
		return 0;
	case SET_INT: {
		long v;

		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end != '\0' || v < s->min || v > s->max) {
			snprintf(err, errlen, "invalid setting %s=\"%s\": expected an integer from %ld to %ld",
				 s->name, quotable(value, shown, sizeof(shown)), s->min, s->max);
			return -1;
		}
		*(int *)base = (int)v;
		return 0;
	}
	case SET_DOUBLE: {
		double v;

		errno = 0;
		v = strtod(value, &end);
		if (errno || end == value || *end != '\0' || !isfinite(v) || v <= 0) {
			snprintf(err, errlen, "invalid setting %s=\"%s\": expected a positive number",
				 s->name, quotable(value, shown, sizeof(shown)));
			return -1;
		}
		*(double *)base = v;
		return 0;
	}
	}
	return -1;
}

/* Rules that involve more than one setting. */
static int check_combinations(const wf_config_t *cfg, char *err, size_t errlen)
{
	if (strcmp(cfg->email_mode, "smtp") == 0 && (cfg->smtp_host == NULL || !*cfg->smtp_host)) {
		snprintf(err, errlen, "EMAIL_MODE=smtp needs SMTP_HOST");
		return -1;
	}
	if (strcmp(cfg->sms_mode, "http") == 0 && (cfg->sms_api_url == NULL || !*cfg->sms_api_url)) {
		snprintf(err, errlen, "SMS_MODE=http needs SMS_API_URL");
		return -1;
	}
	if ((cfg->smtp_user != NULL) != (cfg->smtp_pass != NULL)) {
		snprintf(err, errlen, "SMTP_USER and SMTP_PASS go together");
		return -1;
	}
	return 0;
}

/* Values that have a form of their own; each is checked at start, not at first use. */
static int check_forms(const wf_config_t *cfg, char *err, size_t errlen)
{
	char why[200], shown[120];

	if (cfg->api_token != NULL && *cfg->api_token == '\0') {
		snprintf(err, errlen, "API_TOKEN is set but empty: give a token, or unset it to serve the API without one");
		return -1;
	}
	if (!email_mailbox_valid(cfg->from_email)) {
		snprintf(err, errlen, "invalid setting FROM_EMAIL=\"%s\": expected an address or Name <address>",
			 quotable(cfg->from_email, shown, sizeof(shown)));
		return -1;
	}
	if (cfg->sms_api_url && *cfg->sms_api_url &&
	    http_client_url_check(cfg->sms_api_url, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "invalid setting SMS_API_URL=\"%s\": %s",
			 quotable(cfg->sms_api_url, shown, sizeof(shown)), why);
		return -1;
	}
	if (http_client_url_check(cfg->public_url, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "invalid setting PUBLIC_URL=\"%s\": %s",
			 quotable(cfg->public_url, shown, sizeof(shown)), why);
		return -1;
	}
	return 0;
}

static void fill_derived(wf_config_t *cfg)
{
	snprintf(cfg->db_port_text, sizeof(cfg->db_port_text), "%d", cfg->db_port);
	if (cfg->worker_processes == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		cfg->worker_processes = n > WORKER_PROCESSES_MAX ? WORKER_PROCESSES_MAX : n > 0 ? (int)n : 1;
	}
	if (cfg->worker_host == NULL || !*cfg->worker_host) {
		char host[256] = "localhost";

		gethostname(host, sizeof(host) - 1);
		host[sizeof(host) - 1] = '\0';
		free(cfg->worker_host);
		cfg->worker_host = strdup(host);
	}
}

int config_load(wf_config_t *cfg, const char *env_file, char *err, size_t errlen)
{
	env_file_t ef;

	memset(cfg, 0, sizeof(*cfg));
	if (env_file_read(&ef, env_file, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < NSETTINGS; i++) {
		const setting_t *s = &settings[i];
		const char *value = lookup(&ef, s->name);

		if (value == NULL || (*value == '\0' && s->type != SET_STRING))
			value = s->default_value;
		if (value == NULL && s->type != SET_STRING)
			continue;
		if (apply_setting(cfg, s, value, err, errlen) < 0)
			goto error;
	}
	env_file_free(&ef);
	if (check_combinations(cfg, err, errlen) < 0 || check_forms(cfg, err, errlen) < 0) {
		config_free(cfg);
		return -1;
	}
	fill_derived(cfg);
	return 0;
error:
	env_file_free(&ef);
	config_free(cfg);
	return -1;
}

void config_free(wf_config_t *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < NSETTINGS; i++) {
		if (settings[i].type == SET_STRING || settings[i].type == SET_CHOICE) {
			char **p = (char **)((char *)cfg + settings[i].offset);
			free(*p);
			*p = NULL;
		}
	}
}

void config_print_example(FILE *out)
{
	fprintf(out, "# Every setting of wf-coordinator and wf-worker with its default.\n"
		     "# Generated by `wf-coordinator settings`; a commented line is unset by default.\n");
	for (size_t i = 0; i < NSETTINGS; i++) {
		const setting_t *s = &settings[i];

		fprintf(out, "\n# %s", s->help);
		if (s->type == SET_CHOICE)
			fprintf(out, " (%s)", s->choices);
		fprintf(out, "\n");
		/* Quoted when it has spaces: .env, systemd and compose all read it so. */
		if (s->default_value && strchr(s->default_value, ' '))
			fprintf(out, "%s=\"%s\"\n", s->name, s->default_value);
		else if (s->default_value)
			fprintf(out, "%s=%s\n", s->name, s->default_value);
		else
			fprintf(out, "# %s=\n", s->name);
	}
}

void config_db_params(const wf_config_t *cfg, const char *application_name,
		      const char **keys, const char **values, size_t max)
{
	size_t n = 0;

#define ADD(k, v)                              \
	do {                                   \
		if (n + 1 < max && (v) != NULL) { \
			keys[n] = (k);         \
			values[n] = (v);       \
			n++;                   \
		}                              \
	} while (0)

	/*
	 * A dead database host or a lost network path is noticed in about a
	 * minute, not the system's two hours: keepalive probes after 30 s of
	 * silence, three lost 10 s apart, or data unacknowledged for 60 s, end
	 * the connection, and the query blocked on it fails and reconnects.
	 * They come before the connection's own keys, so that a DATABASE_URL
	 * naming any of them overrides them (libpq keeps the last value).
	 */
	ADD("keepalives", "1");
	ADD("keepalives_idle", "30");
	ADD("keepalives_interval", "10");
	ADD("keepalives_count", "3");
	ADD("tcp_user_timeout", "60000");
	if (cfg->database_url && *cfg->database_url) {
		ADD("dbname", cfg->database_url); /* expand_dbname makes libpq parse the URI */
	} else {
		ADD("host", cfg->db_host);
		ADD("port", cfg->db_port_text);
		ADD("user", cfg->db_user);
		ADD("password", cfg->db_password);
		ADD("dbname", cfg->db_name);
	}
	ADD("application_name", application_name);
	ADD("connect_timeout", "10");
#undef ADD
	keys[n] = NULL;
	values[n] = NULL;
}

#ifndef WF_WEB_INSTALL_DIR
#define WF_WEB_INSTALL_DIR "/usr/local/share/wf-engine/web"
#endif
#ifndef WF_WEB_SOURCE_DIR
#define WF_WEB_SOURCE_DIR "web/dist"
#endif

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *config_default_web_dir(void)
{
	if (is_dir(WF_WEB_INSTALL_DIR))
		return WF_WEB_INSTALL_DIR;
	return is_dir(WF_WEB_SOURCE_DIR) ? WF_WEB_SOURCE_DIR : NULL;
}

const char *config_web_dir(const wf_config_t *cfg)
{
	return cfg->web_dir && *cfg->web_dir ? cfg->web_dir : config_default_web_dir();
}
