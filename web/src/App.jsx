// App.jsx - the editor page: toolbar (name, new, save, document), palette
// and saved workflows on the left, the React Flow canvas, and the side
// panel (the selected node's fields, test runs, executions) on the right.
//
// The page holds React Flow's nodes and edges as they are saved; what it
// shows besides (a save's problems, an execution's trace) lives in
// EditorContext, so Save sends React Flow's toObject() unchanged.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Background, Controls, MiniMap, ReactFlow, ReactFlowProvider, useEdgesState, useNodesState, useReactFlow } from '@xyflow/react';
import { del, get, post, put, seg, setTokenPrompt } from './api.js';
import { ConfirmDialog, DocumentDialog, TokenDialog } from './dialogs.jsx';
import { connect, newNodeId, placeProblems, renameNode, traceOf } from './flow.js';
import NodePanel from './NodePanel.jsx';
import { EditorContext, edgeTypes, WfNode } from './nodes.jsx';
import { ExecutionList, RunPanel, useWatchedExecution } from './RunPanel.jsx';
import { DRAG_TYPE, Palette, WorkflowList } from './Sidebar.jsx';

const NODE_TYPES = Object.fromEntries(['trigger', 'action', 'delay', 'condition', 'sharedFlow', 'webhook', 'noop', 'log'].map((t) => [t, WfNode]));

// What a new node of a type starts with.
const NEW_DATA = {
  trigger: { source: 'manual' },
  action: { action: 'send_email' },
  delay: { seconds: 3600 },
};

const TABS = [
  { id: 'node', label: 'Node' },
  { id: 'run', label: 'Run' },
  { id: 'executions', label: 'Executions' },
];

function readHash() {
  const m = /^#\/(visual|workflow)\/(.+)$/.exec(window.location.hash);
  return m ? { kind: m[1], key: decodeURIComponent(m[2]) } : null;
}

function writeHash(kind, key) {
  const hash = kind ? `#/${kind}/${encodeURIComponent(key)}` : '#';
  if (window.location.hash !== hash) window.history.replaceState(null, '', hash === '#' ? window.location.pathname : hash);
}

function ProblemList({ problems, onShow }) {
  const n = problems.list.length;
  return (
    <section className="problems" aria-labelledby="problems-title" data-testid="problems">
      <h2 id="problems-title" className="panel__title">
        {n === 1 ? '1 problem' : `${n} problems`}
      </h2>
      <ul role="list">
        {problems.list.map((p, i) => (
          <li key={i}>
            {p.node !== undefined || p.edge !== undefined ? (
              <button type="button" className="link" onClick={() => onShow(p)}>
                {p.node !== undefined ? `node ${p.node}` : `edge ${p.edge}`}
              </button>
            ) : (
              <strong>flow</strong>
            )}
            : {p.message}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Editor() {
  const rf = useReactFlow();
  const [nodes, setNodes, onNodesChange] = useNodesState([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState([]);
  const [nodeTypesInfo, setNodeTypesInfo] = useState(null);
  const [templates, setTemplates] = useState([]);
  const [workflows, setWorkflows] = useState(null);
  const [doc, setDoc] = useState({ id: null, name: '', version: null });
  const [name, setName] = useState('');
  const [problems, setProblems] = useState(null);
  const [status, setStatusState] = useState({ text: 'Loading…', kind: 'info' });
  const [tab, setTab] = useState('node');
  const [dirty, setDirty] = useState(false);
  const [dialog, setDialog] = useState(null);
  const [executionsKey, setExecutionsKey] = useState(0);
  const canvasRef = useRef(null);
  const nameRef = useRef(null);
  const added = useRef(0);
  // Every edit moves edits; opening a document or starting anew moves
  // canvasGen. A save compares both with their values when it took its
  // snapshot of the canvas: an edit made while the request was out is not
  // in what was saved, so the canvas stays unsaved; a save that returns
  // after another canvas replaced its own leaves that one alone.
  const edits = useRef(0);
  const canvasGen = useRef(0);

  const setStatus = useCallback((text, kind = 'info') => setStatusState({ text, kind }), []);

  // The API token: the first 401 opens this dialog, and every request waits for it.
  useEffect(() => {
    setTokenPrompt(
      (refused) =>
        new Promise((resolve) => {
          setDialog({
            kind: 'token',
            refused,
            done: (token) => {
              setDialog(null);
              resolve(token);
            },
          });
        }),
    );
  }, []);

  const watched = useWatchedExecution((ex) => {
    setStatus(`Execution ${ex.id} ${ex.status}`, ex.status === 'completed' ? 'ok' : 'error');
    setExecutionsKey((k) => k + 1);
  });

  const types = useMemo(() => {
    const map = new Map();
    if (!nodeTypesInfo) return map;
    map.set('trigger', { ...nodeTypesInfo.trigger, branching: false });
    for (const t of nodeTypesInfo.node_types) map.set(t.react_flow_type, t);
    return map;
  }, [nodeTypesInfo]);

  const palette = useMemo(() => {
    if (!nodeTypesInfo) return [];
    return [{ ...nodeTypesInfo.trigger, react_flow_type: 'trigger' }, ...nodeTypesInfo.node_types.filter((t) => !t.internal)];
  }, [nodeTypesInfo]);

  const refreshWorkflows = useCallback(async () => {
    try {
      setWorkflows(await get('/workflow/visual-workflows'));
    } catch (err) {
      setStatus(`Could not list the workflows: ${err.message}`, 'error');
    }
  }, [setStatus]);

  const showDocument = useCallback(
    (r, how) => {
      const flow = r.flow || {};
      canvasGen.current++;
      setNodes(Array.isArray(flow.nodes) ? flow.nodes : []);
      setEdges(Array.isArray(flow.edges) ? flow.edges : []);
      setDoc({ id: r.id, name: r.name, version: r.version });
      setName(r.name);
      setDirty(false);
      watched.setId(null);
      const errors = Array.isArray(r.errors) ? r.errors : [];
      setProblems(errors.length ? placeProblems(errors, flow.nodes || [], flow.edges || []) : null);
      if (flow.viewport && typeof flow.viewport.zoom === 'number') rf.setViewport(flow.viewport);
      else window.requestAnimationFrame(() => rf.fitView({ padding: 0.2 }));
      setStatus(
        `${how} “${r.name}”, version ${r.version}${r.generated ? ' (laid out from its definition; saving makes it a document)' : ''}` +
          (r.valid === false ? ' — its definition is not valid' : ''),
        r.valid === false ? 'error' : 'ok',
      );
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [rf, setNodes, setEdges, setStatus],
  );

  const open = useCallback(
    async (id) => {
      try {
        const r = await get(`/workflow/visual-workflows/${seg(id)}`);
        showDocument(r, 'Opened');
        writeHash('visual', r.id);
      } catch (err) {
        setStatus(`Could not open workflow ${id}: ${err.message}`, 'error');
      }
    },
    [showDocument, setStatus],
  );

  const openByName = useCallback(
    async (wfName) => {
      try {
        const r = await get(`/workflow/visual-workflows/by-name/${seg(wfName)}`);
        showDocument(r, 'Opened');
        if (r.id) writeHash('visual', r.id);
        else writeHash('workflow', r.name);
      } catch (err) {
        setStatus(`Could not open “${wfName}”: ${err.message}`, 'error');
      }
    },
    [showDocument, setStatus],
  );

  // Start: node types, templates, the list; then what the address names.
  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const [nt, tpl] = await Promise.all([get('/workflow/node-types'), get('/workflow/templates').catch(() => ({ templates: [] }))]);
        if (cancelled) return;
        setNodeTypesInfo(nt);
        setTemplates((tpl.templates || []).map((t) => t.name));
        setStatus('Ready');
      } catch (err) {
        setStatus(`Could not load the node types: ${err.message}`, 'error');
        return;
      }
      refreshWorkflows();
      const h = readHash();
      if (h && h.kind === 'visual') open(h.key);
      else if (h && h.kind === 'workflow') openByName(h.key);
    })();
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // The moment the editor is usable, for the browser test's timing.
  useEffect(() => {
    if (nodeTypesInfo && !performance.getEntriesByName('wf-editor-ready').length) performance.mark('wf-editor-ready');
  }, [nodeTypesInfo]);

  const changed = useCallback(() => {
    edits.current++;
    setDirty(true);
  }, []);

  // Leaving the page (or reloading) with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return undefined;
    const warn = (e) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const selectOnly = useCallback((id) => {
    setNodes((ns) => ns.map((n) => ({ ...n, selected: n.id === id })));
    setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)));
  }, [setNodes, setEdges]);

  const addNode = useCallback(
    (type, position) => {
      let id;
      setNodes((ns) => {
        id = newNodeId(type, ns);
        const node = { id, type, position, data: { ...(NEW_DATA[type] || {}) }, selected: true };
        return [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node];
      });
      setTab('node');
      changed();
      setStatus(`Added ${type} node`);
    },
    [setNodes, changed, setStatus],
  );

  // Keyboard (or click) add: in the middle of the view, a little apart from the last one.
  const addInView = useCallback(
    (type) => {
      const rect = canvasRef.current.getBoundingClientRect();
      const offset = (added.current++ % 6) * 24;
      const p = rf.screenToFlowPosition({ x: rect.left + rect.width / 2 - 90 + offset, y: rect.top + rect.height / 2 - 30 + offset });
      addNode(type, p);
    },
    [rf, addNode],
  );

  const onDrop = useCallback(
    (e) => {
      const type = e.dataTransfer.getData(DRAG_TYPE);
      if (!type) return;
      e.preventDefault();
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(type, { x: p.x - 90, y: p.y - 20 });
    },
    [rf, addNode],
  );

  const onDragOver = useCallback((e) => {
    if (e.dataTransfer.types.includes(DRAG_TYPE)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = 'move';
    }
  }, []);

  const onConnect = useCallback(
    (params) => {
      setEdges((es) => connect(es, params));
      changed();
    },
    [setEdges, changed],
  );

  const onNodesChangeTracked = useCallback(
    (changes) => {
      onNodesChange(changes);
      if (changes.some((c) => c.type === 'position' || c.type === 'remove' || c.type === 'add')) changed();
    },
    [onNodesChange, changed],
  );

  const onEdgesChangeTracked = useCallback(
    (changes) => {
      onEdgesChange(changes);
      if (changes.some((c) => c.type === 'remove' || c.type === 'add')) changed();
    },
    [onEdgesChange, changed],
  );

  const selected = nodes.filter((n) => n.selected);
  const selectedNode = selected.length === 1 ? selected[0] : null;

  const setData = useCallback(
    (id, data) => {
      setNodes((ns) => ns.map((n) => (n.id === id ? { ...n, data } : n)));
      changed();
    },
    [setNodes, changed],
  );

  const rename = useCallback(
    (from, to) => {
      const next = renameNode(nodes, edges, from, to);
      setNodes(next.nodes);
      setEdges(next.edges);
      changed();
      setStatus(`Renamed node ${from} to ${to}`);
    },
    [nodes, edges, setNodes, setEdges, changed, setStatus],
  );

  const setNext = useCallback(
    (source, handle, target) => {
      setEdges((es) => {
        if (target) return connect(es, { source, sourceHandle: handle, target });
        return es.filter((e) => !(e.source === source && (e.sourceHandle ?? null) === handle));
      });
      changed();
    },
    [setEdges, changed],
  );

  const deleteNode = useCallback(
    (id) => {
      rf.deleteElements({ nodes: [{ id }] });
      changed();
      setStatus(`Deleted node ${id}`);
    },
    [rf, changed, setStatus],
  );

  // Sends the canvas as it is now; docId null creates the workflow by name
  // (or updates the one of that name: the caller has asked first).
  const send = useCallback(
    async (wfName, docId) => {
      const flow = rf.toObject();
      const seenEdits = edits.current;
      const gen = canvasGen.current;
      try {
        const body = { name: wfName, flow };
        const r = docId ? await put(`/workflow/visual-workflows/${seg(docId)}`, body) : await post('/workflow/visual-workflows', body);
        refreshWorkflows();
        if (canvasGen.current !== gen) {
          setStatus(`Saved “${r.name}”, version ${r.version} (the canvas shows another workflow now)`, 'ok');
          return;
        }
        setDoc({ id: r.id, name: r.name, version: r.version });
        setProblems(null);
        if (edits.current === seenEdits) setDirty(false);
        writeHash('visual', r.id);
        setStatus(`Saved “${r.name}”, version ${r.version}${edits.current === seenEdits ? '' : '; the changes made since are not saved yet'}`, 'ok');
      } catch (err) {
        if (canvasGen.current !== gen) {
          setStatus(`Not saved: ${err.message}`, 'error');
          return;
        }
        if (err.status === 422 && err.body && Array.isArray(err.body.problems)) {
          const placed = placeProblems(err.body.problems, flow.nodes, flow.edges);
          setProblems(placed);
          const n = err.body.problems.length;
          setStatus(`Not saved: the flow has ${n === 1 ? 'a problem' : `${n} problems`}, marked on the canvas`, 'error');
        } else if (err.status === 404 && docId) {
          // Deleted elsewhere (another tab or user): the canvas is kept
          // and becomes a new workflow, which the next save creates.
          setDoc({ id: null, name: '', version: null });
          writeHash(null);
          setDirty(true);
          refreshWorkflows();
          setStatus(`Not saved: the workflow was deleted elsewhere. The canvas is kept; Save creates “${wfName}” anew.`, 'error');
        } else {
          setStatus(`Not saved: ${err.message}`, 'error');
        }
      }
    },
    [rf, setStatus, refreshWorkflows],
  );

  const save = useCallback(async () => {
    const wfName = name.trim();
    if (!wfName) {
      setStatus('Give the workflow a name before saving.', 'error');
      nameRef.current && nameRef.current.focus();
      return;
    }
    // A document saved before is updated by its id. A canvas laid out from
    // a workflow without a document is saved under that workflow's name,
    // as its status line said. Any other canvas is new, and POST updates a
    // workflow of the same name: that name is looked up first, and taking
    // it over is asked.
    if (doc.id || (doc.version && wfName === doc.name)) return send(wfName, doc.id);
    let existing = null;
    try {
      existing = await get(`/workflow/visual-workflows/by-name/${seg(wfName)}`);
    } catch (err) {
      // 422: the workflow exists, but its definition cannot be laid out.
      if (err.status === 422) existing = { name: wfName, id: null, version: null };
      else if (err.status !== 404) {
        setStatus(`Not saved: could not check whether “${wfName}” exists: ${err.message}`, 'error');
        return;
      }
    }
    if (!existing) return send(wfName, null);
    setDialog({
      kind: 'confirm',
      title: `Replace “${existing.name}”?`,
      message:
        `A workflow named “${existing.name}” exists already${existing.version ? ` (version ${existing.version}${existing.id ? '' : ', written without the editor'})` : ''}. ` +
        'Saving replaces its flow with this canvas; its executions keep their history. Replace it, or cancel and choose another name?',
      confirmLabel: 'Replace it',
      danger: true,
      onConfirm: () => {
        setDialog(null);
        send(wfName, null);
      },
      onCancel: () => setStatus(`Not saved: “${existing.name}” exists already; choose another name`, 'error'),
    });
  }, [name, doc.id, doc.version, doc.name, send, setStatus]);

  const reallyNew = useCallback(() => {
    canvasGen.current++;
    setNodes([]);
    setEdges([]);
    setDoc({ id: null, name: '', version: null });
    setName('');
    setProblems(null);
    setDirty(false);
    watched.setId(null);
    writeHash(null);
    rf.setViewport({ x: 0, y: 0, zoom: 1 });
    setStatus('New workflow: drag a Trigger onto the canvas to begin');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [setNodes, setEdges, rf, setStatus]);

  const guard = (what, go) => {
    if (!dirty) return go();
    setDialog({
      kind: 'confirm',
      title: 'Discard changes?',
      message: `The canvas has unsaved changes. ${what} anyway and lose them?`,
      confirmLabel: `Discard and ${what.toLowerCase()}`,
      danger: true,
      onConfirm: () => {
        setDialog(null);
        go();
      },
    });
  };

  const deleteWorkflow = (w, force = false) => {
    setDialog({
      kind: 'confirm',
      title: force ? 'Cancel its executions?' : `Delete “${w.name}”?`,
      message: force
        ? `“${w.name}” has active executions. Cancel them and delete the workflow?`
        : `Delete the workflow “${w.name}”, its document and all its versions? Executions keep their history.`,
      confirmLabel: force ? 'Cancel them and delete' : 'Delete',
      danger: true,
      onConfirm: async () => {
        setDialog(null);
        try {
          const r = await del(`/workflow/visual-workflows/${seg(w.id)}${force ? '?force=true' : ''}`);
          // Starting anew sets a status line of its own, so it goes first.
          if (doc.id === w.id) reallyNew();
          setStatus(`Deleted “${r.name}”${r.cancelled_executions ? ` and cancelled ${r.cancelled_executions} executions` : ''}`, 'ok');
          refreshWorkflows();
        } catch (err) {
          if (err.status === 409 && err.body && err.body.active_executions && !force) deleteWorkflow(w, true);
          else setStatus(`Not deleted: ${err.message}`, 'error');
        }
      },
    });
  };

  const importDocument = (d) => {
    setNodes(d.nodes);
    setEdges(d.edges);
    if (d.viewport && typeof d.viewport.zoom === 'number') rf.setViewport(d.viewport);
    setProblems(null);
    setDialog(null);
    changed();
    setStatus(`Imported a document of ${d.nodes.length} nodes and ${d.edges.length} edges`);
  };

  // A problem's node (or the end of its edge that exists) selected and brought into view.
  const showProblem = (p) => {
    const edge = p.edge !== undefined ? edges.find((e) => e.id === p.edge) : null;
    const id = [p.node, edge && edge.source, edge && edge.target].find((x) => x !== undefined && x !== null && nodes.some((n) => n.id === x));
    if (!id) return;
    selectOnly(id);
    rf.fitView({ nodes: [{ id }], maxZoom: 1.2, duration: 200 });
    setTab('node');
  };

  const watchExecution = (e) => {
    watched.setId(e.id);
    setTab('run');
  };

  // The trace is drawn only on the workflow it belongs to.
  const detail = watched.detail;
  const trace = useMemo(() => (detail && detail.execution.workflow_name === doc.name ? traceOf(detail) : new Map()), [detail, doc.name]);
  const context = useMemo(() => ({ types, problems, trace }), [types, problems, trace]);
  const workflowNames = useMemo(
    () => (workflows ? [...workflows.visual_workflows.map((w) => w.name), ...workflows.workflows_without_flow.map((w) => w.name)] : []),
    [workflows],
  );

  const onKeyDown = (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key === 's') {
      e.preventDefault();
      save();
    }
  };

  return (
    <EditorContext.Provider value={context}>
      <div className="app" onKeyDown={onKeyDown}>
        <header className="toolbar">
          <h1 className="toolbar__title">wf-engine</h1>
          <div className="toolbar__name">
            <label htmlFor="workflow-name">Workflow name</label>
            <input
              id="workflow-name"
              ref={nameRef}
              type="text"
              value={name}
              maxLength={128}
              placeholder="e.g. united_welcome"
              onChange={(e) => {
                setName(e.target.value);
                changed();
              }}
            />
            {doc.version ? <span className="muted">v{doc.version}</span> : null}
            {dirty ? <span className="muted">· unsaved</span> : null}
          </div>
          <button type="button" onClick={() => guard('Start anew', reallyNew)}>
            New
          </button>
          <button type="button" className="primary" onClick={save} title="Ctrl+S">
            Save
          </button>
          <button type="button" onClick={() => setDialog({ kind: 'document', document: rf.toObject() })}>
            Document…
          </button>
          <p className={`status status--${status.kind}`} role="status" aria-live="polite" data-testid="status">
            {status.text}
          </p>
        </header>
        <aside className="sidebar" aria-label="palette and workflows">
          <Palette entries={palette} onAdd={addInView} />
          <WorkflowList
            list={workflows}
            currentId={doc.id}
            currentName={doc.name}
            onOpen={(id) => guard('Open another workflow', () => open(id))}
            onOpenByName={(n) => guard('Open another workflow', () => openByName(n))}
            onDelete={(w) => deleteWorkflow(w)}
            onRefresh={refreshWorkflows}
          />
        </aside>
        <svg className="visually-hidden" aria-hidden="true">
          <defs>
            <marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
              <path d="M 0 0 L 10 5 L 0 10 z" fill="context-stroke" />
            </marker>
          </defs>
        </svg>
        <main className="canvas" ref={canvasRef} onDrop={onDrop} onDragOver={onDragOver} aria-label="workflow canvas">
          <ReactFlow
            nodes={nodes}
            edges={edges}
            nodeTypes={NODE_TYPES}
            edgeTypes={edgeTypes}
            onNodesChange={onNodesChangeTracked}
            onEdgesChange={onEdgesChangeTracked}
            onConnect={onConnect}
            deleteKeyCode={['Delete', 'Backspace']}
            minZoom={0.2}
            maxZoom={2}
            proOptions={{ hideAttribution: true }}
          >
            <Background gap={20} size={1} />
            <Controls showInteractive={false} />
            <MiniMap pannable zoomable ariaLabel="overview of the canvas" style={{ width: 150, height: 100 }} />
          </ReactFlow>
          {nodes.length === 0 ? (
            <p className="canvas__hint">Drag a Trigger from the palette to begin, or open a saved workflow.</p>
          ) : null}
        </main>
        <aside className="side" aria-label="details">
          {problems ? <ProblemList problems={problems} onShow={showProblem} /> : null}
          <div role="tablist" aria-label="side panel" className="tabs">
            {TABS.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`tabpanel-${t.id}`}
                tabIndex={tab === t.id ? 0 : -1}
                onClick={() => setTab(t.id)}
                onKeyDown={(e) => {
                  const i = TABS.findIndex((x) => x.id === tab);
                  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                    const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
                    setTab(next.id);
                    document.getElementById(`tab-${next.id}`).focus();
                  }
                }}
              >
                {t.label}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`tabpanel-${tab}`} aria-labelledby={`tab-${tab}`} className="tabpanel">
            {tab === 'node' ? (
              <NodePanel
                node={selectedNode}
                types={types}
                nodes={nodes}
                edges={edges}
                templates={templates}
                workflowNames={workflowNames}
                onData={(data) => setData(selectedNode.id, data)}
                onRename={rename}
                onSetNext={setNext}
                onDelete={deleteNode}
              />
            ) : null}
            {tab === 'run' ? (
              <RunPanel
                workflowName={doc.id || doc.version ? doc.name : ''}
                dirty={dirty}
                watched={watched}
                onRunStarted={(id) => {
                  watched.setId(id);
                  setExecutionsKey((k) => k + 1);
                }}
                setStatus={setStatus}
              />
            ) : null}
            {tab === 'executions' ? <ExecutionList workflowName={doc.name} onWatch={watchExecution} refreshKey={executionsKey} /> : null}
          </div>
        </aside>
        {dialog && dialog.kind === 'confirm' ? (
          <ConfirmDialog
            title={dialog.title}
            message={dialog.message}
            confirmLabel={dialog.confirmLabel}
            danger={dialog.danger}
            onConfirm={dialog.onConfirm}
            onCancel={() => {
              setDialog(null);
              if (dialog.onCancel) dialog.onCancel();
            }}
          />
        ) : null}
        {dialog && dialog.kind === 'token' ? <TokenDialog refused={dialog.refused} onDone={dialog.done} /> : null}
        {dialog && dialog.kind === 'document' ? <DocumentDialog document={dialog.document} onImport={importDocument} onClose={() => setDialog(null)} /> : null}
      </div>
    </EditorContext.Provider>
  );
}

export default function App() {
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}
