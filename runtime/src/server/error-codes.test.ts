import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Codes built from an area by the router and body helpers. */
const AREA_CODES = [
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "BAD_PATH",
  "BODY_TOO_LARGE",
  "BAD_ENCODING",
  "BAD_JSON",
];

describe("error-codes.md", () => {
  it("documents every error code the HTTP layer uses", () => {
    const doc = readFileSync(join(__dirname, "error-codes.md"), "utf8");
    const sources = readdirSync(__dirname).filter(
      (f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && f !== "fake-runtime-api.ts",
    );
    const used = new Set<string>(["INTERNAL"]);
    for (const f of sources) {
      const text = readFileSync(join(__dirname, f), "utf8");
      for (const m of text.matchAll(/"((?:INGRESS|ADMIN|PROTOCOL)_[A-Z_]+)"/g)) used.add(m[1]!);
    }
    for (const area of ["INGRESS", "ADMIN"]) for (const c of AREA_CODES) used.add(`${area}_${c}`);
    const missing = [...used].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(40);
  });
});
