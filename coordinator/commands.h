/*
 * commands.h - the subcommands of wf-coordinator, one file each.
 *
 * A command gets the arguments after its name and returns the process exit
 * code: 0 success, 1 failure of the command's own work, 2 bad usage or
 * configuration.
 */
#ifndef WF_COMMANDS_H
#define WF_COMMANDS_H

#include "config.h"

typedef int (*command_fn)(const wf_config_t *cfg, int argc, char **argv);

int cmd_clear_test_data(const wf_config_t *cfg, int argc, char **argv);
int cmd_migrate(const wf_config_t *cfg, int argc, char **argv);
int cmd_settings(const wf_config_t *cfg, int argc, char **argv);
int cmd_run(const wf_config_t *cfg, int argc, char **argv);
int cmd_render(const wf_config_t *cfg, int argc, char **argv);
int cmd_eval(const wf_config_t *cfg, int argc, char **argv);
int cmd_validate(const wf_config_t *cfg, int argc, char **argv);

#endif
