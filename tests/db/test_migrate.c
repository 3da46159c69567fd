/*
 * test_migrate.c - the migration chain on an empty database, twice, and from
 * two processes at once.
 */
#include <check.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "daemons.h"
#include "migrate.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

/* A fingerprint of the schema: every column, constraint, index and function. */
static const char *const sql_fingerprint =
	"SELECT md5(string_agg(x, '|' ORDER BY x)) FROM ("
	" SELECT table_name || '.' || column_name || ':' || data_type || ':' || coalesce(column_default, '') AS x"
	"   FROM information_schema.columns WHERE table_schema = 'public'"
	" UNION ALL SELECT conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint"
	"   WHERE connamespace = 'public'::regnamespace"
	" UNION ALL SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'"
	" UNION ALL SELECT p.proname || ':' || md5(p.prosrc) FROM pg_proc p"
	"   WHERE p.pronamespace = 'public'::regnamespace) s";

START_TEST(chain_applies_to_an_empty_database_and_again_with_no_change)
{
	testdb_t *t = testdb_new_empty("mig");
	char before[64];
	int applied = -1;

	ck_assert_int_eq(migrate_run(t->db, &applied), 0);
	ck_assert_int_eq(applied, migrations_count);
	ck_assert(migrate_current(t->db));
	snprintf(before, sizeof(before), "%s", testdb_text(t, sql_fingerprint, 0, NULL));

	ck_assert_int_eq(migrate_run(t->db, &applied), 0);
	ck_assert_int_eq(applied, 0);
	ck_assert_str_eq(testdb_text(t, sql_fingerprint, 0, NULL), before);
	ck_assert_int_eq(testdb_long(t, "SELECT count(*) FROM wf_schema_migrations", 0, NULL),
			 migrations_count);

	/* A newer binary's migration, applied during a rolling upgrade, leaves this one current. */
	testdb_exec(t, "INSERT INTO wf_schema_migrations (version, name, sha256)"
		       " SELECT max(version) + 1, 'from_a_newer_binary.sql', '' FROM wf_schema_migrations");
	ck_assert(migrate_current(t->db));
	/* One of its own missing does not. */
	testdb_exec(t, "DELETE FROM wf_schema_migrations WHERE version = 1");
	ck_assert(!migrate_current(t->db));
	testdb_free(t);
}
END_TEST

START_TEST(two_processes_migrating_at_once)
{
	testdb_t *t = testdb_new_empty("migpar");
	const char *args[] = { "migrate", NULL };
	pid_t a, b;
	int sa, sb;

	a = proc_start("WF_COORDINATOR", args, NULL, NULL);
	b = proc_start("WF_COORDINATOR", args, NULL, NULL);
	sa = proc_wait(a, 60000);
	sb = proc_wait(b, 60000);
	ck_assert_msg(WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "first migrate: status %d", sa);
	ck_assert_msg(WIFEXITED(sb) && WEXITSTATUS(sb) == 0, "second migrate: status %d", sb);
	ck_assert_int_eq(testdb_long(t, "SELECT count(DISTINCT version) FROM wf_schema_migrations", 0, NULL),
			 migrations_count);
	ck_assert(migrate_current(t->db));
	testdb_free(t);
}
END_TEST

START_TEST(every_file_in_sql_is_embedded_in_order)
{
	char dir[1024];
	struct dirent *d;
	DIR *dp;
	int files = 0;

	snprintf(dir, sizeof(dir), "%s/sql", getenv("WF_SOURCE_ROOT"));
	dp = opendir(dir);
	ck_assert_ptr_nonnull(dp);
	while ((d = readdir(dp)) != NULL) {
		size_t len = strlen(d->d_name);
		bool found = false;

		if (len < 5 || strcmp(d->d_name + len - 4, ".sql") != 0)
			continue;
		files++;
		for (int i = 0; i < migrations_count; i++)
			found |= strcmp(migrations[i].name, d->d_name) == 0;
		ck_assert_msg(found, "%s is in sql/ but not in sql/meson.build", d->d_name);
	}
	closedir(dp);
	ck_assert_int_eq(files, migrations_count);
	for (int i = 1; i < migrations_count; i++)
		ck_assert_int_lt(migrations[i - 1].version, migrations[i].version);
}
END_TEST

START_TEST(broken_database_url_is_a_clear_failure)
{
	const char *args[] = { "migrate", NULL };
	const char *env[] = { "DATABASE_URL=postgresql://nobody@127.0.0.1:1/none", "LOG_FORMAT=text", NULL };
	char out[256], path[64];
	char *log;
	int status;

	ck_assert_int_eq(proc_run("WF_COORDINATOR", args, env, NULL, out, sizeof(out)), 1);
	/* Again for its log (stderr): it says where it could not connect, and why. */
	daemon_log_path(path, sizeof(path), "migrate-url");
	status = proc_wait(proc_start("WF_COORDINATOR", args, env, path), 30000);
	ck_assert_msg(status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d", status);
	log = daemon_log_text(path);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "127.0.0.1") != NULL && strstr(log, "refused") != NULL, "log: %s", log);
	free(log);
	unlink(path);
}
END_TEST

START_TEST(malformed_setting_exits_2)
{
	const char *args[] = { "migrate", NULL };
	const char *env[] = { "DB_PORT=not-a-port", NULL };
	char out[256];

	ck_assert_int_eq(proc_run("WF_COORDINATOR", args, env, NULL, out, sizeof(out)), 2);
}
END_TEST

RUNNER_MAIN("migrate", 120, chain_applies_to_an_empty_database_and_again_with_no_change,
	    two_processes_migrating_at_once, every_file_in_sql_is_embedded_in_order,
	    broken_database_url_is_a_clear_failure, malformed_setting_exits_2)
