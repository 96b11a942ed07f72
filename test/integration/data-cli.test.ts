/**
 * `npm run data` as a user runs it: bin/data.ts in its own process on the embedded store of a
 * DATA_DIR, its output, exit codes and Ctrl-C; downloads against the local Binance stand-in.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wallClock } from "../../lib/clock";
import { openMarketStore } from "../../lib/marketdata/open";
import { BTCUSDT, ETHUSDT, FakeBinance } from "../fakes/binance-server";

// Each test starts the command a few times (tsx compiles it on every start): slower than the default 30 s on a busy machine.
jest.setTimeout(120_000);

const ROOT = join(__dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "market-data");
const MIN = 60_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npm run data -- <args>` (node with tsx's loader); `onStderr` sees its error output as it comes. */
function data(args: string[], env: NodeJS.ProcessEnv, onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const { QUESTDB_URL: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bin", "data.ts"), ...args], { cwd: ROOT, env: { ...inherited, ...env } });
  const run: Run = { code: null, stdout: "", stderr: "" };
  child.stdout.on("data", (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => {
    run.stderr += chunk.toString();
    onStderr?.(run.stderr, child);
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ ...run, code })));
}

/** The coverage table at the end of the output. */
const table = (stdout: string) => stdout.slice(stdout.indexOf("instrument "));

describe("npm run data", () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "data-cli-"));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it("imports a directory, imports it again without change, and lists what the store holds", async () => {
    const env = { DATA_DIR: tempDir() };
    const first = await data(["import", FIXTURES], env);
    expect(first.code).toBe(0);
    expect(first.stderr).toContain(`store: DuckDB file ${env.DATA_DIR}/market.duckdb`);
    expect(first.stdout).toContain(`imported ${FIXTURES}/BTCUSDT-1m-2024-12-31.csv → binance:BTC/USDT: 240 candles 2024-12-31T00:00:00.000Z … 2024-12-31T03:59:00.000Z, 207 indicator rows`);
    expect(first.stdout).toContain(`imported ${FIXTURES}/ETHUSDT-1m-2025-01-02.zip → binance:ETH/USDT: 120 candles`);
    expect(table(first.stdout)).toMatch(/binance:ETH\/USDT\s+candles\s+2025-01-01T00:00:00.000Z\s+2025-01-02T01:59:00.000Z\s+300\s+1 \(1260 min missing\)/);

    const again = await data(["import", FIXTURES], env);
    expect(again.code).toBe(0);
    expect(table(again.stdout)).toBe(table(first.stdout));
    const list = await data(["list"], env);
    expect([list.code, `${list.stdout}`]).toEqual([0, table(first.stdout)]);
    const eth = await data(["list", "binance:ETH/USDT"], env);
    expect(eth.stdout).not.toContain("BTC/USDT");
    expect(eth.stdout).toMatch(/binance:ETH\/USDT\s+indicators/);
  });

  it("refuses a malformed file with file, line and reason, writes nothing of it, and exits 1", async () => {
    const env = { DATA_DIR: tempDir() };
    const path = join(tempDir(), "BTCUSDT-1m-2025-01.csv");
    const T = Date.UTC(2025, 0, 1);
    writeFileSync(path, [`${T},100,101,99,100.5,1,${T + MIN - 1},0,1,0,0,0`, `${T + MIN},100.5,100.4,99,100,1,${T + 2 * MIN - 1},0,1,0,0,0`].join("\n"));
    const run = await data(["import", path, join(FIXTURES, "freqtrade", "BTC_USDT-1m.json")], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`refused ${path}:2: high 100.4 is below the open 100.5 or the close 100 — nothing of this file was written`);
    expect(run.stderr).toContain("1 file(s) refused, named above; the others were imported");
    // The good file of the same command is imported.
    expect(run.stdout).toContain("→ binance:BTC/USDT: 240 candles 2024-12-31T00:00:00.000Z");
    const list = await data(["list"], env);
    expect(list.stdout).toMatch(/binance:BTC\/USDT\s+candles\s+2024-12-31T00:00:00.000Z\s+2024-12-31T03:59:00.000Z\s+240\s+none/);
  });

  it("stops cleanly on Ctrl-C with exit code 130, and the same command completes the import", async () => {
    const env = { DATA_DIR: tempDir() };
    const path = join(tempDir(), "BTCUSDT-1m-2025.csv");
    const T = Date.UTC(2025, 0, 1);
    const lines: string[] = [];
    for (let i = 0; i < 120_000; i++) lines.push(`${T + i * MIN},100,101,99,100.5,1.25,${T + (i + 1) * MIN - 1},0,3,0,0,0`);
    writeFileSync(path, lines.join("\n"));
    let pressed = false;
    const interrupted = await data(["import", path], env, (stderr, child) => {
      if (!pressed && stderr.includes("store: ")) {
        pressed = true;
        child.kill("SIGINT");
      }
    });
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/interrupted: .*BTCUSDT-1m-2025\.csv.*: \d+ of 120000 written\. Run the same command again to complete it/);
    const completed = await data(["import", path], env);
    expect(completed.code).toBe(0);
    expect(completed.stdout).toMatch(/binance:BTC\/USDT\s+candles\s+2025-01-01T00:00:00.000Z\s+\S+\s+120000\s+none/);
  });

  it("tells that the embedded store is in use by another process (the platform)", async () => {
    const env = { DATA_DIR: tempDir() };
    const held = await openMarketStore({ kind: "duckdb", path: join(env.DATA_DIR, "market.duckdb") }, wallClock);
    try {
      const run = await data(["list"], env);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("is in use by another process (the platform holds it: stop it first)");
    } finally {
      await held.close();
    }
  });

  it("answers a wrong command line with the usage and exit code 2", async () => {
    const run = await data(["fetch"], { DATA_DIR: tempDir() });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown command "fetch"');
    expect(run.stderr).toContain("npm run data -- download --exchange ID --symbols BASE/QUOTE[,...] --from DATE [--to DATE]");
    const noFrom = await data(["download", "--exchange", "binance", "--symbols", "BTC/USDT"], { DATA_DIR: tempDir() });
    expect([noFrom.code, noFrom.stderr.split("\n")[0]]).toEqual([2, "download needs --exchange, --symbols and --from"]);
    const unknown = await data(["download", "--exchange", "nowhere", "--symbols", "BTC/USDT", "--from", "2025-01-01"], { DATA_DIR: tempDir() });
    expect([unknown.code, unknown.stderr.split("\n")[0]]).toEqual([2, '--exchange "nowhere" is not an exchange id of ccxt (binance, kraken, okx, …)']);
  });

  describe("download", () => {
    let fake: FakeBinance;
    beforeAll(async () => {
      fake = await FakeBinance.start({ markets: [BTCUSDT, ETHUSDT], historyMinutes: 1600, speed: 1 });
    });
    afterAll(() => fake.stop());

    it("fetches the candles of several symbols through EXCHANGE_URLS, and a second run fetches nothing", async () => {
      const answer = await fetch(`http://127.0.0.1:${fake.port}/api/v3/klines?symbol=BTCUSDT&startTime=0&limit=1`);
      const [[first]] = (await answer.json()) as number[][];
      const from = new Date(first!).toISOString().slice(0, 16);
      const to = new Date(first! + 1500 * MIN).toISOString().slice(0, 16);
      const env = { DATA_DIR: tempDir(), EXCHANGE_URLS: JSON.stringify(fake.ccxtUrls()) };
      const args = ["download", "--exchange", "binance", "--symbols", "BTC/USDT,ETH/USDT", "--from", from, "--to", to];
      const run = await data(args, env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("downloaded binance:BTC/USDT: 1,500 candles in 2 requests");
      expect(run.stdout).toContain("downloaded binance:ETH/USDT: 1,500 candles in 2 requests");
      expect(table(run.stdout)).toMatch(/binance:ETH\/USDT\s+candles\s+\S+\s+\S+\s+1500\s+none/);
      const again = await data(args, env);
      expect(again.stdout).toContain(`downloaded binance:BTC/USDT (resumed at ${new Date(first! + 1500 * MIN).toISOString()}): 0 candles in 0 requests`);
    });

    it("refuses a symbol the exchange does not list", async () => {
      const run = await data(["download", "--exchange", "binance", "--symbols", "XYZ/USDT", "--from", "2025-01-01"], { DATA_DIR: tempDir(), EXCHANGE_URLS: JSON.stringify(fake.ccxtUrls()) });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain("XYZ/USDT is not a spot market of binance");
    });
  });
});
