/**
 * `npm run screenshots`: the PNGs of the README, taken from the demo fleet (the demo's defaults,
 * seed 1) in headless Chromium: docs/dashboard.png (hosts, migrations in flight, outcomes, events)
 * and docs/dashboard-resync.png (the notice after an engine restart).
 */
import { fileURLToPath } from 'node:url';
import { DEFAULT_FLEET, Fleet } from '../../src/sim/fleet.js';
import { launchChromium } from '../utils/browser.js';
import { freePort } from '../utils/engine-process.js';
import { startEngine } from '../utils/fleet.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const port = await freePort();
let engine = await startEngine(port);
const fleet = new Fleet({ ...DEFAULT_FLEET, url: engine.url });
await fleet.start();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(new URL('/', engine.url).href);
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
  // Let migrations, outcomes and events pile up, and catch a moment with several in flight.
  await sleep(15_000);
  for (let i = 0; i < 40 && engine.app.table.migrations({ state: 'IN_PROGRESS' }, 0, 100).items.length < 6; i++) await sleep(250);
  await sleep(400);
  await page.screenshot({ path: `${DOCS}dashboard.png` });
  console.log(`wrote ${DOCS}dashboard.png`);

  await engine.app.stop();
  engine = await startEngine(port);
  await page.getByTestId('notice-resync').waitFor({ timeout: 30_000 });
  await sleep(6_000);
  await page.screenshot({ path: `${DOCS}dashboard-resync.png` });
  console.log(`wrote ${DOCS}dashboard-resync.png`);
} finally {
  await browser.close();
  await fleet.stop();
  await engine.app.stop();
}
