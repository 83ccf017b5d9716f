// Lets a plain Node child process require the runtime's TypeScript sources: each .ts file is
// compiled on the fly by @swc/core (the compiler jest uses). For test and benchmark scripts only.
"use strict";
const fs = require("node:fs");
const swc = require("@swc/core");

require.extensions[".ts"] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, "utf8"), {
    filename,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
  });
  module._compile(code, filename);
};
