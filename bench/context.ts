/**
 * What every part of the benchmark is handed: the options parsed once from the command line, the
 * RSS sampler of this process and the progress log (stderr, so stdout carries only the report).
 */
import { loadConfig } from "../lib/config";

export type BenchMode = "embedded" | "kafka" | "both";
const MODES: readonly BenchMode[] = ["embedded", "kafka", "both"];

export interface BenchOptions {
  mode: BenchMode;
  /** Small figures for a smoke test. */
  quick: boolean;
  /** Events per throughput run. */
  events: number;
  /** Instrument counts of the embedded throughput runs, one run (and child process) each. */
  instrumentCounts: number[];
  latencySeconds: number;
  latencyInstruments: number;
  /** Pacing of the embedded latency run: one candle every this many ms (round-robin over the instruments). */
  candleIntervalMs: number;
  kafkaInstruments: number;
  kafkaCandleIntervalMs: number;
  /** Partitions per topic of the platform's configuration (TOPIC_PARTITIONS). */
  partitions: number;
  kafkaPartitions: number;
  skipThroughput: boolean;
  skipLatency: boolean;
  /** `--scenario …`: run that one scenario in this process and hand back its raw result. */
  scenario?: string;
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  const option = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const count = (name: string, fallback: number): number => {
    const text = option(name);
    const value = Number(text ?? fallback);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got "${text}"`);
    return value;
  };
  const mode = option("mode") ?? "both";
  if (!MODES.includes(mode as BenchMode)) throw new Error(`--mode must be embedded, kafka or both, got "${mode}"`);
  const quick = argv.includes("--quick");
  const partitions = loadConfig().partitions;
  return {
    mode: mode as BenchMode,
    quick,
    events: count("events", quick ? 30_000 : 200_000),
    instrumentCounts: (option("instruments") ?? "1,10,50").split(",").map(Number).filter((n) => n > 0),
    latencySeconds: count("latency-seconds", quick ? 4 : 15),
    latencyInstruments: count("latency-instruments", 4),
    candleIntervalMs: count("candle-interval", 5),
    kafkaInstruments: count("kafka-instruments", 10),
    kafkaCandleIntervalMs: count("kafka-candle-interval", 20),
    partitions,
    kafkaPartitions: count("kafka-partitions", partitions),
    skipThroughput: argv.includes("--skip-throughput"),
    skipLatency: argv.includes("--skip-latency"),
    scenario: option("scenario"),
  };
}

/** Peak RSS of this process, and of the phase being measured, sampled on a timer. */
export class RssSampler {
  /** Over the whole process. */
  peak = 0;
  /** Since the last startPhase(). */
  phasePeak = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(intervalMs = 50) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    if (rss > this.phasePeak) this.phasePeak = rss;
  }

  startPhase(): void {
    this.phasePeak = 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface BenchContext {
  options: BenchOptions;
  rss: RssSampler;
  log(line: string): void;
}

export function createBenchContext(argv: string[]): BenchContext {
  return {
    options: parseBenchOptions(argv),
    rss: new RssSampler(),
    log: (line) => void process.stderr.write(`[bench] ${line}\n`),
  };
}
