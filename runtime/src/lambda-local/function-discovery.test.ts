import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { discoverFunctions } from "./function-discovery";

const HANDLER = "export const handler = async (event: unknown) => event;\n";

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-discovery-"));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fn(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(join(root, dir), { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(root, dir, name), text);
}

describe("discoverFunctions", () => {
  it("finds one function per directory with handler.ts, applying function.json over the defaults", async () => {
    await fn("checkout", {
      "handler.ts": HANDLER,
      "function.json":
        '{"timeoutSeconds": 900, "memoryMb": 1024, "perExecutionEnvironmentMaxConcurrency": 1024}',
    });
    await fn("cart", { "handler.ts": "export { handler } from './impl';\n" });
    await fn("renamed", {
      "handler.ts": HANDLER,
      "function.json": '{"name": "orders_v2", "environment": {"A": "1"}}',
    });
    await fn("shared", { "util.ts": "export const x = 1;\n" });
    await writeFile(join(root, "README.md"), "not a function");

    const found = await discoverFunctions(root);

    expect(found).toEqual([
      {
        name: "cart",
        directory: join(root, "cart"),
        entry: join(root, "cart", "handler.ts"),
        config: { timeoutSeconds: 30, memoryMb: 256, environment: {} },
      },
      {
        name: "checkout",
        directory: join(root, "checkout"),
        entry: join(root, "checkout", "handler.ts"),
        config: {
          timeoutSeconds: 900,
          memoryMb: 1024,
          environment: {},
          perExecutionEnvironmentMaxConcurrency: 1024,
        },
      },
      {
        name: "orders_v2",
        directory: join(root, "renamed"),
        entry: join(root, "renamed", "handler.ts"),
        config: { timeoutSeconds: 30, memoryMb: 256, environment: { A: "1" } },
      },
    ]);
  });

  it("refuses names Lambda would refuse, naming the rule", async () => {
    await fn("ok", { "handler.ts": HANDLER, "function.json": '{"name": "not valid!"}' });

    await expect(discoverFunctions(root)).rejects.toThrow(
      /function\.json: Invalid function name "not valid!": use 1-64 letters, digits, hyphens or underscores/,
    );
  });

  it.each([
    ['{"timeoutSeconds": 901}', /"timeoutSeconds" must be an integer from 1 to 900/],
    ['{"timeoutSeconds": 0}', /"timeoutSeconds" must be an integer from 1 to 900/],
    ['{"memoryMb": 64}', /"memoryMb" must be an integer from 128 to 10240/],
    [
      '{"perExecutionEnvironmentMaxConcurrency": 1025}',
      /"perExecutionEnvironmentMaxConcurrency" must be an integer from 1 to 1024/,
    ],
    [
      '{"perExecutionEnvironmentMaxConcurrency": 0}',
      /"perExecutionEnvironmentMaxConcurrency" must be an integer from 1 to 1024/,
    ],
    ['{"timeout": 5}', /unknown setting\(s\) timeout/],
    ['{"environment": {"A": 1}}', /"environment" must be an object of string values/],
    ["{nope", /invalid JSON/],
  ])("refuses function.json %s", async (json, message) => {
    await fn("f", { "handler.ts": HANDLER, "function.json": json });

    await expect(discoverFunctions(root)).rejects.toThrow(message);
  });

  it("refuses a handler.ts without a handler export and two directories claiming one name", async () => {
    await fn("a", { "handler.ts": "export const main = 1;\n" });
    await expect(discoverFunctions(root)).rejects.toThrow(/must export `handler`/);

    await rm(join(root, "a"), { recursive: true });
    await fn("a", { "handler.ts": HANDLER, "function.json": '{"name": "same"}' });
    await fn("b", { "handler.ts": HANDLER, "function.json": '{"name": "same"}' });
    await expect(discoverFunctions(root)).rejects.toThrow(/"same" is used by both/);
  });
});
