import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { codeSha256Of } from "./function-builder";
import { FunctionRegistry } from "./function-registry";

describe("published versions across registries (a restart)", () => {
  let dir: string;
  let versionsFile: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "capstan-versions-"));
    versionsFile = path.join(dir, "build", "versions.json");
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function bundle(code: string): Promise<{ bundlePath: string; codeSha256: string }> {
    const bundleDir = path.join(dir, "build", "fn", String(code.length));
    mkdirSync(bundleDir, { recursive: true });
    const bundlePath = path.join(bundleDir, "index.js");
    writeFileSync(bundlePath, code);
    return { bundlePath, codeSha256: await codeSha256Of(bundlePath) };
  }

  test("a new registry on the same file has every version, with its code and settings", async () => {
    const first = new FunctionRegistry({ versionsFile });
    const v1 = await first.publish("fn", await bundle("exports.handler = async () => 1;"));
    const v2 = await first.publish("fn", await bundle("exports.handler = async () => 22;"), {
      timeoutSeconds: 9,
    });
    await first.close();

    const second = new FunctionRegistry({ versionsFile });
    expect(second.versions("fn")).toEqual([v1, v2]);
    expect(second.resolve("fn")?.version).toBe("2");
    // The same code and settings again: still version 2, as Lambda's PublishVersion answers.
    expect(
      (await second.publish("fn", await bundle("exports.handler = async () => 22;"), { timeoutSeconds: 9 }))
        .version,
    ).toBe("2");
    expect((await second.publish("fn", await bundle("exports.handler = async () => 333;"))).version).toBe(
      "3",
    );
    await second.close();
  });

  test("bundle paths are kept relative to the file, so the data dir can move", async () => {
    const first = new FunctionRegistry({ versionsFile });
    await first.publish("fn", await bundle("exports.handler = async () => 1;"));
    await first.close();
    expect(readFileSync(versionsFile, "utf8")).not.toContain(dir);

    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    dir = moved;
    const second = new FunctionRegistry({ versionsFile: path.join(moved, "build", "versions.json") });
    expect(second.resolve("fn", "1")?.bundlePath).toBe(path.join(moved, "build", "fn", "32", "index.js"));
    await second.close();
  });

  test("a file that is not a list of versions is refused with its path, not read as empty", () => {
    mkdirSync(path.dirname(versionsFile), { recursive: true });
    writeFileSync(versionsFile, "{not json");
    expect(() => new FunctionRegistry({ versionsFile })).toThrow(`${versionsFile} is not valid JSON`);
    writeFileSync(versionsFile, JSON.stringify({ versions: {} }));
    expect(() => new FunctionRegistry({ versionsFile })).toThrow(
      "is not a list of published function versions",
    );
  });
});
