/**
 * Writes a new project from template/: a service, an object and a workflow with their tests, a CDK
 * app and a README. Placeholders `{{name}}`, `{{stackName}}` and `{{<package>}}` (install specs) are
 * filled in; `_gitignore` becomes `.gitignore` (npm drops .gitignore files from published packages).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CreateError, packageSpecs, type CapstanPackage } from "./package-specs";

/** npm's limit on a package name, which the project's name becomes. */
export const MAX_PROJECT_NAME_LENGTH = 214;
/** What npm accepts as an unscoped package name. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9._~-]*$/;

export const TEMPLATE_DIR = path.join(__dirname, "..", "template");

export interface GenerateOptions {
  /** Where to create the project; must not exist or be empty. Its base name is the project's name. */
  directory: string;
  /** The Capstan packages' version (this generator's). */
  version: string;
  /** Install Capstan's packages from these tarballs instead of the registry. */
  packagesDir?: string;
}

/**
 * @example
 * generateProject({ directory: "my-app", version: "0.1.0" }); // then: cd my-app && npm install && npm start
 */
export function generateProject(options: GenerateOptions): { name: string; files: string[] } {
  const target = path.resolve(options.directory);
  const name = path.basename(target);
  if (name.length > MAX_PROJECT_NAME_LENGTH || !PROJECT_NAME.test(name)) {
    throw new CreateError(
      `"${name}" is not a valid project name: lowercase letters, digits, - . _ ~, at most ${MAX_PROJECT_NAME_LENGTH} characters`,
    );
  }
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new CreateError(`${target} exists and is not empty: choose a new directory`);
  }
  const specs = packageSpecs(options.version, options.packagesDir);
  const values: Record<string, string> = { name, stackName: stackNameOf(name), ...specs };
  const files: string[] = [];
  copyTree(TEMPLATE_DIR, target, values, files);
  if (options.packagesDir !== undefined) pinTransitiveToTarballs(path.join(target, "package.json"), specs);
  return { name, files };
}

/** A CloudFormation stack name from the project's: letters, digits and hyphens, starting with a letter. */
function stackNameOf(name: string): string {
  const words = name.split(/[^a-zA-Z0-9]+/).filter((w) => w.length > 0);
  const pascal = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return /^[A-Za-z]/.test(pascal) ? pascal.slice(0, 128) : `App${pascal}`.slice(0, 128);
}

function copyTree(from: string, to: string, values: Record<string, string>, files: string[]): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from)) {
    const source = path.join(from, entry);
    const destination = path.join(to, entry === "_gitignore" ? ".gitignore" : entry);
    if (statSync(source).isDirectory()) {
      copyTree(source, destination, values, files);
      continue;
    }
    const text = readFileSync(source, "utf8").replace(/\{\{([@a-zA-Z/]+)\}\}/g, (whole, key: string) =>
      Object.hasOwn(values, key) ? values[key]! : whole,
    );
    writeFileSync(destination, text);
    files.push(destination);
  }
}

/**
 * With tarballs, @capstan/runtime's own dependency on @capstan/sdk must come from the tarball too
 * (the registry may not have that version): npm `overrides` pin every copy to it.
 */
function pinTransitiveToTarballs(packageJsonPath: string, specs: Record<CapstanPackage, string>): void {
  const pkg = JSON.parse(readFileSync(packageJsonPath, "utf8")) as Record<string, unknown>;
  pkg.overrides = { ...specs };
  writeFileSync(packageJsonPath, JSON.stringify(pkg, null, 2) + "\n");
}
