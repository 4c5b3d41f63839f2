/** How every benchmark prints: the machine, the command, then each figure beside its baseline and their ratio. */
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly baselineName?: string;
  /** True when a smaller value is better (latencies, bytes). */
  readonly lowerIsBetter?: boolean;
  /** The target this figure is held to, in words ("≤ 50 ms"), and whether it is met. */
  readonly target?: { readonly text: string; readonly met: boolean };
}

const relative = (arg: string) => (path.isAbsolute(arg) ? path.relative(process.cwd(), arg) || '.' : arg);

/** The benchmark's own name: its file without `.ts`. */
const benchName = () => path.basename(process.argv[1] ?? '', '.ts');

/** Node's flags for this process, with tsx's own loader flags (however tsx was started) written `--import tsx`. */
function nodeFlags(): string[] {
  const flags: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (args[i + 1] ?? '');
    if (['--require', '--import', '-r'].includes(arg) && value.includes('/tsx/')) {
      i++;
      if (!flags.includes('tsx')) flags.push('--import', 'tsx');
      continue;
    }
    flags.push(arg);
  }
  return flags;
}

/** The commit measured, and whether the work tree differed from it. */
function commit(): string {
  try {
    const head = execSync('git rev-parse --short HEAD', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execSync('git status --porcelain --untracked-files=no', { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

export const machine = (): string =>
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}; ` +
  `load average ${os.loadavg()[0]?.toFixed(2)} at start (other processes share the cores); commit ${commit()}\n` +
  // The exact command of this process (Node flags included), and the npm script that runs it.
  `command: node ${[...nodeFlags(), ...process.argv.slice(1).map(relative)].join(' ')}   (npm run bench -- ${benchName()})`;

const fmt = (n: number | null) => (n === null || Number.isNaN(n) ? '—' : n >= 100 ? Math.round(n).toLocaleString('en') : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** The ratio printed beside a figure: above 1 means better than the baseline, whichever way "better" points. */
export const ratioOf = (r: Row): number | undefined =>
  r.baseline === undefined ? undefined : r.lowerIsBetter ? r.baseline / r.value : r.value / r.baseline;

export function printTable(title: string, rows: readonly Row[]): void {
  const targets = rows.some((r) => r.target !== undefined);
  console.log(`\n## ${title}`);
  console.log(`| measure | value | baseline | ratio |${targets ? ' target |' : ''}`);
  console.log(`|---|---|---|---|${targets ? '---|' : ''}`);
  for (const r of rows) {
    const base = r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit} (${r.baselineName})`;
    const ratio = ratioOf(r);
    const target = r.target === undefined ? '—' : `${r.target.text}: ${r.target.met ? 'met' : '**missed**'}`;
    console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio === undefined ? '—' : ratio.toFixed(2)} |${targets ? ` ${target} |` : ''}`);
  }
}

/** The `p`-th percentile (0–100) of the samples, nearest rank; sorts `samples` in place. */
export function percentile(samples: Float64Array | number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = samples instanceof Float64Array ? samples.sort() : samples.sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}
