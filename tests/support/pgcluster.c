/*
 * pgcluster.c - private clusters through deploy/lib.sh.
 */
#include "pgcluster.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "peers.h"

/* Runs a deploy/lib.sh snippet with the cluster's folder and port as $1 and $2. */
static int lib(const pgcluster_t *c, const char *snippet)
{
	char port[16];
	const char *root = getenv("WF_SOURCE_ROOT");
	char script[512];
	pid_t pid;
	int status;

	snprintf(port, sizeof(port), "%d", c->port);
	snprintf(script, sizeof(script), ". '%s/deploy/lib.sh' && %s", root ? root : ".", snippet);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		execl("/bin/bash", "bash", "-c", script, "pgcluster", c->dir, port, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void pgcluster_start(pgcluster_t *c)
{
	char port[16];

	snprintf(c->dir, sizeof(c->dir), "/tmp/wf-test-pg-%d-%ld", (int)getpid(), random() % 100000);
	c->port = peer_closed_port();
	/* The folder must be reachable by the postgres user under /tmp. */
	if (lib(c, "mkdir -p \"$1\" && chmod 755 \"$1\" && wf_pg_start \"$1\" \"$2\"") != 0)
		ck_abort_msg("could not start a private PostgreSQL in %s", c->dir);
	snprintf(port, sizeof(port), "%d", c->port);
	setenv("PGHOST", c->dir, 1);
	setenv("PGPORT", port, 1);
	setenv("PGUSER", "postgres", 1);
}

void pgcluster_restart(pgcluster_t *c, int immediate)
{
	const char *cmd = immediate
		? "wf_pg_run \"$WF_PG_BIN/pg_ctl\" -D \"$1/data\" -m immediate -w restart >/dev/null"
		: "wf_pg_run \"$WF_PG_BIN/pg_ctl\" -D \"$1/data\" -m fast -w restart >/dev/null";

	if (lib(c, cmd) != 0)
		ck_abort_msg("could not restart the private PostgreSQL in %s", c->dir);
}

void pgcluster_destroy(pgcluster_t *c)
{
	if (c->dir[0] == '\0')
		return;
	lib(c, "wf_pg_stop \"$1\"; rm -rf \"$1\"");
	c->dir[0] = '\0';
}
