/**
 * Jest globalSetup of the e2e project: `npm start` runs the compiled runtime and serves the built web
 * console, so build both first.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";

export default function build(): void {
  const root = path.resolve(__dirname, "../../..");
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-b", "sdk", "runtime"], {
    cwd: root,
    stdio: "inherit",
  });
  execFileSync(process.execPath, [path.join(root, "runtime/console/build.mjs")], {
    cwd: root,
    stdio: "inherit",
  });
}
