/**
 * The C4 workspace (docs/architecture/c4/workspace.dsl), as the Structurizr DSL parser reads it, stays
 * true to the code: every service in services/ is drawn, and every topic of TOPIC_TABLE is drawn with
 * its key, its producer and each consumer group. The check itself is shown to fail on drift.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SERVICE_NAMES, TOPIC_TABLE } from "../../schemas";
import { REPO_ROOT, driftProblems, readModel, readWorkspaceJson, renderWorkspace, type C4Model, type TopicDeclaration } from "./c4-model";

jest.setTimeout(300_000);

/** Every `<name>.service.ts` in services/: the services as the code declares them, independent of the topic table. */
const SERVICES_IN_DIRECTORY = fs
  .readdirSync(path.join(REPO_ROOT, "services"))
  .filter((file) => file.endsWith(".service.ts"))
  .map((file) => file.slice(0, -".service.ts".length))
  .sort();
const TOPICS: TopicDeclaration[] = Object.values(TOPIC_TABLE).map(({ name, key, producer, consumers }) => ({ name, key, producer, consumers }));

describe("C4 workspace against the code", () => {
  let dir: string;
  let model: C4Model;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "c4-drift-"));
    renderWorkspace(dir);
    model = readModel(readWorkspaceJson(dir));
  });

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads the services from services/ and the schemas alike", () => {
    expect(SERVICES_IN_DIRECTORY).toEqual([...SERVICE_NAMES].sort());
  });

  it("draws every service and every topic with its key, producer and consumer groups", () => {
    expect(driftProblems(model, TOPICS, SERVICES_IN_DIRECTORY)).toEqual([]);
  });

  it("fails when a topic is added to the table without the workspace", () => {
    const added: TopicDeclaration = { name: "orders.cancelled" as TopicDeclaration["name"], key: "portfolio_key", producer: "execution", consumers: ["risk"] };
    expect(driftProblems(model, [...TOPICS, added], SERVICES_IN_DIRECTORY)).toEqual(["topic orders.cancelled has no container tagged Topic"]);
  });

  it("fails when a topic gains a consumer group, changes producer or key", () => {
    const changed = TOPICS.map((t) =>
      t.name === "trades.rejected" ? { ...t, consumers: [...t.consumers, "execution" as const] }
      : t.name === "market.raw.data" ? { ...t, producer: "ingestion" as const }
      : t.name === "orders.fills" ? { ...t, key: "instrument_key" as const }
      : t,
    );
    expect(driftProblems(model, changed, SERVICES_IN_DIRECTORY)).toEqual([
      "topic market.raw.data: produced by ingestion, the workspace draws exchange",
      "topic trades.rejected: consumed by execution, gateway, the workspace draws gateway",
      "topic orders.fills: key is instrument_key, the workspace says portfolio_key",
      "topic orders.fills: the arrow from execution does not name the key instrument_key",
    ]);
  });

  it("fails when a service or a topic is dropped from the code but still drawn, or added without the workspace", () => {
    const withoutFeatures = SERVICES_IN_DIRECTORY.filter((s) => s !== "features");
    expect(driftProblems(model, TOPICS.filter((t) => t.name !== "orders.placed"), [...withoutFeatures, "backtest"])).toEqual([
      "service backtest has no container tagged Service",
      "container features is tagged Service but services/ has no such service",
      "container orders.placed is tagged Topic but the topic table has no such topic",
    ]);
  });

  it("fails when the workspace loses an arrow", () => {
    const marketData = [...model.elements.values()].find((e) => e.name === "market.raw.data")!;
    const features = [...model.elements.values()].find((e) => e.name === "features")!;
    const withoutArrow: C4Model = {
      elements: model.elements,
      relationships: model.relationships.filter((r) => !(r.sourceId === marketData.id && r.destinationId === features.id)),
    };
    expect(model.relationships.length - withoutArrow.relationships.length).toBe(1);
    expect(driftProblems(withoutArrow, TOPICS, SERVICES_IN_DIRECTORY)).toEqual([
      "topic market.raw.data: consumed by features, ingestion, the workspace draws ingestion",
    ]);
  });
});
