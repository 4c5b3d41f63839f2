/** How every benchmark prints: the machine, the command, then each figure beside its baseline and their ratio. */
import os from 'node:os';

export interface Row {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly baselineName?: string;
  /** True when a smaller value is better (latencies, bytes). */
  readonly lowerIsBetter?: boolean;
}

export const machine = (): string =>
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}\n` +
  `command: ${process.argv.map((a) => a.replace(process.cwd() + '/', '')).join(' ')}`;

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));

export function printTable(title: string, rows: readonly Row[]): void {
  console.log(`\n## ${title}`);
  console.log('| measure | value | baseline | ratio |');
  console.log('|---|---|---|---|');
  for (const r of rows) {
    const base = r.baseline === undefined ? '—' : `${fmt(r.baseline)} ${r.unit} (${r.baselineName})`;
    const ratio = r.baseline === undefined ? '—' : (r.lowerIsBetter ? r.baseline / r.value : r.value / r.baseline).toFixed(2);
    console.log(`| ${r.name} | ${fmt(r.value)} ${r.unit} | ${base} | ${ratio} |`);
  }
}
