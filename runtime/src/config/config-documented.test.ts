import { readFileSync } from "node:fs";
import { join } from "node:path";

test("README.md documents every variable the configuration reads", () => {
  const source = readFileSync(join(__dirname, "config.ts"), "utf8");
  const readme = readFileSync(join(__dirname, "../../../README.md"), "utf8");
  const variables = new Set(
    [...source.matchAll(/"((?:CAPSTAN|OTEL)_[A-Z_]+)"|env\.((?:CAPSTAN|OTEL)_[A-Z_]+)/g)].map(
      (m) => m[1] ?? m[2],
    ),
  );
  expect(variables.size).toBeGreaterThan(10);
  expect([...variables].filter((v) => !readme.includes(`\`${v}\``))).toEqual([]);
});
