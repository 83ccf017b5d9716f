/**
 * Where CapstanRuntime's container image comes from. By default it is built at deploy from the
 * Docker context shipped in this package (infra/runtime-image): a small Dockerfile that installs
 * @capstan/runtime at this package's own version (the packages are versioned in step) from the npm
 * registry, or — when CAPSTAN_PACKAGES_DIR names a directory of `npm run package` tarballs at synth —
 * from those tarballs, copied into a staged copy of the context. The Capstan repository's own app
 * builds from the repository's root Dockerfile instead. Synth needs no Docker either way.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";

/** The shipped context's directory name, beside `src/` (and `dist/`) in @capstan/infra. */
export const RUNTIME_IMAGE_DIR = "runtime-image";
/** The build argument that names the version of @capstan/runtime to install. */
export const VERSION_BUILD_ARG = "CAPSTAN_VERSION";
/** The tarballs the image needs from CAPSTAN_PACKAGES_DIR: the runtime and the SDK it depends on. */
export const IMAGE_PACKAGES = ["@capstan/runtime", "@capstan/sdk"] as const;

export interface PackagedImageOptions {
  /** Of @capstan/runtime; default: this @capstan/infra's version. */
  version?: string;
  /** A directory of `npm pack` tarballs to install from instead of the registry. */
  packagesDir?: string;
}

/**
 * @example
 * new CapstanRuntime(stack, "Runtime", { image: CapstanRuntimeImage.fromPackages() });       // the default
 * new CapstanRuntime(stack, "Runtime", { image: CapstanRuntimeImage.fromRepository(root) }); // a checkout
 * new CapstanRuntime(stack, "Runtime", { image: ecs.ContainerImage.fromRegistry(uri) });     // prebuilt
 */
export const CapstanRuntimeImage = {
  /** Built from the shipped context: the registry's @capstan/runtime, or the tarballs in `packagesDir`. */
  fromPackages(options: PackagedImageOptions = {}): ecs.ContainerImage {
    const own = packageRoot(__dirname);
    const version = options.version ?? own.version;
    const shipped = path.join(own.dir, RUNTIME_IMAGE_DIR);
    const context =
      options.packagesDir === undefined ? shipped : stageWithTarballs(shipped, options.packagesDir, version);
    return ecs.ContainerImage.fromAsset(context, {
      platform: Platform.LINUX_ARM64,
      buildArgs: { [VERSION_BUILD_ARG]: version },
    });
  },

  /** Built from a Capstan repository checkout's root Dockerfile (the runtime compiled from source). */
  fromRepository(repoRoot: string): ecs.ContainerImage {
    if (!isRepository(repoRoot))
      throw new Error(`CapstanRuntimeImage.fromRepository: ${repoRoot} is not a Capstan repository checkout`);
    return ecs.ContainerImage.fromAsset(repoRoot, { platform: Platform.LINUX_ARM64 });
  },
};

/** The image CapstanRuntime builds when given none; CAPSTAN_PACKAGES_DIR is read at synth. */
export function defaultRuntimeImage(env: NodeJS.ProcessEnv = process.env): ecs.ContainerImage {
  const packagesDir = env.CAPSTAN_PACKAGES_DIR;
  return CapstanRuntimeImage.fromPackages(
    packagesDir !== undefined && packagesDir !== "" ? { packagesDir } : {},
  );
}

/** The Capstan checkout above `start` (its root Dockerfile and runtime/), or undefined. */
export function findRepositoryRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (isRepository(dir)) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

function isRepository(dir: string): boolean {
  return existsSync(path.join(dir, "Dockerfile")) && existsSync(path.join(dir, "runtime", "package.json"));
}

/** `npm pack`'s file name for a package: `@capstan/sdk` 0.1.0 → `capstan-sdk-0.1.0.tgz`. */
export function tarballName(pkg: string, version: string): string {
  return `${pkg.replace(/^@/, "").replace("/", "-")}-${version}.tgz`;
}

/**
 * A copy of the shipped context with the tarballs in packages/. The asset's hash is of the content,
 * so where the copy lives does not change the image; it lives in the OS temp dir.
 */
function stageWithTarballs(shipped: string, packagesDir: string, version: string): string {
  const missing = IMAGE_PACKAGES.map((p) => path.resolve(packagesDir, tarballName(p, version))).filter(
    (file) => !existsSync(file),
  );
  if (missing.length > 0) {
    throw new Error(
      `CapstanRuntime: CAPSTAN_PACKAGES_DIR=${packagesDir} has no ${missing.map((f) => path.basename(f)).join(", ")}: ` +
        "run `npm run package` in the Capstan repository, or unset it to install from the npm registry",
    );
  }
  const staged = mkdtempSync(path.join(os.tmpdir(), "capstan-runtime-image-"));
  mkdirSync(path.join(staged, "packages"));
  for (const entry of readdirSync(shipped, { withFileTypes: true })) {
    if (entry.isFile()) copyFileSync(path.join(shipped, entry.name), path.join(staged, entry.name));
  }
  for (const pkg of IMAGE_PACKAGES) {
    const name = tarballName(pkg, version);
    copyFileSync(path.resolve(packagesDir, name), path.join(staged, "packages", name));
  }
  return staged;
}

/** This package's directory and version: the first package.json above `start` named @capstan/infra. */
function packageRoot(start: string): { dir: string; version: string } {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const file = path.join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "@capstan/infra" && typeof pkg.version === "string")
        return { dir, version: pkg.version };
    }
    if (path.dirname(dir) === dir) throw new Error(`@capstan/infra: no package.json above ${start}`);
  }
}
