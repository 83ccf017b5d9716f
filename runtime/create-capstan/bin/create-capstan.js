#!/usr/bin/env node
// `npm create capstan my-app` runs this; the generator is compiled to dist/.
"use strict";
require("../dist/main.js").runCommandLine(process.argv.slice(2));
