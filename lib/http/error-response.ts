/**
 * The JSON answer for an error raised while serving a request: a status in 400–599, `message`
 * always, and no internals. Moleculer errors carry the node ids of the cluster in their data; the
 * body-parser's errors are reworded; anything that is not a service error (a bug) is answered 500
 * "internal error" with its text kept for the log only.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Errors } from "moleculer";
import { MAX_BODY } from "./guards";

/** A JSON answer of the API's errors: status, headers and body. */
export interface JsonAnswer {
  status: number;
  headers: Record<string, string>;
  body: ErrorResponse["body"];
}

export interface ErrorResponse {
  status: number;
  /** Seconds for the Retry-After header, when the error says how long to wait. */
  retryAfterSeconds?: number;
  body: { name: string; message: string; code: number; type?: string; data?: unknown };
}

/** The body-parser's and moleculer-web's own refusals (by their type), in the API's words. */
const REWORDED: Record<string, { status: number; name: string; type: string; message: (original: string) => string }> = {
  "entity.too.large": { status: 413, name: "PayloadTooLargeError", type: "PAYLOAD_TOO_LARGE", message: () => `the request body is larger than ${MAX_BODY}` },
  "entity.parse.failed": { status: 400, name: "BadRequestError", type: "INVALID_JSON", message: (m) => `the request body is not valid JSON: ${m}` },
  "charset.unsupported": { status: 415, name: "UnsupportedMediaTypeError", type: "UNSUPPORTED_MEDIA_TYPE", message: (m) => `${m}; send UTF-8 JSON` },
  "encoding.unsupported": { status: 415, name: "UnsupportedMediaTypeError", type: "UNSUPPORTED_MEDIA_TYPE", message: () => "compressed request bodies (Content-Encoding) are not accepted" },
  "request.aborted": { status: 400, name: "BadRequestError", type: "REQUEST_ABORTED", message: () => "the request body was not sent completely" },
  "request.size.invalid": { status: 400, name: "BadRequestError", type: "INVALID_BODY_SIZE", message: () => "the request body does not match its Content-Length" },
  UNABLE_DECODE_PARAM: { status: 400, name: "BadRequestError", type: "MALFORMED_URL", message: () => "the URL path holds malformed percent-encoding" },
};

/** `data` without the `nodeID` entries Moleculer adds (at any depth, which for error data is shallow). */
export function withoutNodeIds(data: unknown, depth = 0): unknown {
  if (typeof data !== "object" || data === null || depth > 4) return data;
  if (Array.isArray(data)) return data.map((item) => withoutNodeIds(item, depth + 1));
  return Object.fromEntries(Object.entries(data).filter(([key]) => key !== "nodeID").map(([key, value]) => [key, withoutNodeIds(value, depth + 1)]));
}

export function errorResponse(err: unknown): ErrorResponse {
  const error = err as Partial<Errors.MoleculerError> & { message?: string };
  const reworded = typeof error?.type === "string" && Object.hasOwn(REWORDED, error.type) ? REWORDED[error.type] : undefined;
  if (reworded) {
    return { status: reworded.status, body: { name: reworded.name, message: reworded.message(error.message ?? ""), code: reworded.status, type: reworded.type } };
  }
  // Not only MoleculerError instances: a service's own error class crosses the transporter as a plain
  // Error (Moleculer rebuilds only its own classes), still carrying its status code.
  if (!(err instanceof Error) || typeof error.code !== "number" || error.code < 400 || error.code > 599) {
    return { status: 500, body: { name: "InternalServerError", message: "internal error", code: 500 } };
  }
  const data = withoutNodeIds(error.data);
  const retryAfter = (data as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  return {
    status: error.code,
    ...(typeof retryAfter === "number" ? { retryAfterSeconds: retryAfter } : {}),
    body: { name: err.name, message: err.message, code: error.code, ...(error.type ? { type: error.type } : {}), ...(data !== undefined ? { data } : {}) },
  };
}

/** Writes a JSON answer (no body for HEAD). */
export function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
  res.end(req.method === "HEAD" ? undefined : JSON.stringify(body));
}

/**
 * moleculer-web's `onError` hook, for the routes and for what fails before a route is chosen (a
 * malformed URL): JSON with `message` and, on validation, `data[].field`; no node ids; 5xx only for
 * the platform's own failures (moleculer-web has logged those already).
 */
export function answerError(req: IncomingMessage, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    // A stream already answering: nothing can be said any more but the end.
    res.end();
    return;
  }
  const { status, body, retryAfterSeconds } = errorResponse(err);
  sendJson(req, res, status, body, retryAfterSeconds ? { "Retry-After": String(retryAfterSeconds) } : {});
}
