/**
 * `scripts/structurizr-lite.sh` without Docker, end to end: it renders the workspace and serves the page;
 * Debian's chromium opens it and every view of the workspace must have drawn, showing each of its
 * elements by name, without a Mermaid or console error. Saves the container view in
 * test-artifacts/c4/containers.png; with UPDATE_C4_PICTURE=1, over docs/architecture/c4/containers.png
 * (the README's picture), so an ordinary run leaves the tree clean.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_FLAGS, chromiumPath } from "../helpers/chromium";
import { freePort } from "../helpers/ports";
import { waitFor } from "../helpers/wait";
import { LITE_SCRIPT, REPO_ROOT, viewElementNames, type WorkspaceJson } from "./c4-model";

jest.setTimeout(300_000);

const PICTURE = path.join(REPO_ROOT, process.env.UPDATE_C4_PICTURE === "1" ? "docs/architecture/c4" : "test-artifacts/c4", "containers.png");

describe("C4 diagrams in Chromium", () => {
  let server: ChildProcess;
  let output = "";
  let url: string;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const executablePath = chromiumPath();
    const port = await freePort();
    server = spawn(LITE_SCRIPT, [], { env: { ...process.env, PORT: String(port), STRUCTURIZR_DOCKER: "no" }, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    url = await waitFor(() => {
      if (server.exitCode !== null) throw new Error(`structurizr-lite.sh exited with ${server.exitCode}:\n${output}`);
      return /C4 diagrams on (http:\/\/\S+)/.exec(output)?.[1];
    }, "structurizr-lite.sh to print its URL", 240_000);
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.on("console", (message) => {
      if (message.type() === "error") pageErrors.push(message.text());
    });
    page.on("pageerror", (error) => pageErrors.push(`uncaught: ${error.message}`));
  });

  afterAll(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
  });

  it("draws every view of the workspace with each of its elements", async () => {
    // The URL is printed just before python's server starts listening.
    await waitFor(async () => (await page.goto(url).catch(() => null))?.ok(), "the page to be served", 30_000);
    await page.locator('body[data-status="done"]').waitFor({ timeout: 120_000 });
    // What should be there comes from the parser's output, not from the page.
    const workspace = (await (await page.request.get(new URL("workspace.json", url).href)).json()) as WorkspaceJson;
    const expected = viewElementNames(workspace);
    expect([...expected.keys()].sort()).toEqual(["Containers", "DockerCompose", "EmbeddedMode", "Infrastructure", "RegistrationToFill", "RiskComponents", "SystemContext"]);

    const drawn = await page.locator("section[data-view]").evaluateAll((sections) =>
      sections.map((section) => ({
        key: (section as HTMLElement).dataset.view!,
        status: (section as HTMLElement).dataset.status,
        svgs: section.querySelectorAll("svg").length,
        nodes: section.querySelectorAll("svg .node, svg .actor").length,
        text: section.querySelector("svg")?.textContent ?? "",
        error: section.querySelector(".error")?.textContent ?? "",
      })),
    );
    expect(drawn.map((d) => d.key).sort()).toEqual([...expected.keys()].sort());
    for (const view of drawn) {
      expect({ key: view.key, status: view.status, error: view.error }).toEqual({ key: view.key, status: "rendered", error: "" });
      expect(view.svgs).toBeGreaterThanOrEqual(1);
      expect(view.nodes).toBeGreaterThan(0);
      const names = expected.get(view.key)!;
      expect(names.length).toBeGreaterThan(0);
      // Mermaid wraps long labels: compare without whitespace.
      const text = view.text.replace(/\s+/g, "");
      expect(names.filter((name) => !text.includes(name.replace(/\s+/g, "")))).toEqual([]);
    }
    expect(pageErrors).toEqual([]);
  });

  it("saves the container view as the README's picture", async () => {
    // Wide enough for the labels to be legible when the picture is opened at full size.
    await page.setViewportSize({ width: 2800, height: 1600 });
    const containers = page.locator('section[data-view="Containers"]');
    await containers.scrollIntoViewIfNeeded();
    await containers.screenshot({ path: PICTURE });
  });
});
