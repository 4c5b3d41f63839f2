/**
 * Headless Chromium for the browser tests: Debian's `/usr/bin/chromium` (CHROMIUM_PATH to use
 * another), driven by playwright-core, which downloads nothing. One browser per test file; each
 * test opens its own context (fresh cookies and storage). Playwright starts the browser with a
 * fresh temporary `--user-data-dir` of its own and removes it on close.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (.ci/run does), or set CHROMIUM_PATH`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** One browser for the test file; `page()` opens a page in a fresh context, closed after the file. */
export function browserPerFile(): { page(options?: { width?: number; height?: number }): Promise<Page> } {
  let browser: Browser | null = null;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    async page({ width = 1400, height = 900 } = {}) {
      if (browser === null) throw new Error('no browser: call inside a test');
      const context = await browser.newContext({ viewport: { width, height } });
      const page = await context.newPage();
      // An uncaught error in the page is a bug of the dashboard: tests assert there is none.
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      pageErrors.set(page, errors);
      return page;
    },
  };
}

const pageErrors = new WeakMap<Page, string[]>();

/** Uncaught errors the page has thrown so far. */
export const errorsOf = (page: Page): string[] => pageErrors.get(page) ?? [];

/** The dashboard's address for a GraphQL endpoint URL. */
export const dashboardUrl = (graphqlUrl: string): string => new URL('/', graphqlUrl).href;
