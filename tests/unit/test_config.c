/*
 * test_config.c - settings: defaults, the environment, .env files, and the
 * one-line errors for bad values.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "runner.h"

static const char *const all_names[] = {
	"DATABASE_URL", "DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME", "PORT",
	"API_TOKEN", "WORKER_PROCESSES", "BATCH_INTERVAL_MS", "EMAIL_MODE", "SMTP_HOST",
	"SMTP_PORT", "SMTP_USER", "SMTP_PASS", "FROM_EMAIL", "SMS_MODE", "SMS_API_URL",
	"SMS_API_TOKEN", "TEMPLATES_DIR", "LOG_LEVEL", "LOG_FORMAT", "WORKER_HOST",
	"DELAY_SCALE", "PUBLIC_URL", NULL,
};

static void clean_env(void)
{
	for (int i = 0; all_names[i]; i++)
		unsetenv(all_names[i]);
}

static char *write_env_file(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/wf-test-env-%d", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(defaults_match_the_interface)
{
	wf_config_t cfg;
	char err[256];

	clean_env();
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.db_host, "localhost");
	ck_assert_int_eq(cfg.db_port, 5432);
	ck_assert_str_eq(cfg.db_user, "workflow_user");
	ck_assert_str_eq(cfg.db_password, "workflow_password");
	ck_assert_str_eq(cfg.db_name, "workflow_db");
	ck_assert_int_eq(cfg.port, 4000);
	ck_assert_ptr_null(cfg.api_token);
	ck_assert_int_eq(cfg.batch_interval_ms, 30000);
	ck_assert_str_eq(cfg.email_mode, "mock");
	ck_assert_str_eq(cfg.sms_mode, "mock");
	ck_assert_int_eq(cfg.worker_processes, (int)sysconf(_SC_NPROCESSORS_ONLN));
	ck_assert_ptr_nonnull(cfg.worker_host);
	config_free(&cfg);
}
END_TEST

START_TEST(environment_overrides_defaults)
{
	wf_config_t cfg;
	char err[256];

	clean_env();
	setenv("PORT", "8080", 1);
	setenv("WORKER_PROCESSES", "3", 1);
	setenv("API_TOKEN", "s3cret", 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.port, 8080);
	ck_assert_int_eq(cfg.worker_processes, 3);
	ck_assert_str_eq(cfg.api_token, "s3cret");
	config_free(&cfg);
}
END_TEST

START_TEST(env_file_fills_gaps_but_never_overrides)
{
	wf_config_t cfg;
	char err[256];
	char *path;

	clean_env();
	setenv("DB_NAME", "from_env", 1);
	path = write_env_file("# comment\n"
			      "export DB_HOST=db.internal\n"
			      "DB_NAME=from_file\n"
			      "DB_PASSWORD=\"with # hash\"\n"
			      "DB_USER=alice # trailing comment\n"
			      "WORKER_PROCESSES=\"2\" # quoted, then a comment\n"
			      "SMTP_USER='bob' #\n"
			      "SMTP_PASS=\"pa\"ss\"\n"
			      "\n");
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.db_host, "db.internal");
	ck_assert_str_eq(cfg.db_name, "from_env");
	ck_assert_str_eq(cfg.db_password, "with # hash");
	ck_assert_str_eq(cfg.db_user, "alice");
	ck_assert_int_eq(cfg.worker_processes, 2);
	ck_assert_str_eq(cfg.smtp_user, "bob");
	ck_assert_str_eq(cfg.smtp_pass, "pa\"ss");
	config_free(&cfg);
	unlink(path);

	/* A quote that never closes is an error, not part of the value. */
	path = write_env_file("DB_PASSWORD=\"open\n");
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: expected NAME=value") != NULL, "got %s", err);
	unlink(path);
}
END_TEST

START_TEST(bad_values_are_one_line_errors)
{
	static const struct {
		const char *name, *value, *expect;
	} cases[] = {
		{ "PORT", "abc", "invalid setting PORT=\"abc\": expected an integer from 0 to 65535" },
		{ "PORT", "70000", "invalid setting PORT=\"70000\"" },
		{ "DB_PORT", "12x", "invalid setting DB_PORT=\"12x\"" },
		{ "EMAIL_MODE", "carrier-pigeon", "expected one of mock|smtp" },
		{ "BATCH_INTERVAL_MS", "-5", "invalid setting BATCH_INTERVAL_MS" },
		{ "DELAY_SCALE", "0", "expected a positive number" },
		{ "WORKER_PROCESSES", "300", "invalid setting WORKER_PROCESSES=\"300\": expected an integer from 0 to 256" },
		{ "API_TOKEN", "", "API_TOKEN is set but empty" },
		{ "FROM_EMAIL", "noreply", "invalid setting FROM_EMAIL=\"noreply\": expected an address or Name <address>" },
		{ "FROM_EMAIL", "Ops <noreply@example.com>\r\nBcc: x@example.com", "invalid setting FROM_EMAIL" },
		{ "SMS_API_URL", "not a url", "invalid setting SMS_API_URL=\"not a url\"" },
		{ "SMS_API_URL", "ftp://sms.example.com/", "URL scheme must be http or https" },
		{ "PUBLIC_URL", "localhost:4000", "invalid setting PUBLIC_URL" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		wf_config_t cfg;
		char err[256] = "";

		clean_env();
		setenv(cases[i].name, cases[i].value, 1);
		ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), -1);
		ck_assert_msg(strstr(err, cases[i].expect) != NULL, "%s: got \"%s\"", cases[i].name, err);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
}
END_TEST

START_TEST(smtp_mode_needs_a_host)
{
	wf_config_t cfg;
	char err[256];

	clean_env();
	setenv("EMAIL_MODE", "smtp", 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "EMAIL_MODE=smtp needs SMTP_HOST");
	setenv("SMTP_HOST", "127.0.0.1", 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	config_free(&cfg);
}
END_TEST

START_TEST(malformed_env_file_names_the_line)
{
	wf_config_t cfg;
	char err[256];
	char *path;

	clean_env();
	path = write_env_file("PORT=1\nthis is not a setting\n");
	ck_assert_int_eq(config_load(&cfg, path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":2: expected NAME=value") != NULL, "got %s", err);
	unlink(path);
}
END_TEST

START_TEST(database_url_overrides_db_settings)
{
	wf_config_t cfg;
	char err[256];
	const char *keys[16], *values[16];
	int found = 0, idle = -1, dbname = -1;

	clean_env();
	setenv("DATABASE_URL", "postgresql://u:p@h:1/d", 1);
	setenv("DB_HOST", "ignored", 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	config_db_params(&cfg, "t", keys, values, 16);
	for (int i = 0; keys[i]; i++) {
		ck_assert_str_ne(keys[i], "host");
		if (strcmp(keys[i], "dbname") == 0) {
			ck_assert_str_eq(values[i], "postgresql://u:p@h:1/d");
			found = 1;
			dbname = i;
		}
		if (strcmp(keys[i], "keepalives_idle") == 0)
			idle = i;
	}
	ck_assert_int_eq(found, 1);
	/* The keepalives come first, so that keywords of the URL override them. */
	ck_assert_int_ge(idle, 0);
	ck_assert_int_lt(idle, dbname);
	config_free(&cfg);
}
END_TEST

START_TEST(web_dir_defaults_to_the_built_editor)
{
	const char *dflt = config_default_web_dir();
	wf_config_t cfg;
	char err[256];
	struct stat st;

	clean_env();
	unsetenv("WEB_DIR");
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	ck_assert_ptr_null(cfg.web_dir);
	/* The installed editor, else web/dist of this tree once built, else none. */
	if (dflt != NULL) {
		size_t n = strlen(dflt);

		ck_assert(stat(dflt, &st) == 0 && S_ISDIR(st.st_mode));
		ck_assert_msg((n > 9 && strcmp(dflt + n - 9, "/web/dist") == 0) ||
				      (n > 14 && strcmp(dflt + n - 14, "/wf-engine/web") == 0),
			      "unexpected default %s", dflt);
	}
	ck_assert_ptr_eq(config_web_dir(&cfg), dflt);
	config_free(&cfg);
	setenv("WEB_DIR", "/srv/wf-editor", 1);
	ck_assert_int_eq(config_load(&cfg, NULL, err, sizeof(err)), 0);
	ck_assert_str_eq(config_web_dir(&cfg), "/srv/wf-editor");
	config_free(&cfg);
	unsetenv("WEB_DIR");
}
END_TEST

RUNNER_MAIN("config", 30, defaults_match_the_interface, environment_overrides_defaults,
	    env_file_fills_gaps_but_never_overrides, bad_values_are_one_line_errors,
	    smtp_mode_needs_a_host, malformed_env_file_names_the_line,
	    database_url_overrides_db_settings, web_dir_defaults_to_the_built_editor)
