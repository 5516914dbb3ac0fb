/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build goes where the Python server serves it from (pedigree/server/ui.py).
const outDir = fileURLToPath(new URL("../src/pedigree/server/static", import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev`: the API from a `pedigree serve` on the default port.
    proxy: { "/api": "http://127.0.0.1:5000" },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
