/**
 * Watches a directory tree for changes the way editors save: in place, or by writing a new file and
 * renaming it over the old one (vim, JetBrains "safe write", `sed -i`, `git checkout`). A watch on a
 * file follows its inode, which such a save replaces — Node's recursive watch on Linux stops seeing
 * that file after the first save. This watches every directory instead (each keeps its inode), and
 * picks up directories created or removed later.
 */
import { readdirSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";

/** Directories never watched: dependencies, build output, hidden directories (.git, .capstan). */
const SKIPPED_DIR = /^(node_modules|dist|cdk\.out|\..*)$/;

export interface TreeWatcher {
  close(): void;
}

/**
 * Calls `onChange(file)` (relative to `root`) for every change event under `root`, after which the
 * set of watched directories is brought up to date. Events are not debounced: callers do that.
 */
export function watchTree(root: string, onChange: (file: string) => void): TreeWatcher {
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  const sync = (): void => {
    const dirs = new Set(directoriesUnder(root));
    for (const [dir, w] of watchers)
      if (!dirs.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, (_event, name) => {
          if (closed) return;
          sync();
          onChange(path.relative(root, path.join(dir, name ?? "")));
        });
        w.on("error", () => {
          // The directory went away; the next sync drops it.
          w.close();
          watchers.delete(dir);
        });
        watchers.set(dir, w);
      } catch {
        // Removed between the listing and the watch: the next sync drops it.
      }
    }
  };
  sync();
  return {
    close() {
      closed = true;
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

function directoriesUnder(root: string): string[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    let entries;
    try {
      entries = readdirSync(out[i]!, { withFileTypes: true });
    } catch {
      continue; // removed meanwhile
    }
    for (const e of entries)
      if (e.isDirectory() && !SKIPPED_DIR.test(e.name)) out.push(path.join(out[i]!, e.name));
  }
  return out;
}
