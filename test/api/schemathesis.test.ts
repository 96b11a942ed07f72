/**
 * Schemathesis (PyPI, installed by scripts/infra/schemathesis.sh into a cached venv) fuzzes the
 * running platform from its own OpenAPI document, with every check: no 5xx, no status the document
 * does not list, every answer matching its documented schema and content type, input the document
 * calls invalid refused, the bearer token enforced. A bounded number of examples per operation and
 * a fixed seed keep it to a couple of minutes and reproducible.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../../lib/config";
import { startPlatform, waitFor, TOKEN, type Platform } from "../helpers/platform";

const ROOT = path.join(__dirname, "..", "..");
const SCRIPT = path.join(ROOT, "scripts", "infra", "schemathesis.sh");
const TRADER_TOKEN = "alice-schemathesis-token";
/** About a minute each on a quiet machine; many times that while other suites share the cores. */
const RUN_TIMEOUT_MS = 12 * 60_000;
/** Where each run's full output and JUnit report go. */
const ARTIFACTS = path.join(ROOT, "test-artifacts", "schemathesis");

/** Runs a command without blocking the event loop (the platform under test serves from this process). */
function run(command: string, args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Run from the artifacts folder: schemathesis keeps its example database in the working directory.
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const child = spawn(command, args, { cwd: ARTIFACTS, env: { ...process.env, NO_COLOR: "1", PYTHONUNBUFFERED: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** `st run` over the whole document as one caller; fails with schemathesis' report unless every check passed. */
async function fuzz(platform: Platform, caller: string, token: string, maxExamples: number, extra: string[] = []) {
  const result = await run(
    SCRIPT,
    [
      "st",
      "--config-file", path.join(__dirname, "schemathesis.toml"),
      "run",
      `${platform.baseUrl}/api/openapi.json`,
      "--checks", "all",
      "--header", `Authorization: Bearer ${token}`,
      "--max-examples", String(maxExamples),
      "--seed", "20261130",
      // One worker: Python 3.11's parser is not thread-safe, and hypothesis parses while describing
      // its strategies ("AST constructor recursion depth mismatch" with two).
      "--workers", "1",
      // Patient on a loaded machine (the suites run side by side): a slow answer is no failure here.
      "--request-timeout", "60",
      "--report", "junit",
      "--report-dir", ARTIFACTS,
      "--report-junit-path", `${caller}.junit.xml`,
      ...extra,
    ],
    RUN_TIMEOUT_MS,
  );
  fs.writeFileSync(path.join(ARTIFACTS, `${caller}.log`), result.output);
  if (result.code !== 0) throw new Error(`schemathesis found problems (exit ${result.code}; full output in test-artifacts/schemathesis/${caller}.log):\n${result.output.slice(-20_000)}`);
}

/** The operations a run tested, from its JUnit report ("GET /api/topics"). */
function testedOperations(caller: string): string[] {
  const junit = fs.readFileSync(path.join(ARTIFACTS, `${caller}.junit.xml`), "utf8");
  return [...new Set([...junit.matchAll(/<testcase [^>]*name="([A-Z]+ \/[^"]*)"/g)].map((m) => m[1]!))].sort();
}

/** Every documented operation but the document's own route, which schemathesis leaves out of its run. */
async function documentedOperations(platform: Platform): Promise<string[]> {
  const doc = (await platform.api("GET", "/api/openapi.json")).body as { paths: Record<string, object> };
  const operations = Object.entries(doc.paths).flatMap(([route, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${route}`));
  return operations.filter((o) => o !== "GET /api/openapi.json").sort();
}

describe("the API against its OpenAPI document (schemathesis)", () => {
  let platform: Platform;

  beforeAll(async () => {
    // Installed first (cached after the first run), so the platform is not kept waiting on pip.
    const install = await run(SCRIPT, ["install"], 5 * 60_000);
    if (install.code !== 0) throw new Error(`installing schemathesis failed:\n${install.output}`);
    platform = await startPlatform({
      config: {
        traderTokens: { alice: TRADER_TOKEN },
        simSpeed: 60,
        // The fuzzer sends requests as fast as the platform answers them, and many without a token (to
        // check that each route wants one): the limits would answer most of them 429, leaving the routes
        // untested. The limits have their own tests (test/services/api-hardening.test.ts).
        apiLimits: { ...loadConfig().apiLimits, requestsPerSecond: 10_000, requestBurst: 10_000, authFailures: 1_000_000 },
      },
    });
    // Ready: every service up and its routes served, so the document lists them all.
    await waitFor(async () => (await platform.api("GET", "/api/health", undefined, null)).status === 200, "the platform to be ready", 60_000);
  }, 6 * 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  test("as the operator: every operation, every check", async () => {
    const operations = await documentedOperations(platform);
    await fuzz(platform, "operator", TOKEN, 25);
    expect(testedOperations("operator")).toEqual(operations);
  }, RUN_TIMEOUT_MS + 60_000);

  test("as a trader: the operator's routes answer 403 as documented, the rest as for the operator", async () => {
    // Not positive_data_acceptance: a trader's portfolio ids, start cash and limits are checked
    // against their namespace, their allowance and the operator's ceilings (422 naming the field),
    // which depend on the trader and no schema can tell. The operator's run checks it on every route.
    const operations = await documentedOperations(platform);
    await fuzz(platform, "trader", TRADER_TOKEN, 10, ["--exclude-checks", "positive_data_acceptance"]);
    expect(testedOperations("trader")).toEqual(operations);
  }, RUN_TIMEOUT_MS + 60_000);
});
