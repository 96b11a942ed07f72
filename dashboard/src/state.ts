/**
 * The dashboard's shared state: the session (token), the API client, the live stream, the
 * portfolios (kept current by pushed snapshots), the registered instruments with their markets'
 * rules (for formatting), the selected portfolio and the current page.
 */
import { computed, reactive, ref, shallowRef } from "vue";
import { ApiClient, describeError, type InstrumentRecord, type MarketInfo, type PortfolioSummary } from "./lib/api";
import { LiveStream, type LiveStatus } from "./lib/live";
import { forgetToken, keepToken, normalizeToken, storedToken } from "./lib/session";
import { isNewerSnapshot } from "./lib/equity";
import { hrefOf, parseLocation, type Location, type PageName } from "./lib/router";

const PORTFOLIO_KEY = "tbp.portfolio";

export const session = reactive({ token: storedToken(sessionStorage), notice: "" });

export const api = new ApiClient({
  token: () => session.token,
  onUnauthorized: () => signOut("The platform no longer accepts this token: sign in again."),
});

export const live = new LiveStream({ url: "/api/stream", token: () => session.token });
export const liveStatus = ref<LiveStatus>(live.status);
live.onStatus((status) => {
  liveStatus.value = status;
  if (status === "unauthorized") signOut("The platform no longer accepts this token: sign in again.");
});

export const portfolios = shallowRef<PortfolioSummary[]>([]);
export const portfoliosLoaded = ref(false);
export const portfoliosError = ref("");
export const instruments = shallowRef<InstrumentRecord[]>([]);
export const instrumentsLoaded = ref(false);
export const instrumentsError = ref("");
export const selectedPortfolioId = ref(sessionStorage.getItem(PORTFOLIO_KEY) ?? "default");
/** The selected portfolio's latest pushed snapshot, if the token sees it. */
export const selectedPortfolio = computed(() => portfolios.value.find((p) => p.portfolioId === selectedPortfolioId.value));

/** Market rules per instrument key, to format prices and quantities at each market's precision. */
export const markets = computed(() => new Map<string, MarketInfo>(instruments.value.map((i) => [i.instrumentKey, i.market])));
export const marketOf = (instrumentKey: string | undefined): MarketInfo | undefined => (instrumentKey ? markets.value.get(instrumentKey) : undefined);
export const symbolOf = (instrumentKey: string) => instrumentKey.slice(instrumentKey.indexOf(":") + 1);

export function selectPortfolio(id: string): void {
  selectedPortfolioId.value = id;
  sessionStorage.setItem(PORTFOLIO_KEY, id);
}

/** Shows the portfolios the token sees, moving the selection to one of them if it is not. */
function showPortfolios(list: PortfolioSummary[]): void {
  portfolios.value = list;
  portfoliosError.value = "";
  if (list.length > 0 && !list.some((p) => p.portfolioId === selectedPortfolioId.value)) selectPortfolio(list[0]!.portfolioId);
}

export async function loadPortfolios(): Promise<void> {
  try {
    showPortfolios(await api.portfolios());
  } catch (err) {
    portfoliosError.value = describeError(err);
  } finally {
    portfoliosLoaded.value = true;
  }
}

export async function loadInstruments(): Promise<void> {
  try {
    instruments.value = await api.instruments();
    instrumentsError.value = "";
  } catch (err) {
    instrumentsError.value = describeError(err);
  } finally {
    instrumentsLoaded.value = true;
  }
}

live.on("portfolio", (snapshot) => {
  const current = portfolios.value.find((p) => p.portfolioId === snapshot.portfolioId);
  if (!current) {
    void loadPortfolios(); // a portfolio created elsewhere: fetch it with its name and limits
    return;
  }
  if (!isNewerSnapshot(current, snapshot)) return;
  portfolios.value = portfolios.value.map((p) => (p.portfolioId === snapshot.portfolioId ? { ...p, ...snapshot } : p));
});

live.onResync(() => {
  void loadPortfolios();
  void loadInstruments();
});

function startSession(): void {
  live.start();
  void loadPortfolios();
  void loadInstruments();
}

/** "ok", or why not: the token was refused, or the platform cannot be reached. */
export async function signIn(input: string): Promise<{ ok: true } | { ok: false; message: string }> {
  const token = normalizeToken(input);
  if (!token) return { ok: false, message: "Enter the API token." };
  let visible: PortfolioSummary[] | undefined;
  try {
    visible = await api.portfoliosFor(token);
  } catch (err) {
    return { ok: false, message: `Cannot sign in: ${describeError(err)}.` };
  }
  if (!visible) return { ok: false, message: "That token was not accepted. Use your trader token, or the operator's API_TOKEN (DATA_DIR/api-token)." };
  // Selected before the views open: none of them asks for a portfolio this token cannot see
  // (the one selected in the session may be another trader's).
  showPortfolios(visible);
  portfoliosLoaded.value = true;
  keepToken(sessionStorage, token);
  session.token = token;
  session.notice = "";
  startSession();
  return { ok: true };
}

export function signOut(notice = ""): void {
  if (!session.token) return;
  live.stop();
  forgetToken(sessionStorage);
  session.token = null;
  session.notice = notice;
  portfolios.value = [];
  portfoliosLoaded.value = false;
  instruments.value = [];
  instrumentsLoaded.value = false;
}

if (session.token) startSession();

// ---- pages

export const location = ref<Location>(parseLocation(window.location.pathname, window.location.search));

export function navigate(page: PageName, query: Record<string, string | undefined> = {}, options: { replace?: boolean } = {}): void {
  const href = hrefOf(page, query);
  if (options.replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  location.value = parseLocation(window.location.pathname, window.location.search);
}

window.addEventListener("popstate", () => {
  location.value = parseLocation(window.location.pathname, window.location.search);
});
