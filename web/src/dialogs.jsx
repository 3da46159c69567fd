// dialogs.jsx - modal questions on the native <dialog> element (focus kept
// inside, Escape closes): confirmations, the API token, and the React Flow
// document as JSON (export and import).
import { useEffect, useRef, useState } from 'react';

function Modal({ title, onClose, children, labelId }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d && d.open && d.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={labelId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={labelId}>{title}</h2>
      {children}
    </dialog>
  );
}

/** A yes/no question; confirmLabel names what yes does. */
export function ConfirmDialog({ title, message, confirmLabel, danger, onConfirm, onCancel }) {
  return (
    <Modal title={title} onClose={onCancel} labelId="confirm-title">
      <p>{message}</p>
      <div className="button-row">
        <button type="button" className={danger ? 'danger' : 'primary'} onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel} autoFocus>
          Cancel
        </button>
      </div>
    </Modal>
  );
}

/** Asks for API_TOKEN's value; onDone(token or null). */
export function TokenDialog({ refused, onDone }) {
  const [token, setToken] = useState('');
  return (
    <Modal title="API token needed" onClose={() => onDone(null)} labelId="token-title">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          onDone(token.trim() || null);
        }}
      >
        <p>{refused ? 'The coordinator refused the token. ' : ''}This coordinator has an API_TOKEN. The token is kept for this browser tab only.</p>
        <div className="field">
          <label htmlFor="api-token">API token</label>
          <input id="api-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
        </div>
        <div className="button-row">
          <button type="submit" className="primary" disabled={!token.trim()}>
            Use token
          </button>
          <button type="button" onClick={() => onDone(null)}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** The document as JSON; onImport(doc) replaces the canvas with an edited one. */
export function DocumentDialog({ document, onImport, onClose }) {
  const [text, setText] = useState(() => JSON.stringify(document, null, 2));
  const [error, setError] = useState(null);
  const apply = () => {
    let doc;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      setError(`Not valid JSON: ${err.message}`);
      return;
    }
    if (!doc || typeof doc !== 'object' || !Array.isArray(doc.nodes) || !Array.isArray(doc.edges)) {
      setError('A React Flow document is an object with "nodes" and "edges" arrays.');
      return;
    }
    onImport(doc);
  };
  return (
    <Modal title="The React Flow document" onClose={onClose} labelId="document-title">
      <p className="muted">What “Save” sends as “flow”. Edit or paste a document and import it onto the canvas.</p>
      <label htmlFor="document-json" className="visually-hidden">
        document JSON
      </label>
      <textarea id="document-json" className="mono document-json" rows={20} spellCheck="false" value={text} onChange={(e) => setText(e.target.value)} aria-describedby="document-error" />
      <p id="document-error" className="field__status field__status--bad" aria-live="polite">
        {error || ''}
      </p>
      <div className="button-row">
        <button type="button" className="primary" onClick={apply}>
          Import onto the canvas
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
