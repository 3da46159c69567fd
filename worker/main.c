/*
 * main.c - wf-worker: load the settings, then run the pool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "delivery.h"
#include "log.h"
#include "pool.h"

int main(int argc, char **argv)
{
	wf_config_t *cfg = malloc(sizeof(*cfg));
	char err[512];

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
