/**
 * The admin client against a small admin stand-in on 127.0.0.1: the credential it presents, and
 * which failures the registration treats as "try again later" (the framework polls) and which as
 * final (the deploy fails at once rather than polling for half an hour).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { AdminRequestError, httpAdminApi } from "./admin-client";
import { isCompleteWith } from "./registration-handler";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe("admin client", () => {
  let server: Server;
  let url: string;
  let handle: Handler = () => undefined;
  const seen: Array<{ method?: string; url?: string; authorization?: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization });
      handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const reply =
    (status: number, body: unknown): Handler =>
    (_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
  const failure = async (p: Promise<unknown>): Promise<AdminRequestError> => {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(AdminRequestError);
    return e as AdminRequestError;
  };

  test("presents the admin token as a bearer credential", async () => {
    handle = reply(201, { id: "dp_1" });
    const arn = "arn:aws:lambda:eu-west-1:123456789012:function:greeter:3";
    await expect(httpAdminApi(url, "s3cr3t").register(arn, false)).resolves.toEqual({ id: "dp_1", arn });
    expect(seen.at(-1)).toEqual({ method: "POST", url: "/deployments", authorization: "Bearer s3cr3t" });
  });

  test("a refused credential is final; an overloaded or starting runtime is retried", async () => {
    handle = reply(401, { code: "ADMIN_UNAUTHORIZED", message: "bad token" });
    expect(await failure(httpAdminApi(url, "wrong").lambdaDeployments())).toMatchObject({
      retryable: false,
      status: 401,
      code: "ADMIN_UNAUTHORIZED",
    });
    handle = reply(503, { code: "RUNTIME_NOT_READY", message: "starting" });
    expect((await failure(httpAdminApi(url, "t").lambdaDeployments())).retryable).toBe(true);
    handle = (_req, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>Bad Gateway</html>"); // the ALB's own page while no target is healthy
    };
    expect((await failure(httpAdminApi(url, "t").servingDeploymentIds())).retryable).toBe(true);

    // Through the handler: a final error fails the resource; a retryable one answers "not yet".
    const create = {
      RequestType: "Create" as const,
      ResourceProperties: { VersionArn: "arn:aws:lambda:eu-west-1:123456789012:function:greeter:3" },
    };
    const deps = (token: string) => ({
      admin: httpAdminApi(url, token),
      deleteVersion: async () => {},
      log: () => {},
    });
    handle = reply(401, { code: "ADMIN_UNAUTHORIZED", message: "bad token" });
    await expect(isCompleteWith(create, deps("wrong"))).rejects.toThrow(/401/);
    handle = reply(503, { code: "RUNTIME_NOT_READY", message: "starting" });
    await expect(isCompleteWith(create, deps("t"))).resolves.toEqual({ IsComplete: false });
  });

  test("a request that gets no answer is abandoned at its timeout and retried later", async () => {
    handle = () => undefined; // accepts, never answers
    const e = await failure(httpAdminApi(url, "t", 50).lambdaDeployments());
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/unreachable/);
  });

  test("only well-formed deployment ids reach the SQL query", async () => {
    handle = reply(200, { columns: ["n"], rows: [[0]], truncated: false });
    await expect(httpAdminApi(url, "t").pinnedInvocations("dp_abc123")).resolves.toBe(0);
    expect((await failure(httpAdminApi(url, "t").pinnedInvocations("x' OR '1'='1"))).retryable).toBe(false);
  });
});
