// flow.test.mjs - the editor's logic without a browser (node --test).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  connect,
  formatSeconds,
  labelText,
  newNodeId,
  nodeIdProblem,
  parseJson,
  placeProblems,
  renameNode,
  splitSeconds,
  toSeconds,
  traceOf,
  visibleFields,
  widgetOf,
  withField,
} from '../../src/flow.js';

test('durations: a number and a unit to seconds and back', () => {
  assert.equal(toSeconds('2', 'minutes'), 120);
  assert.equal(toSeconds(1.5, 'hours'), 5400);
  assert.equal(toSeconds('3', 'days'), 259200);
  assert.equal(toSeconds('', 'days'), undefined);
  assert.equal(toSeconds('-1', 'seconds'), undefined);
  assert.deepEqual(splitSeconds(172800), { value: 2, unit: 'days' });
  assert.deepEqual(splitSeconds(5400), { value: 90, unit: 'minutes' });
  assert.deepEqual(splitSeconds(0.2), { value: 0.2, unit: 'seconds' });
  assert.deepEqual(splitSeconds(undefined), { value: '', unit: 'seconds' });
  assert.equal(formatSeconds(90061), '1 d 1 h 1 min 1 s');
  assert.equal(formatSeconds(120), '2 min');
});

test('node ids are new, renames follow the edges', () => {
  const nodes = [{ id: 'delay-1' }, { id: 'delay-3' }];
  assert.equal(newNodeId('delay', nodes), 'delay-2');
  assert.equal(newNodeId('action', nodes), 'action-1');
  assert.equal(nodeIdProblem('delay-3', nodes, 'delay-1'), 'another node is "delay-3" already');
  assert.equal(nodeIdProblem(' x', nodes, 'delay-1'), 'an id has no spaces at its ends');
  assert.equal(nodeIdProblem('wait', nodes, 'delay-1'), null);
  const r = renameNode(nodes, [{ id: 'e', source: 'delay-1', target: 'delay-3' }], 'delay-1', 'wait');
  assert.deepEqual(r.nodes.map((n) => n.id), ['wait', 'delay-3']);
  assert.deepEqual(r.edges[0], { id: 'e', source: 'wait', target: 'delay-3' });
});

test('a handle has one edge: a new connection replaces the old one', () => {
  let edges = connect([], { source: 'c', sourceHandle: 'true', target: 'a' });
  edges = connect(edges, { source: 'c', sourceHandle: 'false', target: 'b' });
  edges = connect(edges, { source: 'c', sourceHandle: 'true', target: 'b' });
  assert.deepEqual(edges, [
    { id: 'e-c-false-b', source: 'c', sourceHandle: 'false', target: 'b' },
    { id: 'e-c-true-b', source: 'c', sourceHandle: 'true', target: 'b' },
  ]);
  edges = connect(edges, { source: 'x', sourceHandle: null, target: 'c' });
  assert.deepEqual(edges[2], { id: 'e-x-c', source: 'x', target: 'c' });
});

test('an edge id is never given twice, after a rename reuses a node id', () => {
  // trigger -> delay-1 -> action-1; delay-1 renamed to wait; a new delay
  // (delay-1 again) connected to action-1.
  const nodes = [{ id: 'trigger-1' }, { id: 'delay-1' }, { id: 'action-1' }];
  let edges = connect([], { source: 'trigger-1', target: 'delay-1' });
  edges = connect(edges, { source: 'delay-1', target: 'action-1' });
  const r = renameNode(nodes, edges, 'delay-1', 'wait');
  assert.deepEqual(r.edges, [
    { id: 'e-trigger-1-wait', source: 'trigger-1', target: 'wait' },
    { id: 'e-wait-action-1', source: 'wait', target: 'action-1' },
  ]);
  const added = [...r.nodes, { id: newNodeId('delay', r.nodes) }];
  assert.equal(added[3].id, 'delay-1');
  edges = connect(r.edges, { source: 'delay-1', target: 'action-1' });
  const ids = edges.map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length, `edge ids ${ids.join(', ')} are distinct`);
  assert.deepEqual(edges[2], { id: 'e-delay-1-action-1', source: 'delay-1', target: 'action-1' });

  // An id the editor did not make (imported, say) is kept by a rename, and
  // connect then picks one with a suffix.
  const kept = renameNode(nodes, [{ id: 'e-delay-1-action-1', source: 'x', target: 'delay-1' }], 'delay-1', 'wait');
  assert.equal(kept.edges[0].id, 'e-delay-1-action-1');
  edges = connect(kept.edges, { source: 'delay-1', target: 'action-1' });
  assert.deepEqual(edges.map((e) => e.id), ['e-delay-1-action-1', 'e-delay-1-action-1-2']);
  edges = connect(edges, { source: 'y', target: 'z' });
  edges = connect([...edges, { id: 'e-p-q', source: 'a', target: 'b' }, { id: 'e-p-q-2', source: 'c', target: 'd' }], { source: 'p', target: 'q' });
  assert.equal(edges.at(-1).id, 'e-p-q-3');
  // Replacing the edge of a handle frees its id for the new edge.
  edges = connect([{ id: 'e-c-true-a', source: 'c', sourceHandle: 'true', target: 'a' }], { source: 'c', sourceHandle: 'true', target: 'a' });
  assert.deepEqual(edges.map((e) => e.id), ['e-c-true-a']);
});

test('labels: a string as it is, anything else as its JSON text', () => {
  assert.equal(labelText('Wait'), 'Wait');
  assert.equal(labelText({ en: 'Wait' }), '{"en":"Wait"}');
  assert.equal(labelText(['a', 1]), '["a",1]');
  assert.equal(labelText(0), '0');
  assert.equal(labelText(false), 'false');
  assert.equal(labelText(undefined), '');
  assert.equal(labelText(null), '');
  assert.equal(labelText(''), '');
});

test('fields: by action and source, and their widgets', () => {
  const schema = { properties: { action: {}, template: {}, message: {}, to: {}, url: {}, method: {}, headers: {}, body: {}, retry: {} } };
  assert.deepEqual(visibleFields('action', schema, { action: 'send_email' }), ['action', 'template', 'to', 'retry']);
  assert.deepEqual(visibleFields('action', schema, { action: 'trigger_webhook' }), ['action', 'url', 'method', 'headers', 'body', 'retry']);
  const trigger = { properties: { source: {}, rule: {}, schedule: {}, timezone: {} } };
  assert.deepEqual(visibleFields('trigger', trigger, { source: 'manual' }), ['source', 'rule']);
  assert.deepEqual(visibleFields('trigger', trigger, { source: 'cron' }), ['source', 'rule', 'schedule', 'timezone']);
  assert.equal(widgetOf('delay', 'seconds', { type: 'number' }), 'duration');
  assert.equal(widgetOf('action', 'template', { type: 'string' }), 'template');
  assert.equal(widgetOf('condition', 'rule', {}), 'jsonlogic');
  assert.equal(widgetOf('action', 'method', { enum: ['GET'] }), 'select');
  assert.equal(widgetOf('delay', 'until', { anyOf: [{ type: 'string' }, { type: 'object' }] }), 'textOrJson');
  assert.equal(widgetOf('webhook', 'headers', { type: 'object' }), 'json');
  assert.deepEqual(withField({ a: 1, b: 2 }, 'a', undefined), { b: 2 });
});

test('JSON fields: a value, nothing, or where it went wrong', () => {
  assert.deepEqual(parseJson(' {"a": 1} '), { value: { a: 1 } });
  assert.deepEqual(parseJson('  '), { value: undefined });
  assert.ok(parseJson('{"a": ').error);
});

test('problems land on their nodes and edges; a dangling edge on the end that exists', () => {
  const nodes = [{ id: 'start' }, { id: 'check' }];
  const edges = [
    { id: 'e1', source: 'start', target: 'check' },
    { id: 'e2', source: 'check', target: 'ghost' },
  ];
  const placed = placeProblems(
    [
      { node: 'check', message: 'bad rule' },
      { edge: 'e2', message: 'target "ghost" is not a node of the flow' },
      { edge: 'e1', message: 'needs sourceHandle' },
      { node: 'nodes[4]', message: 'no id' },
      { message: 'the flow has no trigger node' },
    ],
    nodes,
    edges,
  );
  assert.deepEqual(placed.byNode.get('check'), ['bad rule', 'edge e2: target "ghost" is not a node of the flow']);
  assert.deepEqual(placed.byEdge.get('e1'), ['needs sourceHandle']);
  assert.deepEqual(placed.byEdge.get('e2'), ['target "ghost" is not a node of the flow']);
  assert.deepEqual(placed.general, ['node nodes[4]: no id', 'the flow has no trigger node']);
  assert.equal(placed.list.length, 5);
});

test('an execution\'s trace: passed, current and failed nodes', () => {
  const detail = {
    execution: { status: 'delayed', current_node: 'wait' },
    history: [
      { node: 'check', to: 'running' },
      { node: 'check', to: 'stepCompleted' },
      { node: 'retried', to: 'stepFailed' },
      { node: 'retried', to: 'stepCompleted' },
      { node: 'mail', to: 'running' },
      { node: 'mail', to: 'stepFailed' },
      { node: 'wait', to: 'delayed' },
    ],
  };
  const trace = traceOf(detail);
  assert.equal(trace.get('check'), 'done');
  assert.equal(trace.get('mail'), 'failed');
  assert.equal(trace.get('retried'), 'done');
  assert.equal(trace.get('wait'), 'current');
  detail.execution.status = 'completed';
  assert.equal(traceOf(detail).get('wait'), 'done');
});
