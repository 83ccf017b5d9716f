import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { compileFunction } from "node:vm";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildCache } from "./build-cache";
import { buildFunction, codeSha256Of } from "./function-builder";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-build-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("buildFunction", () => {
  it("bundles as deployed: CommonJS, not minified, no keepNames wrappers, @aws-sdk external, inline source map, Lambda's CodeSha256", async () => {
    const entry = join(root, "handler.ts");
    await writeFile(
      entry,
      [
        'import { LambdaClient } from "@aws-sdk/client-lambda";',
        "class OrderRejected extends Error {}",
        "export const handler = async () => ({ error: new OrderRejected().constructor.name, client: typeof LambdaClient });",
      ].join("\n"),
    );

    const built = await buildFunction({ name: "orders", entry, outDir: join(root, "out") });

    const code = await readFile(built.bundlePath, "utf8");
    expect(built.name).toBe("orders");
    expect(built.bundlePath).toMatch(/out\/orders\/[0-9a-f]{16}\/index\.js$/);
    expect(built.codeSha256).toBe(createHash("sha256").update(code).digest("base64"));
    expect(await codeSha256Of(built.bundlePath)).toBe(built.codeSha256);
    expect(code).toContain('require("@aws-sdk/client-lambda")');
    // Not minified, so names survive (the class's name is inferred from its binding); without
    // keepNames no closure pays a __name() call.
    expect(code).not.toContain("__name(");
    const module = { exports: {} as { handler?: () => Promise<{ error: string; client: string }> } };
    compileFunction(code, ["module", "exports", "require"])(
      module,
      module.exports,
      createRequire(__filename),
    );
    expect(await module.exports.handler!()).toEqual({ error: "OrderRejected", client: "function" });
    expect(code).toContain("module.exports");
    expect(code).toContain("//# sourceMappingURL=data:application/json;base64,");
  });

  it("writes changed code to a new path, so a published version's file is never overwritten", async () => {
    const entry = join(root, "v.ts");
    await writeFile(entry, "export const handler = async () => 1;\n");
    const first = await buildFunction({ name: "v", entry, outDir: join(root, "out") });
    await writeFile(entry, "export const handler = async () => 2;\n");
    const second = await buildFunction({ name: "v", entry, outDir: join(root, "out") });

    expect(second.bundlePath).not.toBe(first.bundlePath);
    expect(second.codeSha256).not.toBe(first.codeSha256);
    expect(await codeSha256Of(first.bundlePath)).toBe(first.codeSha256);
  });

  it("refuses an invalid function name before building", async () => {
    await expect(
      buildFunction({ name: "bad name", entry: join(root, "v.ts"), outDir: root }),
    ).rejects.toThrow(/Invalid function name/);
  });
});

describe("buildFunction with a BuildCache", () => {
  it("skips esbuild when no input changed (even if touched), and builds again when one did", async () => {
    const dir = await mkdtemp(join(root, "cached-"));
    const entry = join(dir, "handler.ts");
    const dependency = join(dir, "greeting.ts");
    await writeFile(dependency, 'export const greeting = "hello";\n');
    await writeFile(
      entry,
      'import { greeting } from "./greeting";\nexport const handler = async () => greeting;\n',
    );
    const cache = new BuildCache();
    const options = { name: "greeter", entry, outDir: join(dir, "out"), cache };

    const first = await buildFunction(options);
    expect(first.cached).toBeUndefined();
    const again = await buildFunction(options);
    expect(again).toEqual({ ...first, cached: true });

    // The same content saved again (a new mtime): still unchanged.
    await writeFile(dependency, 'export const greeting = "hello";\n');
    expect((await buildFunction(options)).cached).toBe(true);

    await writeFile(dependency, 'export const greeting = "bonjour";\n');
    const changed = await buildFunction(options);
    expect(changed.cached).toBeUndefined();
    expect(changed.codeSha256).not.toBe(first.codeSha256);
    expect(await readFile(changed.bundlePath, "utf8")).toContain("bonjour");
  });
});
