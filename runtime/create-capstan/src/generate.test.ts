import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateProject, MAX_PROJECT_NAME_LENGTH } from "./generate";
import { main } from "./main";
import { CreateError, tarballName } from "./package-specs";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "create-capstan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface PackageJson {
  name: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  overrides?: Record<string, string>;
}
const readJson = (file: string): PackageJson => JSON.parse(readFileSync(file, "utf8")) as PackageJson;

describe("create-capstan", () => {
  it("generates a service, an object and a workflow with tests, a CDK app and a README, from the registry", () => {
    const target = path.join(dir, "my-app");
    const { name, files } = generateProject({ directory: target, version: "0.1.0" });
    expect(name).toBe("my-app");
    const relative = files.map((f) => path.relative(target, f)).sort();
    expect(relative).toEqual(
      expect.arrayContaining([
        ".gitignore",
        "README.md",
        "cdk.json",
        "infra/app.ts",
        "package.json",
        "src/cart/cart.test.ts",
        "src/cart/handler.ts",
        "src/greeter/greeter.test.ts",
        "src/greeter/handler.ts",
        "src/signup/signup.test.ts",
        "src/signup/handler.ts",
      ]),
    );
    const pkg = readJson(path.join(target, "package.json"));
    expect(pkg.name).toBe("my-app");
    expect(pkg.dependencies["@capstan/sdk"]).toBe("0.1.0");
    expect(pkg.devDependencies).toMatchObject({ "@capstan/runtime": "0.1.0", "@capstan/infra": "0.1.0" });
    expect(pkg.overrides).toBeUndefined();
    expect(pkg.scripts).toMatchObject({ start: "capstan dev --handlers-dir src", test: "jest" });
    const readme = readFileSync(path.join(target, "README.md"), "utf8");
    expect(readme).toContain("npm install && npm start");
    expect(readme).toContain("npm test");
    const app = readFileSync(path.join(target, "infra/app.ts"), "utf8");
    expect(app).toContain('new Stack(app, "MyApp")');
    expect(app).toMatch(/CapstanRuntime[\s\S]*DurableFunction/);
    // No placeholder is left anywhere.
    for (const f of files)
      expect([f, readFileSync(f, "utf8")]).not.toEqual([f, expect.stringMatching(/\{\{/)]);
  });

  it("installs from tarballs when given a packages directory, pinning transitive copies too", () => {
    const packages = path.join(dir, "packages");
    mkdirSync(packages);
    for (const p of ["@capstan/sdk", "@capstan/runtime", "@capstan/infra"])
      writeFileSync(path.join(packages, tarballName(p, "0.1.0")), "");
    const target = path.join(dir, "app");
    generateProject({ directory: target, version: "0.1.0", packagesDir: packages });
    const pkg = readJson(path.join(target, "package.json"));
    const sdk = `file:${path.join(packages, "capstan-sdk-0.1.0.tgz")}`;
    expect(pkg.dependencies["@capstan/sdk"]).toBe(sdk);
    expect(pkg.overrides?.["@capstan/sdk"]).toBe(sdk);
    expect(pkg.devDependencies["@capstan/runtime"]).toBe(
      `file:${path.join(packages, "capstan-runtime-0.1.0.tgz")}`,
    );

    rmSync(path.join(packages, "capstan-infra-0.1.0.tgz"));
    expect(() =>
      generateProject({ directory: path.join(dir, "b"), version: "0.1.0", packagesDir: packages }),
    ).toThrow(/has no capstan-infra-0\.1\.0\.tgz: run `npm run package`/);
    expect(existsSync(path.join(dir, "b"))).toBe(false);
  });

  it("refuses a bad name (at the limit is fine), a non-empty directory, and bad flags", () => {
    const longest = "a".repeat(MAX_PROJECT_NAME_LENGTH);
    expect(generateProject({ directory: path.join(dir, longest), version: "0.1.0" }).name).toBe(longest);
    for (const bad of ["a".repeat(MAX_PROJECT_NAME_LENGTH + 1), "My App", "_x"])
      expect(() => generateProject({ directory: path.join(dir, bad), version: "0.1.0" })).toThrow(
        CreateError,
      );
    expect(() => generateProject({ directory: path.join(dir, longest), version: "0.1.0" })).toThrow(
      /not empty/,
    );

    const out: string[] = [];
    const err: string[] = [];
    expect(
      main(
        ["x", "--bogus"],
        (s) => out.push(s),
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(err.join("\n")).toContain("Usage: create-capstan <directory>");
    expect(
      main(
        [],
        (s) => out.push(s),
        (s) => err.push(s),
      ),
    ).toBe(2);
    expect(
      main(
        ["--help"],
        (s) => out.push(s),
        (s) => err.push(s),
      ),
    ).toBe(0);
  });
});
