/**
 * What the gateway answers for a request under /api that no route serves: "not yet" (503) while the
 * platform starts or moleculer-web is still adding a service's routes, 405 with the methods a path
 * has, else 404. Plain functions over moleculer-web's alias table and the registry's action list.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { methodsAt, type AliasInfo } from "../openapi";
import { sendJson, type JsonAnswer } from "./error-response";

export const pathOf = (url: string | undefined) => (url ?? "/").split("?")[0]!;
export const isApiPath = (url: string | undefined) => pathOf(url) === "/api" || pathOf(url).startsWith("/api/");
/** moleculer-web strips a matched route's prefix from req.url ("/api/nope" → "/nope"); originalUrl keeps it. */
export const requestPath = (req: IncomingMessage) => (req as { originalUrl?: string }).originalUrl ?? req.url;

/** An action as the registry lists it (`getActionList`). */
export interface ListedAction {
  name: string;
  action?: { rest?: unknown };
}

/**
 * REST actions of running services that have no route yet: moleculer-web adds a service's routes
 * 500 ms after the service appears, and in between its routes would answer 404.
 */
export function unroutedActions(aliases: readonly AliasInfo[], actions: readonly ListedAction[]): string[] {
  const routed = new Set(aliases.map((alias) => alias.action));
  return actions.filter((a) => a.action?.rest && !routed.has(a.name)).map((a) => a.name);
}

/** The methods that have a route at the path, as moleculer-web matches it (trailing slash ignored). */
export function methodsServed(aliases: AliasInfo[], url: string | undefined): string[] {
  const path = pathOf(url);
  return methodsAt(aliases, path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path);
}

/** What an API request no route serves is answered; `starting`: the platform or some of its routes are not there yet. */
export function unroutedAnswer(method: string | undefined, allowed: readonly string[], starting: boolean): JsonAnswer {
  // Services add their routes as they start (risk waits for exchange, …): until the platform is up,
  // a route that is not there yet answers "not yet", not "no such route".
  if (starting) {
    return { status: 503, headers: { "Retry-After": "1" }, body: { name: "ServiceUnavailableError", message: "the platform is starting; retry shortly", code: 503, type: "STARTING" } };
  }
  // A route asked with a method it does not have: 405 with the ones it has, not 404.
  if (allowed.length > 0) {
    return { status: 405, headers: { Allow: allowed.join(", ") }, body: { name: "MethodNotAllowedError", message: `${method} is not a method of this route; it has ${allowed.join(", ")}`, code: 405, type: "METHOD_NOT_ALLOWED" } };
  }
  return { status: 404, headers: {}, body: { name: "NotFoundError", message: "Not found", code: 404, type: "NOT_FOUND" } };
}

/**
 * A moleculer-web route middleware (`this` is the gateway) that answers an /api request matching
 * none of the routes itself, so nothing unrouted reaches the dashboard's static files.
 */
export function answerUnrouted(
  this: { aliases: AliasInfo[]; isStarting(): boolean },
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
): void {
  const allowed = methodsServed(this.aliases, requestPath(req));
  if (allowed.includes("*") || allowed.includes(req.method ?? "")) return next();
  const { status, headers, body } = unroutedAnswer(req.method, allowed, this.isStarting());
  sendJson(req, res, status, body, headers);
}
