/**
 * The schema registry: validates envelopes and payloads against the versioned schemas declared in
 * schemas/index.ts, hands readers older payloads as the newest version (`upcastEnvelope`: the
 * fields a version renamed carry their new names), and checks that every new version of a topic's
 * schema stays backward compatible (a consumer on the new version reads what producers of the
 * older version wrote, renames applied).
 */
import Ajv, { type ValidateFunction } from "ajv";
import { Envelope } from "./envelope";
import { ALL_TOPICS, TOPIC_TABLE, latestVersion, type TopicName, type TopicPayloads } from "./index";

/** The part of a JSON Schema the compatibility check reads. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  /** Only `false` (a closed object) matters to the check. */
  additionalProperties?: unknown;
  items?: JsonSchema | JsonSchema[];
  enum?: readonly unknown[];
  const?: unknown;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  oneOf?: JsonSchema[];
  [keyword: string]: unknown;
}

const ajv = new Ajv({ allErrors: false, discriminator: true, strictTuples: false });

const validateEnvelopeShape = ajv.compile(Envelope);

const compiled = new Map<string, ValidateFunction>();
for (const topic of ALL_TOPICS) {
  for (const [version, schema] of Object.entries(TOPIC_TABLE[topic].versions)) {
    compiled.set(`${topic}@${version}`, ajv.compile(schema));
  }
}

function describe(validate: ValidateFunction, where: string): string {
  const err = validate.errors?.[0];
  if (!err) return `${where} is invalid`;
  const path = err.instancePath ? `${where}${err.instancePath.replace(/\//g, ".")}` : where;
  const extra = err.keyword === "additionalProperties" ? ` (${(err.params as { additionalProperty: string }).additionalProperty})` : "";
  return `${path} ${err.message ?? "is invalid"}${extra}`;
}

/** Returns undefined when the payload is valid for that topic and version, else the first problem. */
export function payloadError(topic: TopicName, version: number, payload: unknown): string | undefined {
  const validate = compiled.get(`${topic}@${version}`);
  if (!validate) return `unknown schema version ${version} of ${topic}`;
  return validate(payload) ? undefined : describe(validate, "payload");
}

/** Validates a whole envelope read from a topic (at the version it was written with); returns the problem or undefined. */
export function envelopeError(topic: TopicName, envelope: unknown): string | undefined {
  if (!validateEnvelopeShape(envelope)) return describe(validateEnvelopeShape, "envelope");
  const env = envelope as { type: string; version: number; idempotencyKey?: string; payload: unknown };
  const spec = TOPIC_TABLE[topic];
  if (env.type !== spec.eventType) return `envelope.type must be ${spec.eventType}, got ${env.type}`;
  if (spec.idempotent && !env.idempotencyKey) return `envelope.idempotencyKey is required on ${topic}`;
  if (env.version > latestVersion(topic)) return `schema version ${env.version} of ${topic} is newer than this consumer knows`;
  return payloadError(topic, env.version, env.payload);
}

/**
 * A payload written with `version` of the topic's schema as the newest version reads it: the fields
 * later versions renamed carry their new names. The payload must be valid for its version.
 */
export function upcast<T extends TopicName>(topic: T, version: number, payload: unknown): TopicPayloads[T] {
  const renames = TOPIC_TABLE[topic].renames ?? {};
  let current = payload as Record<string, unknown>;
  for (let next = version + 1; next <= latestVersion(topic); next++) {
    const renamed = renames[next];
    if (renamed) current = Object.fromEntries(Object.entries(current).map(([field, value]) => [renamed[field] ?? field, value]));
  }
  return current as TopicPayloads[T];
}

/** A valid envelope read from a topic, as the newest version: what consumers are handed. */
export function upcastEnvelope<T extends TopicName>(topic: T, envelope: Envelope): Envelope<TopicPayloads[T]> {
  const version = latestVersion(topic);
  if (envelope.version === version) return envelope as Envelope<TopicPayloads[T]>;
  return { ...envelope, version, payload: upcast(topic, envelope.version, envelope.payload) };
}

/** The schema with its top-level properties renamed (old → new), as a reader of the renaming version sees older data. */
function withRenames(schema: JsonSchema, renames: Readonly<Record<string, string>>): JsonSchema {
  const rename = (field: string) => renames[field] ?? field;
  return {
    ...schema,
    ...(schema.properties ? { properties: Object.fromEntries(Object.entries(schema.properties).map(([field, s]) => [rename(field), s])) } : {}),
    ...(schema.required ? { required: schema.required.map(rename) } : {}),
  };
}

/**
 * Backward-compatibility problems of `newer` against `older` (empty when compatible): a field that
 * becomes required, a field whose type or allowed values narrow, a field that disappears from a
 * closed object, a discriminated variant that disappears.
 */
export function backwardCompatibilityProblems(older: JsonSchema, newer: JsonSchema, path = "$"): string[] {
  const problems: string[] = [];
  if (older.type !== newer.type) problems.push(`${path}: type changed from ${older.type} to ${newer.type}`);
  if (newer.enum && (!older.enum || older.enum.some((v) => !newer.enum!.includes(v)))) {
    problems.push(`${path}: allowed values narrowed`);
  }
  if (newer.const !== undefined && newer.const !== older.const) problems.push(`${path}: constant changed`);
  if (newer.pattern && newer.pattern !== older.pattern) problems.push(`${path}: pattern changed`);
  if (newer.minimum !== undefined && (older.minimum === undefined || newer.minimum > older.minimum)) problems.push(`${path}: minimum raised`);
  if (newer.maximum !== undefined && (older.maximum === undefined || newer.maximum < older.maximum)) problems.push(`${path}: maximum lowered`);
  if (newer.maxLength !== undefined && (older.maxLength === undefined || newer.maxLength < older.maxLength)) problems.push(`${path}: maxLength lowered`);

  const olderRequired = new Set(older.required ?? []);
  for (const field of newer.required ?? []) {
    if (!olderRequired.has(field)) problems.push(`${path}.${field}: became required`);
  }
  const olderProps = older.properties ?? {};
  const newerProps = newer.properties ?? {};
  for (const [field, schema] of Object.entries(olderProps)) {
    const next = newerProps[field];
    if (!next) {
      if (newer.additionalProperties === false) problems.push(`${path}.${field}: removed from a closed object`);
      continue;
    }
    problems.push(...backwardCompatibilityProblems(schema, next, `${path}.${field}`));
  }
  if (older.items && newer.items && !Array.isArray(older.items) && !Array.isArray(newer.items)) {
    problems.push(...backwardCompatibilityProblems(older.items, newer.items, `${path}[]`));
  }
  if (older.oneOf) {
    const kindOf = (s: JsonSchema) => s.properties?.kind?.const;
    for (const variant of older.oneOf) {
      const match = newer.oneOf?.find((v) => kindOf(v) === kindOf(variant));
      if (!match) problems.push(`${path}: variant ${String(kindOf(variant))} removed`);
      else problems.push(...backwardCompatibilityProblems(variant, match, `${path}<${String(kindOf(variant))}>`));
    }
  }
  return problems;
}

/** Every consecutive pair of versions of every topic, with its problems. */
export function registryCompatibility(): Array<{ topic: TopicName; from: number; to: number; problems: string[] }> {
  const report: Array<{ topic: TopicName; from: number; to: number; problems: string[] }> = [];
  for (const topic of ALL_TOPICS) {
    const versions = Object.keys(TOPIC_TABLE[topic].versions).map(Number).sort((a, b) => a - b);
    for (let i = 1; i < versions.length; i++) {
      const from = versions[i - 1]!;
      const to = versions[i]!;
      const renames = TOPIC_TABLE[topic].renames?.[to] ?? {};
      const problems = backwardCompatibilityProblems(withRenames(TOPIC_TABLE[topic].versions[from]!, renames), TOPIC_TABLE[topic].versions[to]!);
      report.push({ topic, from, to, problems });
    }
  }
  return report;
}
