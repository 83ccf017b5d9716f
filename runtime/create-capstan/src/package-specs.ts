/**
 * Where the generated project installs Capstan's packages from: the npm registry at this generator's
 * version (the packages are versioned in step), or — before they are published, or to try a local
 * build — the tarballs `npm run package` writes, from the directory CAPSTAN_PACKAGES_DIR names.
 */
import { existsSync } from "node:fs";
import path from "node:path";

/** The packages a generated project depends on, each at the generator's own version. */
export const CAPSTAN_PACKAGES = ["@capstan/sdk", "@capstan/runtime", "@capstan/infra"] as const;
export type CapstanPackage = (typeof CAPSTAN_PACKAGES)[number];

/** A mistake the user can fix (a missing tarball, a bad name): exit code 1 with the message. */
export class CreateError extends Error {
  override readonly name = "CreateError";
}

/** `npm pack`'s file name for a package: `@capstan/sdk` 0.1.0 → `capstan-sdk-0.1.0.tgz`. */
export function tarballName(pkg: string, version: string): string {
  return `${pkg.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/**
 * The install spec of each package.
 *
 * @example
 * packageSpecs("0.1.0");                  // { "@capstan/sdk": "0.1.0", ... } from the registry
 * packageSpecs("0.1.0", "dist/packages"); // { "@capstan/sdk": "file:/…/dist/packages/capstan-sdk-0.1.0.tgz", ... }
 */
export function packageSpecs(version: string, packagesDir?: string): Record<CapstanPackage, string> {
  const specs = {} as Record<CapstanPackage, string>;
  for (const pkg of CAPSTAN_PACKAGES) {
    if (packagesDir === undefined) {
      specs[pkg] = version;
      continue;
    }
    const file = path.resolve(packagesDir, tarballName(pkg, version));
    if (!existsSync(file)) {
      throw new CreateError(
        `CAPSTAN_PACKAGES_DIR=${packagesDir} has no ${path.basename(file)}: run \`npm run package\` in ` +
          "the Capstan repository (it writes dist/packages/), or unset CAPSTAN_PACKAGES_DIR to install from the registry",
      );
    }
    specs[pkg] = `file:${file}`;
  }
  return specs;
}
