/**
 * `npx capstan` on a fresh clone: `npm install` links the bin before anything is built, so the bin is
 * a committed file that runs the compiled CLI, or says how to build it.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CAPSTAN_BIN, REPO_ROOT } from "./support/platform-process";

const SHIM = path.join(REPO_ROOT, "runtime/bin/capstan.js");

test("npm links the committed bin, which runs the CLI", () => {
  expect(realpathSync(CAPSTAN_BIN)).toBe(SHIM);
  const help = spawnSync(process.execPath, [CAPSTAN_BIN, "--help"], { encoding: "utf8" });
  expect(help.status).toBe(0);
  expect(help.stdout).toContain("Usage: capstan <command>");
  expect(spawnSync(process.execPath, [CAPSTAN_BIN, "nonsense"]).status).toBe(2);
});

test("before a build, the bin says what to run instead of a stack trace", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "capstan-bin-"));
  try {
    mkdirSync(path.join(dir, "bin"));
    copyFileSync(SHIM, path.join(dir, "bin", "capstan.js"));
    const run = spawnSync(process.execPath, [path.join(dir, "bin", "capstan.js"), "health"], {
      encoding: "utf8",
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      "capstan: the runtime is not built yet; run `npm run build` (or `npm start`) in the repository first\n",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
