/**
 * Where the runtime's Dockerfile is: the Capstan repository this package is built from. An install
 * from npm has no Dockerfile; such users pass a prebuilt `image` instead.
 */
import { existsSync } from "node:fs";
import path from "node:path";

/** The Dockerfile's directory, searched upwards from `start`, or undefined. */
export function findDockerContext(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "Dockerfile")) && existsSync(path.join(dir, "runtime", "package.json"))) {
      return dir;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
