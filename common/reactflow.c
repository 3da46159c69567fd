/*
 * reactflow.c - React Flow documents to definitions and back.
 *
 * Conversion runs in passes that each add problems rather than stop: the
 * nodes (ids, types, data), the edges (their ends, their handles, one
 * successor per handle), the trigger; then the definition built from what
 * was usable goes through def_validate, and its problems are renamed to
 * React Flow ids. A node of an unknown type still stands in the definition
 * (as a noop), so that the graph checks do not call the nodes after it
 * unreachable as well.
 */
#include "reactflow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "executor.h"
#include "json.h"

/*
 * Bounds on one flow. Validation is quadratic in the number of nodes (ids
 * are looked up in lists), and an editor's flow has tens of them.
 */
#define RF_NODES_MAX DEF_NODES_MAX
#define RF_EDGES_MAX 4000

/* Layout of rf_from_definition, in React Flow's pixels. */
#define LAYOUT_DX 240
#define LAYOUT_DY 140

/* jsonb keeps the last of duplicate keys and cJSON the first: what is checked must be what is stored. */
#define DUPLICATE_KEY "the key \"%s\" appears twice in one object"

#define TYPE_LIST "one of trigger, action, delay, condition, sharedFlow, webhook"

typedef enum { SLOT_NEXT, SLOT_TRUE, SLOT_FALSE, SLOT_COUNT } slot_t;

static const char *const slot_names[SLOT_COUNT] = { "next", "true", "false" };

/* The editor's node types; the internal ones (noop, log) keep their own names. */
static const struct {
	const char *rf;
	const char *node;
} public_types[] = {
	{ "action", "action" },
	{ "delay", "delay" },
	{ "condition", "condition" },
	{ "sharedFlow", "shared_flow" },
	{ "webhook", "webhook" },
};

#define NPUBLIC (sizeof(public_types) / sizeof(public_types[0]))

const char rf_trigger_schema[] =
	"{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"trigger\","
	" \"description\": \"what starts the workflow; its one edge leads to the first node\","
	" \"type\": \"object\","
	" \"properties\": {"
	"  \"source\": {\"enum\": [\"subscription\", \"newsletter\", \"manual\", \"cron\"], \"default\": \"manual\"},"
	"  \"rule\": {\"description\": \"JSON Logic over the trigger context; without it every row of the source matches\"},"
	"  \"priority\": {\"type\": \"number\", \"default\": 0,"
	"   \"description\": \"among the workflows whose rule matches a row, the highest priority starts\"},"
	"  \"schedule\": {\"type\": \"string\", \"description\": \"cron: five fields, e.g. 0 9 * * 1\"},"
	"  \"timezone\": {\"type\": \"string\", \"description\": \"cron: a tz database name such as Europe/Paris\"},"
	"  \"exit_when\": {\"description\": \"JSON Logic over fresh trigger data, checked before every step; true cancels\"}},"
	" \"if\": {\"required\": [\"source\"], \"properties\": {\"source\": {\"const\": \"cron\"}}},"
	" \"then\": {\"required\": [\"schedule\"]},"
	" \"examples\": ["
	"  {\"source\": \"subscription\", \"rule\": {\"==\": [{\"var\": \"subscription_type.name\"}, \"united\"]}, \"priority\": 10},"
	"  {\"source\": \"newsletter\", \"exit_when\": {\"!!\": {\"var\": \"newsletter.unsubscribed_at\"}}},"
	"  {\"source\": \"cron\", \"schedule\": \"0 9 * * 1\", \"timezone\": \"Europe/Paris\"},"
	"  {\"source\": \"manual\"}]}";

const char *rf_type_of(const char *node_type)
{
	const executor_t *e;

	for (size_t i = 0; i < NPUBLIC; i++)
		if (strcmp(public_types[i].node, node_type) == 0)
			return public_types[i].rf;
	e = executor_find(node_type);
	return e ? e->type : NULL;
}

bool rf_type_public(const char *node_type)
{
	for (size_t i = 0; i < NPUBLIC; i++)
		if (strcmp(public_types[i].node, node_type) == 0)
			return true;
	return false;
}

const char *rf_node_type(const char *rf_type)
{
	const executor_t *e;

	for (size_t i = 0; i < NPUBLIC; i++)
		if (strcmp(public_types[i].rf, rf_type) == 0)
			return public_types[i].node;
	/* "shared_flow" is not a React Flow type: the editor says "sharedFlow". */
	e = executor_find(rf_type);
	return e && !rf_type_public(e->type) ? e->type : NULL;
}

/* ---- React Flow to definition ------------------------------------------ */

typedef struct {
	const char *id;		/* borrowed from the flow */
	const cJSON *data;	/* the "data" object, or NULL */
	const executor_t *exec;	/* NULL for the trigger and for an unknown type */
	bool trigger;
	int edge[SLOT_COUNT];	/* the edge (index) of each successor, -1 for none */
} rf_node_t;

typedef struct {
	const char *id;
	int target;		/* node index; -1 when the edge is not used */
} rf_edge_t;

typedef struct {
	rf_node_t *nodes;
	size_t nnodes;
	rf_edge_t *edges;
	size_t nedges;
	int trigger;		/* the first trigger node, -1 when there is none */
	def_problems_t *problems;
} conv_t;

static int find_node(const conv_t *c, const char *id)
{
	for (size_t i = 0; i < c->nnodes; i++)
		if (strcmp(c->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

static int find_edge(const conv_t *c, const char *id)
{
	for (size_t i = 0; i < c->nedges; i++)
		if (strcmp(c->edges[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* The node's id, or its place "nodes[3]" when it has none; -1 when it cannot be used at all. */
static int add_node(conv_t *c, const cJSON *item, int index)
{
	const char *id = json_string(item, "id");
	char place[32];
	rf_node_t *n;

	snprintf(place, sizeof(place), "nodes[%d]", index);
	if (!cJSON_IsObject(item)) {
		def_problem(c->problems, place, NULL, "a node must be an object");
		return -1;
	}
	if (id == NULL || *id == '\0') {
		def_problem(c->problems, place, NULL, "a node needs an \"id\" (a non-empty string)");
		return -1;
	}
	if (find_node(c, id) >= 0) {
		def_problem(c->problems, id, NULL, "two nodes have the id \"%s\"", id);
		return -1;
	}
	if (json_duplicate_key(item, true))
		def_problem(c->problems, id, NULL, DUPLICATE_KEY, json_duplicate_key(item, true));
	n = &c->nodes[c->nnodes];
	n->id = id;
	for (int s = 0; s < SLOT_COUNT; s++)
		n->edge[s] = -1;
	return (int)c->nnodes++;
}

static void collect_nodes(conv_t *c, const cJSON *nodes)
{
	const cJSON *item;
	int index = 0;

	cJSON_ArrayForEach(item, nodes) {
		int i = add_node(c, item, index++);
		const char *type, *node_type;
		const cJSON *data, *label;
		rf_node_t *n;

		if (i < 0)
			continue;
		n = &c->nodes[i];
		type = json_string(item, "type");
		data = cJSON_GetObjectItemCaseSensitive(item, "data");
		if (data != NULL && !cJSON_IsNull(data) && !cJSON_IsObject(data))
			def_problem(c->problems, n->id, NULL, "\"data\" must be an object");
		n->data = cJSON_IsObject(data) ? data : NULL;
		/*
		 * The editor shows the label as the node's text; anything but a
		 * string (an object, a number) would break its page, so it is
		 * refused here like any other field of the wrong type.
		 */
		label = n->data ? cJSON_GetObjectItemCaseSensitive(n->data, "label") : NULL;
		if (label != NULL && !cJSON_IsString(label) && !cJSON_IsNull(label))
			def_problem(c->problems, n->id, NULL, "\"label\" must be a string (the text shown on the node)");
		if (type != NULL && strcmp(type, "trigger") == 0) {
			n->trigger = true;
			if (c->trigger < 0)
				c->trigger = i;
			else
				def_problem(c->problems, n->id, NULL,
					    "a flow has one trigger node, and \"%s\" is one already",
					    c->nodes[c->trigger].id);
		} else if (type == NULL) {
			def_problem(c->problems, n->id, NULL, "missing \"type\" (" TYPE_LIST ")");
		} else if ((node_type = rf_node_type(type)) == NULL) {
			def_problem(c->problems, n->id, NULL, "unknown node type \"%s\" (" TYPE_LIST ")", type);
		} else {
			n->exec = executor_find(node_type);
		}
	}
}

/* The node an edge end names, or -1 after reporting why not. */
static int edge_end(conv_t *c, const cJSON *item, const char *edge_id, const char *field,
		    const char *what)
{
	const char *id = json_string(item, field);
	int i;

	if (id == NULL) {
		def_problem(c->problems, NULL, edge_id, "missing \"%s\" (the id of the node it %s)", field, what);
		return -1;
	}
	i = find_node(c, id);
	if (i < 0)
		def_problem(c->problems, NULL, edge_id, "%s \"%s\" is not a node of the flow", field, id);
	return i;
}

/* Which successor of its source the edge is; SLOT_COUNT after reporting a bad handle. */
static slot_t edge_slot(conv_t *c, const cJSON *item, const rf_edge_t *e, const rf_node_t *from)
{
	const char *handle = json_string(item, "sourceHandle");

	/* A node with one way out may name its handle anything (React Flow's default is null). */
	if (from->exec == NULL || !from->exec->branching)
		return SLOT_NEXT;
	if (handle && strcmp(handle, "true") == 0)
		return SLOT_TRUE;
	if (handle && strcmp(handle, "false") == 0)
		return SLOT_FALSE;
	def_problem(c->problems, NULL, e->id,
		    "an edge leaving condition \"%s\" needs sourceHandle \"true\" or \"false\"", from->id);
	return SLOT_COUNT;
}

static void add_edge(conv_t *c, const cJSON *item, int index)
{
	const char *id = json_string(item, "id");
	char place[32];
	rf_edge_t *e;
	rf_node_t *n;
	int from, to;
	slot_t slot;

	snprintf(place, sizeof(place), "edges[%d]", index);
	if (!cJSON_IsObject(item)) {
		def_problem(c->problems, NULL, place, "an edge must be an object");
		return;
	}
	if (id == NULL || *id == '\0') {
		def_problem(c->problems, NULL, place, "an edge needs an \"id\" (a non-empty string)");
		return;
	}
	if (find_edge(c, id) >= 0) {
		def_problem(c->problems, NULL, id, "two edges have the id \"%s\"", id);
		return;
	}
	e = &c->edges[c->nedges++];
	e->id = id;
	e->target = -1;
	if (json_duplicate_key(item, true)) {
		def_problem(c->problems, NULL, id, DUPLICATE_KEY, json_duplicate_key(item, true));
		return;
	}
	from = edge_end(c, item, id, "source", "leaves");
	to = edge_end(c, item, id, "target", "enters");
	if (from < 0 || to < 0)
		return;
	if (c->nodes[to].trigger) {
		def_problem(c->problems, NULL, id, "an edge cannot enter the trigger \"%s\"", c->nodes[to].id);
		return;
	}
	n = &c->nodes[from];
	slot = edge_slot(c, item, e, n);
	if (slot == SLOT_COUNT)
		return;
	if (n->edge[slot] >= 0) {
		/* A node of an unknown type has its own problem; which way it goes does not matter. */
		if (n->exec == NULL && !n->trigger)
			return;
		if (slot == SLOT_NEXT)
			def_problem(c->problems, NULL, id,
				    "node \"%s\" already continues through edge \"%s\": a node has one outgoing edge"
				    " (a condition one per handle)", n->id, c->edges[n->edge[slot]].id);
		else
			def_problem(c->problems, NULL, id,
				    "the \"%s\" handle of condition \"%s\" already has edge \"%s\": one edge per handle",
				    slot_names[slot], n->id, c->edges[n->edge[slot]].id);
		return;
	}
	n->edge[slot] = (int)(e - c->edges);
	e->target = to;
}

static void collect_edges(conv_t *c, const cJSON *edges)
{
	const cJSON *item;
	int index = 0;

	cJSON_ArrayForEach(item, edges)
		add_edge(c, item, index++);
}

/* The id of the node a successor edge enters, or NULL. */
static const char *successor(const conv_t *c, const rf_node_t *n, slot_t slot)
{
	return n->edge[slot] < 0 ? NULL : c->nodes[c->edges[n->edge[slot]].target].id;
}

static void add_successor(cJSON *node, const char *field, const char *target)
{
	json_add(node, field, target ? cJSON_CreateString(target) : cJSON_CreateNull());
}

/* Node fields that come from the node's type and edges, never from its data. */
static bool structural(const char *field)
{
	return strcmp(field, "type") == 0 || strcmp(field, "next") == 0 || strcmp(field, "true") == 0 ||
	       strcmp(field, "false") == 0;
}

static cJSON *build_node(const conv_t *c, const rf_node_t *n)
{
	cJSON *node = json_object();
	const cJSON *f;

	if (n->exec == NULL) {
		/* A stand-in, so that the graph around an unknown node is still checked. */
		json_add_string(node, "type", "noop");
		add_successor(node, "next", successor(c, n, SLOT_NEXT));
		return node;
	}
	json_add_string(node, "type", n->exec->type);
	cJSON_ArrayForEach(f, n->data)
		if (!structural(f->string))
			json_add(node, f->string, cJSON_Duplicate(f, 1));
	if (n->exec->branching) {
		add_successor(node, "true", successor(c, n, SLOT_TRUE));
		add_successor(node, "false", successor(c, n, SLOT_FALSE));
	} else {
		add_successor(node, "next", successor(c, n, SLOT_NEXT));
	}
	return node;
}

/*
 * The trigger node's data is the definition's "trigger" plus "exit_when".
 * A null field counts as absent (a form's empty input): a null trigger rule
 * would otherwise match nothing. Without a source the workflow is manual.
 */
static void build_trigger(const conv_t *c, cJSON *def)
{
	cJSON *trigger = json_object();
	const cJSON *f;

	if (c->trigger >= 0) {
		const rf_node_t *t = &c->nodes[c->trigger];

		cJSON_ArrayForEach(f, t->data) {
			if (cJSON_IsNull(f))
				continue;
			json_add(strcmp(f->string, "exit_when") == 0 ? def : trigger, f->string, cJSON_Duplicate(f, 1));
		}
	}
	if (!cJSON_HasObjectItem(trigger, "source"))
		json_add_string(trigger, "source", "manual");
	json_add(def, "trigger", trigger);
}

static cJSON *build_definition(const conv_t *c, const char *name)
{
	cJSON *def = json_object();
	cJSON *nodes = json_object();
	const char *start = c->trigger >= 0 ? successor(c, &c->nodes[c->trigger], SLOT_NEXT) : NULL;

	if (name && *name)
		json_add_string(def, "name", name);
	build_trigger(c, def);
	if (start)
		json_add_string(def, "start", start);
	for (size_t i = 0; i < c->nnodes; i++)
		if (!c->nodes[i].trigger)
			json_add(nodes, c->nodes[i].id, build_node(c, &c->nodes[i]));
	json_add(def, "nodes", nodes);
	return def;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * One problem of def_validate in React Flow terms. An edge "a.next" is the
 * flow's edge behind that successor; a problem of the whole definition is
 * the trigger node's (its fields are the definition's trigger and exit
 * condition). Without a start node the trigger has been reported already,
 * so the definition's own complaints about that are dropped.
 */
static void map_problem(conv_t *c, const def_problem_t *p, bool has_start)
{
	const char *msg = p->message;

	if (p->node && p->edge && strlen(p->edge) > strlen(p->node)) {
		int i = find_node(c, p->node);
		const char *field = p->edge + strlen(p->node) + 1;

		for (int s = 0; i >= 0 && s < SLOT_COUNT; s++)
			if (strcmp(field, slot_names[s]) == 0 && c->nodes[i].edge[s] >= 0) {
				def_problem(c->problems, NULL, c->edges[c->nodes[i].edge[s]].id, "%s", msg);
				return;
			}
	}
	if (p->node) {
		def_problem(c->problems, p->node, NULL, "%s", msg);
		return;
	}
	if (!has_start && (starts_with(msg, "missing field \"start\"") || starts_with(msg, "\"nodes\" must be")))
		return;
	def_problem(c->problems, c->trigger >= 0 ? c->nodes[c->trigger].id : NULL, NULL, "%s", msg);
}

static void check_trigger(conv_t *c)
{
	if (c->trigger < 0)
		def_problem(c->problems, NULL, NULL, "the flow has no trigger node (a node of type \"trigger\")");
	else if (c->nodes[c->trigger].edge[SLOT_NEXT] < 0)
		def_problem(c->problems, c->nodes[c->trigger].id, NULL,
			    "the trigger has no outgoing edge: connect it to the first node");
}

/* The document's shape; false when there is nothing to convert. */
static bool check_document(const cJSON *flow, const char *name, def_problems_t *p)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(flow, "nodes");
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(flow, "edges");
	bool ok = true;

	if (name && *name == '\0')
		def_problem(p, NULL, NULL, "the workflow's name must not be empty");
	if (!cJSON_IsObject(flow)) {
		def_problem(p, NULL, NULL, "a React Flow document must be an object with \"nodes\" and \"edges\"");
		return false;
	}
	if (json_duplicate_key(flow, false))
		def_problem(p, NULL, NULL, DUPLICATE_KEY, json_duplicate_key(flow, false));
	if (!cJSON_IsArray(nodes)) {
		def_problem(p, NULL, NULL, "\"nodes\" must be an array");
		ok = false;
	} else if (cJSON_GetArraySize(nodes) > RF_NODES_MAX) {
		def_problem(p, NULL, NULL, "the flow has %d nodes; at most %d are allowed",
			    cJSON_GetArraySize(nodes), RF_NODES_MAX);
		ok = false;
	}
	if (edges != NULL && !cJSON_IsNull(edges) && !cJSON_IsArray(edges)) {
		def_problem(p, NULL, NULL, "\"edges\" must be an array");
		ok = false;
	} else if (cJSON_GetArraySize(edges) > RF_EDGES_MAX) {
		def_problem(p, NULL, NULL, "the flow has %d edges; at most %d are allowed",
			    cJSON_GetArraySize(edges), RF_EDGES_MAX);
		ok = false;
	}
	return ok;
}

int rf_convert(const cJSON *flow, const char *name, const def_resolver_t *resolver,
	       cJSON **definition, def_problems_t *problems)
{
	def_problems_t local = { 0 }, found = { 0 };
	def_problems_t *p = problems ? problems : &local;
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(flow, "nodes");
	const cJSON *edges = cJSON_GetObjectItemCaseSensitive(flow, "edges");
	size_t before = p->count;
	conv_t c = { .trigger = -1, .problems = p };
	cJSON *def = NULL;

	*definition = NULL;
	if (!check_document(flow, name, p))
		goto out;
	c.nodes = calloc((size_t)cJSON_GetArraySize(nodes) + 1, sizeof(*c.nodes));
	c.edges = calloc((size_t)cJSON_GetArraySize(edges) + 1, sizeof(*c.edges));
	if (c.nodes == NULL || c.edges == NULL)
		abort();
	collect_nodes(&c, nodes);
	collect_edges(&c, edges);
	check_trigger(&c);
	def = build_definition(&c, name);
	if (def_validate(def, resolver, &found) < 0)
		for (size_t i = 0; i < found.count; i++)
			map_problem(&c, &found.items[i], cJSON_HasObjectItem(def, "start"));
	def_problems_free(&found);
out:
	free(c.nodes);
	free(c.edges);
	if (p->count > before) {
		cJSON_Delete(def);
		def_problems_free(&local);
		return -EINVAL;
	}
	*definition = def;
	return 0;
}

/* ---- definition to React Flow ------------------------------------------ */

typedef struct {
	const cJSON **items;	/* the definition's nodes, in order */
	int *level;		/* row of each node: 1 for the start node */
	size_t n;
} layout_t;

static int layout_find(const layout_t *l, const char *id)
{
	for (size_t i = 0; id && i < l->n; i++)
		if (strcmp(l->items[i]->string, id) == 0)
			return (int)i;
	return -1;
}

/* The successor fields a node's type uses; an unknown type shows all it has. */
static bool uses_slot(const cJSON *node, slot_t slot)
{
	const char *type = json_string(node, "type");
	const executor_t *e = type ? executor_find(type) : NULL;

	if (e == NULL)
		return true;
	return e->branching ? slot != SLOT_NEXT : slot == SLOT_NEXT;
}

/* Rows by breadth-first distance from the start; what it does not reach goes below. */
static void layout_rows(layout_t *l, const char *start)
{
	int *queue = calloc(l->n + 1, sizeof(int));
	int head = 0, tail = 0, last = 0;

	if (queue == NULL)
		abort();
	for (size_t i = 0; i < l->n; i++)
		l->level[i] = -1;
	if (layout_find(l, start) >= 0) {
		queue[tail++] = layout_find(l, start);
		l->level[queue[0]] = 1;
	}
	while (head < tail) {
		int at = queue[head++];

		last = l->level[at];
		for (int s = 0; s < SLOT_COUNT; s++) {
			int next = uses_slot(l->items[at], s)
					   ? layout_find(l, json_string(l->items[at], slot_names[s])) : -1;

			if (next >= 0 && l->level[next] < 0) {
				l->level[next] = l->level[at] + 1;
				queue[tail++] = next;
			}
		}
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->level[i] < 0)
			l->level[i] = last + 1;
	free(queue);
}

static cJSON *position(const layout_t *l, int row, int index)
{
	cJSON *pos = json_object();
	int count = row == 0, place = 0;

	/* The trigger (row 0) stands alone; a row's nodes are centred under it. */
	for (size_t i = 0; row > 0 && i < l->n; i++) {
		if (l->level[i] == row && (int)i < index)
			place++;
		count += l->level[i] == row;
	}
	json_add_number(pos, "x", (place - (count - 1) / 2.0) * LAYOUT_DX);
	json_add_number(pos, "y", row * LAYOUT_DY);
	return pos;
}

static bool edge_id_taken(const cJSON *edges, const char *id)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, edges)
		if (strcmp(json_string(e, "id"), id) == 0)
			return true;
	return false;
}

static void add_flow_edge(cJSON *edges, const char *source, const char *handle, const char *target)
{
	cJSON *edge = json_object();
	char base[480], id[512];
	int n = 1;

	snprintf(base, sizeof(base), "%s%s%s->%s", source, handle ? ":" : "", handle ? handle : "", target);
	snprintf(id, sizeof(id), "%s", base);
	/*
	 * Ids built from node ids can meet ("a:true" -> b, or two long ids cut
	 * short); a suffix, which the cut never reaches, keeps them apart.
	 */
	while (edge_id_taken(edges, id))
		snprintf(id, sizeof(id), "%s#%d", base, ++n);
	json_add_string(edge, "id", id);
	json_add_string(edge, "source", source);
	json_add_string(edge, "target", target);
	if (handle)
		json_add_string(edge, "sourceHandle", handle);
	cJSON_AddItemToArray(edges, edge);
}

static cJSON *flow_node(const char *id, const char *type, cJSON *pos, cJSON *data)
{
	cJSON *node = json_object();

	json_add_string(node, "id", id);
	if (type)
		json_add_string(node, "type", type);
	json_add(node, "position", pos);
	json_add(node, "data", data);
	return node;
}

static cJSON *trigger_data(const cJSON *definition)
{
	const cJSON *trigger = cJSON_GetObjectItemCaseSensitive(definition, "trigger");
	const cJSON *exit_when = cJSON_GetObjectItemCaseSensitive(definition, "exit_when");
	cJSON *data = cJSON_IsObject(trigger) ? cJSON_Duplicate(trigger, 1) : json_object();

	if (data == NULL)
		abort();
	/* Only the definition's own exit_when counts; one inside its trigger means nothing. */
	cJSON_DeleteItemFromObjectCaseSensitive(data, "exit_when");
	if (!cJSON_HasObjectItem(data, "source"))
		json_add_string(data, "source", "manual");
	if (exit_when && !cJSON_IsNull(exit_when))
		json_add(data, "exit_when", cJSON_Duplicate(exit_when, 1));
	return data;
}

/* "trigger", unless a node already has that id. */
static void trigger_id(const layout_t *l, char *id, size_t len)
{
	snprintf(id, len, "trigger");
	for (int n = 1; layout_find(l, id) >= 0; n++)
		snprintf(id, len, "trigger-%d", n);
}

int rf_from_definition(const cJSON *definition, cJSON **flow)
{
	const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(definition, "nodes");
	const char *start = json_string(definition, "start");
	cJSON *out_nodes, *out_edges, *viewport;
	layout_t l = { 0 };
	const cJSON *item;
	char tid[64];

	*flow = NULL;
	if (!cJSON_IsObject(definition) || !cJSON_IsObject(nodes))
		return -EINVAL;
	l.n = (size_t)cJSON_GetArraySize(nodes);
	l.items = calloc(l.n + 1, sizeof(*l.items));
	l.level = calloc(l.n + 1, sizeof(*l.level));
	if (l.items == NULL || l.level == NULL)
		abort();
	l.n = 0;
	cJSON_ArrayForEach(item, nodes)
		l.items[l.n++] = item;
	layout_rows(&l, start);
	trigger_id(&l, tid, sizeof(tid));

	*flow = json_object();
	out_nodes = cJSON_CreateArray();
	out_edges = cJSON_CreateArray();
	cJSON_AddItemToArray(out_nodes, flow_node(tid, "trigger", position(&l, 0, 0), trigger_data(definition)));
	if (start)
		add_flow_edge(out_edges, tid, NULL, start);
	for (size_t i = 0; i < l.n; i++) {
		const cJSON *node = l.items[i];
		const char *type = json_string(node, "type");
		const char *rf = type ? rf_type_of(type) : NULL;
		const cJSON *fields = cJSON_IsObject(node) ? node : NULL;
		cJSON *data = json_object();
		const cJSON *f;

		cJSON_ArrayForEach(f, fields)
			if (!structural(f->string))
				json_add(data, f->string, cJSON_Duplicate(f, 1));
		/* An unknown type is kept as it is, for the converter to report. */
		cJSON_AddItemToArray(out_nodes, flow_node(node->string, rf ? rf : type, position(&l, l.level[i], (int)i), data));
		for (int s = 0; s < SLOT_COUNT; s++) {
			const char *target = json_string(node, slot_names[s]);

			if (target && uses_slot(node, s))
				add_flow_edge(out_edges, node->string, s == SLOT_NEXT ? NULL : slot_names[s], target);
		}
	}
	viewport = json_object();
	json_add_number(viewport, "x", 0);
	json_add_number(viewport, "y", 0);
	json_add_number(viewport, "zoom", 1);
	json_add(*flow, "nodes", out_nodes);
	json_add(*flow, "edges", out_edges);
	json_add(*flow, "viewport", viewport);
	free(l.items);
	free(l.level);
	return 0;
}
