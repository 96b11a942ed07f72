/**
 * Reading the C4 workspace as the Structurizr DSL parser understood it (workspace.json written by
 * `scripts/structurizr-lite.sh --render-only`), and the drift check between it and the code: the
 * services in services/ and the topics of TOPIC_TABLE with their key, producer and consumer groups.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { TopicSpec } from "../../schemas";

export const REPO_ROOT = path.resolve(__dirname, "../..");
export const LITE_SCRIPT = path.join(REPO_ROOT, "scripts/structurizr-lite.sh");

/** Writes the static page (index.html, views/*.mmd, workspace.json) into dir. The first run installs the parser. */
export function renderWorkspace(dir: string): void {
  execFileSync(LITE_SCRIPT, ["--render-only", dir], { stdio: ["ignore", "ignore", "pipe"], timeout: 240_000 });
}

/** The part of a topic's declaration the diagrams show. */
export type TopicDeclaration = Pick<TopicSpec, "name" | "key" | "producer" | "consumers">;

interface JsonRelationship {
  id: string;
  sourceId: string;
  destinationId: string;
  description?: string;
  /** Set on relationships the parser implied from a child's (a component's arrow lifted to its container). */
  linkedRelationshipId?: string;
}
interface JsonElement {
  id: string;
  name: string;
  tags?: string;
  properties?: Record<string, string>;
  relationships?: JsonRelationship[];
  containers?: JsonElement[];
  components?: JsonElement[];
  children?: JsonElement[];
  containerInstances?: Array<JsonElement & { containerId: string }>;
  softwareSystemInstances?: Array<JsonElement & { softwareSystemId: string }>;
}
interface JsonView {
  key: string;
  elements?: Array<{ id: string }>;
}
/** The kinds of view the workspace has (workspace.json's `views` also holds styles and configuration). */
const VIEW_KINDS = ["systemContextViews", "containerViews", "componentViews", "deploymentViews", "dynamicViews"] as const;
export interface WorkspaceJson {
  model: { people?: JsonElement[]; softwareSystems?: JsonElement[]; deploymentNodes?: JsonElement[] };
  views: Partial<Record<(typeof VIEW_KINDS)[number], JsonView[]>>;
}

export interface C4Element {
  id: string;
  name: string;
  tags: string[];
  properties: Record<string, string>;
  /** The container an element is or belongs to (a component's container), for attributing arrows to services. */
  containerId?: string;
}
export interface C4Model {
  elements: Map<string, C4Element>;
  /** The relationships written in the workspace, without the implied copies. */
  relationships: JsonRelationship[];
}

export function readWorkspaceJson(dir: string): WorkspaceJson {
  return JSON.parse(fs.readFileSync(path.join(dir, "workspace.json"), "utf8")) as WorkspaceJson;
}

export function readModel(workspace: WorkspaceJson): C4Model {
  const elements = new Map<string, C4Element>();
  const relationships: JsonRelationship[] = [];
  const add = (element: JsonElement, containerId?: string) => {
    elements.set(element.id, {
      id: element.id,
      name: element.name,
      tags: (element.tags ?? "").split(",").map((t) => t.trim()).filter(Boolean),
      properties: element.properties ?? {},
      containerId,
    });
    relationships.push(...(element.relationships ?? []).filter((r) => r.linkedRelationshipId === undefined));
  };
  for (const person of workspace.model.people ?? []) add(person);
  for (const system of workspace.model.softwareSystems ?? []) {
    add(system);
    for (const container of system.containers ?? []) {
      add(container, container.id);
      for (const component of container.components ?? []) add(component, container.id);
    }
  }
  return { elements, relationships };
}

/** Names of every element a view shows: deployment views show instances by their container's or system's name. */
export function viewElementNames(workspace: WorkspaceJson): Map<string, string[]> {
  const names = new Map<string, string>();
  const model = readModel(workspace);
  for (const element of model.elements.values()) names.set(element.id, element.name);
  const visitNode = (node: JsonElement) => {
    names.set(node.id, node.name);
    for (const instance of node.containerInstances ?? []) names.set(instance.id, names.get(instance.containerId) ?? "");
    for (const instance of node.softwareSystemInstances ?? []) names.set(instance.id, names.get(instance.softwareSystemId) ?? "");
    for (const child of node.children ?? []) visitNode(child);
  };
  for (const node of workspace.model.deploymentNodes ?? []) visitNode(node);
  const byView = new Map<string, string[]>();
  for (const kind of VIEW_KINDS) {
    for (const view of workspace.views[kind] ?? []) byView.set(view.key, (view.elements ?? []).map((e) => names.get(e.id) ?? `?${e.id}`));
  }
  return byView;
}

/**
 * What the workspace gets wrong about the code, one sentence each; empty when it is true to it.
 * Services are containers tagged "Service" named as the service; topics are containers tagged "Topic"
 * named as the topic, with the partition key as property "key". An arrow from a service (or one of its
 * components) to a topic is a producer, an arrow from a topic to a service (or component) a consumer
 * group. A producer of "any" is every service that consumes a topic (its consumer groups dead-letter).
 */
export function driftProblems(model: C4Model, topics: readonly TopicDeclaration[], services: readonly string[]): string[] {
  const problems: string[] = [];
  const containersTagged = (tag: string) => [...model.elements.values()].filter((e) => e.tags.includes(tag) && e.containerId === e.id);
  const serviceElements = containersTagged("Service");
  const topicElements = containersTagged("Topic");

  const serviceNames = serviceElements.map((e) => e.name);
  for (const service of services) if (!serviceNames.includes(service)) problems.push(`service ${service} has no container tagged Service`);
  for (const name of serviceNames) if (!services.includes(name)) problems.push(`container ${name} is tagged Service but services/ has no such service`);

  const topicNames = topicElements.map((e) => e.name);
  for (const name of topicNames) if (!topics.some((t) => t.name === name)) problems.push(`container ${name} is tagged Topic but the topic table has no such topic`);

  // The service each element speaks for: a service container itself, or the service a component is part of.
  const serviceOf = (elementId: string): string | undefined => {
    const containerId = model.elements.get(elementId)?.containerId;
    return serviceElements.find((s) => s.id === containerId)?.name;
  };
  const consumingServices = new Set(topics.flatMap((t) => t.consumers));
  const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

  for (const topic of topics) {
    const element = topicElements.find((e) => e.name === topic.name);
    if (!element) {
      problems.push(`topic ${topic.name} has no container tagged Topic`);
      continue;
    }
    if (element.properties.key !== topic.key) problems.push(`topic ${topic.name}: key is ${topic.key}, the workspace says ${element.properties.key ?? "nothing"}`);

    const publishing = model.relationships.filter((r) => r.destinationId === element.id);
    const producers = sorted(publishing.map((r) => serviceOf(r.sourceId)).filter((s) => s !== undefined));
    const expectedProducers = sorted(topic.producer === "any" ? consumingServices : [topic.producer]);
    if (producers.join() !== expectedProducers.join()) {
      problems.push(`topic ${topic.name}: produced by ${expectedProducers.join(", ")}, the workspace draws ${producers.join(", ") || "no producer"}`);
    }
    // A reader of the diagram learns the partition key from the producer's arrow.
    if (topic.producer !== "any") {
      for (const r of publishing) if (!r.description?.includes(topic.key)) problems.push(`topic ${topic.name}: the arrow from ${serviceOf(r.sourceId)} does not name the key ${topic.key}`);
    }
    const consumers = sorted(model.relationships.filter((r) => r.sourceId === element.id).map((r) => serviceOf(r.destinationId)).filter((s) => s !== undefined));
    const expectedConsumers = sorted(topic.consumers);
    if (consumers.join() !== expectedConsumers.join()) {
      problems.push(`topic ${topic.name}: consumed by ${expectedConsumers.join(", ") || "no group"}, the workspace draws ${consumers.join(", ") || "no consumer"}`);
    }
  }
  return problems;
}
