/**
 * The default image is built from the context shipped in @capstan/infra, at this package's version:
 * from the npm registry, or from CAPSTAN_PACKAGES_DIR's tarballs staged into a copy of the context;
 * the repository's app builds from its own root Dockerfile.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { CapstanRuntime } from "./capstan-runtime";
import { findRepositoryRoot, tarballName, VERSION_BUILD_ARG } from "./runtime-image";

const INFRA_DIR = path.join(__dirname, "..", "..");
const VERSION = (
  JSON.parse(readFileSync(path.join(INFRA_DIR, "package.json"), "utf8")) as { version: string }
).version;

interface ImageSource {
  directory: string;
  platform?: string;
  dockerBuildArgs?: Record<string, string>;
}

/** Synthesizes a runtime with the default image and returns the staged asset's source. */
function synthDefault(env: NodeJS.ProcessEnv): { outdir: string; source: ImageSource } {
  const saved = process.env.CAPSTAN_PACKAGES_DIR;
  if (env.CAPSTAN_PACKAGES_DIR === undefined) delete process.env.CAPSTAN_PACKAGES_DIR;
  else process.env.CAPSTAN_PACKAGES_DIR = env.CAPSTAN_PACKAGES_DIR;
  try {
    const outdir = mkdtempSync(path.join(os.tmpdir(), "capstan-image-synth-"));
    const app = new App({ outdir });
    new CapstanRuntime(new Stack(app, "Image"), "Runtime");
    app.synth();
    const assets = JSON.parse(readFileSync(path.join(outdir, "Image.assets.json"), "utf8")) as {
      dockerImages: Record<string, { source: ImageSource }>;
    };
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    return { outdir, source: images[0]!.source };
  } finally {
    if (saved === undefined) delete process.env.CAPSTAN_PACKAGES_DIR;
    else process.env.CAPSTAN_PACKAGES_DIR = saved;
  }
}

describe("the runtime image", () => {
  const cleanup: string[] = [];
  afterAll(() => cleanup.forEach((d) => rmSync(d, { recursive: true, force: true })));

  test("by default: the shipped context, installing @capstan/runtime at this version from the registry", () => {
    const { outdir, source } = synthDefault({});
    cleanup.push(outdir);
    expect(source.platform).toBe("linux/arm64");
    expect(source.dockerBuildArgs).toEqual({ [VERSION_BUILD_ARG]: VERSION });
    const context = path.join(outdir, source.directory);
    expect(readdirSync(context).sort()).toEqual(["Dockerfile", "install-runtime.sh", "packages"]);
    expect(readdirSync(path.join(context, "packages")).filter((f) => f.endsWith(".tgz"))).toEqual([]);
    const dockerfile = readFileSync(path.join(context, "Dockerfile"), "utf8");
    expect(dockerfile).toContain(`ARG ${VERSION_BUILD_ARG}`);
    expect(dockerfile).toMatch(
      /ENTRYPOINT \["node", "--max-semi-space-size=8", "node_modules\/@capstan\/runtime\/bin\/capstan.js"\]/,
    );
  });

  test("with CAPSTAN_PACKAGES_DIR: the runtime's and the SDK's tarballs are staged into the context", () => {
    const packages = mkdtempSync(path.join(os.tmpdir(), "capstan-image-packages-"));
    cleanup.push(packages);
    for (const pkg of ["@capstan/runtime", "@capstan/sdk", "@capstan/infra"])
      writeFileSync(path.join(packages, tarballName(pkg, VERSION)), `tarball of ${pkg}`);
    const { outdir, source } = synthDefault({ CAPSTAN_PACKAGES_DIR: packages });
    cleanup.push(outdir);
    const staged = path.join(outdir, source.directory, "packages");
    expect(
      readdirSync(staged)
        .filter((f) => f.endsWith(".tgz"))
        .sort(),
    ).toEqual([tarballName("@capstan/runtime", VERSION), tarballName("@capstan/sdk", VERSION)].sort());
    expect(readFileSync(path.join(staged, tarballName("@capstan/sdk", VERSION)), "utf8")).toBe(
      "tarball of @capstan/sdk",
    );
  });

  test("CAPSTAN_PACKAGES_DIR without the tarballs fails the synth with what to do", () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), "capstan-image-empty-"));
    cleanup.push(empty);
    expect(() => synthDefault({ CAPSTAN_PACKAGES_DIR: empty })).toThrow(
      /has no capstan-runtime-.*\.tgz, capstan-sdk-.*\.tgz: run `npm run package`/,
    );
  });

  test("the repository is found from inside it, and only there", () => {
    const root = findRepositoryRoot(__dirname);
    expect(root).toBeDefined();
    expect(existsSync(path.join(root!, "Dockerfile"))).toBe(true);
    expect(findRepositoryRoot(os.tmpdir())).toBeUndefined();
  });
});
