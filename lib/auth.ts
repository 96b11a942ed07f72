/**
 * Who calls the REST API, and what they may see.
 *
 * API_TOKEN is the operator's token: every portfolio. TRADER_TOKENS gives traders tokens of their
 * own (`alice:<token>,bob:<token>`); a trader sees and acts on the portfolios they own and no
 * other: another trader's portfolio answers 404, as if it did not exist. Calls between services and
 * from the REPL carry no principal and act as the operator.
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { operatorOnly } from "./errors";
import { refuseIfOthersCanRead } from "./venue/credentials";

export type Principal = { role: "operator" } | { role: "trader"; traderId: string };

export const OPERATOR: Principal = { role: "operator" };

/** A trader id: no "." so that `<trader>.<name>`, the ids of a trader's further portfolios, can never be another trader's own. */
export const TRADER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A portfolio id: a trader's own is the trader id, their others `<trader id>.<name>`. */
export const PORTFOLIO_ID = /^(?=.{1,64}$)[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$/;

/** Why a trader may not create a portfolio of this id (one outside their namespace), if they may not. */
export function portfolioIdRefusal(principal: Principal, id: string): string | undefined {
  if (principal.role === "operator" || id === principal.traderId || id.startsWith(`${principal.traderId}.`)) return undefined;
  return `must be "${principal.traderId}" or start with "${principal.traderId}." (a trader's portfolios are named after the trader)`;
}
const MIN_TOKEN_LENGTH = 16;

/** Parses TRADER_TOKENS (`id:token,id:token`) into trader id → token, refusing anything ambiguous. */
export function parseTraderTokens(raw: string | undefined): Record<string, string> {
  const tokens: Record<string, string> = {};
  if (!raw?.trim()) return tokens;
  for (const entry of raw.split(",").map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(":");
    const traderId = colon < 0 ? "" : entry.slice(0, colon).trim();
    const token = colon < 0 ? "" : entry.slice(colon + 1).trim();
    // The token never goes into the message: only the trader id and what is wrong.
    if (!TRADER_ID.test(traderId)) throw new Error(`TRADER_TOKENS: each entry must be <trader id>:<token> with an id of letters, digits, _ or - (entry ${Object.keys(tokens).length + 1})`);
    if (traderId === "default") throw new Error('TRADER_TOKENS: "default" is the operator\'s portfolio and cannot be a trader id');
    if (token.length < MIN_TOKEN_LENGTH) throw new Error(`TRADER_TOKENS: the token of trader "${traderId}" must have at least ${MIN_TOKEN_LENGTH} characters`);
    if (traderId in tokens) throw new Error(`TRADER_TOKENS: trader "${traderId}" is listed twice`);
    if (Object.values(tokens).includes(token)) throw new Error(`TRADER_TOKENS: trader "${traderId}" has the same token as another trader`);
    tokens[traderId] = token;
  }
  return tokens;
}

/**
 * The operator's token: API_TOKEN, else one generated on first start and kept in DATA_DIR. A kept
 * token file others can read, or an empty one, is refused: the start fails saying how to fix it.
 */
export function resolveApiToken(dataDir: string, configured?: string): { token: string; generated: boolean } {
  if (configured) return { token: configured, generated: false };
  const file = path.join(dataDir, "api-token");
  if (fs.existsSync(file)) {
    refuseIfOthersCanRead(file, fs.statSync(file), "The API token file");
    const token = fs.readFileSync(file, "utf8").trim();
    if (!token) throw new Error(`The API token file ${file} is empty: delete it to have a new token generated, or set API_TOKEN`);
    return { token, generated: false };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString("hex");
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, generated: true };
}

/** Maps an `Authorization: Bearer …` header to its principal, comparing tokens in constant time. */
export class ApiAuth {
  private readonly credentials: Array<{ token: Buffer; principal: Principal }>;

  constructor(operatorToken: string, traderTokens: Record<string, string> = {}) {
    if (Object.values(traderTokens).includes(operatorToken)) throw new Error("TRADER_TOKENS: a trader's token equals API_TOKEN");
    this.credentials = [
      { token: Buffer.from(operatorToken), principal: OPERATOR },
      ...Object.entries(traderTokens).map(([traderId, token]) => ({ token: Buffer.from(token), principal: { role: "trader", traderId } as Principal })),
    ];
  }

  authenticate(header: string | undefined): Principal | undefined {
    const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
    if (!match) return undefined;
    const given = Buffer.from(match[1]!.trim());
    let found: Principal | undefined;
    // Every credential is compared, so the time taken does not tell which one matched.
    for (const { token, principal } of this.credentials) {
      if (given.length === token.length && timingSafeEqual(given, token)) found = principal;
    }
    return found;
  }
}

/** One name per token's principal: what per-token quotas count by. */
export function principalKey(principal: Principal): string {
  return principal.role === "operator" ? "operator" : `trader:${principal.traderId}`;
}

/** Whether the principal may see a portfolio owned by `owner` (undefined: the operator's). */
export function canSee(principal: Principal, owner: string | undefined): boolean {
  return principal.role === "operator" || owner === principal.traderId;
}

/** The principal a call carries in its meta (set by the gateway); none means an internal call. */
export function principalOf(meta: unknown): Principal {
  return (meta as { principal?: Principal } | undefined)?.principal ?? OPERATOR;
}

/** Throws 403 unless the call is the operator's (or internal): for actions that change the platform for everybody. */
export function requireOperator(meta: unknown, what: string): void {
  if (principalOf(meta).role !== "operator") throw operatorOnly(what);
}

/**
 * Provisions each trader once per process on first sight (their default portfolio, by
 * `risk.provisionTrader`): a success is remembered, concurrent first requests share one call, and a
 * failure is forgotten so the trader's next request tries again.
 */
export class TraderProvisioning {
  private readonly provisioned = new Map<string, Promise<void>>();

  constructor(private readonly provision: (traderId: string) => Promise<void>) {}

  ensure(traderId: string): Promise<void> {
    let pending = this.provisioned.get(traderId);
    if (!pending) {
      pending = this.provision(traderId).catch((err: unknown) => {
        this.provisioned.delete(traderId);
        throw err;
      });
      this.provisioned.set(traderId, pending);
    }
    return pending;
  }
}
