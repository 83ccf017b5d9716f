/**
 * Files made durable before they are trusted: a stream written to disk and fsync'd, a rename made
 * durable by fsyncing its directory. What a downloaded snapshot goes through before it replaces a
 * partition's state file, so a crash never leaves a torn file in its place.
 */
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

/** Writes `source` to `file` (created owner-only, or truncated) and fsyncs it. */
export async function streamToFile(source: Readable, file: string): Promise<void> {
  await pipeline(source, fs.createWriteStream(file, { mode: 0o600 }));
  await fsyncFile(file);
}

export async function fsyncFile(file: string): Promise<void> {
  const handle = await fs.promises.open(file, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes renames and unlinks in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.promises.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `target` by `source` (same directory) durably: after a crash `target` is the old file,
 * absent, or the whole new one — never torn. `alsoRemove` (SQLite's `-wal` and `-shm` of the old
 * file) are removed after `target` and before the rename: a stale write-ahead log must never meet the
 * new file, and the old file must never lose its log while it may still need it.
 */
export async function replaceFile(source: string, target: string, alsoRemove: string[] = []): Promise<void> {
  await fs.promises.rm(target, { force: true });
  for (const extra of alsoRemove) await fs.promises.rm(extra, { force: true });
  await fs.promises.rename(source, target);
  await fsyncDir(path.dirname(target));
}
