// main.jsx - mounts the editor, inside a boundary that catches what it
// throws while drawing.
import { Component, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '@xyflow/react/dist/style.css';
import './styles.css';
import App from './App.jsx';

// Without this, an error while drawing (a stored document React cannot
// show, say) unmounts the whole page and leaves it blank, and the address
// still names the document, so reloading blanks it again. The boundary
// shows the error instead and offers the way back: the address cleared and
// the editor started afresh, with the workflow list.
class Boundary extends Component {
  constructor(props) {
    super(props);
    this.state = { error: null, attempt: 0 };
  }

  static getDerivedStateFromError(error) {
    return { error };
  }

  componentDidCatch(error, info) {
    console.error('the editor stopped:', error, info && info.componentStack);
  }

  restart = () => {
    window.history.replaceState(null, '', window.location.pathname);
    this.setState((s) => ({ error: null, attempt: s.attempt + 1 }));
  };

  render() {
    const { error, attempt } = this.state;
    if (!error) return <App key={attempt} />;
    return (
      <main className="crash" role="alert" data-testid="crash">
        <h1>The editor stopped</h1>
        <p>It could not draw the page: {String((error && error.message) || error)}</p>
        <p className="muted">Unsaved changes on the canvas are lost. Saved workflows are not touched.</p>
        <div className="button-row">
          <button type="button" className="primary" onClick={this.restart}>
            Back to the workflow list
          </button>
        </div>
      </main>
    );
  }
}

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <Boundary />
  </StrictMode>,
);
