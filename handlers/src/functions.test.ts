/**
 * Every function directory bundles on its own, as `npm start` and a deployment build it, and the
 * bundle answers discovery with exactly its services. Also checks the directory convention: a
 * function imports only the SDK, its own files and shared/ (never another function's code).
 *
 * The esbuild options mirror runtime/src/lambda-local/function-builder.ts (`buildFunction`), plus the
 * repository's tsconfig so `@capstan/sdk` resolves to sdk/src: `buildFunction` resolves it through
 * node_modules to sdk/dist, which only exists (and is only current) after `npm run build`.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";
import { discoverFunctions } from "@capstan/runtime/lambda-local";
import type { DiscoveryResponse } from "@capstan/sdk/protocol";

const HANDLERS_DIR = __dirname;
const REPO_ROOT = path.resolve(__dirname, "../..");
/** Every function directory (one with handler.ts), listed synchronously for test.each. */
const FUNCTION_DIRS = readdirSync(HANDLERS_DIR).filter((d) =>
  existsSync(path.join(HANDLERS_DIR, d, "handler.ts")),
);

/**
 * The examples and the services each must serve. A function added under handlers/src/ is checked by
 * the same rules (it bundles alone and answers discovery) without being listed here.
 */
const EXPECTED: Record<string, string[]> = {
  cart: ["Cart"],
  checkout: ["Checkout"],
  counter: ["Counter"],
  greeter: ["Greeter"],
  "middy-greeter": ["MiddyGreeter"],
  orders: ["Orders", "Warehouse"],
  signup: ["Signup"],
};

async function bundle(entry: string): Promise<{ code: string; inputs: string[] }> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    external: ["@aws-sdk/*"],
    write: false,
    logLevel: "silent",
    metafile: true,
    tsconfig: path.join(REPO_ROOT, "tsconfig.json"),
    absWorkingDir: REPO_ROOT, // metafile inputs are relative to the repository root
  });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}

/** Evaluates a CommonJS bundle and returns its exports. */
function load(code: string): Record<string, unknown> {
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- evaluating the bundle we just built
  new Function("module", "exports", "require", code)(mod, mod.exports, require);
  return mod.exports;
}

test("every example is a function", async () => {
  const functions = await discoverFunctions(HANDLERS_DIR);

  expect(functions.map((f) => f.name)).toEqual(expect.arrayContaining(Object.keys(EXPECTED)));
  expect(functions.find((f) => f.name === "checkout")!.config).toMatchObject({
    timeoutSeconds: 60,
    memoryMb: 256,
  });
});

describe("each function bundles on its own and serves its services", () => {
  afterEach(() => jest.restoreAllMocks());

  test.each(FUNCTION_DIRS)("%s", async (dir) => {
    const fn = (await discoverFunctions(HANDLERS_DIR)).find((f) => path.basename(f.directory) === dir)!;

    const { code, inputs } = await bundle(fn.entry);
    const handler = load(code).handler as (event: unknown, context: unknown) => Promise<unknown>;
    jest.spyOn(console, "log").mockImplementation(() => undefined); // middy-greeter's log line
    const discovery = (await handler(
      { type: "discover", protocolVersion: 1 },
      { getRemainingTimeInMillis: () => 30_000 },
    )) as DiscoveryResponse;

    const ownCode = inputs.filter((i) => i.startsWith("handlers/src/"));
    const foreign = ownCode.filter(
      (i) => !i.startsWith(`handlers/src/${dir}/`) && !i.startsWith("handlers/src/shared/"),
    );
    expect(foreign).toEqual([]);
    expect(ownCode.some((i) => i.includes("test-support") || i.endsWith(".test.ts"))).toBe(false);
    expect(inputs.some((i) => i.startsWith("sdk/src/"))).toBe(true);
    const expected = EXPECTED[fn.name];
    if (expected !== undefined) expect(discovery.services.map((s) => s.name)).toEqual(expected);
    else expect(discovery.services.length).toBeGreaterThan(0);
  });
});
