/*
 * main.c - wf-worker: load the settings, then run the pool.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "alloc_tuning.h"
#include "config.h"
#include "delivery.h"
#include "log.h"
#include "pool.h"

/*
 * Signals the pool handles are blocked from the first instruction, so one
 * that arrives while the pool starts waits for its handler (the pool keeps
 * them blocked outside sigsuspend) instead of killing the process.
 */
static void block_pool_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGTTIN, SIGTTOU, SIGCHLD, SIGALRM };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int main(int argc, char **argv)
{
	wf_config_t *cfg;
	char err[512];

	block_pool_signals();
	alloc_tune_for_rounds();
	cfg = malloc(sizeof(*cfg));

	if (argc > 1) {
		fprintf(stderr, "usage: wf-worker (configured by the environment and .env)\n");
		return 2;
	}
	if (cfg == NULL)
		return 1;
	log_setup_early("worker");
	if (config_load(cfg, ".env", err, sizeof(err)) < 0) {
		log_error("%s", err);
		free(cfg);
		return 2;
	}
	log_setup("worker", (log_level_t)log_level_parse(cfg->log_level),
		  (log_format_t)log_format_parse(cfg->log_format, STDERR_FILENO));
	/* Before forking: the children inherit libcurl's and libESMTP's set-up. */
	if (delivery_global_init() < 0) {
		log_error("could not initialise libcurl");
		return 1;
	}
	return pool_run(cfg);
}
