/**
 * The dashboard's screenshots (`npm run screenshots`, docs/*.png) and the README: every PNG in
 * docs/ is linked from it, and every PNG it links is there (issue 13).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url);

describe("the dashboard's screenshots", () => {
  it('should be linked from the README, each PNG in docs/ and no PNG that is not there', () => {
    const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
    const linked = new Set([...readme.matchAll(/\]\((docs\/[^)\s]+\.png)\)/g)].map(([, path]) => path));
    const present = new Set(readdirSync(new URL('docs/', ROOT)).filter((f) => f.endsWith('.png')).map((f) => `docs/${f}`));
    expect([...linked].sort()).toEqual([...present].sort());
    // The screenshots the issue asks for: the demo fleet, and an evacuation under way.
    expect(present).toContain('docs/dashboard.png');
    expect(present).toContain('docs/dashboard-evacuation.png');
  });
});
