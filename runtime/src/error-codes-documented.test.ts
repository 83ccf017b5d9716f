import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Codes the router and body helpers build from an area prefix at run time. */
const AREA_CODES = [
  "NOT_FOUND",
  "METHOD_NOT_ALLOWED",
  "BAD_PATH",
  "BODY_TOO_LARGE",
  "BAD_ENCODING",
  "BAD_JSON",
  "BAD_REQUEST",
  "HEADERS_TOO_LARGE",
  "MISSING_HOST",
  "EXPECTATION_FAILED",
  "REQUEST_TIMEOUT",
];
/**
 * Built from an area prefix too: by parseJsonBody (only admin parses JSON it walks afterwards), and
 * by a stopping node's drain (request-drain.ts; only the ingress and admin listeners drain).
 */
const AREA_BUILT_CODES = [
  "ADMIN_JSON_TOO_DEEP",
  "INGRESS_NODE_DRAINING",
  "ADMIN_NODE_DRAINING",
  "INGRESS_DRAIN_DEADLINE",
  "ADMIN_DRAIN_DEADLINE",
];
const CODE = /"((?:INGRESS|ADMIN|CHECKPOINT|INVOKE|STORE|RUNTIME|CONFIG|INVOCATION|PROTOCOL)_[A-Z_]+)"/g;

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === "test-support" ? [] : sources(p);
    return f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.startsWith("fake-") ? [p] : [];
  });
}

describe("docs/errors.md", () => {
  it("documents every stable error code the runtime uses", () => {
    const doc = readFileSync(join(__dirname, "../../docs/errors.md"), "utf8");
    const used = new Set<string>(["INTERNAL", ...AREA_BUILT_CODES]);
    for (const f of sources(__dirname))
      for (const m of readFileSync(f, "utf8").matchAll(CODE)) used.add(m[1]!);
    for (const area of ["INGRESS", "ADMIN", "CHECKPOINT"])
      for (const c of AREA_CODES) used.add(`${area}_${c}`);
    const missing = [...used].filter((c) => !doc.includes(`\`${c}\``));
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(60);
  });
});
