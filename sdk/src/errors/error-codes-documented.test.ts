import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Every stable code used in sdk/src (as a string literal) must be documented in docs/errors.md. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "fixtures" ? [] : sourceFiles(path);
    return path.endsWith(".ts") && !path.endsWith(".test.ts") ? [path] : [];
  });
}

test("every PROTOCOL_* and SDK_* code used in sdk/src is in docs/errors.md", () => {
  const root = join(__dirname, "..");
  const docs = readFileSync(join(root, "..", "..", "docs", "errors.md"), "utf8");
  const used = new Set<string>();
  for (const file of sourceFiles(root)) {
    for (const m of readFileSync(file, "utf8").matchAll(/["'`]((?:PROTOCOL|SDK)_[A-Z_]+)["'`:]/g))
      used.add(m[1]!);
  }
  expect(used.size).toBeGreaterThan(10);
  const missing = [...used].filter((code) => !docs.includes(`\`${code}\``));
  expect(missing).toEqual([]);
});
