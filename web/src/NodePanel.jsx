// NodePanel.jsx - the side panel of the selected node: its id, label and
// the fields of its type's JSON Schema (GET /workflow/node-types), where it
// goes next (a keyboard way to connect nodes), and deleting it.
import { useEffect, useState } from 'react';
import { DurationField, JsonField, NumberField, SelectField, TextField } from './fields.jsx';
import { labelText, nodeIdProblem, visibleFields, widgetOf, withField } from './flow.js';
import { titleOf } from './nodes.jsx';

function Field({ node, name, prop, required, templates, workflowNames, onData }) {
  const data = node.data || {};
  const id = `field-${name}`;
  const label = name.replace(/_/g, ' ');
  const help = prop.description;
  const set = (v) => onData(withField(data, name, v));
  switch (widgetOf(node.type, name, prop)) {
    case 'duration':
      return <DurationField id={id} label="wait" seconds={data[name]} onChange={set} required={required} help="or give “until” instead" />;
    case 'template':
      return (
        <SelectField
          id={id}
          label="email template"
          value={data[name]}
          options={templates.map((t) => ({ value: t }))}
          onChange={set}
          required={data.action === 'send_email'}
          emptyLabel="choose a template"
          help={help}
        />
      );
    case 'workflow':
      return (
        <>
          <TextField id={id} label={label} value={data[name]} onChange={set} required={required} help={help} list="workflow-names" />
          <datalist id="workflow-names">
            {workflowNames.map((n) => (
              <option key={n} value={n} />
            ))}
          </datalist>
        </>
      );
    case 'jsonlogic':
      return <JsonField id={id} label={label === 'rule' ? 'rule (JSON Logic)' : `${label} (JSON Logic)`} value={data[name]} onChange={set} required={required} help={help} jsonlogic />;
    case 'select':
      return (
        <SelectField
          id={id}
          label={label}
          value={data[name]}
          options={prop.enum.map((v) => ({ value: v }))}
          onChange={set}
          required={required}
          emptyLabel={prop.default !== undefined ? `default (${prop.default})` : '—'}
          help={help}
        />
      );
    case 'number':
      return <NumberField id={id} label={label} value={data[name]} onChange={set} required={required} help={help} min={prop.minimum} max={prop.maximum} integer={prop.type === 'integer'} />;
    case 'text':
      return <TextField id={id} label={label} value={data[name]} onChange={set} required={required} help={help} />;
    case 'group':
      return (
        <details className="field field--group" open={data[name] !== undefined}>
          <summary>{label}</summary>
          {help ? <p className="field__help">{help}</p> : null}
          {Object.entries(prop.properties).map(([sub, subProp]) => (
            <NumberField
              key={sub}
              id={`${id}-${sub}`}
              label={sub.replace(/_/g, ' ')}
              value={(data[name] || {})[sub]}
              min={subProp.minimum}
              max={subProp.maximum}
              integer={subProp.type === 'integer'}
              help={subProp.description}
              onChange={(v) => {
                const next = withField(data[name] || {}, sub, v);
                set(Object.keys(next).length ? next : undefined);
              }}
            />
          ))}
        </details>
      );
    case 'textOrJson':
      return <JsonField id={id} label={label} value={data[name]} onChange={set} required={required} help={`${help || ''} A time like 2030-01-01T09:00:00Z, or a JSON Logic object.`} textOrJson rows={2} />;
    default:
      return <JsonField id={id} label={`${label} (JSON)`} value={data[name]} onChange={set} required={required} help={help} />;
  }
}

function Rename({ node, nodes, onRename }) {
  const [text, setText] = useState(node.id);
  useEffect(() => setText(node.id), [node.id]);
  const problem = text === node.id ? null : nodeIdProblem(text, nodes, node.id);
  const apply = () => {
    if (text !== node.id && !problem) onRename(node.id, text);
  };
  return (
    <div className="field">
      <label htmlFor="field-node-id">node id</label>
      <div className="field__row">
        <input
          id="field-node-id"
          type="text"
          value={text}
          aria-invalid={problem ? 'true' : 'false'}
          aria-describedby="field-node-id-help"
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && apply()}
        />
        <button type="button" onClick={apply} disabled={text === node.id || Boolean(problem)}>
          Rename
        </button>
      </div>
      <p className={`field__help${problem ? ' field__status--bad' : ''}`} id="field-node-id-help">
        {problem || 'the id names the node in the definition and in the history'}
      </p>
    </div>
  );
}

/** The successors of node, one select per source handle. */
function Connections({ node, nodes, edges, branching, onSetNext }) {
  const handles = branching ? ['true', 'false'] : [null];
  const targets = nodes.filter((n) => n.id !== node.id && n.type !== 'trigger');
  return (
    <fieldset className="field">
      <legend>next</legend>
      {handles.map((h) => {
        const edge = edges.find((e) => e.source === node.id && (e.sourceHandle ?? null) === h);
        const id = `field-next-${h || 'default'}`;
        return (
          <div className="field" key={h || 'default'}>
            <label htmlFor={id}>{h ? `when ${h}` : 'then'}</label>
            <select id={id} value={edge ? edge.target : ''} onChange={(e) => onSetNext(node.id, h, e.target.value || null)}>
              <option value="">end here</option>
              {edge && !targets.some((t) => t.id === edge.target) ? <option value={edge.target}>{`${edge.target} (missing)`}</option> : null}
              {targets.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.id}
                </option>
              ))}
            </select>
          </div>
        );
      })}
    </fieldset>
  );
}

export default function NodePanel({ node, types, nodes, edges, templates, workflowNames, onData, onRename, onSetNext, onDelete }) {
  if (!node) {
    return (
      <p className="panel__empty">
        Select a node on the canvas (click it, or Tab to it) to edit its fields. Add nodes from the palette: drag one onto the canvas, or press its button.
      </p>
    );
  }
  const info = types.get(node.type);
  const schema = (info && info.schema) || { properties: {} };
  const required = new Set(schema.required || []);
  const fields = visibleFields(node.type, schema, node.data || {});
  return (
    <form className="node-panel" onSubmit={(e) => e.preventDefault()} aria-label={`fields of ${node.id}`}>
      <h2 className="panel__title">
        {titleOf(node.type)} <span className="muted">{node.id}</span>
      </h2>
      {info && info.description ? <p className="field__help">{info.description}</p> : null}
      {!info ? <p className="field__status--bad">unknown node type “{node.type}”</p> : null}
      <Rename node={node} nodes={nodes} onRename={onRename} />
      <TextField id="field-label" label="label" value={labelText((node.data || {}).label)} onChange={(v) => onData(withField(node.data || {}, 'label', v))} help="shown on the canvas; kept in the definition" />
      {fields.map((name) => (
        <Field key={`${node.id}-${name}`} node={node} name={name} prop={schema.properties[name] || {}} required={required.has(name)} templates={templates} workflowNames={workflowNames} onData={onData} />
      ))}
      <Connections node={node} nodes={nodes} edges={edges} branching={Boolean(info && info.branching)} onSetNext={onSetNext} />
      <button type="button" className="danger" onClick={() => onDelete(node.id)}>
        Delete node {node.id}
      </button>
    </form>
  );
}
