import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { watchTree, type TreeWatcher } from "./tree-watcher";

/** Each save is awaited until the watcher reports that file: events, not sleeps. */
describe("watchTree", () => {
  let root: string;
  let watcher: TreeWatcher;
  let seen: string[];
  let waiters: Array<{ file: string; resolve: () => void }>;

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "capstan-watch-"));
    mkdirSync(path.join(root, "greeter"));
    writeFileSync(path.join(root, "greeter", "handler.ts"), "v1");
    seen = [];
    waiters = [];
    watcher = watchTree(root, (file) => {
      seen.push(file);
      waiters = waiters.filter((w) => (w.file === file ? (w.resolve(), false) : true));
    });
  });
  afterEach(() => {
    watcher.close();
    rmSync(root, { recursive: true, force: true });
  });

  const reported = (file: string): Promise<void> => new Promise((resolve) => waiters.push({ file, resolve }));

  /** Saves as vim and `sed -i` do: a new file renamed over the old one. */
  function saveByRename(file: string, text: string): void {
    writeFileSync(path.join(root, `${file}.swp`), text);
    renameSync(path.join(root, `${file}.swp`), path.join(root, file));
  }

  test("keeps seeing a file after saves that replace it", async () => {
    const file = path.join("greeter", "handler.ts");
    for (const text of ["v2", "v3"]) {
      const event = reported(file);
      saveByRename(file, text);
      await event;
    }
    const inPlace = reported(file);
    writeFileSync(path.join(root, file), "v4");
    await inPlace;
  });

  test("watches directories created after it started, and files in them", async () => {
    const created = reported("checkout");
    mkdirSync(path.join(root, "checkout"));
    await created;
    const file = path.join("checkout", "handler.ts");
    const event = reported(file);
    writeFileSync(path.join(root, file), "v1");
    await event;
  });

  test("skips dependencies and hidden directories", async () => {
    mkdirSync(path.join(root, "node_modules"));
    mkdirSync(path.join(root, ".git"));
    const marker = reported(path.join("greeter", "handler.ts"));
    writeFileSync(path.join(root, "node_modules", "x.js"), "");
    writeFileSync(path.join(root, ".git", "HEAD"), "");
    writeFileSync(path.join(root, "greeter", "handler.ts"), "v2");
    await marker;
    const inside = (dir: string) => (f: string) => f.startsWith(dir + path.sep);
    expect(seen.filter((f) => inside("node_modules")(f) || inside(".git")(f))).toEqual([]);
  });
});
