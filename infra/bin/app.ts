#!/usr/bin/env node
/** The app `cdk.json` runs: the repository's example deployment, checked by cdk-nag on every synth. */
import { App } from "aws-cdk-lib";
import { buildExampleApp } from "../src/app/example-app";
import { addCapstanChecks } from "../src/nag/capstan-checks";
import { findRepositoryRoot } from "../src/runtime/runtime-image";

const repoRoot = findRepositoryRoot(__dirname);
if (repoRoot === undefined) throw new Error("infra/bin/app: run from a Capstan repository checkout");
const app = new App();
addCapstanChecks(app);
buildExampleApp(app, repoRoot);
app.synth();
