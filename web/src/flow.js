// flow.js - the editor's logic without React or the DOM: node ids, edge
// ids, durations, the fields a node type shows, JSON fields, the problems of
// a 422 mapped onto the canvas, and an execution's trace. tests/unit/ runs
// these under node --test.

export const DURATION_UNITS = [
  { unit: 'seconds', seconds: 1 },
  { unit: 'minutes', seconds: 60 },
  { unit: 'hours', seconds: 3600 },
  { unit: 'days', seconds: 86400 },
];

/** Seconds as the largest unit that holds them whole: 172800 -> {value: 2, unit: 'days'}. */
export function splitSeconds(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0) {
    return { value: seconds === 0 ? 0 : '', unit: 'seconds' };
  }
  for (let i = DURATION_UNITS.length - 1; i >= 0; i--) {
    const u = DURATION_UNITS[i];
    if (seconds % u.seconds === 0) return { value: seconds / u.seconds, unit: u.unit };
  }
  return { value: seconds, unit: 'seconds' };
}

/** value of unit in seconds; undefined for an empty or invalid value. */
export function toSeconds(value, unit) {
  if (value === '' || value === null || value === undefined) return undefined;
  const n = Number(value);
  const u = DURATION_UNITS.find((d) => d.unit === unit) || DURATION_UNITS[0];
  if (!Number.isFinite(n) || n < 0) return undefined;
  return Math.round(n * u.seconds * 1000) / 1000;
}

/** A readable duration: 90 -> "1 min 30 s". */
export function formatSeconds(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  if (seconds === 0) return '0 s';
  const parts = [];
  let rest = seconds;
  for (const [size, name] of [[86400, 'd'], [3600, 'h'], [60, 'min']]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
  }
  if (rest) parts.push(`${Math.round(rest * 1000) / 1000} s`);
  return parts.join(' ');
}

/** A node id not yet in nodes: "delay-1", "delay-2", ... */
export function newNodeId(type, nodes) {
  const taken = new Set(nodes.map((n) => n.id));
  for (let i = 1; ; i++) {
    const id = `${type}-${i}`;
    if (!taken.has(id)) return id;
  }
}

/** The id of an edge from source (through handle) to target. */
export function edgeId(source, sourceHandle, target) {
  return sourceHandle ? `e-${source}-${sourceHandle}-${target}` : `e-${source}-${target}`;
}

// An edge id is made from its ends, and node ids can be renamed and then
// reused ("delay-1" renamed "wait", a new "delay-1" added), so the id an
// edge would get may belong to another edge already: the server refuses two
// edges with one id. Such an id gets a suffix: "e-a-b-2", "e-a-b-3", ...
function freeEdgeId(base, edges) {
  const taken = new Set(edges.map((e) => e.id));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const id = `${base}-${i}`;
    if (!taken.has(id)) return id;
  }
}

/**
 * Adds the edge of a new connection: a source handle has one edge, so one
 * already leaving the same handle is replaced. The new edge's id is one no
 * other edge has. Returns the new edge list.
 */
export function connect(edges, { source, sourceHandle, target, targetHandle }) {
  const handle = sourceHandle ?? null;
  const kept = edges.filter((e) => !(e.source === source && (e.sourceHandle ?? null) === handle));
  const edge = { id: freeEdgeId(edgeId(source, handle, target), kept), source, target };
  if (handle) edge.sourceHandle = handle;
  if (targetHandle) edge.targetHandle = targetHandle;
  return [...kept, edge];
}

/**
 * Renames node from to to: the node and the edges that name it. An edge
 * whose id is the one the editor made from its ends gets the id of its new
 * ends (when no other edge has it), so the old id is free for a node that
 * takes the old name; other edge ids are the user's and stay.
 */
export function renameNode(nodes, edges, from, to) {
  const moved = edges.map((e) => ({
    ...e,
    source: e.source === from ? to : e.source,
    target: e.target === from ? to : e.target,
  }));
  const result = [];
  moved.forEach((e, i) => {
    const old = edges[i];
    const touched = old.source === from || old.target === from;
    if (touched && old.id === edgeId(old.source, old.sourceHandle ?? null, old.target)) {
      const others = [...result, ...moved.slice(i + 1)];
      const id = edgeId(e.source, e.sourceHandle ?? null, e.target);
      if (!others.some((x) => x.id === id)) {
        result.push({ ...e, id });
        return;
      }
    }
    result.push(e);
  });
  return {
    nodes: nodes.map((n) => (n.id === from ? { ...n, id: to } : n)),
    edges: result,
  };
}

/** Why id cannot become a node's new id, or null when it can. */
export function nodeIdProblem(id, nodes, current) {
  if (!id.trim()) return 'an id cannot be empty';
  if (id !== id.trim()) return 'an id has no spaces at its ends';
  if (id.length > 128) return 'an id has at most 128 characters';
  if (id !== current && nodes.some((n) => n.id === id)) return `another node is "${id}" already`;
  return null;
}

// The fields of an action node by its action; the other fields of the
// schema stay hidden (and their values are left alone).
const ACTION_FIELDS = {
  send_email: ['template', 'to'],
  send_sms: ['message', 'to'],
  trigger_webhook: ['url', 'method', 'headers', 'body'],
};
const CRON_FIELDS = ['schedule', 'timezone'];

/** The names of the schema's properties the form shows for data, in the schema's order. */
export function visibleFields(rfType, schema, data) {
  const props = Object.keys((schema && schema.properties) || {});
  if (rfType === 'action') {
    const extra = ACTION_FIELDS[data && data.action] || [];
    return props.filter((p) => p === 'action' || p === 'retry' || extra.includes(p));
  }
  if (rfType === 'trigger') {
    const cron = data && data.source === 'cron';
    return props.filter((p) => cron || !CRON_FIELDS.includes(p));
  }
  return props;
}

/** Which widget a property gets. */
export function widgetOf(rfType, name, prop) {
  if (rfType === 'delay' && name === 'seconds') return 'duration';
  if (name === 'template') return 'template';
  if (rfType === 'sharedFlow' && name === 'workflow') return 'workflow';
  if (name === 'rule' || name === 'exit_when') return 'jsonlogic';
  if (name === 'retry' && prop && prop.properties) return 'group';
  if (prop && Array.isArray(prop.enum)) return 'select';
  if (prop && (prop.type === 'number' || prop.type === 'integer')) return 'number';
  if (prop && prop.type === 'string') return 'text';
  if (prop && Array.isArray(prop.anyOf) && prop.anyOf.some((a) => a.type === 'string')) return 'textOrJson';
  return 'json';
}

/**
 * Parses the text of a JSON field: {value} (undefined for an empty field)
 * or {error} with where it went wrong.
 */
export function parseJson(text) {
  if (text.trim() === '') return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: err.message.replace(/^JSON\.parse: /, '') };
  }
}

/**
 * A node's label as canvas text. The editor writes strings, but a stored
 * document may hold any JSON there, and React cannot draw an object as a
 * child (the whole page would go blank): anything else is its JSON text.
 */
export function labelText(label) {
  if (label === undefined || label === null || label === '') return '';
  return typeof label === 'string' ? label : JSON.stringify(label);
}

/** A value shown in a JSON field. */
export function showJson(value) {
  return value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
}

/** data with key set to value, or without key when value is undefined (an empty input). */
export function withField(data, key, value) {
  const next = { ...data };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

/**
 * The problems of a 422 answer placed on the canvas: byNode and byEdge
 * (id -> messages), general (messages naming neither, or a node or edge
 * the canvas does not have), and list (the problems as they came). An edge whose source or target is not a node
 * (a dangling edge) cannot be drawn, so its problem is also shown on the
 * end that exists.
 */
export function placeProblems(problems, nodes, edges) {
  const byNode = new Map();
  const byEdge = new Map();
  const general = [];
  const nodeIds = new Set(nodes.map((n) => n.id));
  const add = (map, id, message) => map.set(id, [...(map.get(id) || []), message]);
  for (const p of problems || []) {
    const message = p.message || String(p);
    if (p.node !== undefined && nodeIds.has(p.node)) {
      add(byNode, p.node, message);
    } else if (p.edge !== undefined) {
      const edge = edges.find((e) => e.id === p.edge);
      if (!edge) {
        general.push(`edge ${p.edge}: ${message}`);
        continue;
      }
      add(byEdge, p.edge, message);
      const ends = [edge.source, edge.target].filter((id) => nodeIds.has(id));
      if (ends.length < 2) {
        for (const id of ends) add(byNode, id, `edge ${p.edge}: ${message}`);
        if (ends.length === 0) general.push(`edge ${p.edge}: ${message}`);
      }
    } else if (p.node !== undefined) {
      general.push(`node ${p.node}: ${message}`);
    } else {
      general.push(message);
    }
  }
  return { byNode, byEdge, general, list: problems || [] };
}

export const ENDED = ['completed', 'failed', 'cancelled'];

/** True when an execution in this status will not move again by itself. */
export function executionEnded(status) {
  return ENDED.includes(status);
}

/**
 * Each node's part in an execution, from its detail
 * (GET /workflow/executions/:id): 'current' for the node it is at while it
 * runs, 'failed' for a node whose last step failed, 'done' for the nodes it
 * went through.
 */
export function traceOf(detail) {
  const trace = new Map();
  if (!detail || !detail.execution) return trace;
  for (const h of detail.history || []) {
    if (h.node) trace.set(h.node, h.to === 'stepFailed' || h.to === 'failed' ? 'failed' : 'done');
  }
  const ex = detail.execution;
  if (ex.current_node && !executionEnded(ex.status)) trace.set(ex.current_node, 'current');
  return trace;
}
