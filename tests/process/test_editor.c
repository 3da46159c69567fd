/*
 * test_editor.c - the visual editor in a real browser. Starts a
 * coordinator (serving the built web/dist as WEB_DIR, with an API_TOKEN)
 * and a worker pool on a test database, then runs web/tests/editor.test.mjs
 * under Node: Debian's Chromium, driven by playwright-core, builds, saves,
 * reloads, breaks and runs workflows through the page. The script prints
 * its steps, the page's render timings and the paths of its screenshots
 * (tests/screenshots/ of the build folder); its exit code is the verdict.
 *
 * Node, the built page, playwright-core (web/node_modules) and Chromium are
 * prerequisites that CI installs: when one is missing the test fails and
 * says which, it never skips.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "httpc.h"
#include "proc.h"
#include "runner.h"
#include "testdb.h"

#define TOKEN "test-editor-token"
#define SCRIPT_TIMEOUT_MS 180000

static bool is_file(const char *path, bool executable)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (!executable || access(path, X_OK) == 0);
}

/* Fails the test, naming what is missing and how to get it. */
static void require(bool present, const char *what, const char *path, const char *how)
{
	ck_assert_msg(present, "%s is missing (%s): %s", what, path && *path ? path : "not found", how);
}

/* Starts node script base shots TOKEN; it dies with this process (a failed test must not leave a browser behind). */
static pid_t start_script(const char *node, const char *script, const char *base, const char *shots)
{
	pid_t parent = getpid();
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		execl(node, node, script, base, shots, TOKEN, (char *)NULL);
		fprintf(stderr, "could not run %s: %s\n", node, strerror(errno));
		_exit(127);
	}
	return pid;
}

START_TEST(the_editor_builds_saves_reloads_and_runs_workflows_in_a_browser)
{
	const char *node = getenv("WF_NODE");
	const char *web = getenv("WF_WEB_ROOT");
	const char *shots = getenv("WF_SCREENSHOTS");
	const char *chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "/usr/bin/chromium";
	const char *pool_env[] = { "WORKER_PROCESSES=2", "LOG_FORMAT=json", "WORKER_POLL_MS=500",
				   /* the editor's "2 minutes" delay lasts 2 s */
				   "DELAY_SCALE=60", NULL };
	char dist[1024], index[1100], script[1100], playwright[1100], web_env[1100], base[64];
	testdb_t *db;
	pid_t coordinator, pool, runner;
	int status;

	ck_assert_msg(web && shots, "WF_WEB_ROOT and WF_SCREENSHOTS are not set (run the tests through meson test)");
	snprintf(dist, sizeof(dist), "%s/dist", web);
	snprintf(index, sizeof(index), "%s/index.html", dist);
	snprintf(script, sizeof(script), "%s/tests/editor.test.mjs", web);
	snprintf(playwright, sizeof(playwright), "%s/node_modules/playwright-core/package.json", web);
	require(node && *node && is_file(node, true), "Node.js", node,
		"install it (Node 20 or later) and run meson setup again");
	require(is_file(index, false), "the built editor", index, "run (cd web && npm ci && npm run build)");
	require(is_file(playwright, false), "playwright-core", playwright, "run (cd web && npm ci)");
	require(is_file(chromium, true), "Chromium", chromium,
		"apt-get install chromium (or set CHROMIUM to a Chromium binary)");

	db = testdb_new("editor");
	snprintf(web_env, sizeof(web_env), "WEB_DIR=%s", dist);
	{
		const char *coordinator_env[] = { web_env, "API_TOKEN=" TOKEN, NULL };

		coordinator = httpc_start_coordinator(coordinator_env, base, sizeof(base));
	}
	pool = proc_start("WF_WORKER", NULL, pool_env, "/tmp/wf-test-editor-pool.log");
	for (double deadline = proc_now_ms() + 15000;; proc_sleep_ms(20)) {
		pid_t kids[4];

		if (proc_children(pool, kids, 4) > 0)
			break;
		ck_assert_msg(proc_now_ms() < deadline, "the worker pool did not start its children");
	}

	printf("editor test: %s against %s, screenshots in %s\n", script, base, shots);
	runner = start_script(node, script, base, shots);
	status = proc_wait(runner, SCRIPT_TIMEOUT_MS);
	if (status < 0)
		proc_kill(runner);
	proc_stop(pool);
	proc_stop(coordinator);
	testdb_free(db);
	ck_assert_msg(status >= 0, "the browser test did not finish within %d s", SCRIPT_TIMEOUT_MS / 1000);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "the browser test failed (exit status %d): its output above says at which step",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
END_TEST

RUNNER_MAIN("editor", 240, the_editor_builds_saves_reloads_and_runs_workflows_in_a_browser)
