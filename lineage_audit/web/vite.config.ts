// Build of the web UI: `npm run build` writes dist/, which the lineage service serves at `/`.
// `npm run dev` serves the sources with the API proxied to a service on port 5000 (LINEAGE_API to change it).
import react from "@vitejs/plugin-react";
import { defineConfig, loadEnv } from "vite";

export default defineConfig(({ mode }) => ({
  // relative asset URLs: the UI works wherever the service mounts it
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // elkjs is ~1.5 MB of compiled Java; it lives in the layout worker's chunk
    chunkSizeWarningLimit: 2500,
  },
  worker: { format: "es" },
  server: {
    proxy: { "/api": loadEnv(mode, ".", "LINEAGE_").LINEAGE_API ?? "http://127.0.0.1:5000" },
  },
}));
