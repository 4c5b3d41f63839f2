/** The dashboard's entry point (docs/contract.md §12): bundled by src/server/http/dashboard.ts. */
import { render } from 'preact';
import './style.css';
import { LiveDashboard } from './live.js';
import { App } from './views/app.js';

const live = new LiveDashboard('/graphql');
const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App live={live} />, root);
}
live.start();
