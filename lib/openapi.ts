/** An OpenAPI 3 document built from the actions' `rest` declarations and their validator params. */

interface ActionInfo {
  name: string;
  rest?: string | string[] | object | null;
  params?: Record<string, unknown>;
}

type JsonSchemaLike = Record<string, unknown>;

function toSchema(rule: unknown): JsonSchemaLike {
  const r = typeof rule === "string" ? { type: rule.split("|")[0] } : ((rule ?? {}) as Record<string, unknown>);
  switch (r.type) {
    case "number":
      return { type: r.integer ? "integer" : "number", ...(r.min !== undefined ? { minimum: r.min } : {}), ...(r.max !== undefined ? { maximum: r.max } : {}) };
    case "boolean":
      return { type: "boolean" };
    case "enum":
      return { type: "string", enum: r.values };
    case "object":
      return { type: "object" };
    case "array":
      return { type: "array" };
    case "string":
      return { type: "string", ...(r.pattern ? { pattern: String(r.pattern instanceof RegExp ? r.pattern.source : r.pattern) } : {}) };
    default:
      return {};
  }
}

const isOptional = (rule: unknown) => typeof rule === "object" && rule !== null && (rule as { optional?: boolean }).optional === true;

export function buildOpenApi(actions: ActionInfo[], info: { title: string; version: string }, basePath = "/api"): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const action of actions) {
    if (typeof action.rest !== "string") continue;
    const [method, route] = action.rest.split(/\s+/) as [string, string];
    const openPath = `${basePath}${route.replace(/:([A-Za-z0-9_]+)/g, "{$1}")}`;
    const pathParams = [...route.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
    const params = Object.entries(action.params ?? {}).filter(([name]) => !name.startsWith("$$"));
    const inBody = method === "POST" || method === "PATCH" || method === "PUT";
    const parameters = [
      ...pathParams.map((name) => ({ name, in: "path", required: true, schema: toSchema(action.params?.[name] ?? "string") })),
      ...(inBody ? [] : params.filter(([n]) => !pathParams.includes(n)).map(([name, rule]) => ({ name, in: "query", required: !isOptional(rule), schema: toSchema(rule) }))),
    ];
    const bodyParams = inBody ? params.filter(([n]) => !pathParams.includes(n)) : [];
    const operation: Record<string, unknown> = {
      operationId: action.name,
      security: action.name === "gateway.health" ? [] : [{ bearer: [] }],
      parameters,
      responses: {
        "200": { description: "OK" },
        ...(method === "POST" ? { "201": { description: "Created" } } : {}),
        "401": { description: "Missing or wrong bearer token" },
        "404": { description: "Not found" },
        "422": { description: "Invalid input: the body lists each field and the reason" },
      },
    };
    if (bodyParams.length > 0) {
      operation.requestBody = {
        required: true,
        content: {
          "application/json": {
            schema: {
              type: "object",
              properties: Object.fromEntries(bodyParams.map(([n, r]) => [n, toSchema(r)])),
              required: bodyParams.filter(([, r]) => !isOptional(r)).map(([n]) => n),
            },
          },
        },
      };
    }
    paths[openPath] = { ...(paths[openPath] ?? {}), [method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.0.3",
    info,
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    paths,
  };
}
