// Require hook for the crash tests' child processes: compiles TypeScript on the fly with @swc/core (as
// runtime/src/storage/test-support/crash-writer.js does) and maps the workspace package names to their
// sources, as jest's moduleNameMapper does, so the child runs exactly the code under test and never a
// stale dist/. Usage: node -r ./swc-register.js entry.ts
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const swc = require("@swc/core");

const ROOT = path.resolve(__dirname, "..", "..", "..");
const PACKAGES = { "@capstan/sdk": "sdk", "@capstan/runtime": "runtime" };

require.extensions[".ts"] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, "utf8"), {
    filename,
    sourceMaps: "inline",
    jsc: { parser: { syntax: "typescript" }, target: "es2022", keepClassNames: true },
    module: { type: "commonjs" },
  });
  module._compile(code, filename);
};

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  const match = /^(@capstan\/(?:sdk|runtime))(?:\/(.+))?$/.exec(request);
  if (match) {
    const dir = path.join(ROOT, PACKAGES[match[1]], "src", match[2] ?? "");
    return path.join(dir, "index.ts");
  }
  return resolveFilename.call(this, request, parent, isMain, options);
};

process.setSourceMapsEnabled?.(true);
