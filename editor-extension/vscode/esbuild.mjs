// Bundles the extension and vscode-languageclient into dist/extension.js (vscode is external).
import { build } from "esbuild";

await build({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node18",
  external: ["vscode"],
  outfile: "dist/extension.js",
  minify: process.env.MINIFY !== "0",
  sourcemap: false,
  logLevel: "warning",
});
console.log("extension bundled into dist/extension.js");
