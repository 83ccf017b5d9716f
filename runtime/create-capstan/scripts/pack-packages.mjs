// `npm run package`: the publishable packages' tarballs (`npm pack`) in dist/packages/, after
// checking that their versions are in step (a generated project pins them all to one version).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const PUBLISHED = ["sdk", "runtime", "infra", "runtime/create-capstan"];

const versions = PUBLISHED.map((dir) =>
  JSON.parse(readFileSync(path.join(root, dir, "package.json"), "utf8")),
);
const mismatched = versions.filter((p) => p.version !== versions[0].version);
if (mismatched.length > 0) {
  console.error(`versions out of step: ${versions.map((p) => `${p.name}@${p.version}`).join(", ")}`);
  process.exit(1);
}
const out = path.join(root, "dist", "packages");
mkdirSync(out, { recursive: true });
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
execFileSync(npm, ["pack", ...PUBLISHED.flatMap((w) => ["--workspace", w]), "--pack-destination", out], {
  cwd: root,
  stdio: ["ignore", "inherit", "inherit"],
});
console.log(`packages in ${path.relative(process.cwd(), out) || "."}`);
