import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readOrCreateSecret, restrictIfExists } from "./key-files";
import {
  ADMIN_TOKEN_FILE,
  ATTEMPT_KEY_FILE,
  IDENTITY_KEY_FILE,
  loadNodeCredentials,
} from "./node-credentials";
import { openSqliteStores } from "../storage/sqlite-stores";
import { lockDataDir } from "../storage/data-dir-lock";

const modeOf = (p: string): number => statSync(p).mode & 0o777;

describe("data files", () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "capstan-keys-"));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("a fresh data directory, its database, lock and secrets are owner-only", async () => {
    const dataDir = path.join(root, "nested", "data");
    const lock = lockDataDir(dataDir);
    const stores = openSqliteStores(dataDir);
    const credentials = loadNodeCredentials(dataDir);
    await stores.logStore.append(0, 1, [{ kind: "recover", epoch: 1, atMs: 1 }]);
    try {
      expect(modeOf(dataDir)).toBe(0o700);
      expect(modeOf(path.join(root, "nested"))).toBe(0o700);
      const files = readdirSync(dataDir);
      expect(files).toEqual(
        expect.arrayContaining([
          "capstan.db",
          "capstan.db-wal",
          "capstan.db-shm",
          "capstan.lock",
          ADMIN_TOKEN_FILE,
          ATTEMPT_KEY_FILE,
          IDENTITY_KEY_FILE,
        ]),
      );
      for (const f of files) expect([f, modeOf(path.join(dataDir, f))]).toEqual([f, 0o600]);
      expect(credentials.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    } finally {
      await stores.close();
      lock.release();
    }
  });

  test("a secret is generated once and read back; a world-readable one is tightened", () => {
    let generated = 0;
    const make = (): string => `secret-${++generated}`;
    expect(readOrCreateSecret(root, "s", make)).toBe("secret-1");
    expect(readOrCreateSecret(root, "s", make)).toBe("secret-1");
    expect(generated).toBe(1);
    writeFileSync(path.join(root, "old"), "kept\n");
    chmodSync(path.join(root, "old"), 0o644);
    expect(readOrCreateSecret(root, "old", make)).toBe("kept");
    expect(modeOf(path.join(root, "old"))).toBe(0o600);
    restrictIfExists(path.join(root, "absent"));
    expect(readdirSync(root).sort()).toEqual(["old", "s"]);
  });

  test("the credentials survive a restart: the same token and keys are loaded again", () => {
    const first = loadNodeCredentials(root);
    const second = loadNodeCredentials(root);
    expect(second.adminToken).toBe(first.adminToken);
    expect(second.identity.publicKey).toBe(first.identity.publicKey);
    const configured = loadNodeCredentials(root, { adminToken: "configured-token-123" });
    expect(configured.adminToken).toBe("configured-token-123");
  });
});
