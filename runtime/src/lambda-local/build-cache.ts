/**
 * Skips esbuild for a function none of whose inputs changed since its last build: each build records
 * every file esbuild read (its metafile) with size, mtime and SHA-256. A file whose size and mtime
 * match is taken as unchanged; one whose mtime moved is hashed, so a touched but identical file
 * (a `git checkout`, an editor's save) still skips. Kept in memory for the life of `capstan dev`.
 */
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import type { BuiltFunction } from "./function-builder";

interface InputStamp {
  sizeBytes: number;
  mtimeMs: number;
  sha256: string;
}

interface Entry {
  entry: string;
  built: BuiltFunction;
  inputs: Map<string, InputStamp>;
}

/**
 * @example
 * const cache = new BuildCache();
 * await buildFunction({ name, entry, outDir, cache }); // esbuild runs, inputs recorded
 * await buildFunction({ name, entry, outDir, cache }); // nothing changed: the same bundle, no esbuild
 */
export class BuildCache {
  private readonly entries = new Map<string, Entry>();

  /** The previous build of `name` from `entry` if every input is unchanged and its bundle is there. */
  async lookup(name: string, entry: string): Promise<BuiltFunction | undefined> {
    const cached = this.entries.get(name);
    if (cached === undefined || cached.entry !== entry) return undefined;
    try {
      await stat(cached.built.bundlePath);
      for (const [file, stamp] of cached.inputs) {
        if (!(await unchanged(file, stamp))) return undefined;
      }
    } catch {
      return undefined; // a file is gone: build again, and let esbuild say what is missing
    }
    return cached.built;
  }

  /** Records a fresh build and the files it read. */
  async store(name: string, entry: string, built: BuiltFunction, inputFiles: string[]): Promise<void> {
    const inputs = new Map<string, InputStamp>();
    for (const file of inputFiles) {
      // esbuild's metafile also lists virtual modules (`<define:…>`, namespaced ids): not files.
      const stamp = await stampOf(file).catch(() => undefined);
      if (stamp !== undefined) inputs.set(file, stamp);
    }
    this.entries.set(name, { entry, built, inputs });
  }
}

async function stampOf(file: string): Promise<InputStamp> {
  const s = await stat(file);
  return { sizeBytes: s.size, mtimeMs: s.mtimeMs, sha256: await sha256Of(file) };
}

async function unchanged(file: string, stamp: InputStamp): Promise<boolean> {
  const s = await stat(file);
  if (s.size !== stamp.sizeBytes) return false;
  if (s.mtimeMs === stamp.mtimeMs) return true;
  const same = (await sha256Of(file)) === stamp.sha256;
  if (same) stamp.mtimeMs = s.mtimeMs; // touched, not changed: hash it only once
  return same;
}

async function sha256Of(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}
