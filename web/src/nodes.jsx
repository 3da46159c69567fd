// nodes.jsx - how nodes and edges look on the canvas. One component draws
// every node type (its handles from the type's "branching"), one draws every
// edge; both read the problems of the last save and the trace of the
// execution being watched from EditorContext, so nothing of the page's own
// goes into the nodes and edges that are saved.
import { createContext, memo, useContext } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, Handle, Position } from '@xyflow/react';
import { formatSeconds, labelText } from './flow.js';

export const EditorContext = createContext({
  types: new Map(),
  problems: null,
  trace: new Map(),
});

const TITLES = {
  trigger: 'Trigger',
  action: 'Action',
  delay: 'Delay',
  condition: 'Condition',
  sharedFlow: 'Shared flow',
  webhook: 'Webhook',
  noop: 'No-op',
  log: 'Log',
};

export function titleOf(rfType) {
  return TITLES[rfType] || rfType;
}

function short(value, max = 48) {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One line saying what the node does. */
export function summaryOf(type, data) {
  const d = data || {};
  switch (type) {
    case 'trigger':
      return [d.source || 'manual', d.source === 'cron' ? d.schedule : short(d.rule, 36)].filter(Boolean).join(' · ');
    case 'action':
      if (d.action === 'send_email') return `email · ${d.template || 'no template'}`;
      if (d.action === 'send_sms') return `SMS · ${short(d.message, 30) || 'no message'}`;
      if (d.action === 'trigger_webhook') return `${d.method || 'POST'} ${short(d.url, 34)}`;
      return 'choose an action';
    case 'delay':
      if (typeof d.seconds === 'number') return `wait ${formatSeconds(d.seconds)}`;
      if (d.until !== undefined) return `until ${short(d.until, 36)}`;
      return 'no duration';
    case 'condition':
      return d.rule === undefined ? 'no rule' : short(d.rule);
    case 'sharedFlow':
      return d.workflow ? `runs ${d.workflow}` : 'no workflow';
    case 'webhook':
      return `${d.method || 'POST'} ${short(d.url, 34) || 'no URL'}`;
    case 'log':
      return short(d.message);
    case 'noop':
      return d.sleep_ms ? `sleeps ${d.sleep_ms} ms` : 'does nothing';
    default:
      return '';
  }
}

const TRACE_TEXT = { current: 'running here', done: 'passed', failed: 'failed here' };

function WfNodeImpl({ id, type, data, selected }) {
  const { types, problems, trace } = useContext(EditorContext);
  const info = types.get(type);
  const messages = (problems && problems.byNode.get(id)) || [];
  const state = trace.get(id);
  const label = labelText(data && data.label);
  const classes = ['wf-node', `wf-node--${type}`];
  if (messages.length) classes.push('has-problem');
  if (state) classes.push(`is-${state}`);
  if (selected) classes.push('is-selected');
  return (
    <div className={classes.join(' ')} data-testid={`node-${id}`}>
      {type !== 'trigger' && <Handle type="target" position={Position.Top} />}
      <div className="wf-node__head">
        <span className="wf-node__type">{titleOf(type)}</span>
        <span className="wf-node__id">{id}</span>
      </div>
      {label ? <div className="wf-node__label">{label}</div> : null}
      <div className="wf-node__summary">{summaryOf(type, data)}</div>
      {state ? <div className={`wf-node__trace wf-node__trace--${state}`}>{TRACE_TEXT[state]}</div> : null}
      {messages.length > 0 && (
        <ul className="wf-node__problems" role="list" aria-label={`problems of ${id}`}>
          {messages.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
      {info && info.branching ? (
        <>
          <Handle type="source" position={Position.Bottom} id="true" className="wf-handle--true" style={{ left: '30%' }} />
          <span className="wf-handle-label wf-handle-label--true">true</span>
          <Handle type="source" position={Position.Bottom} id="false" className="wf-handle--false" style={{ left: '70%' }} />
          <span className="wf-handle-label wf-handle-label--false">false</span>
        </>
      ) : (
        <Handle type="source" position={Position.Bottom} />
      )}
    </div>
  );
}

export const WfNode = memo(WfNodeImpl);

function WfEdgeImpl({ id, sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition, sourceHandleId, selected }) {
  const { problems } = useContext(EditorContext);
  const messages = (problems && problems.byEdge.get(id)) || [];
  const [path, labelX, labelY] = getBezierPath({ sourceX, sourceY, targetX, targetY, sourcePosition, targetPosition });
  const classes = ['wf-edge'];
  if (messages.length) classes.push('has-problem');
  if (sourceHandleId === 'true' || sourceHandleId === 'false') classes.push(`wf-edge--${sourceHandleId}`);
  const label = messages.length ? messages.join('; ') : sourceHandleId === 'true' || sourceHandleId === 'false' ? sourceHandleId : '';
  return (
    <>
      <BaseEdge id={id} path={path} markerEnd="url(#wf-arrow)" className={classes.join(' ')} interactionWidth={16} />
      {label ? (
        <EdgeLabelRenderer>
          <div
            className={`wf-edge-label${messages.length ? ' has-problem' : ''}${selected ? ' is-selected' : ''}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
            data-testid={`edge-label-${id}`}
          >
            {label}
          </div>
        </EdgeLabelRenderer>
      ) : null}
    </>
  );
}

export const WfEdge = memo(WfEdgeImpl);
export const edgeTypes = { default: WfEdge };
