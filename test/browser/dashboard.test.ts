/**
 * The dashboard (docs/contract.md §12) in a real headless Chromium against a real Transit with a
 * simulated fleet (test/utils/fleet.ts): it loads, shows a migration's progress rising and its
 * outcome, survives an engine restart with a visible resync, and acts for an operator.
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/server/http/app.js';
import type { Fleet } from '../../src/sim/fleet.js';
import { browserPerFile, dashboardUrl, errorsOf } from '../utils/browser.js';
import { freePort } from '../utils/engine-process.js';
import { E2E_CONFIG, e2eConfig, fastFleet, startEngine } from '../utils/fleet.js';
import { startSecureServer } from '../utils/security.js';

const browser = browserPerFile();

interface Running {
  app: App;
  url: string;
  fleet: Fleet;
}
const running: Running[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.fleet.stop();
    await r.app.stop();
  }
});

/** A quiet fleet: no automation, no faults, migrations that take a few seconds. */
async function quietFleet(port = 0, progressPerSecond = 30): Promise<Running> {
  const { app, url } = await startEngine(port);
  const fleet = fastFleet(url, {
    hosts: 4,
    clusters: 2,
    vms: 16,
    migrationsPerSecond: 0,
    progressPerSecond,
    faults: { migrationFailure: 0, cancel: 0, vmCrashesPerMinute: 0, hostHangsPerMinute: 0, fenceFailure: 0, duplicateReport: 0, reorderReport: 0, nonConverging: 0 },
  });
  await fleet.start();
  await fleet.flushAgents();
  const r = { app, url, fleet };
  running.push(r);
  return r;
}

async function openDashboard(url: string): Promise<Page> {
  const page = await browser.page();
  await page.goto(dashboardUrl(url));
  await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
  return page;
}

const progressOf = async (page: Page, vmId: string): Promise<number | null> => {
  const value = await page.getByTestId(`migration-${vmId}`).getByRole('progressbar').getAttribute('data-progress', { timeout: 200 }).catch(() => null);
  return value === null || value === '' ? null : Number(value);
};

describe('the dashboard (GET /)', { timeout: 90_000 }, () => {
  it('should load against a real server with a fleet: hosts by cluster, the engine epoch and cursor, live', async () => {
    const { app, url } = await quietFleet();
    const page = await openDashboard(url);

    await expect.poll(() => page.getByTestId('epoch').textContent()).toBe(app.table.epoch);
    expect(await page.getByTestId('cursor').textContent()).toMatch(new RegExp(`^${app.table.epoch}:\\d+$`));
    for (const host of ['host-001', 'host-002', 'host-003', 'host-004']) await page.getByTestId(`host-${host}`).waitFor();
    expect(await page.locator('tr.cluster').allTextContents()).toEqual([expect.stringMatching(/^cluster-1 2 hosts · 2 up/), expect.stringMatching(/^cluster-2 2 hosts · 2 up/)]);
    expect(errorsOf(page)).toEqual([]);
  });

  it("should start a migration from the page, show its progress rising (never backwards) and its outcome", async () => {
    const { url, fleet } = await quietFleet(0, 40);
    const page = await openDashboard(url);
    const vmId = fleet.world.movableVms()[0] as string;

    await page.getByTestId('start-migration').getByPlaceholder('VM id').fill(vmId);
    await page.getByTestId('start-migration').getByRole('button', { name: 'Migrate' }).click();
    await page.getByTestId('start-result').filter({ hasText: 'started' }).waitFor();

    // Sample the bar until the outcome shows: it rises, and never goes back.
    const seen: number[] = [];
    const outcome = page.getByTestId(`outcome-${vmId}`);
    const deadline = Date.now() + 20_000;
    while (!(await outcome.isVisible())) {
      if (Date.now() > deadline) throw new Error(`no outcome; progress seen ${seen.join(', ')}`);
      const value = await progressOf(page, vmId);
      if (value !== null && value !== seen.at(-1)) seen.push(value);
      await page.waitForTimeout(100);
    }
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(await outcome.getByTestId('outcome-state').textContent()).toBe('succeeded');
    // Its slot use is gone with it.
    expect(await page.getByTestId('in-flight').textContent()).toContain('No migration in flight.');
    expect(errorsOf(page)).toEqual([]);
  });

  it('should cancel a migration from the page and show it CANCELLED', async () => {
    const { url, fleet } = await quietFleet(0, 4);
    const page = await openDashboard(url);
    const vmId = fleet.world.movableVms()[0] as string;
    await page.getByTestId('start-migration').getByPlaceholder('VM id').fill(vmId);
    await page.getByTestId('start-migration').getByRole('button', { name: 'Migrate' }).click();

    const row = page.getByTestId(`migration-${vmId}`);
    await row.getByRole('button', { name: 'cancel' }).click();
    await page.getByTestId(`outcome-${vmId}`).getByTestId('outcome-state').filter({ hasText: 'cancelled' }).waitFor({ timeout: 20_000 });
    expect(errorsOf(page)).toEqual([]);
  });

  it('should reload its state after an engine restart and say so on the page (RESYNC_REQUIRED)', async () => {
    const port = await freePort();
    const first = await quietFleet(port);
    const page = await openDashboard(first.url);
    await expect.poll(() => page.getByTestId('epoch').textContent()).toBe(first.app.table.epoch);
    expect(await page.getByTestId('notice-resync').count()).toBe(0);

    // The engine goes away and a new one (empty table, new epoch) comes back on the same port.
    await first.app.stop();
    await page.getByTestId('connection').filter({ hasText: 'reconnecting' }).waitFor();
    const second = await startEngine(port);
    running.push({ app: second.app, url: second.url, fleet: { stop: async () => undefined } as unknown as Fleet });

    const notice = page.getByTestId('notice-resync');
    await notice.waitFor({ timeout: 20_000 });
    expect(await notice.textContent()).toContain(`The engine restarted (epoch ${first.app.table.epoch} → ${second.app.table.epoch})`);
    await expect.poll(() => page.getByTestId('epoch').textContent()).toBe(second.app.table.epoch);
    await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
    // The fleet's agents report to the new engine: its hosts appear again.
    await page.getByTestId('host-host-001').waitFor({ timeout: 20_000 });
    expect(errorsOf(page)).toEqual([]);
  });

  it('should evacuate a host from the page, showing its plan first, and see it complete', async () => {
    const { url, app } = await quietFleet(0, 50);
    const page = await openDashboard(url);
    const host = 'host-001';
    await page.getByTestId(`evacuate-${host}`).click();
    const plan = page.getByTestId('evacuation-plan');
    await plan.waitFor();
    expect(await plan.textContent()).toMatch(new RegExp(`^Evacuate ${host}\\?${app.table.vmsOnHost(host).length} VMs would move`));
    // The plan is only read: nothing has started yet.
    expect(app.table.evacuations({ hostId: host }).items).toEqual([]);
    await page.getByTestId('confirm-evacuation').click();
    const evacuation = page.getByTestId(`evacuation-${host}`);
    await evacuation.getByTestId('evacuation-state').filter({ hasText: 'completed' }).waitFor({ timeout: 30_000 });
    await page.getByTestId(`host-${host}`).filter({ hasText: 'maintenance' }).waitFor();
    expect(app.table.host(host)?.status).toBe('MAINTENANCE');
    expect(app.table.vmsOnHost(host)).toEqual([]);
    expect(errorsOf(page)).toEqual([]);
  });

  it('should show the migrations an evacuation queues with why they wait, and cancel the evacuation from the page', async () => {
    // Slow migrations: the host's two outgoing slots stay taken, the rest of its VMs wait.
    const { url, app } = await quietFleet(0, 1);
    const page = await openDashboard(url);
    const host = [...app.table.hosts()].map((h) => h.id).sort((a, b) => app.table.vmsOnHost(b).length - app.table.vmsOnHost(a).length)[0] as string;
    expect(app.table.vmsOnHost(host).length).toBeGreaterThan(E2E_CONFIG.maxOutgoingMigrationsPerHost);
    await page.getByTestId(`evacuate-${host}`).click();
    await page.getByTestId('confirm-evacuation').click();

    const waiting = page.getByTestId('queue').getByTestId('waiting-reason');
    await waiting.first().waitFor({ timeout: 20_000 });
    expect(await waiting.first().textContent()).not.toBe('');
    expect(await page.getByTestId('queue').locator('.tag').first().textContent()).toBe('evacuation');
    const evacuation = page.getByTestId(`evacuation-${host}`);
    await evacuation.getByTestId('evacuation-state').filter({ hasText: 'in progress' }).waitFor();

    await evacuation.getByRole('button', { name: 'cancel' }).click();
    await evacuation.getByTestId('evacuation-state').filter({ hasText: 'cancelled' }).waitFor({ timeout: 20_000 });
    expect(app.table.evacuations({ hostId: host }).items.map((e) => e.state)).toEqual(['CANCELLED']);
    expect(errorsOf(page)).toEqual([]);
  });

  it('should say on the page when Transit refuses its state query, never spin silently', async () => {
    const app = buildApp({ config: { ...e2eConfig(0), maxCost: 1_000 }, logging: false, shutdownGraceMs: 200 });
    const { url } = await app.start();
    running.push({ app, url, fleet: { stop: async () => undefined } as unknown as Fleet });
    const page = await browser.page();
    let refused = 0;
    page.on('response', (response) => {
      if (response.url() === url && response.status() === 400) refused++;
    });
    await page.goto(dashboardUrl(url));
    const notice = page.getByTestId('notice-error');
    await notice.waitFor();
    expect(await notice.textContent()).toContain("Transit refused the dashboard's state query");
    expect(await notice.textContent()).toContain('QUERY_TOO_COSTLY');
    expect(await page.getByTestId('connection').textContent()).not.toBe('live');
    // It tries again (the limit may be raised), and says it once.
    await expect.poll(() => refused, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(await page.getByTestId('notice-error').count()).toBe(1);
    expect(errorsOf(page)).toEqual([]);
  });
});

describe('the dashboard with a credentials file', { timeout: 90_000 }, () => {
  it('should ask for a token, refuse a wrong one, keep a right one for the session only, and show what the token may not do', async () => {
    const server = await startSecureServer();
    try {
      await server.as('operator', 'mutation { registerHost(input: { hostId: "host-a", cluster: "c1" }) { errors { code } } }');
      const page = await browser.page();
      await page.goto(dashboardUrl(server.url));
      const prompt = page.getByTestId('token-prompt');
      await prompt.waitFor();

      await prompt.getByLabel('Token').fill('not-a-token');
      await prompt.getByRole('button', { name: 'Connect' }).click();
      await page.getByTestId('token-error').waitFor();
      expect(await page.getByTestId('token-error').textContent()).toMatch(/^Refused: /);
      expect(await page.getByTestId('connection').textContent()).toBe('token required');

      await prompt.getByLabel('Token').fill(server.tokens.viewer);
      await prompt.getByRole('button', { name: 'Connect' }).click();
      await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
      await page.getByTestId('host-host-a').waitFor();

      // A viewer may look, not act: the refusal is shown where the operator acted.
      await page.getByTestId('start-migration').getByPlaceholder('VM id').fill('vm-1');
      await page.getByTestId('start-migration').getByRole('button', { name: 'Migrate' }).click();
      await page.getByTestId('start-result').waitFor();
      expect(await page.getByTestId('start-result').getAttribute('class')).toBe('error');

      // Kept for the tab's session: a reload needs no prompt; a new browser context asks again.
      await page.reload();
      await page.getByTestId('connection').filter({ hasText: 'live' }).waitFor();
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      const other = await browser.page();
      await other.goto(dashboardUrl(server.url));
      await other.getByTestId('token-prompt').waitFor();
      expect(errorsOf(page)).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});
