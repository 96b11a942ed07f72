/**
 * The OpenAPI 3 document of the REST API, generated from what the gateway serves so it cannot drift:
 * the routes are moleculer-web's own alias table (the paths it matches, service base paths
 * included), the inputs are the actions' fastest-validator `params` (the rules the validator
 * enforces), and what each route answers is declared next to it (`openapi` on the action, or
 * `documented()` around an alias handler) as one of the contracts of schemas/.
 */
import { FORBIDDEN_KEYS } from "./http/guards";

/** A JSON Schema as OpenAPI 3.0 writes it (`nullable`, boolean `exclusiveMinimum`). */
export type OpenApiSchema = { [keyword: string]: unknown };

/** What a route answers, declared next to its action (or alias). */
export interface RouteDoc {
  summary?: string;
  /** Body of the success answer (JSON unless `contentType` says otherwise). */
  response?: OpenApiSchema;
  /** Status codes of success; 200 unless said. */
  success?: number[];
  /** Content type of the success answer when not JSON (the event stream). */
  contentType?: string;
  /** Answered without a bearer token. */
  public?: boolean;
  /** The operator's only: a trader's token gets 403. */
  operatorOnly?: boolean;
  /**
   * Body fields the handler validates itself. With params of `$$strict: false` (the handler reads
   * the whole body), these are the only fields it accepts; otherwise they add to or refine the params.
   */
  body?: Record<string, OpenApiSchema>;
  /** Answers particular to this route, or its own body for one of the common ones (status → answer). */
  answers?: Record<string, { description: string; schema: OpenApiSchema }>;
}

/** One route of the gateway, as moleculer-web matches it, with what documents it. */
export interface RouteInfo {
  method: string;
  /** moleculer-web's path, `:name` for path parameters (`/api/portfolios/:id`). */
  path: string;
  operationId: string;
  /** The action's validator params; none for a plain alias handler. */
  params?: Record<string, unknown>;
  doc?: RouteDoc;
}

/** The part of a moleculer-web alias the document needs. */
export interface AliasInfo {
  method: string;
  fullPath: string;
  /** What the alias matches (moleculer-web's path-to-regexp of `fullPath`). */
  re?: RegExp;
  action?: string | null;
  handler?: unknown;
}

type Rule = Record<string, unknown>;

/** A fastest-validator rule in its object form (`"string|optional"` → `{type: "string", optional: true}`). */
function ruleOf(rule: unknown): Rule {
  if (typeof rule === "string") {
    const [type, ...flags] = rule.split("|");
    return Object.fromEntries([["type", type], ...flags.map((f) => [f.split(":")[0], f.includes(":") ? f.split(":")[1] : true])]);
  }
  if (Array.isArray(rule)) return { type: "multi", rules: rule };
  return (rule ?? {}) as Rule;
}

const isOptional = (rule: unknown) => {
  const r = ruleOf(rule);
  return r.optional === true || r.default !== undefined;
};

/** Whether a query parameter may be sent empty: the validator converts "" to 0, and 0 passes the rule. */
function takesEmpty(rule: unknown): boolean {
  const r = ruleOf(rule);
  if (r.type !== "number" || r.convert !== true || r.positive === true) return false;
  return (r.min === undefined || Number(r.min) <= 0) && (r.max === undefined || Number(r.max) >= 0);
}

/** A rule's pattern as text; none when it did not survive the trip from a remote node (JSON turns a RegExp into {}). */
const patternOf = (p: unknown) => (p instanceof RegExp ? p.source : typeof p === "string" ? p : undefined);

/**
 * A pattern whose length is a leading lookahead, `^(?=.{1,64}$)…`, as the length keywords and the
 * rest of the pattern: the same strings, in a form schema-driven generators handle directly.
 */
function patternKeywords(pattern: string): OpenApiSchema {
  const m = /^\^\(\?=\.\{(\d+),(\d+)\}\$\)(.*)$/.exec(pattern);
  return m ? { minLength: Number(m[1]), maxLength: Number(m[2]), pattern: `^${m[3]}` } : { pattern };
}

/** The JSON Schema of what a fastest-validator rule accepts. */
export function ruleSchema(rule: unknown): OpenApiSchema {
  const r = ruleOf(rule);
  // fastest-validator lets an optional field be null as well as absent.
  const common: OpenApiSchema = r.nullable === true || r.optional === true ? { nullable: true } : {};
  switch (r.type) {
    case "string": {
      const source = patternOf(r.pattern);
      const pattern = source === undefined ? undefined : patternKeywords(source);
      // `empty: false` refuses "" only; a `min`, or the pattern's length, may say more.
      const minLength = Math.max(r.empty === false ? 1 : 0, Number(r.min ?? r.length ?? 0), Number(pattern?.minLength ?? 0));
      const maxLengths = [r.max ?? r.length, pattern?.maxLength].filter((v) => v !== undefined).map(Number);
      return {
        type: "string",
        ...common,
        ...(minLength > 0 ? { minLength } : {}),
        ...(maxLengths.length > 0 ? { maxLength: Math.min(...maxLengths) } : {}),
        ...(pattern ? { pattern: pattern.pattern } : {}),
        ...(Array.isArray(r.enum) ? { enum: r.enum } : {}),
      };
    }
    case "number": {
      const schema: OpenApiSchema = { type: r.integer ? "integer" : "number", ...common };
      if (r.min !== undefined) schema.minimum = r.min;
      if (r.max !== undefined) schema.maximum = r.max;
      if (r.positive && (schema.minimum === undefined || Number(schema.minimum) <= 0)) Object.assign(schema, { minimum: 0, exclusiveMinimum: true });
      if (r.negative && (schema.maximum === undefined || Number(schema.maximum) >= 0)) Object.assign(schema, { maximum: 0, exclusiveMaximum: true });
      if (r.equal !== undefined) schema.enum = [r.equal];
      return schema;
    }
    case "boolean":
      return { type: "boolean", ...common };
    case "enum": {
      const values = r.values as unknown[];
      // OpenAPI 3.0: `nullable` does not add null to an enum; it has to be listed.
      return { type: typeof values[0] === "number" ? "number" : "string", ...common, enum: common.nullable ? [...values, null] : values };
    }
    case "equal":
      return { enum: [r.value], ...common };
    case "email":
      return { type: "string", format: "email", ...common };
    case "uuid":
      return { type: "string", format: "uuid", ...common };
    case "array": {
      const schema: OpenApiSchema = { type: "array", ...common, ...(r.items !== undefined ? { items: ruleSchema(r.items) } : {}) };
      const minItems = Math.max(r.empty === false ? 1 : 0, Number(r.min ?? r.length ?? 0));
      if (minItems > 0) schema.minItems = minItems;
      if (r.max !== undefined || r.length !== undefined) schema.maxItems = r.max ?? r.length;
      return schema;
    }
    case "object": {
      const props = (r.props ?? r.properties) as Record<string, unknown> | undefined;
      return {
        ...objectSchema(props ?? {}, props !== undefined && r.strict === true),
        ...common,
      };
    }
    case "multi":
      return { anyOf: (r.rules as unknown[]).map(ruleSchema), ...common };
    default:
      // "any", or a rule type this generator does not know: anything goes as far as the document says.
      return { ...common };
  }
}

/** An object whose properties are validator params (`$$strict: true` refuses any other). */
function objectSchema(params: Record<string, unknown>, strict: boolean, extra: Record<string, OpenApiSchema> = {}): OpenApiSchema {
  const fields = Object.entries(params).filter(([name]) => !name.startsWith("$$"));
  const required = fields.filter(([, rule]) => !isOptional(rule)).map(([name]) => name);
  return {
    type: "object",
    // A field the handler checks too must pass both: the validator's rule first, then the handler's.
    properties: {
      ...Object.fromEntries(fields.map(([name, rule]) => [name, ruleSchema(rule)])),
      ...Object.fromEntries(Object.entries(extra).map(([name, schema]) => [name, params[name] === undefined ? schema : { allOf: [ruleSchema(params[name]), schema] }])),
    },
    ...(required.length > 0 ? { required } : {}),
    // Other fields are let through, but not those that would reach a prototype (the gateway refuses them).
    ...(strict ? { additionalProperties: false } : { propertyNames: { pattern: `^(?!(${[...FORBIDDEN_KEYS].join("|")})$)` } }),
  };
}

/** What every error answer looks like (moleculer-web's error body). */
export const ERROR_SCHEMA: OpenApiSchema = {
  type: "object",
  required: ["name", "message", "code"],
  properties: {
    name: { type: "string" },
    message: { type: "string", minLength: 1 },
    code: { type: "integer", minimum: 400, maximum: 599 },
    type: { type: "string" },
    data: {},
  },
};

/** A validation error: `data` lists each field at fault and why. */
export const VALIDATION_ERROR_SCHEMA: OpenApiSchema = {
  ...ERROR_SCHEMA,
  properties: {
    ...(ERROR_SCHEMA.properties as object),
    data: {
      type: "array",
      items: { type: "object", required: ["field", "message"], properties: { field: { type: "string" }, message: { type: "string" } } },
    },
  },
};

const errorAnswer = (description: string, schema = "Error") => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } },
});

/** Answers any route can give, whatever its action does. */
const GATEWAY_ANSWERS = {
  "400": errorAnswer("The body is not valid JSON, or the URL's percent-encoding is malformed"),
  "413": errorAnswer("The body is larger than the gateway accepts"),
  "415": errorAnswer("The body is not JSON"),
  "422": errorAnswer("Invalid input: `data` lists each field and the reason", "ValidationError"),
  "429": errorAnswer("Too many requests: retry after the time `Retry-After` gives"),
  "503": errorAnswer("Starting, stopping, or a service it needs is unavailable: retry later"),
  "504": errorAnswer("A service it needs did not answer in time"),
};

const SUCCESS_TEXT: Record<number, string> = { 200: "OK", 201: "Created" };

/**
 * A contract (schemas/) as the document shows an answer: open, since an answer may gain fields
 * (a topic payload refuses unknown fields; an API client must not), and in OpenAPI 3.0's words:
 * `const` as a one-value `enum`, a tuple's `items` as one schema with its length.
 */
export function answerSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(answerSchema);
  if (schema === null || typeof schema !== "object") return schema;
  // Object.entries leaves out TypeBox's symbol-keyed annotations.
  const out: OpenApiSchema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (keyword === "additionalProperties" && value === false) continue;
    if (keyword === "additionalItems") continue;
    if (keyword === "const") out.enum = [value];
    else if (keyword === "properties") out.properties = Object.fromEntries(Object.entries(value as object).map(([field, s]) => [field, answerSchema(s)]));
    else if (keyword === "items" && Array.isArray(value)) {
      const distinct = [...new Map(value.map(answerSchema).map((item) => [JSON.stringify(item), item])).values()];
      out.items = distinct.length === 1 ? distinct[0] : { anyOf: distinct };
    } else out[keyword] = answerSchema(value);
  }
  return out;
}

function operation(route: RouteInfo): Record<string, unknown> {
  const doc = route.doc ?? {};
  const pathParams = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
  const params = route.params ?? {};
  const inputs = Object.fromEntries(Object.entries(params).filter(([name]) => !name.startsWith("$$") && !pathParams.includes(name)));
  const inBody = ["POST", "PATCH", "PUT"].includes(route.method);
  const parameters = [
    ...pathParams.map((name) => ({ name, in: "path", required: true, schema: ruleSchema(params[name] ?? { type: "string", empty: false }) })),
    ...(inBody ? [] : Object.entries(inputs).map(([name, rule]) => ({ name, in: "query", required: !isOptional(rule), ...(takesEmpty(rule) ? { allowEmptyValue: true } : {}), schema: ruleSchema(rule) }))),
  ];
  const op: Record<string, unknown> = {
    operationId: route.operationId,
    ...(doc.summary ? { summary: doc.summary } : {}),
    security: doc.public ? [] : [{ bearer: [] }],
    ...(parameters.length > 0 ? { parameters } : {}),
  };
  const bodyFields = { ...inputs };
  if (inBody && (Object.keys(bodyFields).length > 0 || doc.body)) {
    const strict = params.$$strict === true || (params.$$strict === false && doc.body !== undefined);
    const schema = objectSchema(bodyFields, strict, doc.body);
    op.requestBody = {
      required: Array.isArray(schema.required),
      content: { "application/json": { schema } },
    };
  }
  const contentType = doc.contentType ?? "application/json";
  const responses: Record<string, unknown> = {};
  for (const status of doc.success ?? [200]) {
    responses[String(status)] = {
      description: SUCCESS_TEXT[status] ?? "Success",
      content: { [contentType]: { schema: answerSchema(doc.response ?? {}) } },
    };
  }
  if (!doc.public) responses["401"] = errorAnswer("Missing or wrong bearer token");
  if (doc.operatorOnly) responses["403"] = errorAnswer("The operator's route: a trader's token is refused");
  if (pathParams.length > 0) responses["404"] = errorAnswer("Not found, or another trader's");
  Object.assign(responses, GATEWAY_ANSWERS);
  for (const [status, answer] of Object.entries(doc.answers ?? {})) {
    responses[status] = { description: answer.description, content: { "application/json": { schema: answerSchema(answer.schema) } } };
  }
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b)));
  return op;
}

/** The OpenAPI 3 document of these routes. */
export function buildOpenApi(routes: RouteInfo[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const openPath = route.path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    paths[openPath] = { ...paths[openPath], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: "3.0.3",
    info,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: { Error: ERROR_SCHEMA, ValidationError: VALIDATION_ERROR_SCHEMA },
    },
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** An alias handler (a route without an action) with what it answers, for the document. */
export function documented<H extends (...args: never[]) => unknown>(doc: RouteDoc, handler: H): H & { openapi: RouteDoc } {
  return Object.assign(handler, { openapi: doc });
}

/**
 * The routes moleculer-web serves under `basePath`, each with its action's params and doc: the
 * aliases are its routing table, the actions what the registry knows of them.
 */
export function routesOf(
  aliases: AliasInfo[],
  actions: Array<{ name: string; action?: { params?: Record<string, unknown>; openapi?: RouteDoc } }>,
  basePath: string,
): RouteInfo[] {
  const byName = new Map(actions.map((a) => [a.name, a.action]));
  const routes: RouteInfo[] = [];
  for (const alias of aliases) {
    if (alias.fullPath !== basePath && !alias.fullPath.startsWith(`${basePath}/`)) continue;
    const methods = alias.method === "*" ? ["GET", "POST", "PUT", "PATCH", "DELETE"] : [alias.method.toUpperCase()];
    const action = alias.action ? byName.get(alias.action) : undefined;
    // An action that is not available (its service stopped) has no route to document.
    if (alias.action && !action) continue;
    const doc = action?.openapi ?? (alias.handler as { openapi?: RouteDoc } | undefined)?.openapi;
    for (const method of methods) {
      const named = alias.action && (methods.length > 1 ? `${alias.action}.${method.toLowerCase()}` : alias.action);
      const operationId = named || `${method.toLowerCase()}${alias.fullPath.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`;
      routes.push({ method, path: alias.fullPath, operationId, params: action?.params, doc });
    }
  }
  return routes;
}

/** The methods the gateway serves at this path (none: no route there). */
export function methodsAt(aliases: AliasInfo[], path: string): string[] {
  return [...new Set(aliases.filter((alias) => alias.re?.test(path)).map((alias) => alias.method.toUpperCase()))].sort();
}
