/** The charts' common look: dark, quiet grid, UTC time axis (as the rest of the dashboard). */
import { ColorType, CrosshairMode, type ChartOptions, type DeepPartial } from "lightweight-charts";

export const CHART_THEME: DeepPartial<ChartOptions> = {
  autoSize: true,
  layout: {
    background: { type: ColorType.Solid, color: "#111820" },
    textColor: "#8796a8",
    fontSize: 11,
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, "Liberation Sans", sans-serif',
    attributionLogo: false,
    panes: { separatorColor: "#223042", separatorHoverColor: "#2e4057", enableResize: true },
  },
  grid: { vertLines: { color: "rgba(34, 48, 66, 0.55)" }, horzLines: { color: "rgba(34, 48, 66, 0.55)" } },
  rightPriceScale: { borderColor: "#223042" },
  timeScale: { borderColor: "#223042", timeVisible: true, secondsVisible: false },
  crosshair: { mode: CrosshairMode.Normal },
};
