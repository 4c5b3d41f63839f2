/** The live one-line summary: updated in place on a terminal, printed as periodic lines otherwise. */
import { formatSummary, type Fleet } from './fleet.js';

export class StatusLine {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly fleet: Fleet,
    private readonly out: NodeJS.WriteStream = process.stdout,
  ) {}

  start(): void {
    const tty = this.out.isTTY === true;
    this.timer = setInterval(
      () => {
        const line = formatSummary(this.fleet.summary);
        if (tty) this.out.write(`\r\x1b[2K${line.slice(0, Math.max(20, (this.out.columns ?? 160) - 1))}`);
        else this.out.write(`${new Date().toISOString()} ${line}\n`);
      },
      tty ? 500 : 5_000,
    );
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.out.isTTY === true) this.out.write('\n');
  }
}
