// Sidebar.jsx - the palette of node types (drag one onto the canvas, or
// press its button to add it in the middle of the view) and the saved
// workflows with their versions (open, delete).
import { titleOf } from './nodes.jsx';

export const DRAG_TYPE = 'application/x-wf-node-type';

export function Palette({ entries, onAdd }) {
  return (
    <section className="palette" aria-labelledby="palette-title">
      <h2 id="palette-title" className="panel__title">
        Nodes
      </h2>
      <p className="muted small-text">Drag onto the canvas, or press to add.</p>
      <ul role="list">
        {entries.map((t) => (
          <li key={t.react_flow_type}>
            <button
              type="button"
              className={`palette__item wf-node--${t.react_flow_type}`}
              draggable
              data-node-type={t.react_flow_type}
              title={t.description}
              aria-describedby={`palette-desc-${t.react_flow_type}`}
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_TYPE, t.react_flow_type);
                e.dataTransfer.effectAllowed = 'move';
              }}
              onClick={() => onAdd(t.react_flow_type)}
            >
              <span className="palette__name">{titleOf(t.react_flow_type)}</span>
              <span className="palette__desc" id={`palette-desc-${t.react_flow_type}`}>
                {t.description}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function Version({ workflow }) {
  return (
    <span className="muted small-text">
      v{workflow.version}
      {workflow.valid === false ? ' · invalid' : ''}
    </span>
  );
}

export function WorkflowList({ list, currentId, currentName, onOpen, onOpenByName, onDelete, onRefresh }) {
  const visual = (list && list.visual_workflows) || [];
  const others = (list && list.workflows_without_flow) || [];
  return (
    <section className="workflows" aria-labelledby="workflows-title">
      <div className="panel__title-row">
        <h2 id="workflows-title" className="panel__title">
          Workflows
        </h2>
        <button type="button" className="small" onClick={onRefresh}>
          Refresh
        </button>
      </div>
      {visual.length === 0 && others.length === 0 ? <p className="muted">None saved yet.</p> : null}
      <ul role="list" data-testid="workflow-list">
        {visual.map((w) => (
          <li key={`v${w.id}`} className={w.id === currentId ? 'is-current' : ''}>
            <button type="button" className="link" onClick={() => onOpen(w.id)} aria-current={w.id === currentId ? 'true' : undefined}>
              {w.name}
            </button>
            <Version workflow={w} />
            <button type="button" className="small danger" onClick={() => onDelete(w)} aria-label={`delete ${w.name}`}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      {others.length > 0 ? (
        <>
          <h3 className="small-heading">Without a document</h3>
          <p className="muted small-text">Written by SQL or shipped; opening lays them out.</p>
          <ul role="list">
            {others.map((w) => (
              <li key={`w${w.workflow_id}`} className={!currentId && w.name === currentName ? 'is-current' : ''}>
                <button type="button" className="link" onClick={() => onOpenByName(w.name)}>
                  {w.name}
                </button>
                <Version workflow={w} />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
