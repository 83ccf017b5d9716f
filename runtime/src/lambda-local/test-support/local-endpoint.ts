import { LambdaClient } from "@aws-sdk/client-lambda";
import { type LocalLambda, type LocalLambdaOptions, startLocalLambda } from "../lambda-endpoint";

/** The local endpoint and the real Lambda client the tests drive it with; `close()` ends both and the registry. */
export interface EndpointUnderTest {
  readonly lambda: LocalLambda;
  readonly client: LambdaClient;
  close(): Promise<void>;
}

/**
 * @example
 * const { client, close } = await startEndpointWithClient({ registry });
 * await client.send(new InvokeCommand({ FunctionName: "lab", Payload: Buffer.from("{}") }));
 */
export async function startEndpointWithClient(options: LocalLambdaOptions): Promise<EndpointUnderTest> {
  const lambda = await startLocalLambda(options);
  const client = new LambdaClient({
    region: "us-east-1",
    endpoint: lambda.url,
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    maxAttempts: 1,
  });
  return {
    lambda,
    client,
    async close() {
      client.destroy();
      await lambda.close();
      await options.registry.close();
    },
  };
}
