/**
 * Secrets kept in the data directory (the attempt MAC key, the admin token, the identity key): each
 * created once, atomically, readable by its owner only, and read back on every later start.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";

/** Files the runtime creates: owner read/write only. */
export const OWNER_ONLY_FILE_MODE = 0o600;
/** Directories the runtime creates: owner only. */
export const OWNER_ONLY_DIR_MODE = 0o700;

/**
 * Creates `dir` (and its parents) owner-only when it does not exist. An existing directory keeps its
 * mode: it may be one the operator chose and shares on purpose.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: OWNER_ONLY_DIR_MODE });
}

/**
 * Runs `create` (which creates files, e.g. SQLite opening a database) with a umask that makes what it
 * creates owner-only. Files are not pre-created with open(): closing any descriptor of a SQLite file
 * drops the POSIX locks the process holds on it (the data directory's lock among them). `create`
 * must be synchronous, so no other code of this thread runs under the changed umask.
 */
export function withOwnerOnlyUmask<T>(create: () => T): T {
  const previous = process.umask(0o077);
  try {
    return create();
  } finally {
    process.umask(previous);
  }
}

/**
 * Makes an existing file owner-only (one created by an older version); absent files are left absent.
 * chmod works on the path, never opening the file, so it is safe on locked SQLite files.
 */
export function restrictIfExists(file: string): void {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  if ((mode & 0o077) !== 0) chmodSync(file, OWNER_ONLY_FILE_MODE);
}

/**
 * The secret in `dir/name`, created with `generate()` when absent. Creation is atomic (written to a
 * private temporary file, then hard-linked into place), so two processes racing on a fresh directory
 * end up with one secret, and a crash never leaves a half-written one.
 *
 * @example
 * const token = readOrCreateSecret(".capstan", "admin-token", () => randomBytes(32).toString("base64url"));
 */
export function readOrCreateSecret(dir: string, name: string, generate: () => string): string {
  const file = path.join(dir, name);
  const existing = readSecret(file);
  if (existing !== undefined) return existing;
  ensurePrivateDir(dir);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const fd = openSync(tmp, "wx", OWNER_ONLY_FILE_MODE);
  try {
    writeSync(fd, `${generate()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  } finally {
    unlinkSync(tmp);
  }
  const created = readSecret(file);
  if (created === undefined) throw new Error(`${file} is empty`);
  return created;
}

/** The trimmed content of a secret file, or undefined when it does not exist. Tightens its mode. */
export function readSecret(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  restrictIfExists(file);
  const trimmed = text.trim();
  return trimmed === "" ? undefined : trimmed;
}
