import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DataDirInUseError, LOCK_FILE_NAME, lockDataDir } from "./data-dir-lock";
import { StoreOpenError } from "./sqlite-database";

describe("lockDataDir: one runtime per data directory", () => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(path.join(os.tmpdir(), "capstan-lock-"))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  test("a second holder is refused at once, and may take the directory once it is released", () => {
    const first = lockDataDir(dataDir);
    try {
      const refused = (() => {
        try {
          return lockDataDir(dataDir);
        } catch (e) {
          return e;
        }
      })();
      expect(refused).toBeInstanceOf(DataDirInUseError);
      expect(refused).toMatchObject({ code: "STORE_DATA_DIR_IN_USE" });
      expect((refused as Error).message).toContain(`${dataDir} is in use by another Capstan runtime`);
    } finally {
      first.release();
    }
    first.release();
    lockDataDir(dataDir).release();
  });

  test("another process holding it refuses this one; killed with SIGKILL, it leaves no stale lock", async () => {
    // A plain Node child that compiles the TypeScript source on the fly (test-support/register-ts.js).
    // It drops the lock's handle and collects garbage (better-sqlite3 closes a collected connection in
    // a task after the collection, hence the turns in between): the lock must not go with it.
    const script =
      `require(${JSON.stringify(path.join(__dirname, "test-support", "register-ts.js"))});` +
      `require(${JSON.stringify(path.join(__dirname, "data-dir-lock.ts"))}).lockDataDir(process.argv[1]);` +
      `(async () => { for (let i = 0; i < 3; i++) { global.gc(); await new Promise(setImmediate); }` +
      ` console.log("held"); setInterval(() => {}, 1000); })();`;
    const child = spawn(process.execPath, ["--expose-gc", "-e", script, dataDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        void exited.then((code) =>
          reject(new Error(`the child exited with ${String(code)} before it held the lock`)),
        );
      });
      expect(() => lockDataDir(dataDir)).toThrow(DataDirInUseError);
    } finally {
      child.kill("SIGKILL");
      await exited;
    }
    lockDataDir(dataDir).release();
  });

  test("a lock file that is not SQLite's is reported with its name, not taken for a lock in use", () => {
    const file = path.join(dataDir, LOCK_FILE_NAME);
    writeFileSync(file, "x".repeat(200));
    expect(() => lockDataDir(dataDir)).toThrow(StoreOpenError);
    expect(() => lockDataDir(dataDir)).toThrow(`cannot open ${file}`);
  });
});
