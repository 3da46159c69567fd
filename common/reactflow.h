/*
 * reactflow.h - the visual editor's documents: React Flow's toObject()
 * saves, {"nodes": [...], "edges": [...], "viewport": {...}}, converted into
 * workflow definitions and back.
 *
 * One node of type "trigger" carries the definition's "trigger" (and
 * "exit_when"); its edge points at the start node. Every other node becomes
 * the definition node of the same id, its "data" giving the node's fields
 * and its React Flow type the node type ("sharedFlow" is "shared_flow").
 * Edges become successors: "next", or for a condition "true"/"false" by the
 * edge's sourceHandle. Conversion checks the flow's own shape, then
 * validates the definition it built, and reports every problem at once,
 * each naming a React Flow node or edge id (or neither, for the document).
 * See docs/visual-workflows.md.
 */
#ifndef WF_REACTFLOW_H
#define WF_REACTFLOW_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "definition.h"

/*
 * Converts flow into a definition named name (NULL: no "name") and
 * validates it with resolver (may be NULL: shared flows and templates are
 * not checked). Returns 0 with *definition set (the caller owns it), or
 * -EINVAL with *definition NULL and every problem appended to problems
 * (which may be NULL). Problems name React Flow ids: a node problem has
 * "node" set, an edge problem "edge"; a node or edge that has no usable id
 * is named by its place, "nodes[3]" or "edges[0]". The flow is not changed.
 */
int rf_convert(const cJSON *flow, const char *name, const def_resolver_t *resolver,
	       cJSON **definition, def_problems_t *problems);

/*
 * The React Flow document of a definition, for opening a workflow that was
 * written without the editor (by SQL, say): a trigger node (id "trigger",
 * or "trigger-N" when a node already has that id) above the start node,
 * the other nodes laid out top-down by their distance from it, unreachable
 * ones in a last row. The definition need not be valid: what it holds is
 * carried over, so that converting back reports its problems. Returns 0 with
 * *flow set (the caller owns it), or -EINVAL when definition is not an
 * object with a "nodes" object.
 */
int rf_from_definition(const cJSON *definition, cJSON **flow);

/*
 * The React Flow "type" of a definition node type, or NULL when there is no
 * such node type. Internal types (noop, log) keep their own names.
 */
const char *rf_type_of(const char *node_type);
/* The definition node type of a React Flow type; NULL for "trigger" and unknown types. */
const char *rf_node_type(const char *rf_type);
/* Is this definition node type one the editor offers (not internal, like noop)? */
bool rf_type_public(const char *node_type);

/* JSON Schema (draft 2020-12) text of the trigger node's data, with examples. */
extern const char rf_trigger_schema[];

#endif
