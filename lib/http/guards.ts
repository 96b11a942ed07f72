/**
 * What keeps one client from hurting the REST API for everybody: a request budget per token, a
 * throttle on wrong tokens per address, and checks on request bodies and query strings that run
 * before any validator or recursive code sees them. Plain modules with an injected clock; the
 * gateway wires them into moleculer-web's route hooks.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Errors } from "moleculer";
import type { Clock } from "../clock";
import { invalidField } from "../errors";
import { principalKey, type ApiAuth, type Principal } from "../auth";
import type { ApiLimits } from "../config";

/** Nesting of objects and arrays a JSON body or query may have; deeper input is refused before anything walks it recursively. */
export const MAX_JSON_DEPTH = 32;
/** Longest string value accepted anywhere in a body or query (the validators bound some fields tighter). */
export const MAX_STRING_LENGTH = 1000;
/** Largest request body (body-parser's notation). */
export const MAX_BODY = "100kb";
/** Keys that would reach an object's prototype once the gateway merges the body into the action's params. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

/** 429; with a known wait, that wait in `data.retryAfterSeconds` (the gateway sends it as `Retry-After`). */
export function tooManyRequests(message: string, type: string, retryAfterMs?: number): Errors.MoleculerClientError {
  const data = retryAfterMs === undefined ? undefined : { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  return new Errors.MoleculerClientError(message, 429, type, data);
}

/**
 * Why a parsed body or query may not reach an action, as a 422 naming the field: nesting deeper
 * than MAX_JSON_DEPTH, a prototype key, or a string longer than MAX_STRING_LENGTH. Walks the value
 * with an explicit stack, so a deeply nested value cannot overflow the call stack here.
 */
export function inputRefusal(value: unknown): Errors.ValidationError | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: "", depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (typeof current === "string") {
      if (current.length > MAX_STRING_LENGTH) return invalidField(path || "body", `must be at most ${MAX_STRING_LENGTH} characters long`);
      continue;
    }
    if (typeof current !== "object" || current === null) continue;
    if (depth >= MAX_JSON_DEPTH) return invalidField(path || "body", `is nested too deeply (at most ${MAX_JSON_DEPTH} levels of objects and arrays)`);
    const isArray = Array.isArray(current);
    // JSON.parse makes "__proto__" an own key, which Object.keys lists (the query parser drops it).
    for (const key of Object.keys(current)) {
      const field = isArray ? `${path}[${key}]` : path ? `${path}.${key}` : key;
      if (!isArray && FORBIDDEN_KEYS.has(key)) return invalidField(field, "is not an accepted field name");
      stack.push({ value: (current as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return undefined;
}

type ParsedRequest = IncomingMessage & { body?: unknown; query?: unknown };

/**
 * Why a request may not reach its action: a body the JSON parser left unread (it reads
 * `application/json` only) is 415; a parsed body or query is checked by `inputRefusal`.
 */
export function requestRefusal(req: ParsedRequest): Errors.MoleculerError | undefined {
  const hasBody = req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"] ?? 0) > 0;
  if (hasBody && req.body === undefined) {
    return new Errors.MoleculerClientError("the request body must be JSON, sent with Content-Type: application/json", 415, "UNSUPPORTED_MEDIA_TYPE");
  }
  // The body's fields become the action's params: a JSON array (or a lone value) has none.
  if (hasBody && (typeof req.body !== "object" || req.body === null || Array.isArray(req.body))) return invalidField("body", "must be a JSON object");
  return inputRefusal(req.body) ?? inputRefusal(req.query);
}

/** `requestRefusal` as a moleculer-web route middleware, placed after the body parser. */
export function checkRequestInput(req: ParsedRequest, _res: ServerResponse, next: (err?: Error) => void): void {
  next(requestRefusal(req));
}

/** Token bucket per key: `ratePerSecond` sustained, up to `burst` at once. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {}

  /** Takes one request from the key's bucket: 0 when allowed, else the milliseconds until one is. */
  take(key: string): number {
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) * this.ratePerSecond) / 1000);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.ratePerSecond);
  }
}

/** Addresses tracked at most by the failure throttle; past that the stalest are forgotten first. */
const MAX_TRACKED_ADDRESSES = 10_000;

/**
 * Failed authentications per address in a sliding window: after `maxFailures` within `windowMs`
 * the address is refused until the oldest of them leaves the window.
 */
export class FailureThrottle {
  /** Per address, the times of its latest failures (at most maxFailures), oldest first. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds the address must wait before it may try again; 0 when it may now. */
  retryAfterMs(address: string): number {
    const times = this.failures.get(address);
    if (!times || times.length < this.maxFailures) return 0;
    return Math.max(0, times[0]! + this.windowMs - this.clock.now());
  }

  /** Records a failure; returns true when this one starts a refusal of the address. */
  record(address: string): boolean {
    const now = this.clock.now();
    const times = (this.failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    times.push(now);
    if (times.length > this.maxFailures) times.shift();
    // Re-inserted, so the map's order is the order of the latest failures: the first entries are the stalest.
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > MAX_TRACKED_ADDRESSES) this.forgetStalest();
    return times.length === this.maxFailures;
  }

  private forgetStalest(): void {
    for (const address of this.failures.keys()) {
      if (this.failures.size <= MAX_TRACKED_ADDRESSES) return;
      this.failures.delete(address);
    }
  }
}

/**
 * The bearer token check of every request but the public routes: an address that sent too many
 * wrong tokens is refused before its token is even looked at (answering a right one would let it go
 * on guessing; other addresses are not affected), then the token is authenticated and its request
 * budget taken.
 */
export class BearerGate {
  /** Requests per token: a token bucket per principal. */
  private readonly requests: RateLimiter;
  /** Wrong tokens per remote address. */
  private readonly failures: FailureThrottle;

  constructor(
    private readonly auth: ApiAuth,
    private readonly limits: ApiLimits,
    clock: Clock,
    /** Gets a line for each wrong token: never the token itself, nor the query string (a client may have put the token there). */
    private readonly warn: (message: string) => void,
  ) {
    this.requests = new RateLimiter(limits.requestsPerSecond, limits.requestBurst, clock);
    this.failures = new FailureThrottle(limits.authFailures, limits.authFailureWindowMs, clock);
  }

  /** The caller's principal; else throws 401 (no or a wrong token) or 429 (address refused, request budget spent). */
  admit(header: string | undefined, address: string, route: string): Principal {
    const blockedMs = this.failures.retryAfterMs(address);
    if (blockedMs > 0) throw tooManyRequests("too many wrong bearer tokens from this address; retry later", "AUTH_THROTTLED", blockedMs);
    const principal = this.auth.authenticate(header);
    if (!principal) {
      if (header !== undefined) {
        const nowBlocked = this.failures.record(address);
        this.warn(`wrong bearer token from ${address} on ${route}${nowBlocked ? `; ${this.limits.authFailures} within ${this.limits.authFailureWindowMs / 1000} s, the address is refused for now` : ""}`);
      }
      throw new Errors.MoleculerClientError("missing or wrong bearer token", 401, "UNAUTHORIZED");
    }
    const waitMs = this.requests.take(principalKey(principal));
    if (waitMs > 0) throw tooManyRequests(`more than ${this.limits.requestsPerSecond} requests a second with this token (bursts of ${this.limits.requestBurst}); slow down`, "RATE_LIMITED", waitMs);
    return principal;
  }
}
