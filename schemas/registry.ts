/**
 * The schema registry: validates envelopes and payloads against the versioned schemas declared in
 * schemas/index.ts, and checks that every new version of a topic's schema stays backward compatible
 * (a consumer on the new version reads what producers of the older version wrote).
 */
import Ajv, { type ValidateFunction } from "ajv";
import { ALL_TOPICS, TOPIC_TABLE, latestVersion, type TopicName } from "./index";
import type { JsonSchema } from "./json-schema";

const ajv = new Ajv({ allErrors: false, discriminator: true, strictTuples: false });

const envelopeSchema = {
  type: "object",
  properties: {
    id: { type: "string", minLength: 1 },
    type: { type: "string", minLength: 1 },
    version: { type: "integer", minimum: 1 },
    time: { type: "string", minLength: 1 },
    producer: { type: "string", minLength: 1 },
    key: { type: "string" },
    idempotencyKey: { type: "string", minLength: 1 },
    traceId: { type: "string", minLength: 1 },
    payload: {},
  },
  required: ["id", "type", "version", "time", "producer", "key", "traceId", "payload"],
  additionalProperties: false,
};
const validateEnvelopeShape = ajv.compile(envelopeSchema);

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

/** Validates a whole envelope read from a topic; returns the problem or undefined. */
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
      const problems = backwardCompatibilityProblems(TOPIC_TABLE[topic].versions[from]!, TOPIC_TABLE[topic].versions[to]!);
      report.push({ topic, from, to, problems });
    }
  }
  return report;
}
