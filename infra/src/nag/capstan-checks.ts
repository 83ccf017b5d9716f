/** cdk-nag v3 wiring: the AwsSolutions pack as a CDK policy-validation plugin. */
import { Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import type { Construct } from "constructs";

/**
 * Runs cdk-nag's AwsSolutions checks on every synth of `scope`; an unacknowledged finding fails it.
 * (cdk-nag v3: the v2 `Aspects.of(app).add(...)` form throws.)
 *
 * @example
 * const app = new App();
 * addCapstanChecks(app);
 */
export function addCapstanChecks(scope: Construct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope));
}
