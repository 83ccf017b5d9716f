/** The one adapter over the Lambda API that the registration handler uses: delete a version. */
import { DeleteFunctionCommand, LambdaClient, ResourceNotFoundException } from "@aws-sdk/client-lambda";
import { parseVersionArn } from "./version-arn";

export interface LambdaSender {
  send(command: DeleteFunctionCommand): Promise<unknown>;
}

/**
 * @example
 * await lambdaVersionDeleter()("arn:aws:lambda:eu-west-1:123456789012:function:checkout:6");
 */
export function lambdaVersionDeleter(
  client: LambdaSender = new LambdaClient({}),
): (versionArn: string) => Promise<void> {
  return async (versionArn) => {
    const parsed = parseVersionArn(versionArn);
    // Only a numbered version: never $LATEST, which would delete the function itself.
    if (parsed === undefined) throw new Error(`not a published version: ${versionArn}`);
    try {
      await client.send(
        new DeleteFunctionCommand({ FunctionName: parsed.functionArn, Qualifier: parsed.version }),
      );
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
  };
}
