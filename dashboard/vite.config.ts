/**
 * Builds the trader dashboard into dashboard/dist, which the gateway serves at `/`
 * (`npm run build:dashboard`). For work on the dashboard itself, `npx vite --config
 * dashboard/vite.config.ts` serves it with hot reload and forwards /api to a platform on :3000
 * (or at API_URL).
 */
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import vue from "@vitejs/plugin-vue";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  plugins: [vue()],
  build: { outDir: "dist", emptyOutDir: true },
  server: { proxy: { "/api": process.env.API_URL ?? "http://localhost:3000" } },
});
