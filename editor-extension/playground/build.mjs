// Bundles the page into dist/: Monaco and our code (app.js, app.css, fonts) and Monaco's
// editor worker. Everything is served by `copilot-lsp playground`; nothing comes from a CDN.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

await rm("dist", { recursive: true, force: true });
await mkdir("dist/assets", { recursive: true });
await build({
  entryPoints: {
    app: "src/main.ts",
    "editor.worker": "monaco-editor/esm/vs/editor/editor.worker.js",
  },
  bundle: true,
  format: "iife",
  minify: true,
  target: "es2022",
  outdir: "dist/assets",
  loader: { ".ttf": "file" },
  logLevel: "warning",
});
await copyFile("index.html", "dist/index.html");
console.log("playground built into dist/");
