// Bundles the web console (runtime/console/src) into runtime/dist/console with esbuild: one script,
// one stylesheet, the page. No CDN: the console works offline, as the admin listener serves it.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "../dist/console");

export async function buildConsole() {
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [path.join(here, "src/main.tsx")],
    outfile: path.join(out, "app.js"),
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    logLevel: "warning",
  });
  await build({
    entryPoints: [path.join(here, "src/console.css")],
    outfile: path.join(out, "app.css"),
    bundle: true,
    minify: true,
    logLevel: "warning",
  });
  copyFileSync(path.join(here, "src/index.html"), path.join(out, "index.html"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildConsole();
