/*
 * main.c - wf-coordinator: subcommand dispatch.
 *
 * With no argument the coordinator migrates and runs; otherwise the first
 * argument names a command (see usage()). Settings are loaded once, here.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc_tuning.h"
#include "commands.h"
#include "config.h"
#include "delivery.h"
#include "log.h"

typedef struct {
	const char *name;
	command_fn fn;
	bool needs_config; /* false: runs even when the settings are broken */
	const char *help;
} command_t;

static const command_t commands[] = {
	{ "run", cmd_run, true, "migrate, then run the coordinator (the default)" },
	{ "migrate", cmd_migrate, true, "apply the migrations in sql/ and exit" },
	{ "clear-test-data", cmd_clear_test_data, true, "delete only the rows made for tests (\"test-\" prefix)" },
	{ "settings", cmd_settings, false, "print every setting with its default (env.example)" },
	{ "render", cmd_render, true, "preview an email template: render <template>|--stdin [context.json]" },
	{ "eval", cmd_eval, false, "evaluate a JSON Logic rule: eval '<rule>' ['<data>']" },
	{ "validate", cmd_validate, false, "check a definition or React Flow document offline: validate [--print] <file.json>" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: wf-coordinator [command] [arguments]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-16s %s\n", commands[i].name, commands[i].help);
}

/*
 * The daemon must not die of a SIGTERM that comes while it starts (loading
 * settings, migrating): stop signals wait, blocked, until the event loop
 * handles them (coord_run unblocks them). Other commands get them back now.
 */
static void block_stop_signals(bool block)
{
	sigset_t stops;

	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &stops, NULL);
}

int main(int argc, char **argv)
{
	const command_t *cmd = &commands[0];
	wf_config_t cfg;
	char err[512];
	int level, format, rc;

	block_stop_signals(true);
	alloc_tune_for_rounds();

	if (argc > 1) {
		if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "help") == 0) {
			usage(stdout);
			return 0;
		}
		cmd = NULL;
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (strcmp(argv[1], commands[i].name) == 0)
				cmd = &commands[i];
		if (cmd == NULL) {
			fprintf(stderr, "wf-coordinator: unknown command \"%s\"\n", argv[1]);
			usage(stderr);
			return 2;
		}
		argc--;
		argv++;
	}
	if (cmd->fn != cmd_run)
		block_stop_signals(false);
	log_setup_early("coordinator");
	if (config_load(&cfg, ".env", err, sizeof(err)) < 0) {
		if (cmd->needs_config) {
			log_error("%s", err);
			return 2;
		}
		memset(&cfg, 0, sizeof(cfg));
	}
	level = cfg.log_level ? log_level_parse(cfg.log_level) : LOG_INFO;
	format = cfg.log_format ? log_format_parse(cfg.log_format, STDERR_FILENO) : LOG_FORMAT_TEXT;
	log_setup("coordinator", (log_level_t)level, (log_format_t)format);
	if (delivery_global_init() < 0) {
		log_error("could not initialise libcurl");
		return 1;
	}
	rc = cmd->fn(&cfg, argc, argv);
	config_free(&cfg);
	return rc;
}
