/**
 * `create-capstan <directory>` (`npm create capstan@latest my-app`): generates a project and says
 * what to run next. Flags are parsed strictly, as the `capstan` CLI does.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadCreateConfig } from "./config";
import { generateProject } from "./generate";
import { CreateError } from "./package-specs";

const USAGE = `Usage: create-capstan <directory>

Creates a Capstan project in <directory>: a service, a virtual object and a workflow with their tests,
a CDK app, and a README. Capstan's packages come from the npm registry, or from the tarballs in
CAPSTAN_PACKAGES_DIR when it is set.`;

/** This generator's version: the Capstan packages' version too (they are released in step). */
function ownVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

export function main(argv: string[], out: (s: string) => void, err: (s: string) => void): number {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: "boolean" } },
      strict: true,
      allowPositionals: true,
    });
  } catch (e) {
    err(`error: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.values.help === true) {
    out(USAGE);
    return 0;
  }
  const [directory, ...extra] = parsed.positionals;
  if (directory === undefined || extra.length > 0) {
    err(
      `error: ${directory === undefined ? "missing <directory>" : `unexpected argument "${extra[0]}"`}\n\n${USAGE}`,
    );
    return 2;
  }
  try {
    const { packagesDir } = loadCreateConfig();
    const { name } = generateProject({
      directory,
      version: ownVersion(),
      ...(packagesDir !== undefined && { packagesDir }),
    });
    out(
      [
        `Created ${name} in ${path.resolve(directory)}${packagesDir !== undefined ? ` (Capstan packages from ${packagesDir})` : ""}.`,
        "",
        `  cd ${directory}`,
        "  npm install && npm start     # the platform locally",
        "  npm test                     # the tests",
      ].join("\n"),
    );
    return 0;
  } catch (e) {
    if (e instanceof CreateError) {
      err(`error: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

/** The bin's entry: sets the exit code. */
export function runCommandLine(argv: string[]): void {
  process.exitCode = main(
    argv,
    (s) => void process.stdout.write(s + "\n"),
    (s) => void process.stderr.write(s + "\n"),
  );
}
