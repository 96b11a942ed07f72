/**
 * Exchange API keys, from a secrets file (EXCHANGE_SECRETS_FILE) or the environment
 * (EXCHANGE_API_KEY, EXCHANGE_API_SECRET, EXCHANGE_API_PASSWORD). They go to ccxt and nowhere else:
 * the object prints as "[credentials redacted]" in logs and JSON, and `redact` scrubs the key material
 * out of any text (a venue error echoing a request) before that text leaves the facade.
 */
import fs from "node:fs";
import { inspect } from "node:util";

export interface ExchangeKeys {
  apiKey: string;
  secret: string;
  /** Passphrase, for the exchanges that have one (not Binance). */
  password?: string;
}

const REDACTED = "[credentials redacted]";
/** Signed query strings carry an HMAC of the secret: not the secret, but nothing to show either. */
const SIGNATURE_RE = /(signature=)[^&\s"']+/gi;

export class Credentials {
  readonly #keys: ExchangeKeys;
  /** Where the keys came from, for the start-up log (never the keys themselves). */
  readonly source: string;

  private constructor(keys: ExchangeKeys, source: string) {
    this.#keys = keys;
    this.source = source;
  }

  /**
   * The configured keys, or undefined when none are. A secrets file, when named, must exist and hold
   * `{"apiKey": "...", "secret": "..."}`; a file others can read is refused.
   */
  static load(options: { secretsFile?: string; env?: NodeJS.ProcessEnv }): Credentials | undefined {
    const env = options.env ?? process.env;
    if (options.secretsFile) return Credentials.fromFile(options.secretsFile);
    const apiKey = env.EXCHANGE_API_KEY ?? "";
    const secret = env.EXCHANGE_API_SECRET ?? "";
    if (!apiKey && !secret) return undefined;
    if (!apiKey || !secret) throw new Error("EXCHANGE_API_KEY and EXCHANGE_API_SECRET must be set together");
    return new Credentials({ apiKey, secret, password: env.EXCHANGE_API_PASSWORD || undefined }, "environment");
  }

  private static fromFile(file: string): Credentials {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      throw new Error(`EXCHANGE_SECRETS_FILE ${file} cannot be read`);
    }
    refuseIfOthersCanRead(file, stat, "EXCHANGE_SECRETS_FILE");
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      // The parser's message may quote the file's content: say only what is wrong.
      throw new Error(`EXCHANGE_SECRETS_FILE ${file} is not valid JSON`);
    }
    const { apiKey, secret, password } = (parsed ?? {}) as Record<string, unknown>;
    if (typeof apiKey !== "string" || !apiKey || typeof secret !== "string" || !secret) {
      throw new Error(`EXCHANGE_SECRETS_FILE ${file} must hold {"apiKey": "...", "secret": "..."}`);
    }
    if (password !== undefined && typeof password !== "string") throw new Error(`EXCHANGE_SECRETS_FILE ${file}: "password" must be a string`);
    return new Credentials({ apiKey, secret, password: password || undefined }, `secrets file ${file}`);
  }

  /** The keys in the shape of ccxt's constructor options. */
  forCcxt(): { apiKey: string; secret: string; password?: string } {
    return { ...this.#keys };
  }

  /** `text` with every piece of key material and request signature replaced by "***". */
  redact(text: string): string {
    let out = text.replace(SIGNATURE_RE, "$1***");
    for (const value of [this.#keys.apiKey, this.#keys.secret, this.#keys.password]) {
      if (value && value.length >= 4) out = out.split(value).join("***");
    }
    return out;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/** Throws unless only the owner may access the file: secrets the group or everyone can read are as good as leaked. */
export function refuseIfOthersCanRead(file: string, stat: fs.Stats, what: string): void {
  if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
    throw new Error(`${what} ${file} is readable by others (mode ${(stat.mode & 0o777).toString(8)}); run \`chmod 600 ${file}\``);
  }
}

/** Scrubs request signatures only: for text when no keys are configured. */
export function redactSignatures(text: string): string {
  return text.replace(SIGNATURE_RE, "$1***");
}
