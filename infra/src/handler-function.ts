/**
 * The Lambdas behind Capstan's custom resources, bundled with esbuild from this package's own
 * source: the .ts file when run from the repository (tests, `cdk synth` through ts), the compiled .js
 * beside it when installed from npm.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Duration } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as nodejs from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";

/** The newest Node.js runtime this aws-cdk-lib knows (cdk-nag L1 asks for the newest of the family). */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_26_X;

/** Finds `<dir>/<baseName>.ts` or `.js`, whichever this installation has. */
export function handlerEntry(dir: string, baseName: string): string {
  for (const extension of [".ts", ".js"]) {
    const file = path.join(dir, baseName + extension);
    if (existsSync(file)) return file;
  }
  throw new Error(`no ${baseName}.ts or .js in ${dir}`);
}

export interface HandlerFunctionProps extends Omit<nodejs.NodejsFunctionProps, "entry" | "runtime"> {
  entry: string;
}

/**
 * @example
 * const fn = handlerFunction(this, "OnEvent", { entry: handlerEntry(__dirname, "identity-key-handler") });
 */
export function handlerFunction(
  scope: Construct,
  id: string,
  props: HandlerFunctionProps,
): nodejs.NodejsFunction {
  return new nodejs.NodejsFunction(scope, id, {
    runtime: HANDLER_RUNTIME,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: Duration.minutes(1),
    bundling: { minify: true, sourceMap: false },
    logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH }),
    ...props,
  });
}
