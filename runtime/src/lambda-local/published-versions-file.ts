/**
 * The durable list of a local Lambda endpoint's published versions, so that `greeter:2` still exists,
 * with its own code, after a restart — as a published version does on AWS. The runtime keeps
 * invocations pinned to `name:N` across restarts; without this file numbering would start again at 1,
 * the runtime would route to a version that no longer answers, and `name:1` would serve whatever
 * code is on disk now.
 *
 * Bundles are content-addressed files beside the list (function-builder.ts), so a version's code
 * stays where it was built. The list is replaced atomically (temporary file, fsync, rename), and is
 * written before a publish is answered: a version the runtime registers is always in it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { FunctionVersion } from "./function-registry";

const FORMAT = 1;

interface VersionsFile {
  format: typeof FORMAT;
  versions: FunctionVersion[];
}

/** The versions recorded in `file`, oldest first; empty when the file does not exist yet. */
export function readPublishedVersions(file: string): FunctionVersion[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  let parsed: VersionsFile;
  try {
    parsed = JSON.parse(text) as VersionsFile;
  } catch (e) {
    throw new Error(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed?.format !== FORMAT || !Array.isArray(parsed.versions))
    throw new Error(`${file} is not a list of published function versions (format ${FORMAT})`);
  const dir = dirname(file);
  return parsed.versions.map((v) =>
    Object.freeze({
      ...v,
      bundlePath: isAbsolute(v.bundlePath) ? v.bundlePath : resolve(dir, v.bundlePath),
      config: Object.freeze({ ...v.config, environment: Object.freeze({ ...v.config.environment }) }),
    }),
  );
}

/** Replaces `file` with `versions` (bundle paths relative to it, so the data dir can move). */
export function writePublishedVersions(file: string, versions: readonly FunctionVersion[]): void {
  const dir = dirname(file);
  const body: VersionsFile = {
    format: FORMAT,
    versions: versions.map((v) => ({ ...v, bundlePath: relative(dir, v.bundlePath) })),
  };
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 1));
  fsync(tmp);
  renameSync(tmp, file);
  fsync(dir);
}

function fsync(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
