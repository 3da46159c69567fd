/*
 * definition.c - parsing and validating workflow definitions.
 *
 * Checks run in layers, each adding problems rather than stopping: the
 * document's shape, each node's fields (by its executor), the edges
 * (dangling references), then the graph (unreachable nodes, cycles, also
 * through shared flows). The graph checks only run over what parsed.
 */
#include "definition.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cron.h"
#include "executor.h"
#include "json.h"
#include "jsonlogic.h"

#define SHARED_FLOW_DEPTH_MAX 32

const def_retry_t def_retry_default = { .max_attempts = 5, .base_ms = 1000, .max_ms = 300000 };

static const char *const trigger_sources[] = { "subscription", "newsletter", "manual", "cron", NULL };

void def_problem(def_problems_t *p, const char *node, const char *edge, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (p == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->count == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		def_problem_t *items = realloc(p->items, cap * sizeof(*items));

		if (items == NULL)
			abort();
		p->items = items;
		p->cap = cap;
	}
	p->items[p->count].node = node ? strdup(node) : NULL;
	p->items[p->count].edge = edge ? strdup(edge) : NULL;
	p->items[p->count].message = strdup(msg);
	p->count++;
}

void def_problems_free(def_problems_t *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->count; i++) {
		free(p->items[i].node);
		free(p->items[i].edge);
		free(p->items[i].message);
	}
	free(p->items);
	memset(p, 0, sizeof(*p));
}

cJSON *def_problems_json(const def_problems_t *p)
{
	cJSON *list = cJSON_CreateArray();

	if (list == NULL)
		abort();
	for (size_t i = 0; i < p->count; i++) {
		cJSON *item = json_object();

		if (p->items[i].node)
			json_add_string(item, "node", p->items[i].node);
		if (p->items[i].edge)
			json_add_string(item, "edge", p->items[i].edge);
		json_add_string(item, "message", p->items[i].message);
		cJSON_AddItemToArray(list, item);
	}
	return list;
}

void def_free(def_t *def)
{
	if (def == NULL)
		return;
	cJSON_Delete(def->json);
	free(def->nodes);
	free(def);
}

const def_node_t *def_node(const def_t *def, const char *id)
{
	if (id == NULL)
		return NULL;
	for (size_t i = 0; i < def->nnodes; i++)
		if (strcmp(def->nodes[i].id, id) == 0)
			return &def->nodes[i];
	return NULL;
}

/* A successor field: absent or null ends the path, a string names a node. */
static const char *parse_successor(const cJSON *node, const char *node_id, const char *field,
				   def_problems_t *problems)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(node, field);
	char edge[256];

	if (v == NULL || cJSON_IsNull(v))
		return NULL;
	if (cJSON_IsString(v) && v->valuestring[0] != '\0')
		return v->valuestring;
	snprintf(edge, sizeof(edge), "%s.%s", node_id, field);
	def_problem(problems, node_id, edge, "\"%s\" must be a node id or null", field);
	return NULL;
}

static void parse_retry(const cJSON *node, const char *node_id, def_retry_t *retry,
			def_problems_t *problems)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(node, "retry");

	*retry = def_retry_default;
	if (r == NULL || cJSON_IsNull(r))
		return;
	if (!cJSON_IsObject(r)) {
		def_problem(problems, node_id, NULL, "\"retry\" must be an object");
		return;
	}
	if (json_has(r, "max_attempts") &&
	    (!json_int(r, "max_attempts", &retry->max_attempts) || retry->max_attempts < 1 ||
	     retry->max_attempts > 100))
		def_problem(problems, node_id, NULL, "retry.max_attempts must be an integer from 1 to 100");
	if (json_has(r, "base_ms") &&
	    (!json_int(r, "base_ms", &retry->base_ms) || retry->base_ms < 0))
		def_problem(problems, node_id, NULL, "retry.base_ms must be a non-negative integer");
	if (json_has(r, "max_ms") &&
	    (!json_int(r, "max_ms", &retry->max_ms) || retry->max_ms < retry->base_ms))
		def_problem(problems, node_id, NULL, "retry.max_ms must be an integer not below base_ms");
}

static void parse_node(def_t *def, const cJSON *item, const def_resolver_t *resolver,
		       def_problems_t *problems)
{
	def_node_t *n = &def->nodes[def->nnodes];
	const char *id = item->string;
	const char *type;

	for (size_t i = 0; i < def->nnodes; i++)
		if (strcmp(def->nodes[i].id, id) == 0) {
			def_problem(problems, id, NULL, "node \"%s\" is defined twice", id);
			return;
		}
	/* The visual editor refuses an empty id too (reactflow.c). */
	if (id[0] == '\0') {
		def_problem(problems, NULL, NULL, "a node id must not be empty");
		return;
	}
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->json = item;
	def->nnodes++;
	if (!cJSON_IsObject(item)) {
		def_problem(problems, id, NULL, "node must be an object");
		return;
	}
	type = json_string(item, "type");
	if (type == NULL) {
		def_problem(problems, id, NULL, "missing field \"type\"");
		return;
	}
	n->type = type;
	n->exec = executor_find(type);
	if (n->exec == NULL)
		def_problem(problems, id, NULL, "unknown node type \"%s\"", type);
	else
		n->exec->validate(item, id, resolver, problems);
	/* Edges are checked even for an unknown type, so a dangling one is reported too. */
	if (n->exec == NULL || n->exec->branching) {
		n->on_true = parse_successor(item, id, "true", problems);
		n->on_false = parse_successor(item, id, "false", problems);
	}
	if (n->exec == NULL || !n->exec->branching)
		n->next = parse_successor(item, id, "next", problems);
	parse_retry(item, id, &n->retry, problems);
}

static void check_edge(const def_t *def, const def_node_t *n, const char *field,
		       const char *target, def_problems_t *problems)
{
	char edge[256];

	if (target == NULL || def_node(def, target) != NULL)
		return;
	snprintf(edge, sizeof(edge), "%s.%s", n->id, field);
	def_problem(problems, n->id, edge, "\"%s\" points to unknown node \"%s\"", field, target);
}

/* Successors of one node: "next", "true", "false". */
#define SUCCESSORS_MAX 3

/*
 * The distinct successors of a node that exist in the definition. A node of
 * an unknown type keeps all three fields (so that they are checked too),
 * hence up to three.
 */
static int successors(const def_t *def, const def_node_t *n, const def_node_t *out[SUCCESSORS_MAX])
{
	const char *targets[SUCCESSORS_MAX] = { n->next, n->on_true, n->on_false };
	int count = 0;

	for (int i = 0; i < SUCCESSORS_MAX; i++) {
		const def_node_t *t = def_node(def, targets[i]);
		bool seen = false;

		for (int j = 0; j < count; j++)
			seen |= out[j] == t;
		if (t != NULL && !seen)
			out[count++] = t;
	}
	return count;
}

enum { WHITE, GREY, BLACK };

/* Reports the cycle that closes at node j: path[0..depth] are the grey nodes. */
static void report_cycle(const def_t *def, const size_t *path, size_t depth, size_t j,
			 def_problems_t *problems)
{
	char msg[400] = "";
	size_t k = depth;

	while (path[k] != j)
		k--;
	for (; k <= depth; k++) {
		strncat(msg, def->nodes[path[k]].id, sizeof(msg) - strlen(msg) - 1);
		strncat(msg, " -> ", sizeof(msg) - strlen(msg) - 1);
	}
	strncat(msg, def->nodes[j].id, sizeof(msg) - strlen(msg) - 1);
	def_problem(problems, def->nodes[j].id, NULL, "cycle: %s", msg);
}

/*
 * Depth-first search for cycles from node root, with an explicit stack (a
 * chain of nodes is as deep as it is long): path holds the grey nodes, and
 * tried[d] how many successors of path[d] have been followed.
 */
static bool find_cycle(const def_t *def, size_t root, int *colour, size_t *path, int *tried,
		       def_problems_t *problems)
{
	size_t depth = 0;

	colour[root] = GREY;
	path[0] = root;
	tried[0] = 0;
	for (;;) {
		const def_node_t *next[SUCCESSORS_MAX];
		int n = successors(def, &def->nodes[path[depth]], next);
		size_t j;

		if (tried[depth] == n) {
			colour[path[depth]] = BLACK;
			if (depth == 0)
				return false;
			depth--;
			continue;
		}
		j = (size_t)(next[tried[depth]++] - def->nodes);
		if (colour[j] == GREY) {
			report_cycle(def, path, depth, j, problems);
			return true;
		}
		if (colour[j] == WHITE) {
			colour[j] = GREY;
			path[++depth] = j;
			tried[depth] = 0;
		}
	}
}

static void check_graph(const def_t *def, def_problems_t *problems)
{
	const def_node_t *start = def_node(def, def->start);
	int *colour = calloc(def->nnodes + 1, sizeof(int));
	size_t *path = calloc(def->nnodes + 1, sizeof(size_t));
	int *tried = calloc(def->nnodes + 1, sizeof(int));
	size_t *queue = calloc(def->nnodes + 1, sizeof(size_t));
	bool *seen = calloc(def->nnodes + 1, sizeof(bool));
	size_t head = 0, tail = 0;

	if (!colour || !path || !tried || !queue || !seen)
		abort();
	if (start != NULL) {
		/* Reachability: breadth-first from the start node. */
		queue[tail++] = (size_t)(start - def->nodes);
		seen[queue[0]] = true;
		while (head < tail) {
			const def_node_t *next[SUCCESSORS_MAX];
			int n = successors(def, &def->nodes[queue[head++]], next);

			for (int i = 0; i < n; i++) {
				size_t j = (size_t)(next[i] - def->nodes);

				if (!seen[j]) {
					seen[j] = true;
					queue[tail++] = j;
				}
			}
		}
		for (size_t i = 0; i < def->nnodes; i++)
			if (!seen[i])
				def_problem(problems, def->nodes[i].id, NULL,
					    "node \"%s\" is unreachable from the start node",
					    def->nodes[i].id);
	}
	for (size_t i = 0; i < def->nnodes; i++)
		if (colour[i] == WHITE && find_cycle(def, i, colour, path, tried, problems))
			break;
	free(colour);
	free(path);
	free(tried);
	free(queue);
	free(seen);
}

/* Does following shared flows from definition json lead back to name? */
static bool shared_flow_reaches(const def_resolver_t *r, const cJSON *json, const char *name,
				int depth)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(json, "nodes");
	const cJSON *item;

	if (depth > SHARED_FLOW_DEPTH_MAX)
		return true;
	cJSON_ArrayForEach(item, nodes) {
		const char *type = json_string(item, "type");
		const char *target = json_string(item, "workflow");
		const cJSON *child;

		if (type == NULL || strcmp(type, "shared_flow") != 0 || target == NULL)
			continue;
		if (strcmp(target, name) == 0)
			return true;
		child = r->lookup(r->arg, target);
		if (child && shared_flow_reaches(r, child, name, depth + 1))
			return true;
	}
	return false;
}

static void check_shared_flows(const def_t *def, const def_resolver_t *r, def_problems_t *problems)
{
	if (r == NULL || r->lookup == NULL)
		return;
	for (size_t i = 0; i < def->nnodes; i++) {
		const def_node_t *n = &def->nodes[i];
		const char *target;
		const cJSON *child;

		if (n->type == NULL || strcmp(n->type, "shared_flow") != 0)
			continue;
		target = json_string(n->json, "workflow");
		if (target == NULL)
			continue;
		if (def->name && strcmp(target, def->name) == 0) {
			def_problem(problems, n->id, NULL, "shared flow \"%s\" runs its own workflow (cycle)",
				    target);
			continue;
		}
		child = r->lookup(r->arg, target);
		if (child == NULL)
			def_problem(problems, n->id, NULL, "shared flow runs unknown workflow \"%s\"", target);
		else if (def->name && shared_flow_reaches(r, child, def->name, 0))
			def_problem(problems, n->id, NULL,
				    "shared flow \"%s\" leads back to \"%s\" (cycle through shared flows)",
				    target, def->name);
	}
}

/*
 * A time zone name as in the tz database: "UTC", "Europe/Paris", "Etc/GMT+2".
 * PostgreSQL also takes POSIX zone specifications in AT TIME ZONE, where an
 * offset counts west of Greenwich: "+05" and "UTC+5" both mean five hours
 * behind UTC, the opposite of what they seem to say. Those are refused
 * ("Etc/GMT+5", whose sign is as inverted, is the tz database's own name).
 */
static bool timezone_name_ok(const char *tz)
{
	if (*tz == '\0' || strlen(tz) > 64 || strstr(tz, ".."))
		return false;
	if (*tz == '+' || *tz == '-')
		return false;
	if ((strncasecmp(tz, "UTC", 3) == 0 || strncasecmp(tz, "GMT", 3) == 0) &&
	    (tz[3] == '+' || tz[3] == '-' || isdigit((unsigned char)tz[3])))
		return false;
	for (const char *p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
			return false;
	return true;
}

static void check_cron(const cJSON *t, const def_resolver_t *resolver, def_problems_t *problems)
{
	const char *schedule = json_string(t, "schedule");
	const char *tz = json_string(t, "timezone");
	char err[256];
	cron_t cron;

	if (schedule == NULL)
		def_problem(problems, NULL, NULL, "a cron trigger needs \"schedule\", e.g. \"0 9 * * 1\"");
	else if (cron_parse(schedule, &cron, err, sizeof(err)) < 0)
		def_problem(problems, NULL, NULL, "trigger.schedule: %s", err);
	if (json_has(t, "timezone") && (tz == NULL || !timezone_name_ok(tz)))
		def_problem(problems, NULL, NULL, "trigger.timezone must be a time zone name such as \"Europe/Paris\"");
	else if (tz && resolver && resolver->has_timezone && !resolver->has_timezone(resolver->arg, tz))
		def_problem(problems, NULL, NULL, "trigger.timezone \"%s\" is not a known time zone", tz);
}

/*
 * The trigger's rule and the exit condition are evaluated where a failure
 * can only be logged (routing, the check before each step), so a rule that
 * cannot work must be refused when the definition is saved.
 */
static void check_rule(const cJSON *rule, const char *what, def_problems_t *problems)
{
	char err[256];

	if (rule != NULL && !cJSON_IsNull(rule) && jl_validate(rule, err, sizeof(err)) < 0)
		def_problem(problems, NULL, NULL, "%s is not a valid JSON Logic rule: %s", what, err);
}

static void parse_trigger(def_t *def, const def_resolver_t *resolver, def_problems_t *problems)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(def->json, "trigger");
	const char *source;
	double priority;
	bool known = false;

	if (t == NULL || cJSON_IsNull(t))
		return;
	if (!cJSON_IsObject(t)) {
		def_problem(problems, NULL, NULL, "\"trigger\" must be an object");
		return;
	}
	source = json_string(t, "source");
	for (int i = 0; source && trigger_sources[i]; i++)
		known |= strcmp(source, trigger_sources[i]) == 0;
	if (!known)
		def_problem(problems, NULL, NULL,
			    "trigger.source must be one of subscription, newsletter, manual, cron");
	def->trigger_source = source;
	def->trigger_rule = cJSON_GetObjectItemCaseSensitive(t, "rule");
	check_rule(def->trigger_rule, "trigger.rule", problems);
	if (source && strcmp(source, "cron") == 0)
		check_cron(t, resolver, problems);
	/* The bounds of an int here and of the integer column workflow.priority. */
	if (json_has(t, "priority")) {
		if (!json_number(t, "priority", &priority) || priority < INT_MIN || priority > INT_MAX)
			def_problem(problems, NULL, NULL, "trigger.priority must be a number from %d to %d",
				    INT_MIN, INT_MAX);
		else
			def->priority = (int)priority;
	}
}

static void parse_document(def_t *def, const def_resolver_t *resolver, def_problems_t *problems)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(def->json, "nodes");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(def->json, "name");
	const cJSON *item;

	if (name != NULL && !(cJSON_IsString(name) && name->valuestring[0]))
		def_problem(problems, NULL, NULL, "\"name\" must be a non-empty string");
	def->name = cJSON_IsString(name) ? name->valuestring : NULL;
	def->start = json_string(def->json, "start");
	if (def->start == NULL)
		def_problem(problems, NULL, NULL, "missing field \"start\" (the first node's id)");
	if (!cJSON_IsObject(nodes) || cJSON_GetArraySize(nodes) == 0) {
		def_problem(problems, NULL, NULL, "\"nodes\" must be an object with at least one node");
		return;
	}
	if (cJSON_GetArraySize(nodes) > DEF_NODES_MAX) {
		def_problem(problems, NULL, NULL, "the definition has %d nodes; at most %d are allowed",
			    cJSON_GetArraySize(nodes), DEF_NODES_MAX);
		return;
	}
	def->nodes = calloc((size_t)cJSON_GetArraySize(nodes), sizeof(def_node_t));
	if (def->nodes == NULL)
		abort();
	cJSON_ArrayForEach(item, nodes)
		parse_node(def, item, resolver, problems);
	if (def->start && def_node(def, def->start) == NULL)
		def_problem(problems, NULL, NULL, "start node \"%s\" does not exist", def->start);
	for (size_t i = 0; i < def->nnodes; i++) {
		const def_node_t *n = &def->nodes[i];

		check_edge(def, n, "next", n->next, problems);
		check_edge(def, n, "true", n->on_true, problems);
		check_edge(def, n, "false", n->on_false, problems);
	}
	parse_trigger(def, resolver, problems);
	def->exit_rule = cJSON_GetObjectItemCaseSensitive(def->json, "exit_when");
	check_rule(def->exit_rule, "exit_when", problems);
}

int def_parse(const cJSON *json, const def_resolver_t *resolver, def_t **out,
	      def_problems_t *problems)
{
	def_problems_t local = { 0 };
	def_problems_t *p = problems ? problems : &local;
	size_t before = p->count;
	def_t *def;

	*out = NULL;
	if (!cJSON_IsObject(json)) {
		def_problem(p, NULL, NULL, "a definition must be a JSON object");
		def_problems_free(&local);
		return -1;
	}
	def = calloc(1, sizeof(*def));
	if (def == NULL || (def->json = cJSON_Duplicate(json, 1)) == NULL)
		abort();
	parse_document(def, resolver, p);
	if (def->nnodes > 0) {
		check_graph(def, p);
		check_shared_flows(def, resolver, p);
	}
	if (p->count > before) {
		def_free(def);
		def_problems_free(&local);
		return -1;
	}
	*out = def;
	return 0;
}

int def_validate(const cJSON *json, const def_resolver_t *resolver, def_problems_t *problems)
{
	def_t *def;
	int rc = def_parse(json, resolver, &def, problems);

	def_free(def);
	return rc;
}
