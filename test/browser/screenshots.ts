/**
 * `npm run screenshots`: the PNGs of the README, taken from the demo fleet (the demo's defaults,
 * seed 1) in headless Chromium:
 * - docs/dashboard.png: hosts, migrations in flight, the queue, outcomes and events;
 * - docs/dashboard-evacuation-plan.png: an operator's "evacuate" on a host, its plan shown first;
 * - docs/dashboard-evacuation.png: that evacuation under way, with migrations in flight, the queue
 *   and the event tail;
 * - docs/dashboard-resync.png: the notice after an engine restart.
 * It waits on what each picture must show (bounded), not on fixed delays.
 */
import { fileURLToPath } from 'node:url';
import type { App } from '../../src/server/http/app.js';
import { DEFAULT_FLEET, Fleet } from '../../src/sim/fleet.js';
import { launchChromium } from '../utils/browser.js';
import { freePort } from '../utils/engine-process.js';
import { startEngine } from '../utils/fleet.js';

const DOCS = fileURLToPath(new URL('../../docs/', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `ready` holds (checked every 250 ms), at most `ms`; says so when it gave up. */
async function until(what: string, ready: () => boolean, ms: number): Promise<void> {
  for (const deadline = Date.now() + ms; !ready(); await sleep(250)) {
    if (Date.now() > deadline) {
      console.log(`(gave up waiting for ${what})`);
      return;
    }
  }
}

const inFlight = (app: App) => app.table.migrations({ state: 'IN_PROGRESS' }, 0, 100).items.length;
const queued = (app: App) => app.table.migrations({ state: 'PENDING' }, 0, 100).items.length;

/** The up host with the most VMs that no evacuation is draining: the one the operator evacuates. */
function busiestUpHost(app: App): string {
  const draining = new Set(app.table.evacuations({ state: 'IN_PROGRESS' }).items.map((e) => e.hostId));
  const candidates = [...app.table.hosts()].filter((h) => h.status === 'UP' && !draining.has(h.id));
  candidates.sort((a, b) => app.table.vmsOnHost(b.id).length - app.table.vmsOnHost(a.id).length || a.id.localeCompare(b.id));
  const host = candidates[0];
  if (host === undefined) throw new Error('no host is up to evacuate');
  return host.id;
}

const port = await freePort();
let engine = await startEngine(port);
const fleet = new Fleet({ ...DEFAULT_FLEET, url: engine.url });
await fleet.start();
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 950 } });
  await page.goto(new URL('/', engine.url).href);
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
  // Let outcomes and events pile up, then catch a moment with several migrations in flight.
  await page.locator('tr[data-testid^="outcome-"]').nth(5).waitFor({ timeout: 60_000 });
  await until('six migrations in flight', () => inFlight(engine.app) >= 6, 15_000);
  await page.screenshot({ path: `${DOCS}dashboard.png` });
  console.log(`wrote ${DOCS}dashboard.png`);

  // An operator evacuates a host from the page: the plan first, then the evacuation under way.
  const host = busiestUpHost(engine.app);
  await page.getByTestId(`evacuate-${host}`).click();
  await page.getByTestId('evacuation-plan').waitFor();
  await page.screenshot({ path: `${DOCS}dashboard-evacuation-plan.png` });
  console.log(`wrote ${DOCS}dashboard-evacuation-plan.png`);
  await page.getByTestId('confirm-evacuation').click();
  const evacuation = page.getByTestId(`evacuation-${host}`);
  await evacuation.getByTestId('evacuation-state').filter({ hasText: 'in progress' }).waitFor({ timeout: 10_000 });
  const running = () => engine.app.table.evacuations({ hostId: host }).items[0];
  // Some VMs moved, others still leaving or waiting for a slot.
  await until('a VM moved with others queued', () => (running()?.moved ?? 0) >= 1 && queued(engine.app) >= 1, 20_000);
  await evacuation.filter({ hasText: `${running()?.moved ?? 0} / ` }).waitFor({ timeout: 5_000 }).catch(() => undefined);
  await page.screenshot({ path: `${DOCS}dashboard-evacuation.png` });
  console.log(`wrote ${DOCS}dashboard-evacuation.png`);

  await engine.app.stop();
  engine = await startEngine(port);
  await page.getByTestId('notice-resync').waitFor({ timeout: 30_000 });
  // The fleet's agents report to the new engine: its hosts come back, and migrations start again.
  await until('migrations in flight after the restart', () => engine.app.table.hosts().length >= DEFAULT_FLEET.hosts && inFlight(engine.app) >= 2, 15_000);
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
  await page.screenshot({ path: `${DOCS}dashboard-resync.png` });
  console.log(`wrote ${DOCS}dashboard-resync.png`);
} finally {
  await browser.close();
  await fleet.stop();
  await engine.app.stop();
}
