/**
 * Progress of a long command (an import, a download; later a backtest or a training run) on stderr:
 * on a terminal a bar redrawn in place with done/total, rate and ETA, at most every `redrawMs`; in a
 * log (not a terminal) one plain line every `lineMs`, so a CI log shows it is alive without filling up.
 * Time comes from the injected clock, so the figures are testable.
 */
import type { Clock } from "./clock";

/** Where progress goes: process.stderr, or anything with `write` (tests collect the text). */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressOptions {
  label: string;
  /** What is counted ("rows", "candles"). */
  unit: string;
  /** Units to do, when known; without it there is no bar and no ETA. */
  total?: number;
  clock: Clock;
  output: ProgressOutput;
  /** Least time between two redraws on a terminal (default 100 ms: 10 a second). */
  redrawMs?: number;
  /** Time between two lines in a log (default 5 s). */
  lineMs?: number;
}

/** Makes the progress display of one long step (`total` units to do); a command passes one to the library code. */
export type ProgressFactory = (label: string, total: number, unit: string) => Progress;

const BAR_WIDTH = 24;
const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** h:mm:ss, or m:ss under an hour. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor(seconds / 60) % 60, seconds % 60];
  const mmss = `${String(m).padStart(h > 0 ? 2 : 1, "0")}:${String(s).padStart(2, "0")}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

export class Progress {
  private done = 0;
  private readonly startedAt: number;
  private shownAt: number | undefined;
  private readonly tty: boolean;
  private finished = false;

  constructor(private readonly options: ProgressOptions) {
    this.startedAt = options.clock.now();
    this.tty = options.output.isTTY === true;
  }

  /** Adds `n` units done; redraws (a terminal) or writes a line (a log) when it is time to. */
  advance(n: number): void {
    this.done += n;
    const now = this.options.clock.now();
    const every = this.tty ? (this.options.redrawMs ?? 100) : (this.options.lineMs ?? 5000);
    if (now - (this.shownAt ?? this.startedAt) < every) return;
    this.shownAt = now;
    this.show(now);
  }

  /** The final figures (total time, average rate), ending the bar's line on a terminal. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    const now = this.options.clock.now();
    const text = `${this.options.label}  ${count(this.done)} ${this.options.unit} in ${formatDuration(now - this.startedAt)}  ${this.rateText(now)}`;
    this.options.output.write(this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }

  /** The progress line as of `now`: label, bar and percentage (with a total), count, rate, ETA. */
  line(now = this.options.clock.now()): string {
    const { label, unit, total } = this.options;
    const parts = [label];
    if (total !== undefined && total > 0) {
      const fraction = Math.min(1, this.done / total);
      const filled = Math.round(fraction * BAR_WIDTH);
      parts.push(`[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`, `${count(this.done)}/${count(total)} ${unit}`, `${(fraction * 100).toFixed(1)}%`);
    } else {
      parts.push(`${count(this.done)} ${unit}`);
    }
    parts.push(this.rateText(now));
    const rate = this.rate(now);
    if (total !== undefined && rate > 0) parts.push(`ETA ${formatDuration((Math.max(0, total - this.done) / rate) * 1000)}`);
    return parts.join("  ");
  }

  /** Units a second since the start. */
  private rate(now: number): number {
    const elapsed = now - this.startedAt;
    return elapsed > 0 ? (this.done * 1000) / elapsed : 0;
  }

  private rateText(now: number): string {
    return `${count(this.rate(now))} ${this.options.unit}/s`;
  }

  private show(now: number): void {
    const text = this.line(now);
    this.options.output.write(this.tty ? `\r${text}\x1b[K` : `${text}\n`);
  }
}
