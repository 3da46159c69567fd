// Vite builds the editor into dist/, which wf-coordinator serves at / (WEB_DIR).
// base './' makes every asset path relative, so the page works from any
// folder it is served at. `npm run dev` proxies the API to a running
// coordinator (WF_API, default http://127.0.0.1:4000).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const api = process.env.WF_API || 'http://127.0.0.1:4000';

export default defineConfig({
  base: './',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps in the served folder: they would double its size.
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: { '/workflow': api, '/health': api, '/metrics': api },
  },
});
