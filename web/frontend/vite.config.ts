// Both apps in one build: /terminal/ and /app/ are two HTML entries sharing the generated client.
// The output is committed under web/static/web/ (WhiteNoise serves it; Django serves the two
// index.html files with the PWA's security headers), so `make run` needs no node.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const root = resolve(import.meta.dirname, "src");

export default defineConfig({
  root,
  base: "/static/web/",
  build: {
    outDir: resolve(import.meta.dirname, "../static/web"),
    emptyOutDir: true,
    // No source maps in the committed output: they would double its size and say nothing the sources don't.
    sourcemap: false,
    rollupOptions: {
      input: { terminal: resolve(root, "terminal/index.html"), app: resolve(root, "app/index.html") },
    },
  },
});
