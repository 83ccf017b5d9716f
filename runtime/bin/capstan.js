#!/usr/bin/env node
// The `capstan` bin. A committed file rather than dist/cli/main.js itself: npm links a workspace's
// bins at `npm install`, before anything is built, and skips a bin whose file does not exist yet.
"use strict";
const { existsSync } = require("node:fs");
const path = require("node:path");

const main = path.join(__dirname, "..", "dist", "cli", "main.js");
if (!existsSync(main)) {
  process.stderr.write(
    "capstan: the runtime is not built yet; run `npm run build` (or `npm start`) in the repository first\n",
  );
  process.exit(2);
}
require(main).runCommandLine(process.argv.slice(2));
