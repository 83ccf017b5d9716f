import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFunction, codeSha256Of } from "./function-builder";

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "capstan-build-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("buildFunction", () => {
  it("bundles as deployed: CommonJS, names kept, @aws-sdk external, inline source map, Lambda's CodeSha256", async () => {
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
    expect(code).toContain('"OrderRejected"');
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
