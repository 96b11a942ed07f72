/**
 * The dashboard's pages and their paths. The gateway answers every page path with index.html, so
 * deep links and reloads land on the right view; the query string carries a view's selection
 * (e.g. `/market?instrument=binance:BTC/USDT`).
 */
export const PAGES = [
  { name: "overview", path: "/", title: "Overview" },
  { name: "instruments", path: "/instruments", title: "Instruments" },
  { name: "market", path: "/market", title: "Market" },
  { name: "portfolio", path: "/portfolio", title: "Portfolio" },
  { name: "decisions", path: "/decisions", title: "Decisions" },
  { name: "risk", path: "/risk", title: "Risk" },
  { name: "system", path: "/system", title: "System" },
] as const;

export type PageName = (typeof PAGES)[number]["name"];

export interface Location {
  /** Undefined for a path that is no page. */
  page: PageName | undefined;
  query: Record<string, string>;
}

export function parseLocation(pathname: string, search = ""): Location {
  const normalized = pathname.length > 1 ? pathname.replace(/\/+$/, "") : pathname;
  const page = PAGES.find((p) => p.path === normalized)?.name;
  return { page, query: Object.fromEntries(new URLSearchParams(search)) };
}

export function hrefOf(page: PageName, query: Record<string, string | undefined> = {}): string {
  const path = PAGES.find((p) => p.name === page)!.path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  return params.size > 0 ? `${path}?${params}` : path;
}

export function titleOf(page: PageName | undefined): string {
  return PAGES.find((p) => p.name === page)?.title ?? "Not found";
}
