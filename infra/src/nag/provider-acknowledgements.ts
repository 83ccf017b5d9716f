/**
 * cdk-nag acknowledgements for the custom-resource provider framework that aws-cdk-lib generates
 * (its onEvent/isComplete/onTimeout Lambdas, their roles and the waiter state machine). Capstan does
 * not write that code; each finding is acknowledged where the framework lives, with why it is fine.
 */
import { Stack, Validations } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type * as cr from "aws-cdk-lib/custom-resources";
import type { Construct } from "constructs";

/** AWS's managed policies for a Lambda's own logs and VPC interfaces, as cdk-nag names them. */
export const BASIC_EXECUTION_ROLE =
  "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";
export const VPC_ACCESS_ROLE =
  "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";

/**
 * @example
 * acknowledgeProviderFramework(this, provider, onEvent, isComplete);
 */
export function acknowledgeProviderFramework(
  scope: Construct,
  provider: cr.Provider,
  ...handlers: lambda.IFunction[]
): void {
  const stack = Stack.of(scope);
  const v = Validations.of(scope);
  v.acknowledge({
    id: `AwsSolutions-IAM4[${BASIC_EXECUTION_ROLE}]`,
    reason: "Lambda's managed policy for writing the function's own CloudWatch logs, and nothing else.",
  });
  // Scoped to the framework: Capstan's own handlers must stay on the newest runtime (cdk-nag L1).
  Validations.of(provider).acknowledge({
    id: "AwsSolutions-L1",
    reason: "The provider framework's own functions: aws-cdk-lib pins their runtime, not Capstan.",
  });
  // The framework invokes any version of each function it chains (its own and Capstan's handlers).
  const frameworkFunctions = provider.node.children.filter(
    (c): c is lambda.Function => c instanceof lambda.Function,
  );
  for (const fn of [...handlers, ...frameworkFunctions]) {
    const logicalId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    v.acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
      reason: "The provider framework invokes versions of this one function, and no other.",
    });
  }
  Validations.of(provider).acknowledge({
    id: "AwsSolutions-SF2",
    reason:
      "The framework's waiter state machine only polls isComplete; aws-cdk-lib offers no X-Ray switch for it.",
  });
}
