/**
 * `npm run bench [-- NAME ...]`: runs the benchmarks, each in its own Node process so that one's
 * heap does not weigh on the next. With no name, runs them all. Each prints the machine, the exact
 * command, and every figure beside its baseline with their ratio.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const NODE_FLAGS: Record<string, string[]> = { memory: ['--expose-gc'] };
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'report.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
let failed = 0;
for (const name of wanted.length > 0 ? wanted : available) {
  const args = [...(NODE_FLAGS[name] ?? []), '--import', 'tsx', `${here}${name}.ts`];
  console.log(`\n# ${name}: node ${args.join(' ')}`);
  const result = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
