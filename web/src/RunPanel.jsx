// RunPanel.jsx - test runs and executions. "Run" starts an execution of the
// saved workflow (POST /workflow/execute) with a context typed here; the
// watched execution is polled (GET /workflow/executions/:id) every 500 ms
// until it ends, its history shown and its current node highlighted on the
// canvas. The list (GET /workflow/executions) filters by status and workflow.
import { useCallback, useEffect, useState } from 'react';
import { get, post, seg } from './api.js';
import { executionEnded, parseJson } from './flow.js';

const STATUSES = ['idle', 'running', 'stepCompleted', 'stepFailed', 'retrying', 'delayed', 'completed', 'failed', 'cancelled', 'paused'];
const POLL_MS = 500;

const DEFAULT_CONTEXT = JSON.stringify({ user: { id: 1, email: 'test-ada@example.com', name: 'Ada', engaged: false } }, null, 2);

/** A timestamp as the time of day (with milliseconds for the history); another day's with its date. */
function time(at, ms = true) {
  if (!at) return '';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  const day = d.toDateString() === new Date().toDateString() ? '' : `${d.toLocaleDateString()} `;
  return `${day}${d.toLocaleTimeString(undefined, { hour12: false })}${ms ? `.${String(d.getMilliseconds()).padStart(3, '0')}` : ''}`;
}

function short(value) {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Follows one execution: its detail, refreshed while it runs. */
export function useWatchedExecution(onStatus) {
  const [id, setId] = useState(null);
  const [detail, setDetail] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (!id) {
      setDetail(null);
      return undefined;
    }
    let stopped = false;
    let timer = null;
    const tick = async () => {
      try {
        const d = await get(`/workflow/executions/${seg(id)}`);
        if (stopped) return;
        setDetail(d);
        setError(null);
        if (executionEnded(d.execution.status)) {
          onStatus && onStatus(d.execution);
          return;
        }
      } catch (err) {
        if (stopped) return;
        setError(err.message);
        if (err.status === 404) return;
      }
      timer = setTimeout(tick, POLL_MS);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id]);

  return { id, setId, detail, error };
}

function History({ detail }) {
  const ex = detail.execution;
  return (
    <section aria-labelledby="run-history-title">
      <dl className="run-facts">
        <dt>execution</dt>
        <dd className="mono" data-testid="run-id">{ex.id}</dd>
        <dt>workflow</dt>
        <dd>
          {ex.workflow_name} v{ex.workflow_version}
        </dd>
        <dt>status</dt>
        <dd>
          <span className={`badge badge--${ex.status}`} data-testid="run-status">
            {ex.status}
          </span>
        </dd>
        <dt>at node</dt>
        <dd className="mono">{ex.current_node || '—'}</dd>
        {ex.last_error ? (
          <>
            <dt>error</dt>
            <dd className="field__status--bad">{ex.last_error}</dd>
          </>
        ) : null}
      </dl>
      <h3 id="run-history-title">History</h3>
      <ol className="history-list" data-testid="run-history">
        {detail.history.map((h) => (
          <li key={h.id} className={h.error ? 'is-error' : ''}>
            <span className="mono muted">{time(h.at)}</span> <span className="mono history-node">{h.node || '—'}</span>{' '}
            <span title={h.from ? `${h.from} → ${h.to}` : h.to}>
              → <span className={`badge badge--${h.to}`}>{h.to}</span>
            </span>
            {h.error || h.result ? <div className={h.error ? 'field__status--bad history-result' : 'muted history-result'}>{short(h.error || h.result)}</div> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}

export function RunPanel({ workflowName, dirty, watched, onRunStarted, setStatus }) {
  const [text, setText] = useState(DEFAULT_CONTEXT);
  const parsed = parseJson(text);
  const contextError = parsed.error || (parsed.value !== undefined && (typeof parsed.value !== 'object' || Array.isArray(parsed.value) || parsed.value === null) ? 'the context must be a JSON object' : null);
  const [busy, setBusy] = useState(false);

  const run = async () => {
    if (!workflowName || contextError) return;
    setBusy(true);
    try {
      const r = await post('/workflow/execute', { workflow: workflowName, context: parsed.value || {} });
      setStatus(`Started execution ${r.execution_id} of “${workflowName}”`);
      onRunStarted(r.execution_id);
    } catch (err) {
      setStatus(`Could not start “${workflowName}”: ${err.message}`, 'error');
    } finally {
      setBusy(false);
    }
  };

  const cancel = async () => {
    try {
      await post(`/workflow/executions/${seg(watched.id)}/cancel`);
    } catch (err) {
      setStatus(`Could not cancel: ${err.message}`, 'error');
    }
  };

  const ex = watched.detail && watched.detail.execution;
  return (
    <div className="run-panel">
      <h2 className="panel__title">Test run</h2>
      {!workflowName ? <p className="muted">Save the workflow first: a run starts its saved version by name.</p> : null}
      {workflowName && dirty ? <p className="muted">The canvas has unsaved changes; a run starts the saved version.</p> : null}
      <div className="field">
        <label htmlFor="run-context">context (JSON object)</label>
        <textarea id="run-context" className="mono" rows={6} spellCheck="false" value={text} aria-invalid={contextError ? 'true' : 'false'} aria-describedby="run-context-status" onChange={(e) => setText(e.target.value)} />
        <p id="run-context-status" className="field__status field__status--bad" aria-live="polite">
          {contextError || ''}
        </p>
      </div>
      <div className="button-row">
        <button type="button" className="primary" onClick={run} disabled={!workflowName || Boolean(contextError) || busy}>
          Run {workflowName ? `“${workflowName}”` : ''}
        </button>
        {ex && !executionEnded(ex.status) ? (
          <button type="button" onClick={cancel}>
            Cancel execution
          </button>
        ) : null}
        {watched.id ? (
          <button type="button" onClick={() => watched.setId(null)}>
            Stop watching
          </button>
        ) : null}
      </div>
      {watched.error ? <p className="field__status--bad">{watched.error}</p> : null}
      {watched.detail ? <History detail={watched.detail} /> : null}
    </div>
  );
}

export function ExecutionList({ workflowName, onWatch, refreshKey }) {
  const [status, setStatusFilter] = useState('');
  const [onlyThis, setOnlyThis] = useState(true);
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);

  const load = useCallback(async () => {
    const q = new URLSearchParams({ limit: '50' });
    if (status) q.set('status', status);
    if (onlyThis && workflowName) q.set('workflow', workflowName);
    try {
      const r = await get(`/workflow/executions?${q}`);
      setList(r.executions);
      setError(null);
    } catch (err) {
      setError(err.message);
    }
  }, [status, onlyThis, workflowName]);

  useEffect(() => {
    load();
  }, [load, refreshKey]);

  return (
    <div className="executions">
      <h2 className="panel__title">Recent executions</h2>
      <div className="field__row filters">
        <div className="field">
          <label htmlFor="exec-status">status</label>
          <select id="exec-status" value={status} onChange={(e) => setStatusFilter(e.target.value)}>
            <option value="">any</option>
            <option value="idle,running,stepCompleted,stepFailed,retrying,delayed,paused">active</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div className="field field--check">
          <input id="exec-only-this" type="checkbox" checked={onlyThis} disabled={!workflowName} onChange={(e) => setOnlyThis(e.target.checked)} />
          <label htmlFor="exec-only-this">only {workflowName ? `“${workflowName}”` : 'this workflow'}</label>
        </div>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      {error ? <p className="field__status--bad">{error}</p> : null}
      {list && list.length === 0 ? <p className="muted">No executions.</p> : null}
      {list && list.length > 0 ? (
        <table className="history" data-testid="executions">
          <thead>
            <tr>
              <th scope="col">started</th>
              <th scope="col">workflow</th>
              <th scope="col">status</th>
              <th scope="col">
                <span className="visually-hidden">watch</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.map((e) => (
              <tr key={e.id}>
                <td className="mono">{time(e.created_at, false)}</td>
                <td>
                  {e.workflow_name} v{e.workflow_version}
                </td>
                <td>
                  <span className={`badge badge--${e.status}`}>{e.status}</span>
                </td>
                <td>
                  <button type="button" className="small" onClick={() => onWatch(e)} aria-label={`watch execution ${e.id}`}>
                    Watch
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
