/**
 * The two AWS APIs the registration handler calls besides the runtime, stood in on 127.0.0.1 for
 * the real SDK clients (pointed here by AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL_LAMBDA):
 * Secrets Manager's GetSecretValue for the secrets it is given, and Lambda's DeleteFunction of a
 * version, recorded. Anything else answers an error, so an unexpected call fails the test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface AwsApiStandIn {
  endpoint: string;
  /** `function:qualifier` of every DeleteFunction, in order. */
  deletedVersions: string[];
  close(): Promise<void>;
}

const DELETE_FUNCTION = /^\/2015-03-31\/functions\/([^/]+)$/;

/**
 * @example
 * const aws = await startAwsApiStandIn({ [secretArn]: token });
 * process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = aws.endpoint;
 */
export async function startAwsApiStandIn(secrets: Record<string, string>): Promise<AwsApiStandIn> {
  const deletedVersions: string[] = [];
  const answer = (res: ServerResponse, status: number, body?: unknown, type?: string): void => {
    res.writeHead(status, {
      "content-type": "application/x-amz-json-1.1",
      ...(type !== undefined && { "x-amzn-errortype": type }),
    });
    res.end(body === undefined ? "" : JSON.stringify(body));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://localhost");
    const deleted = DELETE_FUNCTION.exec(url.pathname);
    if (req.method === "DELETE" && deleted !== null) {
      deletedVersions.push(`${decodeURIComponent(deleted[1]!)}:${url.searchParams.get("Qualifier") ?? ""}`);
      return answer(res, 204);
    }
    if (req.headers["x-amz-target"] === "secretsmanager.GetSecretValue") {
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { SecretId: string };
      const value = secrets[SecretId];
      if (value === undefined)
        return answer(res, 400, { message: `no secret ${SecretId}` }, "ResourceNotFoundException");
      return answer(res, 200, { ARN: SecretId, Name: SecretId, SecretString: value });
    }
    answer(res, 400, { message: `unexpected ${req.method} ${url.pathname}` }, "UnknownOperationException");
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => answer(res, 500, { message: "stand-in failed" }, "ServiceException"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    deletedVersions,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
