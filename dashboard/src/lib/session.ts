/** The API token of the signed-in trader, kept for the browser tab's session only (sessionStorage). */
export type TokenStorage = Pick<Storage, "getItem" | "setItem" | "removeItem">;

const TOKEN_KEY = "tbp.apiToken";

export function storedToken(storage: TokenStorage): string | null {
  return storage.getItem(TOKEN_KEY);
}

export function keepToken(storage: TokenStorage, token: string): void {
  storage.setItem(TOKEN_KEY, token);
}

export function forgetToken(storage: TokenStorage): void {
  storage.removeItem(TOKEN_KEY);
}

/** A pasted token loses surrounding whitespace and an accidental "Bearer " prefix. */
export function normalizeToken(input: string): string {
  return input.trim().replace(/^Bearer\s+/i, "").trim();
}
