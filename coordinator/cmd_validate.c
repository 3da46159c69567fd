/*
 * cmd_validate.c - `wf-coordinator validate [--print] [--name NAME] <file.json>`:
 * checks a workflow definition or a React Flow document offline and prints
 * every problem, one a line ("node X: ...", "edge Y: ...", "workflow: ..."),
 * as saving it would refuse it.
 *
 * Which of the two a file holds is read from its shape: an object with a
 * "nodes" array and "edges" is a React Flow document. Email template names
 * are checked against TEMPLATES_DIR when its templates load; the workflows
 * that shared_flow nodes run live in the database, so they are named in a
 * note instead. A cron trigger's time zone is checked for its form only: the
 * coordinator also looks it up in the database's pg_timezone_names when the
 * definition is saved. No database and no settings are needed.
 *
 * Exit 0 valid ("valid"; with --print also the converted definition, or for
 * a definition its React Flow document), 1 invalid, 2 bad usage or a file
 * that cannot be read or is not JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "reactflow.h"
#include "services.h"
#include "template.h"
#include "template_set.h"

/* Workflow files are kilobytes; this only stops a wrong file from filling memory. */
#define FILE_MAX ((size_t)16 << 20)

static int usage(FILE *out, int code)
{
	fprintf(out, "usage: wf-coordinator validate [--print] [--name NAME] <file.json>\n"
		     "Checks a workflow definition or a React Flow document (\"-\": standard input)\n"
		     "and prints every problem; exit 0 when valid, 1 when not, 2 when the file is\n"
		     "unreadable or not JSON. --print also prints the other form (a flow's\n"
		     "definition, a definition's flow); --name names the converted definition\n"
		     "(default: the file's name without .json).\n");
	return code;
}

static bool has_template(void *arg, const char *name)
{
	return tpl_set_find(arg, name) != NULL;
}

/* A flow: an object with a "nodes" array and "edges" (a definition's nodes are an object). */
static bool is_flow(const cJSON *json)
{
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(json, "nodes")) &&
	       cJSON_HasObjectItem(json, "edges");
}

static void print_problem(const def_problem_t *p)
{
	if (p->node)
		printf("node %s: %s\n", p->node, p->message);
	else if (p->edge)
		printf("edge %s: %s\n", p->edge, p->message);
	else
		printf("workflow: %s\n", p->message);
}

/*
 * The shared flows a definition or flow runs, which only the database
 * knows. A flow's nodes are an array with the fields in "data".
 */
static void note_shared_flows(const cJSON *json, bool flow)
{
	const cJSON *node;

	cJSON_ArrayForEach(node, cJSON_GetObjectItemCaseSensitive(json, "nodes")) {
		const char *type = json_string(node, "type");
		const char *id = flow ? json_string(node, "id") : node->string;
		const char *target = json_string(flow ? cJSON_GetObjectItemCaseSensitive(node, "data") : node,
						 "workflow");

		if (type && id && target && strcmp(type, flow ? "sharedFlow" : "shared_flow") == 0)
			printf("note: node %s: shared flow \"%s\" not checked offline (workflows are in the database)\n",
			       id, target);
	}
}

/* The definition's name: NAME, else the file's base name without ".json". */
static void default_name(const char *path, char *out, size_t len)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	size_t n = strlen(base);

	if (strcmp(path, "-") == 0) {
		snprintf(out, len, "stdin");
		return;
	}
	if (n > 5 && strcmp(base + n - 5, ".json") == 0)
		n -= 5;
	snprintf(out, len, "%.*s", (int)n, base);
}

static cJSON *read_json(const char *path)
{
	char err[512], msg[256];
	char *text;
	size_t len;
	cJSON *json;

	if (tpl_read_file(strcmp(path, "-") == 0 ? NULL : path, FILE_MAX, &text, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "wf-coordinator validate: %s\n", err);
		return NULL;
	}
	json = json_parse(text, len, msg, sizeof(msg));
	if (json == NULL)
		fprintf(stderr, "wf-coordinator validate: %s: %s\n", path, msg);
	free(text);
	return json;
}

int cmd_validate(const wf_config_t *cfg, int argc, char **argv)
{
	const char *path = NULL, *name = NULL;
	def_resolver_t resolver = { 0 };
	def_problems_t problems = { 0 };
	tpl_set_t *templates = NULL;
	cJSON *json, *other = NULL;
	char err[512], fallback[256];
	bool print = false;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return usage(stdout, 0);
		if (strcmp(argv[i], "--print") == 0)
			print = true;
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else if (path == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0))
			path = argv[i];
		else
			return usage(stderr, 2);
	}
	if (path == NULL)
		return usage(stderr, 2);
	json = read_json(path);
	if (json == NULL)
		return 2;
	if (name == NULL) {
		default_name(path, fallback, sizeof(fallback));
		name = fallback;
	}
	if (tpl_set_load(services_templates_dir(cfg), &templates, err, sizeof(err)) == 0) {
		resolver.has_template = has_template;
		resolver.arg = templates;
	}
	/* The flow converter reports duplicate keys itself, naming their node. */
	if (!is_flow(json) && json_duplicate_key(json, true))
		def_problem(&problems, NULL, NULL, "the key \"%s\" appears twice in one object",
			    json_duplicate_key(json, true));
	if (is_flow(json))
		rc = rf_convert(json, name, &resolver, &other, &problems);
	else if ((rc = def_validate(json, &resolver, &problems)) == 0)
		rc = rf_from_definition(json, &other);
	if (problems.count > 0)
		rc = -EINVAL;
	for (size_t i = 0; i < problems.count; i++)
		print_problem(&problems.items[i]);
	if (rc == 0)
		printf("valid\n");
	if (templates == NULL)
		printf("note: email templates not checked: %s\n", err);
	note_shared_flows(json, is_flow(json));
	if (rc == 0 && print) {
		char *text = cJSON_Print(other);

		printf("%s\n", text);
		free(text);
	}
	if (fflush(stdout) != 0) {
		fprintf(stderr, "wf-coordinator validate: %s\n", strerror(errno));
		rc = -EIO;
	}
	cJSON_Delete(other);
	cJSON_Delete(json);
	def_problems_free(&problems);
	tpl_set_free(templates);
	return rc == 0 ? 0 : 1;
}
